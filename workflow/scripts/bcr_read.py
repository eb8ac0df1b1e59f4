"""Rule bcr_read: one BCR file (10x contigs or AIRR) → an AIRR table with cells named "{sample}:{barcode}"."""

from belimap.workflow import run


def main(smk):
    from belimap import bcr

    adata = bcr.read_bcr(smk.input[0], smk.wildcards.sample)
    bcr.write_airr_table(adata, smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
