"""Rule compare_volcano: one volcano figure per tissue from the pseudobulk DE tables."""

from belimap.workflow import run


def main(smk):
    import pandas as pd

    from belimap.compare.pseudobulk import PseudobulkParams
    from belimap.pl.compare import volcano_figure
    from belimap.pl.palette import save_figure
    from belimap.vocab import load_vocabulary

    vocab, alpha = load_vocabulary(smk.params.cfg), PseudobulkParams.from_config(smk.params.cfg).alpha
    pairs = [tuple(p) for p in smk.params.pairs]  # (subset, tissue), in the order of the inputs
    tables = {pair: pd.read_csv(p, sep="\t") for pair, p in zip(pairs, smk.input, strict=True)}
    for tissue, out in zip(smk.params.tissues, smk.output.volcanos, strict=True):
        save_figure(volcano_figure({k: v for k, v in tables.items() if k[1] == tissue}, tissue, vocab, alpha), out)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
