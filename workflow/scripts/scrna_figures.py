"""Rule scrna_figures: UMAPs, marker dot plots, composition bars and per-patient lines."""

from belimap.workflow import run


def main(smk):
    from belimap.scrna.pipeline import figure_files
    from belimap.vocab import load_vocabulary

    cfg, o = smk.params.cfg, smk.output
    figure_files(smk.input.h5ad, smk.input.bcells, smk.input.composition, load_vocabulary(cfg),
                 tissues=cfg["tissues"], timepoints=cfg["timepoints"], umap=o.umap, markers=o.markers, bars=o.bars,
                 lines=o.lines)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
