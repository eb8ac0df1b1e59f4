"""Rule compare_pseudobulk: integrated cells → raw counts summed per specimen × B subset."""

from belimap.workflow import run


def main(smk):
    from belimap.compare.pipeline import pseudobulk_file

    pseudobulk_file(smk.input[0], out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
