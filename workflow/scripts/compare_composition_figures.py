"""Rule compare_composition_figures: forest plot, effect heatmap and paired per-patient plot of one modality."""

from belimap.workflow import run


def main(smk):
    import pandas as pd

    from belimap.compare.stats import CompositionParams, check_composition
    from belimap.composition import COMPOSITION_COLUMNS
    from belimap.tables import read_table
    from belimap.pl import compare as pl
    from belimap.pl.palette import save_figure
    from belimap.vocab import load_vocabulary

    cfg, vocab = smk.params.cfg, load_vocabulary(smk.params.cfg)
    tissues, timepoints = list(cfg["tissues"]), list(cfg["timepoints"])
    params = CompositionParams.from_config(cfg)
    tests = pd.read_csv(smk.input.tests, sep="\t", keep_default_na=True)
    tests = tests[tests["modality"] == smk.wildcards.modality]
    tests["note"] = tests["note"].fillna("")
    comp = check_composition(read_table(smk.input.composition, COMPOSITION_COLUMNS, "composition table"))
    comp["fraction"] = pd.to_numeric(comp["fraction"], errors="coerce")
    save_figure(pl.forest_figure(tests, tissues, timepoints, vocab, params.fdr), smk.output.forest)
    save_figure(pl.effect_heatmap(tests, tissues, timepoints, vocab, params.fdr), smk.output.heatmap)
    save_figure(pl.paired_figure(comp, tissues, timepoints, vocab, params.min_bcells), smk.output.paired)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
