"""Eligibility as data: decisions equal the simulator's truth for both trials; three-valued rules; CONSORT."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from belimap.clinical.consort import consort_counts, enrolled_patients
from belimap.clinical.eligibility import Criterion, eligibility_table, evaluate_rule, load_trial
from belimap.clinical.facts import load_facts
from belimap.clinical.table import read_clinical_table
from belimap.config import ROOT, load_config
from belimap.errors import BelimapError
from belimap.io import write_tsv
from belimap.simulate.clinical import format_table, simulate_clinical
from belimap.simulate.cohort import simulate_cohort

TRIALS = ["trial_a_response_model", "trial_b_tissue"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The demo cohort with every screening-failure mode of the simulator (15), read back from TSV."""
    cfg = load_config(ROOT / "config" / "config.yaml")
    cohort = simulate_cohort(cfg)
    n_modes = len(cohort.params["clinical"]["screen_failures"])
    table, patients, truth = simulate_clinical(cohort, n_screen_failures=n_modes)
    path = tmp_path_factory.mktemp("clin") / "clinical.tsv"
    write_tsv(format_table(table), path)
    return {"cfg": cfg, "table": read_clinical_table(path, cfg["clinical"]), "truth": truth, "patients": patients}


@pytest.mark.parametrize("trial_id", TRIALS)
def test_eligibility_equals_simulator_truth(study, trial_id):
    trial = load_trial(ROOT / "resources" / "eligibility" / f"{trial_id}.yaml")
    elig = eligibility_table(study["table"], trial, load_facts()).set_index("patient_id")
    truth = study["truth"][study["truth"]["trial"] == trial_id].set_index("patient_id")
    assert sorted(elig.index) == sorted(truth.index)
    for pid, t in truth.iterrows():
        got = elig.loc[pid]
        excluded_by = sorted(r.split(":")[0] for r in got["reasons"].split("; ")) if got["reasons"] else []
        assert got["eligible"] == t["eligible"], pid
        assert excluded_by == sorted(filter(None, str(t["excluded_by"]).split(";"))), pid
    # the patient with the missing HIV test is out, as "not assessable", in both trials
    missing = study["patients"].loc[study["patients"]["failure"] == "hiv=missing", "patient_id"].iloc[0]
    assert elig.loc[missing, "hiv"] == "not assessable"
    assert "(not assessable)" in elig.loc[missing, "reasons"]


def test_both_trials_exclude_some_and_differ(study):
    facts = load_facts()
    a = eligibility_table(study["table"], load_trial(f"resources/eligibility/{TRIALS[0]}.yaml"), facts)
    b = eligibility_table(study["table"], load_trial(f"resources/eligibility/{TRIALS[1]}.yaml"), facts)
    assert (a["eligible"] == "no").sum() >= 8 and (b["eligible"] == "no").sum() >= 8
    assert (a["eligible"] != b["eligible"]).any()  # e.g. age 78 or eGFR 24: out of B, in A


def test_rules_are_three_valued():
    rule = {"any_of": [{"field": "hbsag", "op": "==", "value": 1}, {"field": "hbcab", "op": "==", "value": 1}]}
    assert evaluate_rule(rule, {"hbsag": 1.0}) == 1.0                 # true wins over unknown
    assert math.isnan(evaluate_rule(rule, {"hbsag": 0.0}))             # unknown hbcab: not assessable
    assert evaluate_rule(rule, {"hbsag": 0.0, "hbcab": 0.0}) == 0.0
    both = {"all_of": [{"field": "age", "op": ">=", "value": 18}, {"field": "age", "op": "<=", "value": 75}]}
    assert evaluate_rule(both, {"age": 75.0}) == 1.0 and evaluate_rule(both, {"age": 76.0}) == 0.0
    sites = {"field": "active_arthritis_sites", "op": "any_of_sites", "value": ["wrist", "knee", "ankle"]}
    assert evaluate_rule(sites, {"active_arthritis_sites": "elbow;knee"}) == 1.0
    assert evaluate_rule(sites, {"active_arthritis_sites": "none"}) == 0.0
    inc = Criterion("x", "inclusion", "x", {"field": "age", "op": ">", "value": 18})
    exc = Criterion("y", "exclusion", "y", {"field": "hiv", "op": "==", "value": 1})
    assert inc.excludes(inc.evaluate({})) and exc.excludes(exc.evaluate({}))   # missing never passes
    assert not exc.excludes(exc.evaluate({"hiv": 0.0}))


def test_bad_trial_file_is_one_line(tmp_path):
    p = tmp_path / "trial.yaml"
    p.write_text(yaml.safe_dump({"trial": "t", "criteria": [
        {"id": "a", "type": "inclusion", "text": "a", "rule": {"field": "age", "op": "~", "value": 1}}]}))
    with pytest.raises(BelimapError, match="trial.yaml"):
        load_trial(p)
    p.write_text(yaml.safe_dump({"trial": "t", "criteria": [
        {"id": "a", "type": "inclusion", "text": "a", "rule": {"field": "age", "op": ">", "value": 1}}] * 2}))
    with pytest.raises(BelimapError, match="criterion id 'a' appears more than once"):
        load_trial(p)


def test_consort_counts_follow_eligibility_and_sheet(study):
    cfg = study["cfg"]
    trial = load_trial(cfg["clinical"]["trial"])
    elig = eligibility_table(study["table"], trial, load_facts())
    sheet = pd.DataFrame({"sample_id": ["P01_blood_baseline", "P01_blood_baseline", "P02_synovium_baseline", "X9_blood"],
                          "patient_id": ["P01", "P01", "P02", "X9"], "tissue": ["blood", "blood", "synovium", "blood"],
                          "timepoint": ["baseline"] * 4, "modality": ["scrna", "flow", "scrna", "scrna"]})
    enrolled = enrolled_patients(elig, study["table"], sheet, "baseline")
    resp = pd.DataFrame({"patient_id": enrolled, "status": ["responder"] * len(enrolled)})
    c = consort_counts(elig, enrolled, resp, sheet, cfg["tissues"], cfg["timepoints"])
    n = lambda stage: int(c.loc[c["stage"] == stage, "n"].sum())  # noqa: E731
    assert n("assessed") == len(elig) == n("excluded") + n("eligible")
    assert n("excluded_reason") == n("excluded")
    assert n("enrolled") == 6 and n("eligible") - n("not_enrolled") == 6
    spec = c[c["stage"] == "specimens"].set_index("group")["n"]
    assert spec["blood | scrna | baseline"] == 1 and spec["blood | flow | baseline"] == 1
    assert spec["synovium | scrna | baseline"] == 1
    assert n("specimens_not_enrolled") == 1  # X9 has specimens but no clinical record
