"""Rule compare_de: DESeq2 (~ patient + timepoint) of one B subset in one tissue, with its notes."""

from belimap.workflow import run


def main(smk):
    import logging

    import anndata as ad

    from belimap.compare.pseudobulk import PseudobulkParams, differential_expression
    from belimap.io import write_tsv

    pb = ad.read_h5ad(smk.input[0])
    table, summary = differential_expression(pb, smk.wildcards.subset, smk.wildcards.tissue, list(smk.config["timepoints"]),
                                             PseudobulkParams.from_config(smk.config), n_cpus=smk.threads)
    for row in summary.itertuples():
        logging.info("%s %s %s: %s %s", row.subset, row.tissue, row.timepoint, row.status, row.note)
    write_tsv(table, smk.output.table)
    write_tsv(summary, smk.output.summary)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
