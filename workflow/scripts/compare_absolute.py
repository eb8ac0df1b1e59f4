"""Rule compare_absolute: flow composition + gate counts (cells/µL) → paired NB tests of absolute counts."""

from belimap.workflow import run


def main(smk):
    from belimap.compare.pipeline import CompareParams, absolute_tests_file
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    absolute_tests_file(smk.input.composition, smk.input.counts, smk.input.tests, load_vocabulary(cfg),
                        params=CompareParams.from_config(cfg), tissues=cfg["tissues"], timepoints=cfg["timepoints"],
                        out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
