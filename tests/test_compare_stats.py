"""Composition tests (belimap.compare.stats): effects recovered, pairing used, sparse data honest, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimap.compare.simulate import null_overrides, simulated_study
from belimap.compare.stats import TEST_COLUMNS, CompositionParams, composition_tests, study_tests
from belimap.composition import COMPOSITION_COLUMNS
from belimap.config import ROOT, load_config
from belimap.errors import BelimapError
from belimap.simulate.cohort import simulate_cohort, simulation_params
from belimap.vocab import load_vocabulary

TISSUES, TIMES = ["blood", "lymph_node", "synovium"], ["baseline", "week12", "week48"]


@pytest.fixture(scope="module")
def cfg():
    return load_config(ROOT / "config" / "config.yaml")


@pytest.fixture(scope="module")
def vocab(cfg):
    return load_vocabulary(cfg)


def study_results(tables: dict[str, pd.DataFrame], cfg: dict, vocab) -> pd.DataFrame:
    """The study's composition tests as rule compare_composition runs them (config thresholds)."""
    return study_tests(tables, vocab, tissues=cfg["tissues"], timepoints=cfg["timepoints"],
                       params=CompositionParams.from_config(cfg))


def table(rows: list[tuple], subsets: list[str]) -> pd.DataFrame:
    """Composition rows from (patient, tissue, timepoint, n_bcells, {subset: n}) tuples."""
    out = []
    for pat, tissue, tp, n_b, counts in rows:
        for s in subsets:
            k = counts.get(s, 0)
            out.append({"sample_id": f"{pat}_{tissue}_{tp}", "patient_id": pat, "tissue": tissue, "timepoint": tp,
                        "subset": s, "n_cells": k, "n_bcells": n_b, "fraction": k / n_b if n_b else np.nan})
    return pd.DataFrame(out, columns=COMPOSITION_COLUMNS)


def row(res: pd.DataFrame, comparison: str, tissue: str, timepoint: str, subset: str, reference: str | None = None) -> pd.Series:
    sel = (res["comparison"] == comparison) & (res["tissue"] == tissue) & (res["timepoint"] == timepoint) & (res["subset"] == subset)
    if reference is not None:
        sel &= res["reference"] == reference
    assert sel.sum() == 1, (comparison, tissue, timepoint, subset)
    return res[sel].iloc[0]


def test_treatment_effects_recovered_within_ci(cfg, vocab):
    """Demo effects (naive halved, memory up in blood at week 12): right sign, q < 0.05, truth inside the CI."""
    comp = simulated_study(cfg, seed=11)
    res = study_results({"scrna": comp}, cfg, vocab)
    assert list(res.columns) == TEST_COLUMNS
    cohort = simulate_cohort(load_config(ROOT / "config" / "config.yaml", {"simulate": {"seed": 11}}))
    probs, spec = cohort.subset_probs, cohort.specimens.set_index("sample_id")
    for subset, sign in [("naive", -1), ("switched_memory", 1)]:
        r = row(res, "treatment", "blood", "week12", subset)
        assert r["testable"] and r["q_value"] < 0.05 and np.sign(r["log_odds_ratio"]) == sign
        logit = np.log(probs[subset] / (1 - probs[subset]))
        b = logit[(spec["tissue"] == "blood") & (spec["timepoint"] == "baseline")].groupby(spec["patient_id"]).mean()
        w = logit[(spec["tissue"] == "blood") & (spec["timepoint"] == "week12")].groupby(spec["patient_id"]).mean()
        truth = float((w - b).mean())
        assert r["ci_low"] <= truth <= r["ci_high"], (subset, truth, r["ci_low"], r["ci_high"])


def test_null_studies_make_no_calls(cfg, vocab):
    """Small calibration check (the full one: benchmarks/composition_calibration.py)."""
    over = null_overrides(simulation_params(cfg))
    p_all = []
    for seed in range(5):
        res = study_results({"scrna": simulated_study(cfg, overrides=over, seed=500 + seed)}, cfg, vocab)
        ok = res[res["testable"]]
        assert len(ok) > 30
        assert not (ok["q_value"] < 0.05).any()
        p_all.append(ok["p_value"])
    p = pd.concat(p_all)
    assert 0.0 < (p < 0.05).mean() < 0.1  # a few nominal hits, not many
    assert p.between(0, 1).all()


def test_pairing_removes_patient_differences(vocab):
    """Baselines differ 7-fold between patients but each patient's odds rise by 1.5: the paired test sees it."""
    rows = []
    for i, base in enumerate([0.10, 0.30, 0.50, 0.70]):
        after = 1 / (1 + (1 - base) / base / 1.5)
        rows.append((f"P{i}", "blood", "baseline", 1000, {"naive": round(base * 1000)}))
        rows.append((f"P{i}", "blood", "week12", 1000, {"naive": round(after * 1000)}))
    res = composition_tests(table(rows, vocab.subset_ids), vocab, tissues=["blood"],
                            timepoints=["baseline", "week12"], params=CompositionParams())
    r = row(res, "treatment", "blood", "week12", "naive")
    assert r["testable"] and r["log_odds_ratio"] > 0 and r["p_value"] < 0.01
    assert r["ci_low"] > 0


def test_sparse_compartments_are_honest(vocab):
    """A subset vanishing from a few cells gives a finite, wide CI and no tiny p; absent subsets are not testable."""
    rows = []
    for i in range(4):
        rows.append((f"P{i}", "synovium", "baseline", 30, {"transitional": 2, "naive": 10, "plasma_cell": 1}))
        rows.append((f"P{i}", "synovium", "week12", 30, {"transitional": 0, "naive": 9, "plasma_cell": 0}))
    res = composition_tests(table(rows, vocab.subset_ids), vocab, tissues=["synovium"],
                            timepoints=["baseline", "week12"], params=CompositionParams())
    tr = row(res, "treatment", "synovium", "week12", "transitional")
    assert tr["testable"] and np.isfinite([tr["ci_low"], tr["ci_high"]]).all()
    assert tr["ci_high"] - tr["ci_low"] > 2 and tr["p_value"] > 0.001
    pc = row(res, "treatment", "synovium", "week12", "plasma_cell")  # 4 cells in all: below min_subset_cells
    assert not pc["testable"] and "min_subset_cells" in pc["note"] and np.isnan(pc["p_value"])
    dn = row(res, "treatment", "synovium", "week12", "double_negative")  # never seen
    assert not dn["testable"] and np.isnan(dn["q_value"])
    gc = row(res, "treatment", "synovium", "week12", "germinal_centre")
    assert not gc["testable"] and "not expected in synovium" in gc["note"]


def test_too_few_pairs_and_tissue_contrasts(vocab):
    rows = []
    for i in range(4):
        rows.append((f"P{i}", "blood", "baseline", 200, {"naive": 100 + 5 * i, "switched_memory": 20}))
        rows.append((f"P{i}", "lymph_node", "baseline", 500, {"naive": 150 + 3 * i, "switched_memory": 80 + i}))
    rows.append(("P0", "blood", "week12", 200, {"naive": 60}))
    rows.append(("P1", "blood", "week12", 200, {"naive": 55}))
    res = composition_tests(table(rows, vocab.subset_ids), vocab, tissues=["blood", "lymph_node"],
                            timepoints=["baseline", "week12"], params=CompositionParams(min_pairs=3))
    few = row(res, "treatment", "blood", "week12", "naive")
    assert not few["testable"] and "min_pairs" in few["note"] and few["n_patients"] == 2
    ln = row(res, "tissue", "lymph_node", "baseline", "naive", reference="blood")
    assert ln["testable"] and ln["log_odds_ratio"] < 0 and ln["q_value"] < 0.05
    sm = row(res, "tissue", "lymph_node", "baseline", "switched_memory", reference="blood")
    assert sm["log_odds_ratio"] > 0
    ok = res[res["testable"]]
    assert (ok["q_value"] >= ok["p_value"] - 1e-12).all()


def test_modalities_share_code_and_keep_separate_fdr(cfg, vocab):
    """Flow and scRNA tables go through the same tests; q-values are adjusted within each modality."""
    comp = simulated_study(cfg, seed=3)
    alone = study_results({"scrna": comp}, cfg, vocab)
    flow = simulated_study(cfg, seed=4)
    both = study_results({"scrna": comp, "flow": flow}, cfg, vocab)
    assert set(both["modality"]) == {"scrna", "flow"}
    a = both[both["modality"] == "scrna"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, alone)  # adding flow changes nothing about the scRNA rows
    b = both[both["modality"] == "flow"]
    assert len(b) == len(a) and (b["q_value"].dropna() >= b["p_value"].dropna() - 1e-12).all()
    assert not np.allclose(a["p_value"].fillna(0), b["p_value"].fillna(0).to_numpy())


@pytest.mark.parametrize("change, message", [
    (lambda d: d.drop(columns=["n_bcells"]), "missing column"),
    (lambda d: d.assign(n_cells=d["n_cells"].astype(object).where(d.index != 2, "x")), "row 3: column 'n_cells'"),
    (lambda d: d.assign(n_cells=d["n_cells"].where(d.index != 0, 10_000)), "exceeds n_bcells"),
])
def test_bad_tables_refused(vocab, change, message):
    good = table([("P0", "blood", "baseline", 100, {"naive": 50})], vocab.subset_ids)
    with pytest.raises(BelimapError, match=message):
        composition_tests(change(good), vocab, tissues=["blood"],
                          timepoints=["baseline", "week12"], params=CompositionParams())


def test_empty_and_single_timepoint_tables(vocab):
    one = table([(f"P{i}", "blood", "baseline", 100, {"naive": 50}) for i in range(3)], vocab.subset_ids)
    res = composition_tests(one, vocab, tissues=["blood"], timepoints=["baseline", "week12"], params=CompositionParams())
    assert list(res.columns) == TEST_COLUMNS and res.empty
