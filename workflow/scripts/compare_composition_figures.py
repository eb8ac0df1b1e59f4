"""Rule compare_composition_figures: forest plot, effect heatmap and paired per-patient plot of one modality."""

from belimap.workflow import run


def main(smk):
    from belimap.compare.pipeline import CompareParams, composition_figure_files
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    composition_figure_files(smk.input.tests, smk.input.composition, load_vocabulary(cfg),
                             modality=smk.wildcards.modality, params=CompareParams.from_config(cfg),
                             tissues=cfg["tissues"], timepoints=cfg["timepoints"], forest=smk.output.forest,
                             heatmap=smk.output.heatmap, paired=smk.output.paired)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
