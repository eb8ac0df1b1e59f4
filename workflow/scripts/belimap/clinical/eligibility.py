"""Eligibility criteria as data: each criterion of a trial's YAML evaluated per patient.

A trial file (``resources/eligibility/*.yaml``) lists inclusion and exclusion criteria with a rule
over clinical-table fields. Each criterion evaluates to *met*, *not met* or *not assessable*; a
patient is eligible only when every inclusion is met and no exclusion is met or unassessable, so
missing data never lets a patient through silently.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from belimap.clinical.activity import classification, sledai2k
from belimap.clinical.facts import ClinicalFacts
from belimap.clinical.logic import MET, NOT_ASSESSABLE, NOT_MET, all_of, any_of, is_unknown, status
from belimap.clinical.table import first_available
from belimap.config import read_yaml, repo_path, validate
from belimap.errors import BelimapError

OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne}

_RULES = {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/rule"}}
_RULE = {
    "type": "object",
    "oneOf": [
        {"required": ["field", "op", "value"],
         "properties": {"field": {"type": "string"}, "op": {"enum": [*OPS, "in", "any_of_sites"]}}},
        {"required": ["all_of"], "properties": {"all_of": _RULES}},
        {"required": ["any_of"], "properties": {"any_of": _RULES}},
    ],
}
TRIAL_SCHEMA = {
    "type": "object",
    "required": ["trial", "criteria"],
    "definitions": {"rule": _RULE},
    "properties": {
        "trial": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
        "title": {"type": "string"},
        "visits": {"type": "array", "items": {"type": "string"}, "minItems": 1, "default": ["screening", "baseline"]},
        "criteria": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "type", "text", "rule"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
                    "type": {"enum": ["inclusion", "exclusion"]},
                    "text": {"type": "string"},
                    "clause": {"type": "string"},
                    "assessed_by": {"enum": ["computed", "investigator"], "default": "computed"},
                    "rule": {"$ref": "#/definitions/rule"},
                },
            },
        },
    },
}
#: Fields computed from the table rather than read from it.
DERIVED_FIELDS = ("sledai2k", "acr_1997", "slicc_2012", "eular_acr_2019", "renal_flare")


def renal_flare(rows: pd.DataFrame) -> pd.Series:
    """Trial A's renal flare from the proteinuria history: 1 / 0 / NaN per patient.

    24-h proteinuria at the flare > 1 g after a previous complete renal response, else at least
    double the proteinuria before it (``previous_complete_renal_response``,
    ``proteinuria_g24h_before_flare``, ``proteinuria_g24h_at_flare``); missing history -> NaN.
    """
    def col(name: str) -> pd.Series:
        return pd.to_numeric(rows[name], errors="coerce") if name in rows else pd.Series(math.nan, index=rows.index)

    cr, before, at = col("previous_complete_renal_response"), col("proteinuria_g24h_before_flare"), \
        col("proteinuria_g24h_at_flare")
    flare = pd.Series(math.nan, index=rows.index)
    known = cr.notna() & at.notna()
    flare[known & (cr == 1)] = (at > 1).astype(float)[known & (cr == 1)]
    other = known & (cr == 0) & before.notna()
    flare[other] = (at >= 2 * before).astype(float)[other]
    return flare


def evaluate_rule(rule: dict[str, Any], record: dict[str, Any]) -> float:
    """1 / 0 / NaN for one rule over one patient's record (missing field -> NaN)."""
    if "all_of" in rule:
        return all_of(evaluate_rule(r, record) for r in rule["all_of"])
    if "any_of" in rule:
        return any_of(evaluate_rule(r, record) for r in rule["any_of"])
    value = record.get(rule["field"], math.nan)
    if value is None or is_unknown(value) or (isinstance(value, str) and value == ""):
        return math.nan
    op, target = rule["op"], rule["value"]
    if op == "any_of_sites":
        sites = set() if value == "none" else set(str(value).split(";"))
        return float(bool(sites & set(target)))
    if op == "in":
        return float(value in target)
    return float(OPS[op](value, target))


@dataclass(frozen=True)
class Criterion:
    """One inclusion or exclusion criterion of a trial."""

    id: str
    type: str
    text: str
    rule: dict[str, Any]
    clause: str = ""
    assessed_by: str = "computed"   # "investigator": not machine-assessable, read from the investigator_* field

    def evaluate(self, record: dict[str, Any]) -> str:
        """``met`` / ``not met`` / ``not assessable`` for one patient."""
        return status(evaluate_rule(self.rule, record))

    def excludes(self, verdict: str) -> bool:
        """Whether this verdict keeps the patient out of the trial."""
        if verdict == NOT_ASSESSABLE:
            return True
        return verdict == (NOT_MET if self.type == "inclusion" else MET)

    def fields(self) -> list[str]:
        def walk(r: dict) -> list[str]:
            if "field" in r:
                return [r["field"]]
            return [f for sub in r.get("all_of", r.get("any_of", [])) for f in walk(sub)]

        return walk(self.rule)


@dataclass(frozen=True)
class Trial:
    """A trial's eligibility criteria, read from its rule file."""

    id: str
    title: str
    visits: tuple[str, ...]
    criteria: tuple[Criterion, ...]

    def evaluate(self, record: dict[str, Any]) -> dict[str, str]:
        return {c.id: c.evaluate(record) for c in self.criteria}


def load_trial(path: str | Path) -> Trial:
    """Read and validate a trial rule file (one line naming the file and field on error)."""
    p = repo_path(path)
    data = validate(read_yaml(p), TRIAL_SCHEMA, str(p))
    ids = [c["id"] for c in data["criteria"]]
    dups = sorted({i for i in ids if ids.count(i) > 1})
    if dups:
        raise BelimapError(f"{p}: criterion id '{dups[0]}' appears more than once; expected unique ids")
    crit = tuple(Criterion(c["id"], c["type"], c["text"], c["rule"], c.get("clause", ""),
                           c.get("assessed_by", "computed")) for c in data["criteria"])
    return Trial(data["trial"], data.get("title", data["trial"]), tuple(data["visits"]), crit)


def screening_records(table: pd.DataFrame, trial: Trial, facts: ClinicalFacts) -> pd.DataFrame:
    """Per patient, the first of the trial's visits available, with the derived fields added."""
    rows = first_available(table, list(trial.visits))
    rows = rows.join(sledai2k(rows.reset_index(), facts).set_index(rows.index)[["sledai2k"]])
    cls = classification(rows, facts).set_index("patient_id")
    rows = rows.join(cls[["acr_1997", "slicc_2012", "eular_acr_2019"]])
    rows["renal_flare"] = renal_flare(rows)
    rows["screening_visit"] = rows["visit"].astype(str)
    missing = sorted(set(table["patient_id"]) - set(rows.index))
    for pid in missing:  # no row at any screening visit: every criterion is unassessable
        rows.loc[pid, "screening_visit"] = ""
    return rows.sort_index()


def eligibility_table(table: pd.DataFrame, trial: Trial, facts: ClinicalFacts) -> pd.DataFrame:
    """One row per patient: ``eligible``, the reasons for exclusion and every criterion's verdict.

    ``reasons`` lists, in the trial file's order, each criterion that keeps the patient out
    (``id: text`` with ``(not assessable)`` when the data were missing) and ``excluded_by`` their
    IDs (``;``-separated, for tables and tests); ``first_reason`` is the CONSORT box the patient
    is counted in; ``investigator_assessed`` the clauses whose verdict the investigator gave
    (``assessed_by: investigator``) rather than the pipeline computed.
    """
    records = screening_records(table, trial, facts)
    rows = []
    for pid, rec in records.iterrows():
        verdicts = trial.evaluate(rec.to_dict())
        out = [c for c in trial.criteria if c.excludes(verdicts[c.id])]
        by_inv = [c.id for c in trial.criteria if c.assessed_by == "investigator" and verdicts[c.id] != NOT_ASSESSABLE]
        reasons = [f"{c.id}: {c.text}" + (" (not assessable)" if verdicts[c.id] == NOT_ASSESSABLE else "") for c in out]
        rows.append({"patient_id": pid, "trial": trial.id, "screening_visit": rec.get("screening_visit", ""),
                     "eligible": "yes" if not out else "no", "first_reason": reasons[0] if reasons else "",
                     "excluded_by": ";".join(c.id for c in out), "reasons": "; ".join(reasons),
                     "investigator_assessed": ";".join(by_inv), **verdicts})
    return pd.DataFrame(rows, columns=["patient_id", "trial", "screening_visit", "eligible", "first_reason",
                                       "excluded_by", "reasons", "investigator_assessed"]
                        + [c.id for c in trial.criteria])
