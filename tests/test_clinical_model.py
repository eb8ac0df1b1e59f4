"""The response model: signal recovered near the oracle, no leakage on null cohorts, honest fallback."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from belimap.clinical.activity import activity_table, response_table
from belimap.clinical.facts import load_facts
from belimap.clinical.features import prepare
from belimap.clinical.model import fit_response_model, make_pipeline, nested_cv, prior_weights
from belimap.clinical.params import ClinicalParams, ModelParams
from belimap.clinical.pipeline import clinical_tables, figure_files, write_model
from belimap.clinical.table import read_clinical_table
from belimap.config import ROOT, load_config, validate
from belimap.pl import save_figure
from belimap.pl.clinical import model_figure, responder_comparison
from belimap.tables import read_tsv, write_tsv
from belimap.simulate.clinical import (format_table, measured_composition, simulate_large_cohort, study_paths,
                                      write_all)
from belimap.simulate.cohort import sample_sheet, simulate_cohort

CFG = load_config(ROOT / "config" / "config.yaml")
CLINICAL = ClinicalParams.from_config(CFG)
MODEL_TABLES = ("summary", "features", "cv_predictions", "roc", "calibration", "coefficients", "predictions",
                "descriptive")


def fast_model(**kw) -> ModelParams:
    """The config's model section made quick: 1 repeat, 3 inner folds, a short C grid."""
    m = copy.deepcopy(CFG["model"])
    m.update({"repeats": 1, "inner_folds": 3, "C_grid": [0.03, 0.1, 0.3, 1.0], "n_bootstrap": 10,
              "n_selection_bootstrap": 20, "n_permutations": 0, **kw})
    return ModelParams.from_config({"seed": CFG["seed"], "model": validate(m, "model", "test")})


def cohort_inputs(tmp_path, n: int, seed: int, signal: bool = True):
    sim = simulate_large_cohort(n, seed=seed, signal=signal, missing={"synovium": 0.3},
                                clinical={"pending_fraction": 0.1})
    clinical = ClinicalParams.from_config(sim["cfg"])
    path = tmp_path / f"clinical_{seed}.tsv"
    write_tsv(format_table(sim["table"]), path)
    facts = load_facts(clinical)
    table = read_clinical_table(path, params=clinical, facts=facts)
    act = activity_table(table, facts)
    enrolled = sim["patients"].loc[sim["patients"]["role"] == "enrolled", "patient_id"].tolist()
    resp = response_table(table, act, enrolled, facts, params=clinical)
    return sim, table, act, resp


def features_of(cohort, m: ModelParams):
    """The model's inputs from a simulated cohort, as the workflow builds them (scRNA composition, baseline)."""
    sim, table, act, resp = cohort
    return prepare(table, act, resp, {"scrna": sim["composition"]}, clinical=ClinicalParams.from_config(sim["cfg"]),
                   params=m, timepoint="baseline")


def write_model_to(folder, res, X, y, pending) -> dict:
    """Write the model's tables under ``folder`` by name, as the rule lists them; return the paths."""
    paths = {name: folder / f"{name}.tsv" for name in MODEL_TABLES} | {"text": folder / "summary.txt"}
    write_model(res, X, y, pending, [], **paths)
    return paths


@pytest.fixture(scope="module")
def signal_cohort(tmp_path_factory):
    return cohort_inputs(tmp_path_factory.mktemp("signal"), 120, seed=100)


def test_sri4_equals_simulator_truth(signal_cohort):
    sim, _, _, resp = signal_cohort
    truth = sim["patients"].set_index("patient_id")
    known = resp[resp["status"] != "pending"].set_index("patient_id")
    assert len(known) >= 100
    assert (known["sri4"].astype(int) == truth.loc[known.index, "sri4"].astype(int)).all()
    pending = resp.loc[resp["status"] == "pending", "patient_id"]
    assert len(pending) == 12 and truth.loc[pending, "pending"].eq(1).all()


def test_signal_is_recovered_near_the_oracle(signal_cohort, tmp_path):
    sim = signal_cohort[0]
    m = fast_model(n_permutations=3, seed=1)
    X, y, pending, _ = features_of(signal_cohort, m)
    assert any(c.startswith("clr:scrna:blood:") for c in X.columns) and "clinical:sledai2k>=10" in X.columns
    res = fit_response_model(X, y, pending, params=m)
    oracle = roc_auc_score(y, sim["patients"].set_index("patient_id").loc[y.index, "oracle_probability"])
    s = res.summary
    assert res.fitted and 0.70 < oracle < 0.82
    assert abs(s["auc"] - oracle) < 0.07                               # benchmark: full repeats, 20 cohorts
    assert s["auc_ci_low"] < s["auc"] < s["auc_ci_high"]
    assert 0 < s["permutation_p"] <= 1
    assert {"calibration_slope", "calibration_intercept", "brier"} <= set(s) and 0 < s["brier"] < 0.25
    assert len(res.predictions) == len(pending) and res.predictions["probability"].between(0, 1).all()
    assert set(res.coefficients["feature"]) == set(X.columns)
    assert res.coefficients["selection_frequency"].between(0, 1).all()
    paths = write_model_to(tmp_path, res, X, y, pending)
    assert len(read_tsv(paths["cv_predictions"])) == len(y)
    save_figure(model_figure(res.roc, res.calibration, res.coefficients, s), tmp_path / "model.pdf")
    assert (tmp_path / "model.png").stat().st_size > 0


def test_published_predictor_prior_brings_cv_auc_within_0_07_of_the_oracle(tmp_path):
    """Fast version of benchmarks/response_model.py: 3 cohorts of 120, with and without the prior."""
    gaps = {True: [], False: []}
    for seed in (100, 101, 102):
        cohort = cohort_inputs(tmp_path, 120, seed=seed)
        oracle_p = cohort[0]["patients"].set_index("patient_id")["oracle_probability"]
        for prior in gaps:
            m = fast_model(seed=1, **({} if prior else {"prior_features": []}))
            X, y, pending, _ = features_of(cohort, m)
            auc = fit_response_model(X, y, pending, params=m).summary["auc"]
            gaps[prior].append(auc - roc_auc_score(y, oracle_p.loc[y.index]))
    assert abs(np.mean(gaps[True])) <= 0.07, gaps
    assert np.mean(gaps[True]) > np.mean(gaps[False]), gaps


def test_null_cohorts_are_not_predictable(tmp_path):
    """No signal, no leakage: the mean nested-CV AUC of null cohorts stays near 0.5 (benchmark: 20 × 120)."""
    aucs = []
    m = fast_model(n_bootstrap=0, n_selection_bootstrap=0)
    for seed in range(4):
        X, y, pending, _ = features_of(cohort_inputs(tmp_path, 80, seed=500 + seed, signal=False), m)
        aucs.append(fit_response_model(X, y, pending, params=replace(m, seed=seed)).summary["auc"])
    assert abs(np.mean(aucs) - 0.5) < 0.1, aucs


def test_preprocessing_is_fitted_inside_folds():
    """A feature whose missingness and values are pure noise cannot help, however it is imputed."""
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 30)
    X = rng.normal(size=(60, 5))
    X[rng.random(X.shape) < 0.3] = np.nan
    oof = nested_cv(X, y, params=fast_model(), seed=0)
    assert np.isfinite(oof).all()
    assert abs(roc_auc_score(y, oof[0]) - 0.5) < 0.2


def test_demo_cohort_gets_no_model_but_a_descriptive_comparison(tmp_path):
    cohort = simulate_cohort(CFG)
    sheet = sample_sheet(cohort, tmp_path)
    write_all(cohort, sheet, tmp_path)
    table = read_clinical_table(study_paths(tmp_path)["table"], params=CLINICAL)
    tabs = clinical_tables(table, sheet, params=CLINICAL, tissues=CFG["tissues"], timepoints=CFG["timepoints"])
    comp = measured_composition(cohort, 1500, seed=1)
    m = replace(ModelParams.from_config(CFG), seed=1)
    X, y, pending, _ = prepare(table, tabs["activity"], tabs["response"], {"scrna": comp}, clinical=CLINICAL, params=m,
                               timepoint="baseline")
    res = fit_response_model(X, y, pending, params=m)
    assert not res.fitted and res.summary["status"] == "not_fitted"
    assert res.message.startswith("No model was fitted: 5 patients have a known outcome")
    assert "auc" not in res.summary
    d = res.descriptive.set_index("feature")
    assert (d["n_responders"] + d["n_non_responders"]).max() == len(y) == 5
    paths = write_model_to(tmp_path / "model", res, X, y, pending)
    assert read_tsv(paths["cv_predictions"]).empty
    assert "No model was fitted" in paths["text"].read_text()
    save_figure(responder_comparison(X, y, message=res.message), tmp_path / "resp.pdf")
    for name in ("consort", "activity", "response"):
        write_tsv(tabs[name], tmp_path / f"{name}.tsv")
    figure_files(*(tmp_path / f"{n}.tsv" for n in ("consort", "activity", "response")), params=CLINICAL,
                 consort_figure=tmp_path / "consort.pdf", activity_figure=tmp_path / "activity.pdf")
    files = [tmp_path / f"consort.{ext}" for ext in ("pdf", "png", "svg")]  # the SVG, for editing by hand
    assert all(f.stat().st_size > 0 for f in files) and (tmp_path / "activity.png").stat().st_size > 0


def test_smallest_allowed_cohort_fits():
    """At the minimum (min_patients, min_per_class) every inner fold still holds both classes."""
    rng = np.random.default_rng(3)
    m = fast_model(min_patients=20, min_per_class=6, inner_folds=5, n_bootstrap=10, n_selection_bootstrap=5)
    y = pd.Series([1] * 6 + [0] * 14, index=[f"P{i:02d}" for i in range(20)])
    X = pd.DataFrame(rng.normal(size=(20, 4)) + y.to_numpy()[:, None], index=y.index, columns=list("abcd"))
    res = fit_response_model(X, y, X.iloc[:0], params=replace(m, seed=0))
    assert res.fitted and res.summary["auc"] > 0.7 and res.predictions.empty


def test_prior_weights_match_feature_globs():
    feats = ["clinical:sledai2k>=10", "clinical:c3", "scrna:blood:naive", "flow:blood:naive", "scrna:lymph_node:naive"]
    w = prior_weights(feats, patterns=["clinical:sledai2k>=10", "*:blood:naive"], weight=3.0)
    assert w.tolist() == [3.0, 1.0, 3.0, 3.0, 1.0]
    assert prior_weights(feats, patterns=["clinical:nothing_like_this"], weight=3.0) is None
    assert prior_weights(feats, patterns=["*"], weight=1.0) is None


def test_prior_feature_survives_a_penalty_that_drops_its_equal():
    """Two features with equal effects: at a strong lasso penalty only the up-weighted one stays in."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 2))
    y = (X @ [1.0, 1.0] + rng.logistic(size=200) > 0).astype(int)
    plain = make_pipeline(C=0.01).fit(X, y).named_steps["clf"].coef_[0]
    prior = make_pipeline(C=0.01, weights=np.array([3.0, 1.0])).fit(X, y).named_steps["clf"].coef_[0]
    assert np.all(plain == 0)
    assert prior[0] > 0 and prior[1] == 0


def test_coefficients_are_reported_on_the_standardised_scale(signal_cohort):
    """With a prior, coefficients are un-weighted again: the table's values rebuild the final model's logit."""
    m = fast_model(n_selection_bootstrap=10, n_bootstrap=0, C_grid=[0.3], seed=1)
    X, y, pending, _ = features_of(signal_cohort, m)
    res = fit_response_model(X, y, pending, params=m)
    c = res.coefficients.set_index("feature")
    assert set(c.index[c["prior"] == "yes"]) == {"clinical:sledai2k>=10", "clinical:log1p_anti_dsdna",
                                                 "clinical:low_complement", "clr:scrna:blood:naive",
                                                 "clr:scrna:blood:transitional"}
    assert "penalised less" in res.message and "matching no feature" not in res.message
    typo = fit_response_model(X, y, pending, params=replace(m, prior_features=["clinical:sledai>=10"],
                                                            n_selection_bootstrap=0))
    assert "prior_features matching no feature (misspelt, or dropped for coverage): clinical:sledai>=10" in typo.message
    w = prior_weights(list(X.columns), patterns=m.prior_features, weight=m.prior_weight)
    pipe = make_pipeline(C=0.3, l1_ratio=m.l1_ratio, seed=1, weights=w).fit(X.to_numpy(float), y.to_numpy(int))
    z = pipe[:2].transform(pending.to_numpy(float))
    logit = z @ c.loc[X.columns, "coefficient"].to_numpy() + pipe.named_steps["clf"].intercept_[0]
    np.testing.assert_allclose(1 / (1 + np.exp(-logit)), res.predictions["probability"], rtol=1e-4)  # solver tol


def test_feature_axes_carry_units_from_the_table_schema():
    from belimap.pl.clinical import feature_axis_label

    num = pd.Series([1.5, 80.0, np.nan])
    assert feature_axis_label("clinical:c3", num) == "mg/dL"
    assert feature_axis_label("clinical:log1p_anti_dsdna", num) == "log(1 + IU/mL)"
    assert feature_axis_label("clinical:sledai2k", pd.Series([4.0, 12.0])) == "points"
    assert feature_axis_label("clinical:sledai2k>=10", pd.Series([0.0, 1.0])) == "0/1 at baseline"
    assert feature_axis_label("clinical:low_complement", pd.Series([0.0, 1.0, np.nan])) == "0/1 at baseline"
    assert feature_axis_label("scrna:blood:naive", num) == "fraction of B cells"
    assert feature_axis_label("clinical:my_own_lab", num) == "value at baseline"


def test_model_seed_is_the_model_section_s_else_the_study_s():
    """One rule for the model's seed (belimap.params.seed_of): ``model.seed`` when set, else the study's."""
    assert ModelParams.from_config(CFG).seed == CFG["seed"]
    assert ModelParams.from_config({**CFG, "model": {**CFG["model"], "seed": 5}}).seed == 5
    assert ModelParams.from_config({"seed": 3}).immune.min_coverage == ModelParams().immune.min_coverage


def test_calibration_summary_detects_probabilities_pulled_to_one_half():
    import numpy as np

    from belimap.clinical.model import calibration_summary

    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 4000)
    y = (rng.random(4000) < p).astype(int)
    good = calibration_summary(y, p)
    assert abs(good["calibration_slope"] - 1) < 0.15 and abs(good["calibration_intercept"]) < 0.1
    shrunk = calibration_summary(y, 0.5 + 0.4 * (p - 0.5))   # what an intercept/over-penalised fit does
    assert shrunk["calibration_slope"] > 1.5 and shrunk["brier"] > good["brier"]


def test_permutation_null_uses_the_observed_statistic():
    """Each null AUC is the same repeat-averaged nested-CV AUC as the observed one (same repeats)."""
    from belimap.clinical.model import mean_auc, permutation_p

    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    m = fast_model(repeats=2, n_permutations=2, outer_folds=4)
    _, null = permutation_p(X, y, 0.5, params=m, seed=7)
    yp = np.random.default_rng(7).permutation(y)
    assert null[0] == pytest.approx(mean_auc(yp, nested_cv(X, yp, params=m, seed=7)))
    assert null[0] != pytest.approx(mean_auc(yp, nested_cv(X, yp, params=m, seed=7, repeats=1)))


def test_immune_features_need_enough_bcells_and_are_log_ratios():
    """A 2-B-cell synovium gives no feature; CLR values are log-ratios to the specimen's geometric mean."""
    from belimap.clinical.features import immune_features

    rows = []
    for sid, pid, tissue, counts in (("a", "P1", "blood", {"naive": 60, "switched_memory": 30, "plasmablast": 10}),
                                     ("b", "P1", "synovium", {"naive": 1, "switched_memory": 1, "plasmablast": 0}),
                                     ("c", "P2", "blood", {"naive": 20, "switched_memory": 60, "plasmablast": 20})):
        n = sum(counts.values())
        rows += [{"sample_id": sid, "patient_id": pid, "tissue": tissue, "timepoint": "baseline", "subset": s,
                  "n_cells": k, "n_bcells": n, "fraction": k / n} for s, k in counts.items()]
    comp = pd.DataFrame(rows)
    clr = immune_features({"scrna": comp}, timepoint="baseline", min_bcells=20, transform="clr", pseudocount=0.5)
    assert clr.loc[:, [c for c in clr.columns if ":synovium:" in c]].isna().all().all()
    logs = np.log(np.array([60, 30, 10]) + 0.5)
    assert clr.loc["P1", "clr:scrna:blood:naive"] == pytest.approx(logs[0] - logs.mean())
    assert clr.loc["P1", [c for c in clr.columns if ":blood:" in c]].sum() == pytest.approx(0.0)
    # keeping one subset does not change its log-ratio reference
    one = immune_features({"scrna": comp}, timepoint="baseline", subsets=["naive"], min_bcells=20)
    assert list(one.columns) == ["clr:scrna:blood:naive", "clr:scrna:synovium:naive"]
    assert one.loc["P2", "clr:scrna:blood:naive"] == pytest.approx(clr.loc["P2", "clr:scrna:blood:naive"])
    frac = immune_features({"scrna": comp}, timepoint="baseline", min_bcells=0, transform="fraction")
    assert frac.loc["P1", "scrna:synovium:naive"] == pytest.approx(0.5)


def test_bootstrap_copies_of_a_patient_share_a_fold():
    """In a resample, a patient's copies are predicted together, so no copy ever trains its own prediction."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 3))
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    idx = np.sort(rng.integers(0, 40, 40))
    idx = idx[np.isin(idx, idx[y[idx] == 0]) | np.isin(idx, idx[y[idx] == 1])]
    oof = nested_cv(X[idx], y[idx], params=fast_model(outer_folds=4), seed=2, repeats=1, groups=idx)[0]
    for g in np.unique(idx):
        assert np.ptp(oof[idx == g]) == 0.0


def test_auc_interval_reruns_the_nested_cv_and_is_reproducible():
    """The interval is centred on the observed AUC, has the resamples' spread, and repeats exactly with the seed."""
    from belimap.clinical.model import auc_interval

    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + rng.normal(size=60) > 0).astype(int)
    m = fast_model(n_bootstrap=8, outer_folds=3)
    lo, hi, sd = auc_interval(X, y, 0.7, params=m, seed=1)
    assert sd > 0 and lo < 0.7 < hi and hi - lo == pytest.approx(2 * 1.959964 * sd, rel=1e-4)
    assert (lo, hi, sd) == auc_interval(X, y, 0.7, params=m, seed=1)
    assert np.isnan(auc_interval(X, y, 0.7, params=fast_model(n_bootstrap=0), seed=1)[0])
