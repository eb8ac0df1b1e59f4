"""Rule scrna_qc_summary: per-sample QC tables → one summary row per sample."""

from belimap.workflow import run


def main(smk):
    from belimap.scrna.pipeline import qc_summary_file

    qc_summary_file(list(smk.input), out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
