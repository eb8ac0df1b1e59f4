"""``results/summary.html``: the study report a reader opens after a run (self-contained).

Study design and CONSORT first, warnings at the top, then one section per stage of the data flow,
each opening with its key figure and generated sentences stating the result with its numbers;
tables summarised (significant rows first, sortable, the full TSV linked); a methods paragraph
generated from the config and the tool versions. Snakemake's ``--report`` stays the archival report.
"""

from belimap.report.methods import methods_paragraph
from belimap.report.sections import summary_file, summary_html

__all__ = ["methods_paragraph", "summary_file", "summary_html"]
