"""The clinical table: typed, validated, direct identifiers refused; the demo table is the simulator's."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from belimap.clinical.params import ClinicalParams
from belimap.clinical.table import read_clinical_table
from belimap.config import ROOT, load_config
from belimap.errors import BelimapError
from belimap.simulate.clinical import simulate_clinical, study_paths, write_all
from belimap.simulate.cohort import sample_sheet, simulate_cohort

CFG = load_config(ROOT / "config" / "config.yaml")
CLINICAL = ClinicalParams.from_config(CFG)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo study's clinical table as the workflow's simulate_clinical rule writes it."""
    out = tmp_path_factory.mktemp("demo_clinical")
    cohort = simulate_cohort(CFG)
    write_all(cohort, sample_sheet(cohort, out), out)
    return study_paths(out)["table"]


def _write(tmp_path, df: pd.DataFrame):
    p = tmp_path / "clinical.tsv"
    df.to_csv(p, sep="\t", index=False)
    return p


def _rows(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def test_demo_table_reads_and_is_typed(demo):
    t = read_clinical_table(demo, params=CLINICAL)
    assert t["visit"].cat.categories.tolist() == CFG["clinical"]["visits"]
    assert t["c3"].dtype == float and t["arthritis"].dtype == float
    base = t[(t["patient_id"] == "P01") & (t["visit"] == "baseline")]
    assert math.isnan(base["age"].iloc[0])   # blank is missing, never 0


#: SHA-256 of the demo's clinical table: the bytes of the table committed before it was simulated by the
#: workflow. A deliberate change to the clinical simulator changes it; update it in the same commit.
DEMO_TABLE_SHA256 = "52b83750a819cba5c21be41dfc0ad2d958c165649fbeafe3d3ae4cf0afb8b3e5"


def test_demo_table_is_deterministic_and_lists_the_cohorts_patients(demo):
    """Same seed, same bytes (a rerun of the demo changes nothing); enrolled = the sample sheet's patients."""
    import hashlib

    assert hashlib.sha256(demo.read_bytes()).hexdigest() == DEMO_TABLE_SHA256
    cohort = simulate_cohort(CFG)
    table, _, _ = simulate_clinical(cohort)
    assert set(cohort.specimens["patient_id"]) == {p for p in table["patient_id"] if p.startswith("P")}


@pytest.mark.parametrize("column", ["Name", "Date of birth", "DOB", "MRN", "Medical record number", "address",
                                    "Phone", "e-mail"])
def test_direct_identifier_columns_are_refused(demo, tmp_path, column):
    df = _rows(demo).head(3)
    df[column] = "x"
    with pytest.raises(BelimapError, match=f"column '{column}' is a direct identifier"):
        read_clinical_table(_write(tmp_path, df), params=CLINICAL)


def test_email_in_any_cell_and_name_as_patient_id_are_refused(demo, tmp_path):
    df = _rows(demo).head(3)
    df["comment"] = ["", "call jane.doe@example.org", ""]
    with pytest.raises(BelimapError, match="row 2: column 'comment' holds an e-mail"):
        read_clinical_table(_write(tmp_path, df), params=CLINICAL)
    df = _rows(demo).head(3)
    df.loc[0, "patient_id"] = "Jane Doe"
    with pytest.raises(BelimapError, match="row 1: field 'patient_id'"):
        read_clinical_table(_write(tmp_path, df), params=CLINICAL)


@pytest.mark.parametrize("column, value, message", [
    ("c3", "low", "column 'c3': expected a number, got 'low'"),
    ("arthritis", "2", "field 'arthritis'"),
    ("visit", "week99", "column 'visit': 'week99' is not one of clinical.visits"),
    ("pga", "4", "field 'pga'"),
])
def test_bad_values_name_row_and_column(demo, tmp_path, column, value, message):
    df = _rows(demo).head(3)
    df.loc[1, column] = value
    with pytest.raises(BelimapError, match=message):
        read_clinical_table(_write(tmp_path, df), params=CLINICAL)


def test_duplicate_visit_is_refused(demo, tmp_path):
    df = pd.concat([_rows(demo).head(2), _rows(demo).head(1)])
    with pytest.raises(BelimapError, match="has visit 'screening' twice"):
        read_clinical_table(_write(tmp_path, df), params=CLINICAL)


def test_write_all_writes_table_and_truth(tmp_path):
    cohort = simulate_cohort(CFG)
    write_all(cohort, sample_sheet(cohort, tmp_path), tmp_path)
    paths = study_paths(tmp_path)
    assert paths["table"] == tmp_path / "raw" / "clinical" / "clinical.tsv"
    assert read_clinical_table(paths["table"], params=CLINICAL)["patient_id"].nunique() == 6 + 8
    truth = pd.read_csv(paths["patients"], sep="\t")
    enrolled = truth[truth["role"] == "enrolled"]
    assert sorted(enrolled["patient_id"]) == sorted(cohort.specimens["patient_id"].unique())
    assert enrolled["oracle_probability"].between(0, 1).all()
    assert (truth["role"] == "screen_failure").sum() == cohort.params["clinical"]["n_screen_failures"]
    elig = pd.read_csv(paths["eligibility"], sep="\t")
    assert set(elig["trial"]) == {"trial_a_response_model", "trial_b_tissue"}


def test_validate_reads_the_clinical_table_as_the_workflow_will(demo, tmp_path, monkeypatch):
    """`belimap validate` checks the clinical table too: counts when good, one line naming row and column when not."""
    from belimap.commands.validate import clinical_summary

    monkeypatch.chdir(tmp_path)  # a fresh study folder: the demo's table is not written yet

    cfg = {**CFG, "simulate": {**CFG["simulate"], "enabled": False}}
    ok = clinical_summary({**cfg, "clinical": {**CFG["clinical"], "table": str(demo)}})
    assert ok.endswith(": 14 patients, 35 visits")
    assert "simulated by the workflow" in clinical_summary(CFG)  # the demo's, before the demo has run
    assert "no clinical table" in clinical_summary({**cfg, "clinical": {**CFG["clinical"], "table": ""}})
    with pytest.raises(BelimapError, match="clinical.table: file 'nope.tsv' does not exist"):
        clinical_summary({**cfg, "clinical": {**CFG["clinical"], "table": "nope.tsv"}})
    df = _rows(demo).head(3)
    df.loc[1, "c3"] = "low"
    with pytest.raises(BelimapError, match="row 2: column 'c3': expected a number"):
        clinical_summary({**cfg, "clinical": {**CFG["clinical"], "table": str(_write(tmp_path, df))}})


def test_empty_file_or_folder_is_one_line(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    with pytest.raises(BelimapError, match="empty.tsv: the clinical table is empty"):
        read_clinical_table(empty, params=CLINICAL)
    with pytest.raises(BelimapError, match="is a folder; expected a tab-separated clinical table file"):
        read_clinical_table(tmp_path, params=CLINICAL)


def test_a_missing_sledai_descriptor_column_is_refused_not_scored_blank(demo, tmp_path):
    df = _rows(demo).head(3)
    if "sledai2k_total" in df.columns:
        df = df.drop(columns="sledai2k_total")
    missing = "SLEDAI-2K descriptor column\\(s\\) arthritis missing and no 'sledai2k_total'"
    with pytest.raises(BelimapError, match=missing):
        read_clinical_table(_write(tmp_path, df.drop(columns="arthritis")), params=CLINICAL)
    df["sledai2k_total"] = ""
    assert len(read_clinical_table(_write(tmp_path, df.drop(columns="arthritis")), params=CLINICAL)) == 3
