"""Rule scrna_accuracy (simulated studies): labels and fractions scored against the simulator's truth."""

from belimap.workflow import run


def main(smk):
    import anndata as ad
    import pandas as pd

    from belimap.io import write_tsv
    from belimap.scrna import accuracy_against_truth, composition_error
    from belimap.vocab import load_vocabulary

    vocab = load_vocabulary(smk.params.cfg)
    adata = ad.read_h5ad(smk.input.h5ad, backed="r")
    scores = accuracy_against_truth(adata, pd.read_csv(smk.input.truth_cells, sep="\t"), vocab)
    scores["fraction_mae"] = composition_error(pd.read_csv(smk.input.composition, sep="\t"),
                                               pd.read_csv(smk.input.truth_composition, sep="\t"))
    write_tsv(pd.DataFrame([{"metric": k, "value": v} for k, v in scores.items()]), smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
