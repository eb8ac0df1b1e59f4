"""Eligibility as data: decisions equal the simulator's truth for both trials; three-valued rules; CONSORT."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from belimap.clinical.accuracy import clinical_accuracy, eligibility_agreement
from belimap.clinical.consort import consort_counts, enrolled_patients
from belimap.clinical.eligibility import Criterion, eligibility_table, evaluate_rule, load_trial
from belimap.clinical.facts import load_facts
from belimap.clinical.params import ClinicalParams
from belimap.clinical.table import read_clinical_table
from belimap.config import ROOT, load_config
from belimap.errors import BelimapError
from belimap.tables import write_tsv
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
    table = read_clinical_table(path, params=ClinicalParams.from_config(cfg))
    return {"cfg": cfg, "table": table, "truth": truth, "patients": patients}


@pytest.mark.parametrize("trial_id", TRIALS)
def test_eligibility_equals_simulator_truth(study, trial_id):
    trial = load_trial(ROOT / "resources" / "eligibility" / f"{trial_id}.yaml")
    elig = eligibility_table(study["table"], trial, load_facts()).set_index("patient_id")
    truth = study["truth"][study["truth"]["trial"] == trial_id].set_index("patient_id")
    assert sorted(elig.index) == sorted(truth.index)
    agree = eligibility_agreement(elig.reset_index(), study["truth"]).set_index("patient_id")
    assert len(agree) == len(truth) and agree["decision_agrees"].all() and agree["reasons_agree"].all(), agree
    assert (agree["eligible"] == "no").sum() == (truth["eligible"] == "no").sum() >= 8
    # the words in `reasons` name the same criteria as `excluded_by`, in the trial file's order
    for _, row in elig.iterrows():
        ids = [r.split(":")[0] for r in row["reasons"].split("; ")] if row["reasons"] else []
        assert ids == (row["excluded_by"].split(";") if row["excluded_by"] else []), row["reasons"]
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
    enrolled = enrolled_patients(elig, study["table"], sheet, baseline_visit="baseline")
    resp = pd.DataFrame({"patient_id": enrolled, "status": ["responder"] * len(enrolled)})
    c = consort_counts(elig, enrolled, resp, sheet, tissues=cfg["tissues"], timepoints=cfg["timepoints"])
    n = lambda stage: int(c.loc[c["stage"] == stage, "n"].sum())  # noqa: E731
    assert n("assessed") == len(elig) == n("excluded") + n("eligible")
    assert n("excluded_reason") == n("excluded")
    assert n("enrolled") == 6 and n("eligible") - n("not_enrolled") == 6
    spec = c[c["stage"] == "specimens"].set_index("group")["n"]
    assert spec["blood | scrna | baseline"] == 1 and spec["blood | flow | baseline"] == 1
    assert spec["synovium | scrna | baseline"] == 1
    assert n("specimens_not_enrolled") == 1  # X9 has specimens but no clinical record


def test_accuracy_counts_a_wrong_decision_and_a_wrong_reason(study):
    """The demo's accuracy table is 1 when the rules match the truth and drops for each broken patient."""
    from belimap.clinical.activity import activity_table, response_table

    trial = load_trial(ROOT / "resources" / "eligibility" / "trial_b_tissue.yaml")
    facts = load_facts()
    elig = eligibility_table(study["table"], trial, facts)
    enrolled = study["patients"].loc[study["patients"]["role"] == "enrolled", "patient_id"].tolist()
    resp = response_table(study["table"], activity_table(study["table"], facts), enrolled, facts,
                          params=ClinicalParams.from_config(study["cfg"]))
    acc = clinical_accuracy(elig, resp, study["truth"], study["patients"]).set_index("metric")["value"]
    n = len(elig)
    assert acc["n_assessed"] == n and acc["n_enrolled"] == len(enrolled)
    assert acc[["eligibility_agreement", "exclusion_reason_agreement", "sri4_agreement"]].eq(1.0).all(), acc
    bad = elig.copy()
    out = bad.index[bad["eligible"] == "no"]
    bad.loc[out[0], "eligible"] = "yes"                  # one decision flipped
    bad.loc[out[1], "excluded_by"] = "hiv"               # one reason replaced
    flipped = resp.copy()
    flipped.loc[flipped["status"] == "responder", "status"] = "non_responder"
    acc = clinical_accuracy(bad, flipped, study["truth"], study["patients"]).set_index("metric")["value"]
    assert acc["eligibility_agreement"] == pytest.approx((n - 1) / n)
    assert acc["exclusion_reason_agreement"] == pytest.approx((n - 1) / n)  # the flipped one keeps its reasons
    assert acc["sri4_agreement"] < 1.0


def test_eligibility_equals_truth_in_a_120_patient_cohort(tmp_path):
    """Every one of 120 enrolled patients and 24 screening failures is decided as simulated, in both
    trials (the demo's 6 patients are too few to meet every random baseline)."""
    from belimap.simulate.clinical import simulate_large_cohort

    sim = simulate_large_cohort(120, seed=7)
    path = tmp_path / "clinical.tsv"
    write_tsv(format_table(sim["table"]), path)
    table = read_clinical_table(path, params=ClinicalParams.from_config(sim["cfg"]))
    for trial_id in TRIALS:
        trial = load_trial(ROOT / "resources" / "eligibility" / f"{trial_id}.yaml")
        elig = eligibility_table(table, trial, load_facts())
        agree = eligibility_agreement(elig, sim["eligibility"])
        assert len(agree) == 144 and (agree["eligible_truth"] == "yes").sum() >= 120
        wrong = agree[~(agree["decision_agrees"] & agree["reasons_agree"])]
        assert wrong.empty, wrong.to_string()


def test_scoring_a_trial_the_simulator_does_not_know_is_one_line(study):
    trial = load_trial(ROOT / "resources" / "eligibility" / "trial_b_tissue.yaml")
    elig = eligibility_table(study["table"], trial, load_facts()).assign(trial="my_trial")
    with pytest.raises(BelimapError, match="no decisions for trial 'my_trial' .it knows trial_a_response_model"):
        eligibility_agreement(elig, study["truth"])


def _clauses(trial_id: str) -> list[str]:
    """Each bullet clause ("- • …") of the trial's verbatim eligibility text."""
    text = (ROOT / "resources" / "eligibility" / "trials" / f"{trial_id}.md").read_text(encoding="utf-8")
    return [line[len("- • "):] for line in text.splitlines() if line.startswith("- • ")]


@pytest.mark.parametrize("trial_id", TRIALS)
def test_every_clause_of_the_trial_text_has_a_rule(trial_id):
    trial = load_trial(ROOT / "resources" / "eligibility" / f"{trial_id}.yaml")
    clauses = _clauses(trial_id)
    assert len(clauses) >= 15
    for c in trial.criteria:   # every rule quotes the text verbatim
        assert c.clause and any(c.clause in cl for cl in clauses), (c.id, c.clause)
    uncovered = [cl for cl in clauses if not any(c.clause in cl for c in trial.criteria)]
    assert not uncovered, uncovered
    inv = {c.id for c in trial.criteria if c.assessed_by == "investigator"}
    assert "intercurrent_illness" in inv and all(
        f.startswith("investigator_") or c.id == "suicide_risk"
        for c in trial.criteria if c.id in inv for f in c.fields())


def test_known_differences_to_the_text_are_fixed(study):
    facts = load_facts()
    a = load_trial(ROOT / "resources" / "eligibility" / f"{TRIALS[0]}.yaml")
    b = load_trial(ROOT / "resources" / "eligibility" / f"{TRIALS[1]}.yaml")
    ok = study["table"][study["table"]["patient_id"] == "P01"].copy()

    def verdict(trial, **changes):
        t = ok.copy()
        for k, v in changes.items():
            t[k] = v
        return eligibility_table(t, trial, facts).iloc[0]

    assert verdict(b)["eligible"] == "yes" and verdict(a)["eligible"] == "yes"
    assert verdict(b, starting_belimumab=0, starting_other_immunosuppressive=1)["eligible"] == "yes"
    assert verdict(b, starting_belimumab=0, starting_other_immunosuppressive=0)["excluded_by"] == "starting_belimumab"
    assert verdict(b, other_immunodeficiency=1)["excluded_by"] == "hiv"
    assert verdict(b, prior_investigational_agent=1)["excluded_by"] == "prior_cell_depleting"
    assert verdict(b, investigational_within_washout=1)["excluded_by"] == "investigational_30d"
    for field in ("contrast_anaphylaxis", "protein_anaphylaxis", "mab_anaphylaxis"):
        assert verdict(a, **{field: 1})["excluded_by"] == "mab_anaphylaxis"
    row = verdict(a, investigator_abnormal_laboratory=1)
    assert row["excluded_by"] == "abnormal_laboratory" and "abnormal_laboratory" in row["investigator_assessed"]
    row = verdict(a, investigator_intercurrent_illness=math.nan)   # not filled in: not assessable, out
    assert "intercurrent_illness" not in row["investigator_assessed"] and "intercurrent_illness" in row["excluded_by"]
    elig = eligibility_table(study["table"], a, facts)
    counts = consort_counts(elig, [], pd.DataFrame(), None, tissues=[], timepoints=[])
    inv = counts[counts["stage"] == "investigator"]
    assert len(inv) == 1 and "intercurrent_illness" in inv["group"].iloc[0] and inv["n"].iloc[0] == len(elig)
    from belimap.pl.clinical import consort_diagram   # the diagram says which clauses were not computed
    fig = consort_diagram(counts)
    assert any("investigator" in t.get_text() for t in fig.axes[0].texts)


def test_trial_a_renal_refractoriness_is_derived_from_the_proteinuria_history(study):
    facts = load_facts()
    a = load_trial(ROOT / "resources" / "eligibility" / f"{TRIALS[0]}.yaml")
    ok = study["table"][study["table"]["patient_id"] == "P01"].copy()

    def refractory(**changes):
        t = ok.copy()
        for k, v in {"refractory": 0, **changes}.items():
            t[k] = v
        return eligibility_table(t, a, facts).iloc[0]["refractory"]

    assert refractory(renal_disease=0) == "not met"
    assert refractory(renal_disease=1, proteinuria_g24h_after_1y=1.4) == "met"
    assert refractory(renal_disease=1, proteinuria_g24h_after_1y=0.4, previous_complete_renal_response=1,
                      proteinuria_g24h_at_flare=1.2) == "met"
    assert refractory(renal_disease=1, proteinuria_g24h_after_1y=0.4, previous_complete_renal_response=0,
                      proteinuria_g24h_before_flare=0.6, proteinuria_g24h_at_flare=1.1) == "not met"   # < double
    assert refractory(renal_disease=1, proteinuria_g24h_after_1y=0.4, previous_complete_renal_response=0,
                      proteinuria_g24h_before_flare=0.5, proteinuria_g24h_at_flare=1.0) == "met"       # doubled
    assert refractory(renal_disease=1, proteinuria_g24h_after_1y=0.4) == "not assessable"  # no flare history
