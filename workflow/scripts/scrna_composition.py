"""Rule scrna_composition: labelled h5ad → B-subset and lineage composition per specimen, notes."""

from belimap.workflow import run


def main(smk):
    from belimap.scrna.pipeline import composition_files
    from belimap.vocab import load_vocabulary

    composition_files(smk.input.h5ad, smk.params.specimens, load_vocabulary(smk.params.cfg),
                      subsets=smk.output.subsets, lineages=smk.output.lineages, notes=smk.output.notes)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
