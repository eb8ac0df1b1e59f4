"""Rule report_summary: every table and figure the study owes → results/summary.html."""

from belimap.workflow import run


def main(smk):
    from belimap.report import summary_file

    summary_file(list(smk.input), smk.params.cfg, smk.params.files, out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
