"""Rule compare_de: DESeq2 (~ patient + timepoint) per B subset × tissue, and the index of all runs."""

from belimap.workflow import run


def main(smk):
    from belimap.compare.pipeline import CompareParams, de_files

    cfg = smk.params.cfg
    de_files(smk.input[0], pairs=smk.params.pairs, timepoints=cfg["timepoints"], params=CompareParams.from_config(cfg),
             tables=list(smk.output.tables), summary=smk.output.index, n_cpus=smk.threads)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
