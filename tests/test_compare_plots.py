"""Figures of the comparison branch (belimap.pl.compare): drawn from real tables, sparse and empty ones included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from belimap.compare.simulate import simulated_study
from belimap.compare.stats import TEST_COLUMNS, CompositionParams, study_tests
from belimap.config import ROOT, load_config
from belimap.pl import compare as pl
from belimap.pl.palette import save_figure, tissue_colours
from belimap.vocab import load_vocabulary


@pytest.fixture(scope="module")
def study():
    cfg = load_config(ROOT / "config" / "config.yaml")
    vocab = load_vocabulary(cfg)
    comp = simulated_study(cfg, seed=21)
    tests = study_tests({"scrna": comp}, vocab, tissues=cfg["tissues"], timepoints=cfg["timepoints"],
                        params=CompositionParams.from_config(cfg))
    return cfg, vocab, comp, tests


def _saved(fig, path, formats=("pdf",)):
    files = save_figure(fig, path, formats)
    assert all(f.exists() and f.stat().st_size > 1000 for f in files)
    return files


def test_composition_figures(study, tmp_path):
    cfg, vocab, comp, tests = study
    T, P = cfg["tissues"], cfg["timepoints"]
    fig = pl.forest_figure(tests, vocab, tissues=T, timepoints=P)
    assert len(fig.axes) == len(T) + 1  # one panel per tissue + tissue contrasts
    assert any(t.get_text() == pl.NOT_TESTABLE for t in fig.axes[0].texts)  # germinal centre in blood
    used = {to_hex(line.get_color()) for line in fig.axes[len(T)].lines if line.get_linestyle() != "--"}
    assert used and not used & {c.lower() for c in tissue_colours(T).values()}  # pairs never wear a tissue's colour
    _saved(fig, tmp_path / "forest.pdf")
    heat = pl.effect_heatmap(tests, vocab)
    marks = [t.get_text() for t in heat.axes[0].texts]
    n_sig = int((tests["q_value"] < 0.05).sum())
    assert sum(m.startswith("*") for m in marks) == n_sig and marks.count(pl.NOT_TESTABLE) == int((~tests["testable"]).sum())
    _saved(heat, tmp_path / "heat.pdf", ("pdf", "png"))
    paired = pl.paired_figure(comp, vocab, tissues=T, timepoints=P, min_bcells=10)
    n_lines = sum(len(ax.lines) for ax in paired.axes[: len(vocab.subset_ids)])  # blood row
    assert n_lines == len(vocab.subset_ids) * (comp["patient_id"].nunique() + 1)
    _saved(paired, tmp_path / "paired.pdf")


def test_figures_of_empty_tables(study, tmp_path):
    cfg, vocab, comp, _ = study
    empty = pd.DataFrame(columns=TEST_COLUMNS)
    T, P = cfg["tissues"], cfg["timepoints"]
    _saved(pl.forest_figure(empty, vocab, tissues=T, timepoints=P), tmp_path / "f.pdf")
    _saved(pl.effect_heatmap(empty, vocab), tmp_path / "h.pdf")
    _saved(pl.paired_figure(comp.iloc[0:0], vocab, tissues=T, timepoints=P), tmp_path / "p.pdf")
    _saved(pl.volcano_figure({("naive", "blood"): pd.DataFrame(columns=["gene", "timepoint"])}, vocab, tissue="blood"),
           tmp_path / "v.pdf")
    _saved(pl.scores_figure(pd.DataFrame(columns=["gene_set", "tissue"]), vocab, gene_sets={"x": "X"}, tissues=T,
                            timepoints=P), tmp_path / "s.pdf")


def test_volcano_and_scores(study, tmp_path):
    cfg, vocab, _, _ = study
    rng = np.random.default_rng(0)
    de = pd.DataFrame({"gene": [f"G{i}" for i in range(200)], "timepoint": "week12", "reference": "baseline",
                       "log2_fold_change": rng.normal(0, 1, 200), "p_value": rng.uniform(0, 1, 200)})
    de["padj"] = np.where(np.arange(200) < 7, 0.001, 0.5)
    fig = pl.volcano_figure({("naive", "blood"): de, ("plasma_cell", "blood"): de.iloc[0:0], ("naive", "synovium"): de},
                            vocab, tissue="blood")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 1 and "7 genes with padj" in visible[0].get_title()
    _saved(fig, tmp_path / "volcano.pdf")
    per = pd.DataFrame([{"sample_id": f"P{p}_{t}_{tp}", "patient_id": f"P{p}", "tissue": t, "timepoint": tp, "subset": s,
                         "gene_set": g, "n_cells": 10, "mean_score": rng.normal(), "median_score": 0.0}
                        for p in range(3) for t in ["blood", "lymph_node"] for tp in ["baseline", "week12"]
                        for s in ["naive", "plasmablast"] for g in ["baff_axis", "interferon"]])
    fig = pl.scores_figure(per, vocab, gene_sets={"baff_axis": "BAFF receptors", "interferon": "IFN"},
                           tissues=cfg["tissues"], timepoints=cfg["timepoints"])
    assert len(fig.axes) == 4
    _saved(fig, tmp_path / "scores.pdf")


def test_single_panels_draw_into_the_callers_axes(study):
    """forest_panel and effect_heatmap take ``ax=`` and return its Figure, so a caller can compose them."""
    import matplotlib.pyplot as plt

    cfg, vocab, _, tests = study
    fig, (left, right) = plt.subplots(1, 2)
    treat = tests[(tests["comparison"] == "treatment") & (tests["tissue"] == "blood")]
    out = pl.forest_panel(treat, subsets=vocab.subset_ids, labels=vocab.subset_labels(), group_col="timepoint",
                          colours={tp: "#000000" for tp in cfg["timepoints"][1:]}, fdr=0.05, ax=left)
    assert out is fig and left.lines
    assert pl.effect_heatmap(tests, vocab, ax=right) is fig and right.images
    alone = pl.forest_panel(treat, subsets=vocab.subset_ids, labels=vocab.subset_labels(), group_col="timepoint",
                            colours={"week12": "#000000"}, fdr=0.05)
    assert alone is not fig and len(alone.axes) == 1
    plt.close(fig)
    plt.close(alone)
