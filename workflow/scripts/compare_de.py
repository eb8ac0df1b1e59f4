"""Rule compare_de: DESeq2 (~ patient + timepoint) per B subset × tissue, and the index of all runs."""

from belimap.workflow import run


def main(smk):
    import logging

    import anndata as ad
    import pandas as pd

    from belimap.compare.pseudobulk import PseudobulkParams, differential_expression
    from belimap.tables import write_tsv

    pb = ad.read_h5ad(smk.input[0])
    params, timepoints = PseudobulkParams.from_config(smk.params.cfg), list(smk.params.cfg["timepoints"])
    summaries = []
    for (subset, tissue), path in zip(smk.params.pairs, smk.output.tables, strict=True):
        table, summary = differential_expression(pb, subset, tissue, timepoints, params, n_cpus=smk.threads)
        for row in summary.itertuples():
            logging.info("%s %s %s: %s %s", subset, tissue, row.timepoint, row.status, row.note)
        write_tsv(table, path)
        summaries.append(summary.assign(path=path))
    write_tsv(pd.concat(summaries, ignore_index=True), smk.output.index)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
