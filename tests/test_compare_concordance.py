"""Flow ↔ scRNA concordance: pairing, merging plasma cells into plasmablasts, per tissue × subset
Spearman and repeated-measures Bland–Altman (patient as cluster), and the subsets left out with
the vocabulary's reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimap.compare.concordance import (ALL_TISSUES, PAIR_COLUMNS, Z95, concordance_table, merge_subsets,
                                         pair_modalities, repeated_measures_ba, subset_status)
from belimap.composition import composition_table
from belimap.errors import BelimapError
from belimap.vocab import load_vocabulary

SUBSETS = ["naive", "switched_memory", "plasmablast", "plasma_cell"]
ABSORBS = {"plasmablast": ["plasma_cell"]}


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def _comp(fracs: dict[str, dict[str, float]], n_b: int, subsets: list[str], patients: dict[str, str] | None = None,
          tissue: str = "blood") -> pd.DataFrame:
    rows = []
    for sid, f in fracs.items():
        for s, v in f.items():
            rows += [{"sample_id": sid, "bcell_subset": s}] * int(round(v * n_b))
    pats = [(patients or {}).get(sid, "P01") for sid in fracs]
    spec = pd.DataFrame({"sample_id": list(fracs), "patient_id": pats, "tissue": tissue, "timepoint": "baseline"})
    return composition_table(pd.DataFrame(rows), spec, subsets)


def _simulated_pairs(rng: np.random.Generator, *, n_patients: int, per_patient: int, bias: float, sd_between: float,
                     sd_within: float, tissue: str = "blood", subset: str = "naive") -> pd.DataFrame:
    """Flow = scRNA + bias + patient effect + specimen noise: the repeated-measures truth
    (one specimen per tissue × patient × repeat, measured for one subset)."""
    pat = np.repeat([f"P{i:03d}" for i in range(n_patients)], per_patient)
    effect = np.repeat(rng.normal(0, sd_between, n_patients), per_patient)
    sc = rng.uniform(0.2, 0.6, len(pat))
    fl = sc + bias + effect + rng.normal(0, sd_within, len(pat))
    sids = [f"{tissue}_{i}" for i in range(len(pat))]
    return pd.DataFrame({"sample_id": sids, "patient_id": pat, "tissue": tissue, "timepoint": "baseline",
                         "subset": subset, "n_bcells_flow": 1000, "n_bcells_scrna": 1000,
                         "fraction_flow": fl, "fraction_scrna": sc})[PAIR_COLUMNS]


def test_known_bias_and_perfect_rank_agreement(vocab):
    sc, fl = {}, {}
    for i in range(12):
        naive = 0.3 + 0.03 * i
        pb, pc = 0.04 + 0.002 * i, 0.02
        sc[f"S{i}"] = {"naive": naive, "switched_memory": 1 - naive - pb - pc, "plasmablast": pb, "plasma_cell": pc}
        # flow sees 2 points more naive cells, and plasma cells inside its plasmablast gate
        fl[f"S{i}"] = {"naive": naive + 0.02, "switched_memory": 1 - naive - 0.02 - pb - pc, "plasmablast": pb + pc}
    patients = {f"S{i}": f"P{i % 4}" for i in range(12)}
    scrna = _comp(sc, 10000, SUBSETS, patients)
    flow = _comp(fl, 10000, ["naive", "switched_memory", "plasmablast"], patients)
    pairs = pair_modalities(flow, scrna, absorbs=ABSORBS, min_bcells=20)
    assert set(pairs["subset"]) == {"naive", "switched_memory", "plasmablast"} and len(pairs) == 36
    status = subset_status(vocab, ["naive", "switched_memory", "plasmablast"], absorbs=ABSORBS)
    stats = concordance_table(pairs, status)
    blood = stats[stats["tissue"] == "blood"].set_index("subset")
    assert "all" not in set(stats["subset"])  # never pooled over subsets
    assert blood.loc["naive", "bias"] == pytest.approx(0.02, abs=1e-3)
    assert blood.loc["naive", "spearman_rho"] == pytest.approx(1.0)
    assert blood.loc["plasmablast", "bias"] == pytest.approx(0.0, abs=1e-3)  # merged: no artificial bias
    assert blood.loc["naive", "n_pairs"] == 12 and blood.loc["naive", "n_patients"] == 4
    r = blood.loc["naive"]
    assert r["loa_low"] <= r["bias"] <= r["loa_high"]
    assert r["loa_high"] - r["bias"] == pytest.approx(Z95 * r["sd_total"])
    # plasma cells: a row that says where they went, not a silent drop
    assert not blood.loc["plasma_cell", "testable"] and "plasmablast gate" in blood.loc["plasma_cell", "note"]
    assert not blood.loc["transitional", "testable"]
    assert blood.loc["transitional", "note"] == "not gated by the flow panel"


def test_repeated_measures_limits_recover_the_variance_components():
    rng = np.random.default_rng(20260314)
    bias, sd_b, sd_w = 0.05, 0.03, 0.04
    pairs = _simulated_pairs(rng, n_patients=150, per_patient=4, bias=bias, sd_between=sd_b, sd_within=sd_w)
    ba = repeated_measures_ba((pairs["fraction_flow"] - pairs["fraction_scrna"]).to_numpy(), pairs["patient_id"])
    true_width = 2 * Z95 * np.hypot(sd_b, sd_w)
    assert ba["bias"] == pytest.approx(bias, abs=0.02)
    assert ba["loa_high"] - ba["loa_low"] == pytest.approx(true_width, rel=0.2)
    assert ba["sd_between"] == pytest.approx(sd_b, rel=0.2) and ba["sd_within"] == pytest.approx(sd_w, rel=0.1)
    assert ba["n_pairs"] == 600 and ba["n_patients"] == 150


@pytest.mark.filterwarnings("ignore:The MLE may be on the boundary")  # statsmodels' heuristic: variances ~1e-3
def test_anova_estimator_equals_mixed_model_on_balanced_data():
    """The closed-form ANOVA components equal a REML fit with a patient random intercept
    (statsmodels MixedLM) when the design is balanced and the between part is not at zero."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(7)
    pairs = _simulated_pairs(rng, n_patients=30, per_patient=3, bias=-0.02, sd_between=0.05, sd_within=0.03)
    d = pairs.assign(diff=pairs["fraction_flow"] - pairs["fraction_scrna"])
    ba = repeated_measures_ba(d["diff"].to_numpy(), d["patient_id"])
    fit = smf.mixedlm("diff ~ 1", d, groups=d["patient_id"]).fit(reml=True)
    assert ba["sd_between"] ** 2 == pytest.approx(float(fit.cov_re.iloc[0, 0]), rel=1e-3)
    assert ba["sd_within"] ** 2 == pytest.approx(float(fit.scale), rel=1e-3)
    assert ba["bias"] == pytest.approx(float(fit.fe_params.iloc[0]), abs=1e-9)


def test_degenerate_clusters_are_honest():
    one_each = repeated_measures_ba(np.array([0.01, 0.03, -0.02, 0.04]), np.array(["a", "b", "c", "d"]))
    assert one_each["sd_total"] == pytest.approx(np.std([0.01, 0.03, -0.02, 0.04], ddof=1))  # classical BA
    assert np.isnan(one_each["sd_between"]) and np.isnan(one_each["sd_within"])
    one_patient = repeated_measures_ba(np.array([0.01, 0.03, -0.02]), np.array(["a", "a", "a"]))
    assert np.isnan(one_patient["loa_low"]) and one_patient["bias"] == pytest.approx(0.02 / 3)
    empty = repeated_measures_ba(np.array([]), np.array([]))
    assert empty["n_pairs"] == 0 and np.isnan(empty["bias"])


def test_rows_per_tissue_and_over_tissues_with_left_out_subsets(vocab):
    rng = np.random.default_rng(3)
    gated = ["transitional", "naive", "unswitched_memory", "switched_memory", "double_negative", "germinal_centre",
             "plasmablast"]
    parts = [_simulated_pairs(rng, n_patients=6, per_patient=2, bias=b, sd_between=0.02, sd_within=0.02, tissue=t,
                              subset=s)
             for t, b in (("blood", 0.0), ("lymph_node", 0.1)) for s in gated]
    pairs = pd.concat(parts, ignore_index=True)
    stats = concordance_table(pairs, subset_status(vocab, gated, absorbs=ABSORBS), tissues=["lymph_node", "blood"])
    assert list(dict.fromkeys(stats["tissue"])) == ["lymph_node", "blood", ALL_TISSUES]
    assert len(stats) == 3 * len(vocab.subset_ids)
    dn = stats[stats["subset"] == "double_negative"]
    assert (~dn["testable"]).all() and dn["bias"].isna().all() and list(dn["n_pairs"]) == [12, 12, 24]
    assert (dn["note"] == vocab.subset("double_negative").concordance_note).all()
    assert "CD27 mRNA" in dn["note"].iloc[0]
    gc = stats[stats["subset"] == "germinal_centre"]
    assert (~gc["testable"]).all() and gc["note"].str.contains("Ki-67").all()
    naive = stats[stats["subset"] == "naive"].set_index("tissue")
    assert naive.loc["lymph_node", "bias"] == pytest.approx(0.1, abs=0.03)
    assert naive.loc["blood", "bias"] == pytest.approx(0.0, abs=0.03)
    assert naive.loc[ALL_TISSUES, "n_pairs"] == 24 and naive.loc[ALL_TISSUES, "n_patients"] == 6
    # the caveat of a subset still compared travels with its rows
    sm = stats[stats["subset"] == "switched_memory"]
    assert sm["testable"].all() and sm["note"].str.contains("CD27 mRNA").all()


def test_subset_outside_its_tissues_is_not_testable_there(vocab):
    rng = np.random.default_rng(4)
    pairs = pd.concat([_simulated_pairs(rng, n_patients=4, per_patient=2, bias=0, sd_between=0.01, sd_within=0.01,
                                        tissue=t, subset="naive") for t in ("blood", "lymph_node")], ignore_index=True)
    status = subset_status(vocab, ["naive"])
    status["tissues"] = [("lymph_node",) if s == "naive" else t for s, t in zip(status["subset"], status["tissues"])]
    stats = concordance_table(pairs, status).set_index(["tissue", "subset"])
    assert not stats.loc[("blood", "naive"), "testable"]
    assert "not expected in blood" in stats.loc[("blood", "naive"), "note"]
    assert stats.loc[("lymph_node", "naive"), "testable"]
    assert stats.loc[(ALL_TISSUES, "naive"), "n_pairs"] == 8  # lymph node only


def test_specimens_with_too_few_bcells_are_left_out(vocab):
    sc = {"A": {"naive": 0.5, "switched_memory": 0.5}, "B": {"naive": 0.5, "switched_memory": 0.5}}
    scrna = pd.concat([_comp({"A": sc["A"]}, 1000, SUBSETS), _comp({"B": sc["B"]}, 10, SUBSETS)])
    flow = _comp(sc, 1000, ["naive", "switched_memory", "plasmablast"])
    pairs = pair_modalities(flow, scrna, absorbs={}, min_bcells=20)
    assert set(pairs["sample_id"]) == {"A"}
    stats = concordance_table(pairs, subset_status(vocab, ["naive", "switched_memory", "plasmablast"]))
    compared = stats[stats["testable"] & (stats["tissue"] == "blood")]
    assert compared["spearman_rho"].isna().all()  # one pair per subset: no correlation claimed
    assert (compared["n_pairs"] == 1).all()
    assert compared["note"].str.contains("one patient").all()


def test_merge_subsets_and_errors():
    comp = _comp({"A": {"plasmablast": 0.1, "plasma_cell": 0.05, "naive": 0.85}}, 1000, SUBSETS)
    merged = merge_subsets(comp, ABSORBS).set_index("subset")
    assert "plasma_cell" not in merged.index
    assert merged.loc["plasmablast", "n_cells"] == 150
    assert merged.loc["plasmablast", "fraction"] == pytest.approx(0.15)
    with pytest.raises(BelimapError, match="missing column"):
        pair_modalities(comp.drop(columns=["fraction"]), comp, min_bcells=20)


def test_figure_per_tissue_names_left_out_subsets(vocab, tmp_path):
    from belimap.pl import save_figure
    from belimap.pl.flow import concordance_figure

    rng = np.random.default_rng(5)
    gated = ["naive", "switched_memory", "double_negative", "plasmablast"]
    pairs = pd.concat([_simulated_pairs(rng, n_patients=5, per_patient=2, bias=0.02, sd_between=0.02, sd_within=0.02,
                                        tissue=t, subset=s)
                       for t in ("blood", "synovium") for s in gated], ignore_index=True)
    stats = concordance_table(pairs, subset_status(vocab, gated, absorbs=ABSORBS))
    fig = concordance_figure(pairs, stats, vocab)
    assert len(fig.axes) == 2 * 3  # tissues × compared subsets (DN left out)
    bias = stats.set_index(["tissue", "subset"]).loc[("synovium", "plasmablast"), "loa_high"]
    assert any(np.isclose(line.get_ydata()[0], bias) for line in fig.axes[-1].lines)
    foot = " ".join(" ".join(t.get_text().split()) for t in fig.texts)
    assert "Double negative" in foot and "CD27 mRNA" in foot
    files = save_figure(fig, tmp_path / "concordance.pdf", ("pdf", "png"))
    assert all(f.stat().st_size > 1000 for f in files)


def test_rule_writes_rows_per_tissue_and_the_figure(tmp_path):
    """``concordance_files`` on two draws from one simulated cohort (sampling noise only): every
    tissue × vocabulary subset has a row, DN and GC are not compared, and the limits hold the pairs."""
    from belimap.compare.simulate import counts_from_cohort
    from belimap.config import ROOT, load_config, validate_config
    from belimap.flow.pipeline import FlowParams, concordance_files
    from belimap.simulate.cohort import simulate_cohort
    from belimap.tables import read_tsv, write_tsv

    cfg = validate_config(load_config(ROOT / "config" / "config.yaml"))
    cohort = simulate_cohort(cfg)
    vocab = load_vocabulary(cfg)
    scrna = counts_from_cohort(cohort, cells_per_sample=3000, seed=1)
    flow = merge_subsets(counts_from_cohort(cohort, cells_per_sample=3000, seed=2), ABSORBS)
    write_tsv(scrna, tmp_path / "scrna.tsv")
    write_tsv(flow, tmp_path / "flow.tsv")
    out = {k: tmp_path / f"{k}.{ext}" for k, ext in (("table", "tsv"), ("pairs", "tsv"), ("figure", "pdf"))}
    concordance_files(tmp_path / "flow.tsv", tmp_path / "scrna.tsv", vocab, params=FlowParams.from_config(cfg),
                      tissues=cfg["tissues"], **out)
    stats = read_tsv(out["table"])
    tissues = [t for t in cfg["tissues"] if t in set(scrna["tissue"])]
    assert list(dict.fromkeys(stats["tissue"])) == [*tissues, ALL_TISSUES]
    assert len(stats) == (len(tissues) + 1) * len(vocab.subset_ids)
    left_out = set(stats.loc[stats["testable"].astype(str) == "False", "subset"])
    assert {"double_negative", "germinal_centre", "plasma_cell"} <= left_out
    blood = stats[(stats["tissue"] == "blood") & (stats["subset"] == "naive")].iloc[0]
    assert float(blood["loa_low"]) < 0 < float(blood["loa_high"]) and abs(float(blood["bias"])) < 0.05
    assert out["figure"].exists() and out["figure"].with_suffix(".png").exists()
