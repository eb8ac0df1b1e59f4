"""Rule scrna_qc_summary: per-sample QC tables → one row per sample (cells in, removed, kept, medians)."""

from belimap.workflow import run


def main(smk):
    import pandas as pd

    from belimap.io import write_tsv
    from belimap.qc import qc_summary

    rows = []
    for path in smk.input:
        table = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
        table["removed"] = table["removed"].fillna("")
        rows.append(qc_summary(table, str(table["sample_id"].iloc[0]) if len(table) else path))
    write_tsv(pd.DataFrame(rows), smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
