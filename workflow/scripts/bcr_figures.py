"""Rule bcr_figures: sharing heatmaps, expansion and isotype bars, chain-pairing QC."""

from belimap.workflow import run


def main(smk):
    import pandas as pd

    from belimap.pl import bcr as pl
    from belimap.pl.palette import save_figure
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    vocab = load_vocabulary(cfg)
    tissues, timepoints = list(cfg["tissues"]), list(cfg["timepoints"])
    subsets, labels = vocab.subset_ids, vocab.subset_labels()
    read = lambda key: pd.read_csv(smk.input[key], sep="\t")  # noqa: E731
    save_figure(pl.sharing_heatmaps(read("sharing"), tissues, timepoints), smk.output.sharing)
    save_figure(pl.expansion_bars(read("expansion"), tissues, timepoints, subsets, labels), smk.output.expansion)
    save_figure(pl.isotype_bars(read("isotypes"), tissues, timepoints, subsets, labels), smk.output.isotypes)
    save_figure(pl.chain_qc_bars(read("chain_qc")), smk.output.chain_qc)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
