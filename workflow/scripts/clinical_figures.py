"""Clinical figures: the CONSORT diagram (PDF + PNG + SVG) and disease activity over time."""

from belimap.tables import read_tsv
from belimap.pl.clinical import activity_over_time, consort_diagram
from belimap.workflow import run


def main(snakemake):
    cfg = snakemake.params.cfg
    consort_diagram(read_tsv(snakemake.input.consort), snakemake.output.consort_pdf, title=cfg.get("study", ""))
    activity_over_time(read_tsv(snakemake.input.activity), read_tsv(snakemake.input.response),
                       list(cfg["clinical"]["visits"]), snakemake.output.activity_pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
