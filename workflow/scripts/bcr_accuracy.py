"""Rule bcr_accuracy: estimated vs. simulated clone sharing between tissues (demo only)."""

from belimap.workflow import run


def main(smk):
    from belimap.bcr.pipeline import accuracy_file

    accuracy_file(smk.input.sharing, smk.input.truth, out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
