"""Rule bcr_tables: clone sharing between tissues, clonal expansion and isotype use per subset × tissue."""

from belimap.workflow import run


def main(smk):
    import pandas as pd

    from belimap import bcr
    from belimap.tables import write_tsv
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    cells = pd.read_csv(smk.input.cells, sep="\t", keep_default_na=True, na_values=[""], low_memory=False)
    specimens = pd.DataFrame(smk.params.specimens)
    subsets = load_vocabulary(cfg).subset_ids
    tables = bcr.repertoire_tables(cells, specimens, list(cfg["tissues"]), subsets, cfg["bcr"])
    for name, table in tables.items():
        write_tsv(table, smk.output[name])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
