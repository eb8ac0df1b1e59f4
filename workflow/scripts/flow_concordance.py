"""Rule flow_concordance: flow vs scRNA subset fractions of the same specimens (Spearman, Bland–Altman)."""

from belimap.workflow import run


def main(smk):
    import pandas as pd

    from belimap.concordance import concordance_table, pair_modalities
    from belimap.flow.gating import strategy_from_config
    from belimap.tables import write_tsv
    from belimap.pl.flow import concordance_figure
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg["flow"]
    read = lambda p: pd.read_csv(p, sep="\t", keep_default_na=False, na_values=[""])  # noqa: E731
    pairs = pair_modalities(read(smk.input.flow), read(smk.input.scrna), strategy_from_config(cfg).absorbs,
                            cfg["concordance"]["min_bcells"])
    stats = concordance_table(pairs)
    write_tsv(stats, smk.output.table)
    write_tsv(pairs, smk.output.pairs)
    concordance_figure(pairs, stats, load_vocabulary(smk.params.cfg), smk.output.pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
