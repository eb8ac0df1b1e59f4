"""The clinical table: typed, validated, direct identifiers refused; the demo table is the simulator's."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from belimap.clinical.table import read_clinical_table
from belimap.config import ROOT, load_config
from belimap.errors import BelimapError
from belimap.simulate.clinical import format_table, simulate_clinical, write_all
from belimap.simulate.cohort import sample_sheet, simulate_cohort

CFG = load_config(ROOT / "config" / "config.yaml")
DEMO = ROOT / "config" / "clinical.tsv"


def _write(tmp_path, df: pd.DataFrame):
    p = tmp_path / "clinical.tsv"
    df.to_csv(p, sep="\t", index=False)
    return p


def _demo_rows() -> pd.DataFrame:
    return pd.read_csv(DEMO, sep="\t", dtype=str, keep_default_na=False)


def test_demo_table_reads_and_is_typed():
    t = read_clinical_table(DEMO, CFG["clinical"])
    assert t["visit"].cat.categories.tolist() == CFG["clinical"]["visits"]
    assert t["c3"].dtype == float and t["arthritis"].dtype == float
    base = t[(t["patient_id"] == "P01") & (t["visit"] == "baseline")]
    assert math.isnan(base["age"].iloc[0])   # blank is missing, never 0


def test_committed_demo_table_is_the_simulators():
    table, _, _ = simulate_clinical(simulate_cohort(CFG))
    assert format_table(table).astype(str).equals(_demo_rows()[format_table(table).columns].astype(str))


@pytest.mark.parametrize("column", ["Name", "Date of birth", "DOB", "MRN", "Medical record number", "address",
                                    "Phone", "e-mail"])
def test_direct_identifier_columns_are_refused(tmp_path, column):
    df = _demo_rows().head(3)
    df[column] = "x"
    with pytest.raises(BelimapError, match=f"column '{column}' is a direct identifier"):
        read_clinical_table(_write(tmp_path, df), CFG["clinical"])


def test_email_in_any_cell_and_name_as_patient_id_are_refused(tmp_path):
    df = _demo_rows().head(3)
    df["comment"] = ["", "call jane.doe@example.org", ""]
    with pytest.raises(BelimapError, match="row 2: column 'comment' holds an e-mail"):
        read_clinical_table(_write(tmp_path, df), CFG["clinical"])
    df = _demo_rows().head(3)
    df.loc[0, "patient_id"] = "Jane Doe"
    with pytest.raises(BelimapError, match="row 1: field 'patient_id'"):
        read_clinical_table(_write(tmp_path, df), CFG["clinical"])


@pytest.mark.parametrize("column, value, message", [
    ("c3", "low", "column 'c3': expected a number, got 'low'"),
    ("arthritis", "2", "field 'arthritis'"),
    ("visit", "week99", "column 'visit': 'week99' is not one of clinical.visits"),
    ("pga", "4", "field 'pga'"),
])
def test_bad_values_name_row_and_column(tmp_path, column, value, message):
    df = _demo_rows().head(3)
    df.loc[1, column] = value
    with pytest.raises(BelimapError, match=message):
        read_clinical_table(_write(tmp_path, df), CFG["clinical"])


def test_duplicate_visit_is_refused(tmp_path):
    df = pd.concat([_demo_rows().head(2), _demo_rows().head(1)])
    with pytest.raises(BelimapError, match="has visit 'screening' twice"):
        read_clinical_table(_write(tmp_path, df), CFG["clinical"])


def test_write_all_writes_table_and_truth(tmp_path):
    cohort = simulate_cohort(CFG)
    write_all(cohort, sample_sheet(cohort, tmp_path), tmp_path)
    assert (tmp_path / "raw" / "clinical" / "clinical.tsv").read_text() == DEMO.read_text()
    truth = pd.read_csv(tmp_path / "truth" / "clinical_patients.tsv", sep="\t")
    enrolled = truth[truth["role"] == "enrolled"]
    assert sorted(enrolled["patient_id"]) == sorted(cohort.specimens["patient_id"].unique())
    assert enrolled["oracle_probability"].between(0, 1).all()
    assert (truth["role"] == "screen_failure").sum() == cohort.params["clinical"]["n_screen_failures"]
    elig = pd.read_csv(tmp_path / "truth" / "clinical_eligibility.tsv", sep="\t")
    assert set(elig["trial"]) == {"trial_a_response_model", "trial_b_tissue"}
