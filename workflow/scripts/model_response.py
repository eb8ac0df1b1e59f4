"""Week-48 response model (or, with too few patients, the descriptive comparison) and its figures."""

from pathlib import Path

from belimap.clinical.table import read_clinical_table
from belimap.tables import read_tsv
from belimap.model import fit_response_model, prepare, write_model
from belimap.pl.clinical import model_figure, not_fitted_figure, responder_comparison
from belimap.workflow import run


def main(snakemake):
    cfg = snakemake.params.cfg
    mcfg = cfg["model"]
    table = read_clinical_table(snakemake.input.table, cfg["clinical"])
    comps = {m: read_tsv(p) for m, p in zip(snakemake.params.modalities, snakemake.input.compositions, strict=True)}
    X, y, pending, dropped = prepare(table, read_tsv(snakemake.input.activity), read_tsv(snakemake.input.response),
                                     comps, cfg["clinical"], mcfg, cfg["timepoints"][0])
    seed = mcfg.get("seed", cfg["seed"])
    result = fit_response_model(X, y, pending, mcfg, seed, n_jobs=snakemake.threads)
    write_model(result, X, y, pending, dropped, Path(snakemake.output.summary).parent)
    if result.fitted:
        model_figure(result.roc, result.calibration, result.coefficients, result.summary, snakemake.output.model_pdf)
    else:
        not_fitted_figure(result.message, snakemake.output.model_pdf)
    responder_comparison(X, y, snakemake.output.responders_pdf, "" if result.fitted else result.message)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
