"""Rule scrna_qc: one raw file → QC metrics, adaptive filters, doublets → filtered h5ad + QC table/figure."""

from belimap.workflow import run


def main(smk):
    from belimap import scrna
    from belimap.io import write_h5ad, write_tsv
    from belimap.pl import save_figure
    from belimap.pl.scrna import qc_sample

    kept, table, _ = scrna.preprocess_sample(smk.input[0], smk.params.meta, smk.params.cfg)
    write_tsv(table, smk.output.table)
    save_figure(qc_sample(table, dict(kept.uns.get("qc", {})), smk.params.meta["sample_id"]), smk.output.pdf)
    write_h5ad(kept, smk.output.h5ad)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
