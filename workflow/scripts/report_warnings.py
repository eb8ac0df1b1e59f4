"""Rule report_warnings: every notes table and flow QC flag → results/warnings.tsv."""

from belimap.workflow import run


def main(smk):
    from belimap.report.warnings import warnings_file

    warnings_file(list(smk.input), out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
