"""Rule compare_composition: composition tables (scRNA, flow) → paired composition tests."""

from belimap.workflow import run


def main(smk):
    from belimap.compare.pipeline import CompareParams, composition_tests_file
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    composition_tests_file({m: p for m, p in smk.input.items() if m != "vocab"}, load_vocabulary(cfg),
                           params=CompareParams.from_config(cfg), tissues=cfg["tissues"], timepoints=cfg["timepoints"],
                           out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
