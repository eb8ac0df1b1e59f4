"""Rule scrna_accuracy: labels and compositions against the simulator's truth (simulated studies)."""

from belimap.workflow import run


def main(smk):
    from belimap.scrna.pipeline import accuracy_file
    from belimap.vocab import load_vocabulary

    i = smk.input
    o = smk.output
    accuracy_file(i.h5ad, i.composition, i.truth_cells, i.truth_composition, load_vocabulary(smk.params.cfg),
                  out=o.table, qc_tables=list(i.qc), confusion=o.confusion, figure=o.png)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
