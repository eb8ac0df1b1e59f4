"""Clinical layer: eligibility, classification, activity, response and CONSORT counts."""

from belimap.clinical.study import clinical_tables
from belimap.sheet import read_sample_sheet
from belimap.tables import write_tsv
from belimap.workflow import run


def main(snakemake):
    cfg = snakemake.params.cfg
    sheet = read_sample_sheet(snakemake.input.sheet, cfg, check_files=False)
    tables = clinical_tables(cfg, snakemake.input.table, sheet)
    for name in ("eligibility", "classification", "activity", "response", "consort"):
        write_tsv(tables[name], getattr(snakemake.output, name))


run(snakemake, main)  # noqa: F821 - injected by Snakemake
