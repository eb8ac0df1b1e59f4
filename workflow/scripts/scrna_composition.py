"""Rule scrna_composition: labelled cells → B-subset and lineage composition per sample."""

from belimap.workflow import run


def main(smk):
    import anndata as ad
    import pandas as pd

    from belimap import scrna
    from belimap.io import write_tsv
    from belimap.vocab import load_vocabulary

    adata = ad.read_h5ad(smk.input.h5ad, backed="r")
    subsets, lineages = scrna.compositions(adata, pd.DataFrame(smk.params.specimens), load_vocabulary(smk.params.cfg))
    write_tsv(subsets, smk.output.subsets)
    write_tsv(lineages, smk.output.lineages)
    notes = [str(n) for n in adata.uns.get("notes", [])]
    write_tsv(pd.DataFrame({"step": "scrna", "note": notes}, columns=["step", "note"]), smk.output.notes)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
