"""Disease activity and response: SLEDAI-2K, classification criteria, LLDAS and SRI-4.

Every weight, descriptor and threshold comes from ``resources/clinical`` (criteria.json and the
YAML beside it) through :class:`~belimap.clinical.facts.ClinicalFacts`. No library implements these
scores in Python, hence this module; each follows the published definition item by item. Results
are three-valued: a score that needs a missing item is NaN ("not assessable"), never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from belimap.clinical.facts import ClinicalFacts
from belimap.clinical.logic import all_of, any_of, is_unknown
from belimap.clinical.params import ClinicalParams
from belimap.clinical.table import first_available, visit_rows
from belimap.errors import BelimapError


def _get(row: pd.Series | dict, col: str) -> float:
    v = row.get(col, math.nan) if hasattr(row, "get") else math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


# ----------------------------------------------------------------------------------------------
# SLEDAI-2K
# ----------------------------------------------------------------------------------------------
def sledai2k(table: pd.DataFrame, facts: ClinicalFacts) -> pd.DataFrame:
    """SLEDAI-2K of every row: the weighted sum of the 24 descriptors, else the given total.

    Returns ``sledai2k`` and ``sledai2k_source`` (``descriptors`` | ``total`` | ``""``). A row with a
    descriptor missing and no total is NaN: a partial sum would understate activity.
    """
    weights = pd.Series(facts.sledai_weights, dtype=float)
    cols = [c for c in weights.index if c in table.columns]
    score = pd.Series(np.nan, index=table.index)
    if len(cols) == len(weights):
        items = table[list(weights.index)].astype(float)
        complete = items.notna().all(axis=1)
        score[complete] = items[complete].to_numpy() @ weights.to_numpy()
    source = pd.Series(np.where(score.notna(), "descriptors", ""), index=table.index, dtype=object)
    if "sledai2k_total" in table.columns:
        use_total = score.isna() & table["sledai2k_total"].notna()
        score[use_total] = table.loc[use_total, "sledai2k_total"].astype(float)
        source[use_total] = "total"
    return pd.DataFrame({"sledai2k": score, "sledai2k_source": source})


# ----------------------------------------------------------------------------------------------
# classification criteria
# ----------------------------------------------------------------------------------------------
def _bounded(rule: Callable[[dict[str, float]], bool], row: dict, cols: list[str]) -> float:
    """Evaluate ``rule`` with missing items as 0 and as 1: decided if both agree, else NaN."""
    if not any(c in row and not is_unknown(row[c]) for c in cols):
        return math.nan
    lo = rule({c: (0.0 if is_unknown(row.get(c)) else float(row[c])) for c in cols})
    hi = rule({c: (1.0 if is_unknown(row.get(c)) else float(row[c])) for c in cols})
    if lo == hi:
        return float(lo)
    return math.nan


def acr_1997(row: dict, facts: ClinicalFacts) -> tuple[float, float]:
    """(classified 1/0/NaN, number of items present) by the ACR 1997 criteria."""
    spec = facts.classification["acr_1997"]
    cols = list(spec["columns"])
    rule = lambda v: sum(v[c] for c in cols) >= spec["min_items"]  # noqa: E731
    return _bounded(rule, row, cols), float(sum(_get(row, c) == 1 for c in cols))


def slicc_2012(row: dict, facts: ClinicalFacts) -> tuple[float, float]:
    """(classified 1/0/NaN, number of criteria present) by SLICC 2012."""
    s = facts.classification["slicc_2012"]
    clin, imm = list(s["clinical"]), list(s["immunologic"])
    cols = clin + imm + [s["biopsy_nephritis"]]

    def rule(v: dict) -> bool:
        n_c, n_i = sum(v[c] for c in clin), sum(v[c] for c in imm)
        counted = n_c + n_i >= s["min_criteria"] and n_c >= s["min_clinical"] and n_i >= s["min_immunologic"]
        biopsy = v[s["biopsy_nephritis"]] == 1 and any(v[c] == 1 for c in s["biopsy_with_any_of"])
        return bool(counted or biopsy)

    return _bounded(rule, row, cols), float(sum(_get(row, c) == 1 for c in clin + imm))


def eular_acr_2019(row: dict, facts: ClinicalFacts) -> tuple[float, float]:
    """(classified 1/0/NaN, score) by EULAR/ACR 2019: entry ANA, highest weight per domain, threshold."""
    e = facts.classification["eular_acr_2019"]
    spec = facts.criteria["EULAR_ACR_2019"]
    domains = {d: {e["prefix"] + item: w for item, w in items.items()} for d, items in facts.eular_items.items()}
    cols = [e["entry"]] + [c for items in domains.values() for c in items]

    def score(v: dict) -> float:
        return float(sum(max([w for c, w in items.items() if v[c] == 1], default=0) for items in domains.values()))

    def rule(v: dict) -> bool:
        n_clin = sum(v[c] == 1 for d in e["clinical_domains"] for c in domains[d])
        return bool(v[e["entry"]] == 1 and n_clin >= spec["need_clinical"] and score(v) >= spec["threshold"])

    known = {c: (0.0 if is_unknown(row.get(c)) else float(row[c])) for c in cols}
    return _bounded(rule, row, cols), score(known)


def classification(rows: pd.DataFrame, facts: ClinicalFacts) -> pd.DataFrame:
    """ACR 1997, SLICC 2012 and EULAR/ACR 2019 per patient (rows indexed by patient_id)."""
    out = []
    for pid, row in rows.iterrows():
        r = row.to_dict()
        acr, n_acr = acr_1997(r, facts)
        slicc, n_slicc = slicc_2012(r, facts)
        eular, s_eular = eular_acr_2019(r, facts)
        out.append({"patient_id": pid, "acr_1997": acr, "acr_1997_items": n_acr, "slicc_2012": slicc,
                    "slicc_2012_criteria": n_slicc, "eular_acr_2019": eular, "eular_acr_2019_score": s_eular})
    return pd.DataFrame(out, columns=["patient_id", "acr_1997", "acr_1997_items", "slicc_2012", "slicc_2012_criteria",
                                      "eular_acr_2019", "eular_acr_2019_score"])


# ----------------------------------------------------------------------------------------------
# LLDAS and the activity table
# ----------------------------------------------------------------------------------------------
def _leq(x: float, limit: float) -> float:
    return math.nan if is_unknown(x) else float(round(x, 6) <= limit)


def lldas_row(row: dict, previous: dict | None, score: float, facts: ClinicalFacts) -> float:
    """LLDAS at one visit (1/0/NaN) by the five conditions of outcomes.yaml / criteria.json."""
    spec = facts.lldas
    organ = [c for names in spec["no_activity_in"].values() for c in names]
    parts = [_leq(score, spec["sledai2k_max"])]
    parts += [math.nan if is_unknown(_get(row, c)) else float(_get(row, c) == 0) for c in organ + list(spec["absent"])]
    if spec.get("no_new_activity", True):
        if previous is None:
            parts.append(math.nan)
        else:
            new = []
            for c in facts.sledai_weights:
                now, before = _get(row, c), _get(previous, c)
                new.append(math.nan if is_unknown(now) or is_unknown(before) else float(not (now == 1 and before == 0)))
            parts.append(all_of(new))
    parts += [_leq(_get(row, "pga"), spec["pga_max"]), _leq(_get(row, "prednisone_mg"), spec["prednisone_max_mg"])]
    return all_of(parts)


ACTIVITY_COLUMNS = ["patient_id", "visit", "sledai2k", "sledai2k_source", "lldas", "pga", "prednisone_mg",
                    "anti_dsdna", "c3", "c4", "bilag_new_a", "bilag_new_b"]


def activity_table(table: pd.DataFrame, facts: ClinicalFacts) -> pd.DataFrame:
    """One row per patient × visit: SLEDAI-2K, LLDAS and the labs that go with them."""
    scores = sledai2k(table, facts)
    t = pd.concat([table, scores], axis=1)
    lldas, prev_of = [], {}
    for rec in t.to_dict("records"):
        prev = prev_of.get(rec["patient_id"])
        lldas.append(lldas_row(rec, prev, rec["sledai2k"], facts))
        prev_of[rec["patient_id"]] = rec
    t["lldas"] = lldas
    for col in ACTIVITY_COLUMNS:
        if col not in t.columns:
            t[col] = np.nan
    out = t[ACTIVITY_COLUMNS].copy()
    out["visit"] = out["visit"].astype(str)
    return out


# ----------------------------------------------------------------------------------------------
# SRI-4
# ----------------------------------------------------------------------------------------------
def sri4(baseline: dict, response: dict, facts: ClinicalFacts) -> dict[str, float]:
    """SRI-4 components and verdict between a baseline and a response visit (values 1/0/NaN)."""
    s = facts.sri4
    drop = _get(baseline, "sledai2k") - _get(response, "sledai2k")
    pga_change = _get(response, "pga") - _get(baseline, "pga")
    a, b = _get(response, "bilag_new_a"), _get(response, "bilag_new_b")
    parts = {
        "sledai_ok": math.nan if is_unknown(drop) else float(drop >= s["sledai_reduction_min"]),
        "bilag_a_ok": math.nan if is_unknown(a) else float(a <= s["bilag_new_A_max"]),
        "bilag_b_ok": math.nan if is_unknown(b) else float(b <= s["bilag_new_B_max"]),
        # rounded: 1.2 - 0.9 must count as a rise of 0.3, not 0.29999999999999993
        "pga_ok": math.nan if is_unknown(pga_change) else float(round(pga_change, 6) < s["pga_increase_max_exclusive"]),
    }
    return {"sledai2k_drop": drop, "pga_change": pga_change, "bilag_new_a": a, "bilag_new_b": b,
            **parts, "sri4": all_of(parts.values())}


RESPONSE_COLUMNS = ["patient_id", "arm", "baseline_sledai2k", "response_sledai2k", "sledai2k_drop", "bilag_new_a",
                    "bilag_new_b", "pga_change", "sri4", "lldas", "status", "imputed", "status_reason"]


def _intercurrent_event(rows: pd.DataFrame, params: ClinicalParams) -> str:
    """``discontinued`` / ``rescue`` when the patient has that flag at a visit after baseline up to the response
    visit (the trial's intercurrent events that make a patient a non-responder), else ``""``."""
    order = {v: i for i, v in enumerate(params.visits)}
    lo, hi = order[params.baseline_visit], order[params.response_visit]
    window = rows[rows["visit"].astype(str).map(order).between(lo, hi)]
    for flag in ("discontinued", "rescue"):
        if flag in window and (pd.to_numeric(window[flag], errors="coerce") == 1).any():
            return flag
    return ""


def _date(value: object, where: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(str(value).strip())
    except ValueError:
        raise BelimapError(f"{where}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def _missing_visit_status(pid: str, base_date: object, params: ClinicalParams) -> tuple[str, str]:
    """Status of a patient with no response visit and no intercurrent event: pending only when the visit is
    not yet due at the data cut-off; a missed visit is non-response (non-responder imputation)."""
    visit = params.response_visit
    if not params.data_cutoff:
        return "pending", "no clinical.data_cutoff set: a missed visit cannot be told from a future one"
    if visit not in params.visit_days:
        raise BelimapError(f"config clinical.visit_days: no planned day for the response visit {visit!r}")
    if is_unknown(base_date) or not str(base_date).strip():
        return "pending", f"no {params.baseline_visit} visit_date: cannot tell whether {visit} is due"
    cutoff = _date(params.data_cutoff, "config clinical.data_cutoff")
    due = _date(base_date, f"clinical table: patient {pid}, {params.baseline_visit} visit_date") + pd.Timedelta(
        days=params.visit_days[visit] + params.visit_window_days)
    if due > cutoff:
        return "pending", f"{visit} due {due.date()}, after the data cut-off {cutoff.date()}"
    return "non_responder", f"{visit} missing at the data cut-off {cutoff.date()} (due {due.date()}): non-responder imputation"


def response_table(table: pd.DataFrame, activity: pd.DataFrame, patients: list[str], facts: ClinicalFacts, *,
                   params: ClinicalParams) -> pd.DataFrame:
    """SRI-4 and LLDAS at ``params.response_visit`` against ``params.baseline_visit`` for ``patients``
    (the enrolled ones: response is a trial outcome, so screening failures have none), under the trials'
    estimand: non-responder imputation.

    ``status``: ``non_responder`` when the patient discontinued or received rescue therapy between baseline
    and the response visit (whatever the visit shows), or missed the response visit although it was due
    at ``data_cutoff``; otherwise ``responder`` / ``non_responder`` by SRI-4; ``pending`` when the visit is
    still in the future at the cut-off (the model predicts these); ``not_assessable`` when a component is
    missing. ``imputed`` names why a non-responder was imputed (``discontinued``,
    ``rescue``, ``missed_visit``; ``""`` otherwise); ``status_reason`` says why for every status
    but an observed SRI-4.
    """
    act = activity.assign(visit=activity["visit"].astype(str))
    base = visit_rows(act, params.baseline_visit)
    resp = visit_rows(act, params.response_visit)
    dates = visit_rows(table.assign(visit=table["visit"].astype(str)), params.baseline_visit)
    arms = first_available(table, list(params.visits))
    by_patient = dict(tuple(table.groupby("patient_id", sort=False)))
    rows = []
    for pid in patients:
        b = base.loc[pid].to_dict() if pid in base.index else {}
        arm = arms.loc[pid].get("arm", "") if pid in arms.index and "arm" in arms.columns else ""
        row = {"patient_id": pid, "arm": "" if is_unknown(arm) else arm, "baseline_sledai2k": _get(b, "sledai2k")}
        if pid in resp.index:
            r = resp.loc[pid].to_dict()
            res = sri4(b, r, facts)
            status = "not_assessable" if is_unknown(res["sri4"]) else ("responder" if res["sri4"] else "non_responder")
            reason = "an SRI-4 component is missing" if status == "not_assessable" else ""
            row.update({"response_sledai2k": _get(r, "sledai2k"), **res, "lldas": _get(r, "lldas")})
        else:
            base_date = dates.loc[pid].get("visit_date") if pid in dates.index and "visit_date" in dates else None
            status, reason = _missing_visit_status(pid, base_date, params)
        imputed = "missed_visit" if status == "non_responder" and pid not in resp.index else ""
        event = _intercurrent_event(by_patient[pid], params) if pid in by_patient else ""
        if event:
            what = "discontinued" if event == "discontinued" else "protocol-prohibited rescue therapy"
            status, imputed = "non_responder", event
            reason = f"{what} before {params.response_visit}: non-responder imputation"
        rows.append({**row, "status": status, "imputed": imputed, "status_reason": reason})
    return pd.DataFrame(rows).reindex(columns=RESPONSE_COLUMNS)


def any_classification(cls: pd.DataFrame) -> pd.Series:
    """Classified by at least one of the three criteria (three-valued), per patient."""
    return cls.set_index("patient_id")[["acr_1997", "slicc_2012", "eular_acr_2019"]].apply(
        lambda r: any_of(r.tolist()), axis=1)
