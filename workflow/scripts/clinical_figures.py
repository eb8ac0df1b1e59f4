"""Clinical figures: the CONSORT diagram (PDF + PNG + SVG) and disease activity over time."""

import pandas as pd

from belimap.pl.clinical import activity_over_time, consort_diagram
from belimap.workflow import run


def main(snakemake):
    cfg = snakemake.params.cfg
    read = lambda p: pd.read_csv(p, sep="\t", dtype={"patient_id": str})  # noqa: E731
    consort_diagram(read(snakemake.input.consort), snakemake.output.consort_pdf, title=cfg.get("study", ""))
    activity_over_time(read(snakemake.input.activity), read(snakemake.input.response),
                       list(cfg["clinical"]["visits"]), snakemake.output.activity_pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
