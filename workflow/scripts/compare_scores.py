"""Rule compare_scores: per-cell gene-set scores of B-lineage cells, summarised per specimen and per group."""

from belimap.workflow import run


def main(smk):
    from belimap.compare.pipeline import CompareParams, scores_files
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    scores_files(smk.input.h5ad, smk.input.gene_sets, load_vocabulary(cfg), params=CompareParams.from_config(cfg),
                 tissues=cfg["tissues"], timepoints=cfg["timepoints"], samples=smk.output.samples,
                 groups=smk.output.groups, notes=smk.output.notes, figure=smk.output.figure)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
