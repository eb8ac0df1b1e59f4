"""The clinical layer scored against the simulator's truth (simulated studies only).

The simulator knows, for every patient, whether each trial must admit them and on which criteria
it must exclude them, and the SRI-4 outcome it built the visits to realise. These functions compare
``eligibility.tsv`` and ``response.tsv`` with that truth, per patient and as a few summary figures,
so a change to a rule file or a scoring function that breaks a decision shows up in the demo.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from belimap.errors import BelimapError

ACCURACY_COLUMNS = ["metric", "value"]


def _by_patient(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(patient_id=df["patient_id"].astype(str)).set_index("patient_id")


def _ids(cell: str | float) -> list[str]:
    """Sorted criterion IDs of a ``;``-separated ``excluded_by`` cell (blank = none)."""
    return sorted(filter(None, str(cell).split(";"))) if pd.notna(cell) else []


def eligibility_agreement(eligibility: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per patient of the truth for this trial: decision and excluding criteria, found vs true.

    ``truth``: ``truth/clinical_eligibility.tsv`` (``patient_id, trial, eligible, excluded_by``); the
    trial is the one named in ``eligibility['trial']``. A patient missing from ``eligibility``
    counts as a disagreement.
    """
    trial = str(eligibility["trial"].iloc[0]) if len(eligibility) else ""
    t = _by_patient(truth[truth["trial"].astype(str) == trial])
    if t.empty:
        known = ", ".join(sorted(truth["trial"].astype(str).unique()))
        raise BelimapError(f"clinical.trial: the simulator's truth has no decisions for trial '{trial}' (it knows "
                           f"{known}); scoring eligibility needs one of those rule files")
    got = _by_patient(eligibility)
    rows = []
    for pid, row in t.iterrows():
        true_by = _ids(row["excluded_by"])
        found = pid in got.index
        by = _ids(got.at[pid, "excluded_by"]) if found else []
        eligible = str(got.at[pid, "eligible"]) if found else ""
        rows.append({"patient_id": pid, "trial": trial, "eligible": eligible, "eligible_truth": row["eligible"],
                     "excluded_by": ";".join(by), "excluded_by_truth": ";".join(true_by),
                     "decision_agrees": found and eligible == row["eligible"],
                     "reasons_agree": found and by == true_by})
    return pd.DataFrame(rows, columns=["patient_id", "trial", "eligible", "eligible_truth", "excluded_by",
                                       "excluded_by_truth", "decision_agrees", "reasons_agree"])


def response_agreement(response: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per enrolled patient of the truth: SRI-4 status found vs the simulated outcome.

    ``truth``: ``truth/clinical_patients.tsv`` (``role, status``): ``pending`` for a patient whose response
    visit lies after the cut-off, ``non_responder`` for the simulated dropouts, rescues and missed visits
    (non-responder imputation), else responder / non_responder by the simulated SRI-4.
    """
    t = _by_patient(truth[truth["role"] == "enrolled"])
    got = _by_patient(response)["status"]
    true = t["status"].astype(str)
    found = got.reindex(t.index).fillna("")
    return pd.DataFrame({"patient_id": t.index, "status": found.to_numpy(), "status_truth": true.to_numpy(),
                         "agrees": (found == true).to_numpy()})


def clinical_accuracy(eligibility: pd.DataFrame, response: pd.DataFrame, truth_eligibility: pd.DataFrame,
                      truth_patients: pd.DataFrame) -> pd.DataFrame:
    """``metric, value`` rows: fraction of patients whose decision, reasons and outcome equal the truth."""
    e = eligibility_agreement(eligibility, truth_eligibility)
    r = response_agreement(response, truth_patients)
    known = r[r["status_truth"] != "pending"]

    def frac(s: pd.Series) -> float:
        return float(s.mean()) if len(s) else float("nan")

    rows = [("n_assessed", len(e)), ("eligibility_agreement", frac(e["decision_agrees"])),
            ("exclusion_reason_agreement", frac(e["reasons_agree"])),
            ("n_enrolled", len(r)), ("n_with_outcome", len(known)),
            ("sri4_agreement", frac(known["agrees"])),
            ("pending_agreement", frac(r.loc[r["status_truth"] == "pending", "agrees"]))]
    return pd.DataFrame(rows, columns=ACCURACY_COLUMNS)
