"""Rule bcr_read: one BCR file (10x contigs or AIRR) → an AIRR table with cells named "{sample}:{barcode}"."""

from belimap.workflow import run


def main(smk):
    from belimap.bcr.pipeline import read_file

    read_file(smk.input[0], smk.wildcards.sample, out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
