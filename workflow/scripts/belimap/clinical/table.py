"""Reading the clinical table: one row per patient × visit, typed and validated, identifiers refused.

Direct identifiers (names, dates of birth, record numbers, addresses, phone numbers, e-mail
addresses) are refused at the door: belimap works on pseudonymous patient codes only, so a
clinical table that carries them must never reach ``results/``. Blank cells are missing (NaN),
never zero, so that eligibility can tell "not assessable" from "no".
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd

from belimap.clinical.facts import ClinicalFacts, load_facts
from belimap.clinical.params import ClinicalParams
from belimap.config import load_schema, validate
from belimap.errors import BelimapError
from belimap.tables import read_table

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
#: A string column is free text when it is neither typed by the schema nor a known code column.
CODE_COLUMNS = ("patient_id", "visit", "arm", "sex", "active_arthritis_sites")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def table_schema(facts: ClinicalFacts) -> dict:
    """The row schema: ``config/schemas/clinical_table.schema.yaml`` plus the 0/1 columns of the facts."""
    schema = copy.deepcopy(load_schema("clinical_table"))
    for col in facts.binary_columns():
        schema["properties"].setdefault(col, {"type": "integer", "enum": [0, 1]})
    return schema


def refuse_identifiers(df: pd.DataFrame, path: str | Path, schema: dict) -> None:
    """Raise if a column name is a direct identifier or any cell holds an e-mail address."""
    forbidden = set(schema.get("x-direct-identifiers", []))
    for col in df.columns:
        if _norm(col) in forbidden:
            raise BelimapError(
                f"{path}: column '{col}' is a direct identifier; remove it and use pseudonymous patient "
                "codes only (patient_id)"
            )
    for col in df.columns:
        hits = df[col].astype(str).str.contains(EMAIL)
        if hits.any():
            i = int(np.flatnonzero(hits.to_numpy())[0]) + 1
            raise BelimapError(
                f"{path} row {i}: column '{col}' holds an e-mail address; direct identifiers are not accepted")


def _convert(value: str, prop: dict, where: str, col: str) -> str | int | float:
    kind = prop.get("type")
    if kind in ("number", "integer"):
        try:
            num = float(value)
        except ValueError:
            raise BelimapError(f"{where}: column '{col}': expected a number, got '{value}'") from None
        if kind == "integer" and num.is_integer():
            return int(num)
        return num
    return value


def refuse_partial_sledai(df: pd.DataFrame, path: Path, facts: ClinicalFacts) -> None:
    """Refuse a table with some but not all 24 SLEDAI-2K descriptor columns and no ``sledai2k_total``.

    Without this, every visit's SLEDAI-2K would be blank and the outcomes built on it (SRI-4, LLDAS)
    would silently read as not met instead of failing where the column went missing.
    """
    names = list(facts.sledai_weights)
    missing = [c for c in names if c not in df.columns]
    if missing and len(missing) < len(names) and "sledai2k_total" not in df.columns:
        raise BelimapError(f"{path}: SLEDAI-2K descriptor column(s) {', '.join(missing)} missing and no "
                           f"'sledai2k_total' column; expected all {len(names)} descriptors or a total")


def read_clinical_table(path: str | Path, *, params: ClinicalParams, facts: ClinicalFacts | None = None
                        ) -> pd.DataFrame:
    """Read, validate and type the clinical table.

    Returns one row per (patient_id, visit) sorted by patient and visit order; numeric and 0/1
    columns are floats with NaN for blanks; ``visit`` is an ordered categorical of
    ``params.visits``. Every problem is one line naming the file, row and column, so a clinician
    can fix the table without reading a traceback.
    """
    path = Path(path)
    facts = facts or load_facts(params)
    schema = table_schema(facts)
    df = read_table(path, ["patient_id", "visit"], "clinical table")
    refuse_identifiers(df, path, schema)
    refuse_partial_sledai(df, path, facts)
    if df.empty:
        raise BelimapError(f"{path}: the clinical table has no rows")
    visits = list(params.visits)
    props = schema["properties"]
    typed = []
    for i, row in enumerate(df.to_dict("records"), start=1):
        where = f"{path} row {i}"
        rec = {k: _convert(v.strip(), props.get(k, {}), where, k) for k, v in row.items() if v.strip() != ""}
        validate(rec, schema, where, set_default=False)
        if rec["visit"] not in visits:
            raise BelimapError(f"{where}: column 'visit': '{rec['visit']}' is not one of clinical.visits {visits}")
        typed.append(rec)
    dup = df.duplicated(["patient_id", "visit"], keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0]) + 1
        raise BelimapError(
            f"{path} row {i}: patient '{df['patient_id'].iloc[i - 1]}' has visit '{df['visit'].iloc[i - 1]}' twice; "
            "expected one row per patient and visit"
        )
    out = pd.DataFrame(typed, columns=list(df.columns))
    for col in out.columns:
        if props.get(col, {}).get("type") in ("number", "integer"):
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        elif col not in props and col not in CODE_COLUMNS:
            num = pd.to_numeric(out[col], errors="coerce")
            if num.notna().sum() == out[col].notna().sum():  # an extra, all-numeric column
                out[col] = num.astype(float)
    for col in ("patient_id", "visit"):
        out[col] = out[col].astype(str)
    out["visit"] = pd.Categorical(out["visit"], categories=visits, ordered=True)
    return out.sort_values(["patient_id", "visit"], kind="stable").reset_index(drop=True)


def visit_rows(table: pd.DataFrame, visit: str) -> pd.DataFrame:
    """The rows of one visit, indexed by patient_id."""
    return table[table["visit"] == visit].set_index("patient_id")


def first_available(table: pd.DataFrame, visits: list[str]) -> pd.DataFrame:
    """Per patient, the row of the first of ``visits`` that the patient has (e.g. screening, else baseline)."""
    sub = table[table["visit"].isin(visits)].copy()
    sub["_order"] = sub["visit"].astype(str).map({v: i for i, v in enumerate(visits)})
    sub = sub.sort_values(["patient_id", "_order"]).drop_duplicates("patient_id")
    return sub.drop(columns="_order").set_index("patient_id")
