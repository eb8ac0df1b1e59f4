"""Rule compare_composition: composition tables (scRNA, flow) → paired composition tests."""

from belimap.workflow import run


def main(smk):
    from belimap.compare.stats import study_tests
    from belimap.composition import COMPOSITION_COLUMNS
    from belimap.tables import read_table, write_tsv
    from belimap.vocab import load_vocabulary

    tables = {m: read_table(p, COMPOSITION_COLUMNS, f"{m} composition table") for m, p in smk.input.items() if m != "vocab"}
    write_tsv(study_tests(tables, smk.params.cfg, load_vocabulary(smk.params.cfg)), smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
