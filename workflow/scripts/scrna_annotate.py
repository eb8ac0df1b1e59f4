"""Rule scrna_annotate: lineage labels for all cells, B-lineage re-embedding and subset labels."""

from belimap.workflow import run


def main(smk):
    import anndata as ad

    from belimap import scrna
    from belimap.io import write_h5ad
    from belimap.vocab import load_vocabulary

    adata = ad.read_h5ad(smk.input.h5ad)
    bcells = scrna.annotate(adata, load_vocabulary(smk.params.cfg), smk.params.cfg)
    write_h5ad(bcells, smk.output.bcells)
    write_h5ad(adata, smk.output.integrated)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
