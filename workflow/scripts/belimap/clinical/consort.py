"""CONSORT-style flow counts: assessed → excluded (by reason) → enrolled → specimens → analysed.

Counts are a long table (``stage, group, n``) so the figure, the report and the tests read the same
numbers. A patient excluded for several reasons is counted once, under the first reason in the
trial file's order (the CONSORT convention); ``eligibility.tsv`` keeps every reason.
"""

from __future__ import annotations

import pandas as pd

CONSORT_COLUMNS = ["stage", "group", "n"]


def enrolled_patients(eligibility: pd.DataFrame, table: pd.DataFrame, sheet: pd.DataFrame | None, *,
                      baseline_visit: str) -> list[str]:
    """Eligible patients who started the study: a baseline visit or a specimen in the sample sheet."""
    started = set(table.loc[table["visit"].astype(str) == baseline_visit, "patient_id"])
    if sheet is not None:
        started |= set(sheet["patient_id"])
    ok = eligibility.loc[eligibility["eligible"] == "yes", "patient_id"]
    return sorted(p for p in ok if p in started)


def consort_counts(eligibility: pd.DataFrame, enrolled: list[str], response: pd.DataFrame,
                   sheet: pd.DataFrame | None, *, tissues: list[str], timepoints: list[str]) -> pd.DataFrame:
    """The flow of patients and specimens as ``stage, group, n`` rows, in diagram order."""
    rows = [("assessed", "patients assessed for eligibility", len(eligibility))]
    if "investigator_assessed" in eligibility:
        inv = eligibility["investigator_assessed"].fillna("").astype(str)
        ids = sorted({i for v in inv for i in v.split(";") if i})
        if ids:
            rows.append(("investigator", "clauses assessed by the investigator: " + ", ".join(ids),
                         int((inv != "").sum())))
    excluded = eligibility[eligibility["eligible"] != "yes"]
    rows.append(("excluded", "excluded", len(excluded)))
    # reasons in the trial file's order (criterion columns follow "reasons" in eligibility.tsv)
    first = "investigator_assessed" if "investigator_assessed" in eligibility else "reasons"
    crit = list(eligibility.columns[list(eligibility.columns).index(first) + 1:])
    pos = lambda r: (crit.index(r.split(":")[0]) if r.split(":")[0] in crit else len(crit), r)  # noqa: E731
    for reason, n in sorted(excluded["first_reason"].value_counts().items(), key=lambda kv: pos(kv[0])):
        rows.append(("excluded_reason", reason, int(n)))
    n_elig = int((eligibility["eligible"] == "yes").sum())
    rows.append(("eligible", "eligible", n_elig))
    rows.append(("not_enrolled", "eligible, not enrolled", n_elig - len(enrolled)))
    rows.append(("enrolled", "enrolled", len(enrolled)))
    if sheet is not None and len(sheet):
        outside = sorted(set(sheet["patient_id"]) - set(enrolled))
        if outside:
            rows.append(("specimens_not_enrolled", "patients with specimens but not enrolled: " + ", ".join(outside),
                         len(outside)))
        sub = sheet[sheet["patient_id"].isin(enrolled)]
        spec = sub.drop_duplicates(["sample_id", "modality"])
        for tissue in tissues:
            for modality in sorted(spec["modality"].unique()):
                for tp in timepoints:
                    n = int(((spec["tissue"].astype(str) == tissue) & (spec["modality"] == modality)
                             & (spec["timepoint"].astype(str) == tp)).sum())
                    if n:
                        rows.append(("specimens", f"{tissue} | {modality} | {tp}", n))
    status = response.set_index("patient_id")["status"] if len(response) else pd.Series(dtype=str)
    for key, label in (("responder", "responders (SRI-4)"), ("non_responder", "non-responders"),
                       ("pending", "outcome pending"), ("not_assessable", "outcome not assessable")):
        rows.append(("analysed", label, int((status == key).sum())))
    if len(response) and "imputed" in response:
        why = response["imputed"].fillna("").astype(str)
        for key, label in (("discontinued", "discontinued"), ("rescue", "rescue therapy"),
                           ("missed_visit", "response visit missed")):
            if (why == key).any():
                rows.append(("imputed", f"non-responders by imputation: {label}", int((why == key).sum())))
    return pd.DataFrame(rows, columns=CONSORT_COLUMNS)
