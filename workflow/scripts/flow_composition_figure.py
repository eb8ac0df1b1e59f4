"""Rule flow_composition_figure: flow B-subset fractions of every specimen, grouped by tissue."""

from belimap.workflow import run


def main(smk):
    from belimap.flow.pipeline import composition_figure_file
    from belimap.vocab import load_vocabulary

    composition_figure_file(smk.input.composition, load_vocabulary(smk.params.cfg),
                            tissues=list(smk.params.cfg["tissues"]), figure=smk.output.pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
