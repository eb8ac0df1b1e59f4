"""Rule scrna_integrate: per-sample h5ads → concatenate, normalise, HVG, PCA, Harmony, UMAP, Leiden."""

from belimap.workflow import run


def main(smk):
    import anndata as ad

    from belimap import scrna
    from belimap.io import write_h5ad

    adata = scrna.concat_samples([ad.read_h5ad(p) for p in smk.input], smk.params.cfg)
    scrna.integrate(adata, smk.params.cfg)
    write_h5ad(adata, smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
