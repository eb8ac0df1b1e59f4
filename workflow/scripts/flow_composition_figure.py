"""Rule flow_composition_figure: flow B-subset fractions of every specimen, grouped by tissue."""

from belimap.workflow import run


def main(smk):
    import pandas as pd

    from belimap.pl.flow import composition_figure
    from belimap.vocab import load_vocabulary

    comp = pd.read_csv(smk.input.composition, sep="\t", keep_default_na=False, na_values=[""])
    composition_figure(comp, load_vocabulary(smk.params.cfg), list(smk.params.cfg["tissues"]), smk.output.pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
