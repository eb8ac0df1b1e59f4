"""Rule compare_pseudobulk: integrated cells → raw counts summed per specimen × B subset."""

from belimap.workflow import run


def main(smk):
    import anndata as ad

    from belimap.compare.pseudobulk import pseudobulk
    from belimap.tables import write_h5ad

    adata = ad.read_h5ad(smk.input[0])
    write_h5ad(pseudobulk(adata, where=str(smk.input[0])), smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
