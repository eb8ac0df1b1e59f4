"""Rule scrna_qc: one raw file → QC metrics, adaptive filters, doublets → filtered h5ad + QC table/figure."""

from belimap.workflow import run


def main(smk):
    from belimap.scrna.pipeline import ScrnaParams, qc_file

    qc_file(smk.input[0], smk.params.meta, params=ScrnaParams.from_config(smk.params.cfg), h5ad=smk.output.h5ad,
            table=smk.output.table, figure=smk.output.pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
