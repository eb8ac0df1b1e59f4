"""The clinical layer and the response model as one call per workflow rule.

Order matters and is the protocol's: eligibility decides who is enrolled, activity is scored for
everyone, response only for the enrolled, and the CONSORT counts tie them to the sample sheet;
the model then learns the enrolled patients' response from their baseline. ``clinical_tables``
does this in memory; the ``*_file(s)`` functions wrap each rule's reads and writes so that a
rule's script is one call. Nothing here touches Snakemake; every output is passed by name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimap.clinical.activity import activity_table, classification, response_table
from belimap.clinical.consort import consort_counts, enrolled_patients
from belimap.clinical.eligibility import eligibility_table, load_trial, screening_records
from belimap.clinical.facts import load_facts
from belimap.clinical.params import ClinicalParams, ModelParams
from belimap.clinical.table import read_clinical_table
from belimap.tables import read_tsv, write_text, write_tsv

if TYPE_CHECKING:  # scikit-learn is a slow import; `belimap validate` and the tables never need it
    from belimap.clinical.model import ModelResult

log = logging.getLogger(__name__)


def clinical_tables(table: pd.DataFrame, sheet: pd.DataFrame | None, *, params: ClinicalParams,
                    tissues: list[str], timepoints: list[str]) -> dict[str, pd.DataFrame]:
    """``eligibility, classification, activity, response, consort`` of a typed clinical table.

    ``table`` as :func:`~belimap.clinical.table.read_clinical_table` returns it; ``sheet`` (the
    sample sheet, or None) counts as having started the study for a patient with specimens.
    """
    facts = load_facts(params)
    trial = load_trial(params.trial)
    elig = eligibility_table(table, trial, facts)
    records = screening_records(table, trial, facts)
    cls = classification(records.drop(columns=["acr_1997", "slicc_2012", "eular_acr_2019"]), facts)
    act = activity_table(table, facts)
    enrolled = enrolled_patients(elig, table, sheet, baseline_visit=params.baseline_visit)
    resp = response_table(table, act, enrolled, facts, params=params)
    consort = consort_counts(elig, enrolled, resp, sheet, tissues=tissues, timepoints=timepoints)
    return {"eligibility": elig, "classification": cls, "activity": act, "response": resp, "consort": consort}


def check_table(path: str | Path, *, params: ClinicalParams) -> tuple[int, int]:
    """Read the clinical table exactly as the workflow will; (patients, visits) when it is valid.

    ``belimap validate`` calls this, so a table that passes there cannot fail the workflow.
    """
    t = read_clinical_table(path, params=params)
    return int(t["patient_id"].nunique()), len(t)


# --------------------------------------------------------------------------------------------
# one call per rule
# --------------------------------------------------------------------------------------------
def tables_file(table: str | Path, files: list[dict[str, str]], *, params: ClinicalParams, tissues: list[str],
                timepoints: list[str], eligibility: str | Path, classification: str | Path, activity: str | Path,
                response: str | Path, consort: str | Path) -> None:
    """Rule ``clinical_tables``: clinical table + the sheet's rows (``files``) → the five tables of the
    clinical layer."""
    tabs = clinical_tables(read_clinical_table(table, params=params), pd.DataFrame(files), params=params,
                           tissues=tissues,
                           timepoints=timepoints)
    for name, path in (("eligibility", eligibility), ("classification", classification), ("activity", activity),
                       ("response", response), ("consort", consort)):
        write_tsv(tabs[name], path)


def accuracy_file(eligibility: str | Path, response: str | Path, truth_eligibility: str | Path,
                  truth_patients: str | Path, *, out: str | Path) -> None:
    """Rule ``clinical_accuracy``: eligibility and SRI-4 scored against the simulator's truth (also logged)."""
    from belimap.clinical.accuracy import clinical_accuracy

    acc = clinical_accuracy(*(read_tsv(p) for p in (eligibility, response, truth_eligibility, truth_patients)))
    write_tsv(acc, out)
    log.info("clinical accuracy:\n%s", acc.to_string(index=False))


def figure_files(consort: str | Path, activity: str | Path, response: str | Path, *, params: ClinicalParams,
                 title: str = "", consort_figure: str | Path, activity_figure: str | Path) -> None:
    """Rule ``clinical_figures``: the CONSORT diagram (PDF, PNG and SVG for editing) and activity over time."""
    from belimap.pl import save_figure
    from belimap.pl import clinical as pl

    save_figure(pl.consort_diagram(read_tsv(consort), title=title), consort_figure, formats=("pdf", "png", "svg"))
    save_figure(pl.activity_over_time(read_tsv(activity), read_tsv(response), visits=list(params.visits)),
                activity_figure)


def write_model(result: ModelResult, X: pd.DataFrame, y: pd.Series, pending: pd.DataFrame, dropped: list[str], *,
                summary: str | Path, text: str | Path, features: str | Path, cv_predictions: str | Path,
                roc: str | Path, calibration: str | Path, coefficients: str | Path, predictions: str | Path,
                descriptive: str | Path) -> None:
    """Write every table of the model step (empty tables with headers when no model was fitted).

    ``features`` holds the matrix the model saw (pending patients last, outcome blank), so a
    reader can refit it elsewhere; ``text`` is the plain-language result and the dropped features.
    """
    from belimap.clinical.features import DESC_COLUMNS
    from belimap.clinical.model import CAL_COLUMNS, COEF_COLUMNS, CV_COLUMNS, PRED_COLUMNS, ROC_COLUMNS

    feats = X.assign(outcome=y).reset_index(names="patient_id")
    if len(pending):
        feats = pd.concat([feats, pending.assign(outcome=np.nan).reset_index(names="patient_id")])
    write_tsv(feats, features)
    write_tsv(pd.DataFrame({"key": list(result.summary), "value": [str(v) for v in result.summary.values()]}),
              summary)
    tables = ((result.cv_predictions, CV_COLUMNS, cv_predictions), (result.roc, ROC_COLUMNS, roc),
              (result.calibration, CAL_COLUMNS, calibration), (result.coefficients, COEF_COLUMNS, coefficients),
              (result.predictions, PRED_COLUMNS, predictions), (result.descriptive, DESC_COLUMNS, descriptive))
    for df, cols, path in tables:
        write_tsv(df if len(df.columns) else pd.DataFrame(columns=cols), path)
    lines = [result.message, ""]
    if dropped:
        lines.append("Features left out: " + "; ".join(dropped))
    write_text("\n".join(lines) + "\n", text)


def response_model_files(table: str | Path, activity: str | Path, response: str | Path,
                         compositions: Mapping[str, str | Path], *, clinical: ClinicalParams, params: ModelParams,
                         timepoint: str, n_jobs: int = 1, summary: str | Path, text: str | Path,
                         features: str | Path, cv_predictions: str | Path, roc: str | Path, calibration: str | Path,
                         coefficients: str | Path, predictions: str | Path, descriptive: str | Path,
                         model_figure: str | Path, responders_figure: str | Path) -> None:
    """Rule ``model_response``: the response model (or, with too few patients, the descriptive
    comparison), its tables and its two figures.

    ``compositions`` maps a modality to its composition table (the immune features);
    ``timepoint`` is the sample sheet's baseline timepoint.
    """
    from belimap.clinical.features import prepare
    from belimap.clinical.model import fit_response_model
    from belimap.pl import save_figure
    from belimap.pl import clinical as pl

    comps = {m: read_tsv(p) for m, p in compositions.items()}
    X, y, pending, dropped = prepare(read_clinical_table(table, params=clinical), read_tsv(activity),
                                     read_tsv(response), comps, clinical=clinical, params=params, timepoint=timepoint)
    result = fit_response_model(X, y, pending, params=params, n_jobs=n_jobs)
    write_model(result, X, y, pending, dropped, summary=summary, text=text, features=features,
                cv_predictions=cv_predictions, roc=roc, calibration=calibration, coefficients=coefficients,
                predictions=predictions, descriptive=descriptive)
    if result.fitted:
        fig = pl.model_figure(result.roc, result.calibration, result.coefficients, result.summary)
    else:
        fig = pl.not_fitted_figure(result.message)
    save_figure(fig, model_figure)
    save_figure(pl.responder_comparison(X, y, message="" if result.fitted else result.message), responders_figure)
