"""Rule flow_tables: per-file counts, QC and metadata → study counts.tsv, composition.tsv, qc_summary.tsv, metadata.tsv."""

from belimap.workflow import run


def main(smk):
    import pandas as pd

    from belimap.flow.counts import composition_from_counts, panel_subsets
    from belimap.flow.gating import strategy_from_config
    from belimap.tables import write_tsv
    from belimap.vocab import load_vocabulary

    def cat(paths):
        return pd.concat([pd.read_csv(p, sep="\t", keep_default_na=False, na_values=[""]) for p in paths],
                         ignore_index=True)

    counts = cat(smk.input.counts)
    strategy = strategy_from_config(smk.params.cfg["flow"])
    subsets = panel_subsets(strategy, load_vocabulary(smk.params.cfg).subset_ids)
    specimens = pd.DataFrame(smk.params.specimens)
    write_tsv(counts, smk.output.counts)
    write_tsv(composition_from_counts(counts, specimens, subsets, strategy.bcell_gate), smk.output.composition)
    write_tsv(cat(smk.input.qc), smk.output.qc)
    write_tsv(cat(smk.input.metadata), smk.output.metadata)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
