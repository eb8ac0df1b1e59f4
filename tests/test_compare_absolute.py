"""Absolute-count tests (belimap.compare.absolute): calibrated on a seeded null, effects recovered, table wiring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimap.compare.absolute import ABSOLUTE_COLUMNS, ALL_B, absolute_tests, nb_contrasts, specimen_volumes
from belimap.compare.stats import CompositionParams, composition_tests
from belimap.composition import COMPOSITION_COLUMNS
from belimap.config import ROOT, load_config
from belimap.errors import BelimapError
from belimap.vocab import load_vocabulary


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary(load_config(ROOT / "config" / "config.yaml"))


def seeded_events(rng: np.random.Generator, *, n_patients: int, log_rr: float, cv: float = 0.3) -> pd.DataFrame:
    """One subset's events in paired blood specimens: a patient's rate ~200/µL (log-normal between
    patients), week 12 times ``exp(log_rr)``, each specimen's rate Gamma-spread with ``cv``, events
    Poisson over 0.5-3 µL of blood."""
    rows = []
    for i in range(n_patients):
        rate = 200 * np.exp(rng.normal(0, 0.5))
        for tp, lrr in (("baseline", 0.0), ("week12", log_rr)):
            vol = rng.uniform(0.5, 3.0)
            lam = rate * np.exp(lrr) * rng.gamma(1 / cv**2, cv**2)
            rows.append({"patient_id": f"P{i}", "group": tp, "k": int(rng.poisson(lam * vol)), "volume": vol})
    return pd.DataFrame(rows)


def _test(data: pd.DataFrame) -> dict:
    return nb_contrasts(data, levels=["baseline", "week12"], pairs=[("baseline", "week12")], params=CompositionParams())[0]


def test_nb_holds_false_positive_rate_on_seeded_null():
    """200 seeded null studies of 6 patients: p < 0.05 near 5 % (an ML-alpha NB alone: 20-30 %)."""
    rng = np.random.default_rng(21)
    p = np.array([_test(seeded_events(rng, n_patients=6, log_rr=0.0))["p_value"] for _ in range(200)])
    assert np.isfinite(p).all()
    assert 0.01 <= (p < 0.05).mean() <= 0.08, (p < 0.05).mean()


def test_nb_recovers_known_rate_ratio():
    """B cells per µL times 0.6 in 8 patients (specimen CV 0.3): detected in most studies (0.65
    here: the quasi-scale costs some power), CI covers log 0.6."""
    rng = np.random.default_rng(5)
    res = [_test(seeded_events(rng, n_patients=8, log_rr=np.log(0.6))) for _ in range(150)]
    assert np.mean([r["p_value"] < 0.05 for r in res]) > 0.55
    assert 0.88 <= np.mean([r["ci_low"] <= np.log(0.6) <= r["ci_high"] for r in res]) <= 1.0
    assert abs(np.median([r["log_rate_ratio"] for r in res]) - np.log(0.6)) < 0.1


def _flow_tables(vocab, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Blood at baseline and week 12 (with cells/µL) and lymph node at baseline (without) for 6 patients."""
    comp, counts = [], []
    for i in range(6):
        for tissue, tp, fold in (("blood", "baseline", 1.0), ("blood", "week12", 0.5), ("lymph_node", "baseline", 1.0)):
            sid = f"P{i}_{tissue}_{tp}"
            n_b = int(rng.poisson(400 * fold))
            k = rng.multinomial(n_b, np.full(len(vocab.subset_ids), 1 / len(vocab.subset_ids)))
            for s, c in zip(vocab.subset_ids, k, strict=True):
                comp.append({"sample_id": sid, "patient_id": f"P{i}", "tissue": tissue, "timepoint": tp, "subset": s,
                             "n_cells": int(c), "n_bcells": n_b, "fraction": c / n_b})
            per_ul = 1800.0 if tissue == "blood" else np.nan  # the sheet's lymphocytes/µL: blood only
            counts.append({"sample_id": sid, "gate_id": "lymphocytes", "count": 20000, "cells_per_ul": per_ul})
            counts.append({"sample_id": sid, "gate_id": "CD19pos", "count": n_b,
                           "cells_per_ul": 1800.0 * n_b / 20000 if tissue == "blood" else np.nan})
    return pd.DataFrame(comp, columns=COMPOSITION_COLUMNS), pd.DataFrame(counts)


def test_absolute_tests_table(vocab):
    """Blood only (the lymph node has no cell count); all B cells halved per µL is found, with the share test beside it."""
    comp, counts = _flow_tables(vocab, np.random.default_rng(3))
    vol = specimen_volumes(counts)
    assert len(vol) == 12 and np.allclose(vol, 20000 / 1800)
    params = CompositionParams()
    shares = composition_tests(comp, vocab, tissues=["blood", "lymph_node"], timepoints=["baseline", "week12"],
                               params=params, modality="flow")
    res = absolute_tests(comp, counts, vocab, tissues=["blood", "lymph_node"], timepoints=["baseline", "week12"],
                         params=params, shares=shares)
    assert list(res.columns) == ABSOLUTE_COLUMNS
    assert set(res["tissue"]) == {"blood"} and set(res["comparison"]) == {"treatment"}
    b = res.set_index("subset").loc[ALL_B]
    assert b["testable"] and b["q_value"] < 0.05 and b["ci_low"] < np.log(0.5) < b["ci_high"]
    assert b["per_ul_test"] / b["per_ul_reference"] == pytest.approx(0.5, abs=0.1)
    naive = res.set_index("subset").loc["naive"]
    assert naive["log_rate_ratio"] < 0 and np.isfinite(naive["log_odds_ratio_share"])
    assert set(res["bh_scope"]) == {"modality=flow,measure=cells_per_ul"}


def test_no_counts_column_refused():
    with pytest.raises(BelimapError, match="cells_per_ul"):
        specimen_volumes(pd.DataFrame({"sample_id": ["a"], "count": [1]}))


def test_rule_writes_absolute_table(vocab, tmp_path):
    """Rule compare_absolute's call: the flow tables and the share tests on disk -> absolute_tests.tsv."""
    from belimap.compare.pipeline import CompareParams, absolute_tests_file
    from belimap.tables import read_tsv, write_tsv

    comp, counts = _flow_tables(vocab, np.random.default_rng(4))
    shares = composition_tests(comp, vocab, tissues=["blood", "lymph_node"], timepoints=["baseline", "week12"],
                               params=CompositionParams(), modality="flow")
    for name, t in (("comp", comp), ("counts", counts), ("tests", shares)):
        write_tsv(t, tmp_path / f"{name}.tsv")
    absolute_tests_file(tmp_path / "comp.tsv", tmp_path / "counts.tsv", tmp_path / "tests.tsv", vocab,
                        params=CompareParams(), tissues=["blood", "lymph_node"], timepoints=["baseline", "week12"],
                        out=tmp_path / "out.tsv")
    out = read_tsv(tmp_path / "out.tsv")
    assert list(out.columns) == ABSOLUTE_COLUMNS and (out["subset"] == ALL_B).sum() == 1
    assert out["log_odds_ratio_share"].notna().any()
