"""Rule compare_volcano: one volcano figure per tissue from the pseudobulk DE tables."""

from belimap.workflow import run


def main(smk):
    from belimap.compare.pipeline import CompareParams, volcano_files
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    volcano_files(list(smk.input.de), load_vocabulary(cfg), pairs=smk.params.pairs, tissues=smk.params.tissues,
                  params=CompareParams.from_config(cfg), figures=list(smk.output.volcanos))


run(snakemake, main)  # noqa: F821 - injected by Snakemake
