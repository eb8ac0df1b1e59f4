"""Rule bcr_figures: sharing heatmaps, expansion and isotype bars, chain-pairing QC."""

from belimap.workflow import run


def main(smk):
    from belimap.bcr.pipeline import figure_files
    from belimap.vocab import load_vocabulary

    cfg, i, o = smk.params.cfg, smk.input, smk.output
    figure_files(i.sharing, i.expansion, i.isotypes, i.chain_qc, load_vocabulary(cfg), tissues=cfg["tissues"],
                 timepoints=cfg["timepoints"], sharing=o.sharing, expansion=o.expansion, isotypes=o.isotypes,
                 chain_qc=o.chain_qc)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
