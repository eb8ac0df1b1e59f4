"""Rule flow_accuracy (demo): per-event agreement of every subset gate with the simulator's truth, and fraction errors."""

from belimap.workflow import run


def main(smk):
    import numpy as np
    import pandas as pd

    from belimap.flow.counts import accuracy_table, panel_subsets
    from belimap.flow.gating import strategy_from_config
    from belimap.tables import write_tsv
    from belimap.vocab import load_vocabulary

    strategy = strategy_from_config(smk.params.cfg["flow"])
    subsets = panel_subsets(strategy, load_vocabulary(smk.params.cfg).subset_ids)
    tabs = []
    for sid, ev, tr, keep in zip(smk.params.samples, smk.input.events, smk.input.truth, smk.input.keep, strict=True):
        mem = pd.read_csv(ev, sep="\t")
        truth = pd.read_csv(tr, sep="\t", keep_default_na=False)
        tabs.append(accuracy_table(mem, truth, sid, subsets, strategy.bcell_gate, np.load(keep)))
    write_tsv(pd.concat(tabs, ignore_index=True), smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
