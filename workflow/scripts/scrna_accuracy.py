"""Rule scrna_accuracy: labels and compositions against the simulator's truth (simulated studies)."""

from belimap.workflow import run


def main(smk):
    from belimap.scrna.pipeline import accuracy_file
    from belimap.vocab import load_vocabulary

    i = smk.input
    accuracy_file(i.h5ad, i.composition, i.truth_cells, i.truth_composition, load_vocabulary(smk.params.cfg),
                  out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
