"""The clinical layer of a study in one call: the tables the workflow writes.

Order matters and is the protocol's: eligibility decides who is enrolled, activity is scored for
everyone, response only for the enrolled, and the CONSORT counts tie them to the sample sheet.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from belimap.clinical.activity import activity_table, classification, response_table
from belimap.clinical.consort import consort_counts, enrolled_patients
from belimap.clinical.eligibility import eligibility_table, load_trial, screening_records
from belimap.clinical.facts import load_facts
from belimap.clinical.table import read_clinical_table


def clinical_tables(cfg: dict, table_path: str | Path, sheet: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """``eligibility, classification, activity, response, consort`` for the study of ``cfg``."""
    ccfg = cfg["clinical"]
    facts = load_facts(ccfg)
    table = read_clinical_table(table_path, ccfg, facts)
    trial = load_trial(ccfg["trial"])
    elig = eligibility_table(table, trial, facts)
    records = screening_records(table, trial, facts)
    cls = classification(records.drop(columns=["acr_1997", "slicc_2012", "eular_acr_2019"]), facts)
    act = activity_table(table, facts)
    enrolled = enrolled_patients(elig, table, sheet, ccfg["baseline_visit"])
    resp = response_table(table, act, enrolled, ccfg, facts)
    consort = consort_counts(elig, enrolled, resp, sheet, list(cfg["tissues"]), list(cfg["timepoints"]))
    return {"eligibility": elig, "classification": cls, "activity": act, "response": resp, "consort": consort,
            "table": table}
