"""Composition counts drawn from the cohort model (belimap.compare.simulate and the shared draw,
belimap.simulate.cohort.draw_composition)."""

from __future__ import annotations

import pandas as pd
import pytest

from belimap.compare.simulate import counts_from_cohort, null_overrides
from belimap.composition import COMPOSITION_COLUMNS, sort_composition
from belimap.config import ROOT, load_config
from belimap.simulate.clinical import measured_composition
from belimap.simulate.cohort import draw_composition, simulate_cohort, simulation_params

CFG = load_config(ROOT / "config" / "config.yaml")


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(CFG)


def test_draws_are_counts_of_the_cohorts_specimens(cohort):
    comp = draw_composition(cohort, cells_per_sample=1500, seed=1)
    assert list(comp.columns) == COMPOSITION_COLUMNS
    assert list(dict.fromkeys(comp["sample_id"])) == list(cohort.specimens["sample_id"])  # the cohort's order
    per = comp.groupby("sample_id", sort=False).agg(k=("n_cells", "sum"), n=("n_bcells", "first"))
    assert (per["k"] == per["n"]).all() and (per["n"] <= 1500).all()
    pd.testing.assert_frame_equal(comp, draw_composition(cohort, cells_per_sample=1500, seed=1))


def test_both_callers_share_the_draw(cohort):
    """The clinical benchmarks' measured composition and the calibration counts are one draw."""
    pd.testing.assert_frame_equal(measured_composition(cohort, 1500, seed=4),
                                  draw_composition(cohort, cells_per_sample=1500, seed=4))
    kept = draw_composition(cohort, cells_per_sample=1500, seed=4, qc_keep=0.9)
    pd.testing.assert_frame_equal(counts_from_cohort(cohort, cells_per_sample=1500, seed=4),
                                  sort_composition(kept, cohort.vocab.subset_ids))
    # QC loss: fewer B-lineage cells than without it, over the study.
    full = draw_composition(cohort, cells_per_sample=1500, seed=4)
    assert kept.drop_duplicates("sample_id")["n_bcells"].sum() < full.drop_duplicates("sample_id")["n_bcells"].sum()


def test_missing_specimens_are_dropped_per_tissue(cohort):
    comp = draw_composition(cohort, cells_per_sample=500, seed=2, missing={"synovium": 1.0})
    assert "synovium" not in set(comp["tissue"]) and {"blood", "lymph_node"} <= set(comp["tissue"])


def test_null_overrides_remove_every_subset_effect():
    params = simulation_params(CFG)
    over = null_overrides(params)
    assert len({tuple(sorted(v.items())) for v in over["subsets"].values()}) == 1  # one profile for every tissue
    assert all(f == 1.0 for tps in over["effects"].values() for folds in tps.values() for f in folds.values())
    assert set(over["effects"]) == set(params.get("effects", {}))
