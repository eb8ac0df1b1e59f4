"""Rule bcr_clonotypes: chain QC, attachment to the scRNA cells and clonotypes across each patient's specimens."""

from belimap.workflow import run


def main(smk):
    from belimap.bcr.pipeline import BcrParams, clonotype_files
    from belimap.vocab import load_vocabulary

    cfg, o = smk.params.cfg, smk.output
    clonotype_files(smk.input.tables, smk.input.integrated, smk.params.specimens, load_vocabulary(cfg),
                    samples=smk.params.samples, params=BcrParams.from_config(cfg), n_jobs=smk.threads,
                    mudata=o.mudata, cells=o.cells, chain_qc=o.chain_qc)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
