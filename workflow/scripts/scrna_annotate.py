"""Rule scrna_annotate: clustered h5ad (+ the BCR specimens' AIRR tables) → lineage and B-cell subset labels."""

from belimap.workflow import run


def main(smk):
    from belimap.scrna.pipeline import ScrnaParams, annotate_file
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    annotate_file(smk.input.h5ad, load_vocabulary(cfg), params=ScrnaParams.from_config(cfg),
                  integrated=smk.output.integrated, bcells=smk.output.bcells, bcr=list(smk.input.bcr))


run(snakemake, main)  # noqa: F821 - injected by Snakemake
