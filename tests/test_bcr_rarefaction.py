"""belimap.bcr.rarefaction: subsamples, and depth fairness of the rarefied sharing indices (small version of
``benchmarks/bcr_sharing.py --depth-only``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from belimap import bcr
from belimap.bcr.rarefaction import index_rows, rarefied_indices, rarefy


def test_rarefy_draws_cells_without_replacement():
    counts = np.array([50, 3, 1, 0, 20])
    sub = rarefy(counts, 30, 200, np.random.default_rng(0))
    assert sub.shape == (200, 5) and (sub.sum(axis=1) == 30).all() and (sub <= counts).all()
    assert sub.mean(axis=0) == pytest.approx(counts * 30 / counts.sum(), abs=0.5)
    assert (rarefy(counts, 74, 3, np.random.default_rng(0)) == counts).all()


def test_rarefied_at_full_depth_is_the_raw_index_with_no_spread():
    x, y = np.array([5, 2, 0, 1]), np.array([1, 4, 3, 0])
    out = rarefied_indices(x, y, depth=8, n_rarefy=10, ci=0.95, min_sizes=(1, 2), rng=np.random.default_rng(1))
    jac, mh = index_rows(x[None], y[None])
    assert out[1]["jaccard"] == out[1]["jaccard_lo"] == out[1]["jaccard_hi"] == pytest.approx(jac[0])
    assert out[1]["morisita_horn"] == pytest.approx(mh[0])
    assert out[2]["jaccard"] == pytest.approx(1 / 3)  # expanded: {0, 1} vs {1, 2}


def _structure(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Synovium-like and blood-like clone frequencies: 150 shared clones, 150 / 1500 own (Pareto sizes)."""
    def pareto(k: int) -> np.ndarray:
        v = rng.pareto(1.5, k) + 1
        return v / v.sum()

    s = pareto(150)
    sb = s * rng.lognormal(0, 0.5, 150)
    pa = np.r_[0.5 * s, 0.5 * pareto(150), np.zeros(1500)]
    pb = np.r_[0.3 * sb / sb.sum(), np.zeros(150), 0.7 * pareto(1500)]
    return pa, pb


def _sharing(rng: np.random.Generator, pa: np.ndarray, pb: np.ndarray, n_a: int, n_b: int,
             params: bcr.SharingParams) -> pd.DataFrame:
    ids = np.array([f"c{i}" for i in range(pa.size)])
    a, b = np.repeat(ids, rng.multinomial(n_a, pa)), np.repeat(ids, rng.multinomial(n_b, pb))
    cells = pd.DataFrame({"sample_id": ["A"] * a.size + ["B"] * b.size, "clone_id": np.r_[a, b]})
    spec = pd.DataFrame({"sample_id": ["A", "B"], "patient_id": "P", "tissue": ["synovium", "blood"],
                         "timepoint": "baseline"})
    return bcr.sharing_table(cells, spec, tissues=["blood", "synovium"], params=params).set_index("clones")


@pytest.mark.parametrize("scale_a, depth", [(False, None), (True, 100)], ids=["blood_x10", "both_x10_fixed_depth"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_structure_at_tenfold_depth(seed, scale_a, depth):
    """Synovium 200 cells, blood 400 vs 4000 (per-pair depth), or both 10x deeper (a fixed depth):
    the raw Jaccard moves, the rarefied means lie within each other's intervals (all and expanded clones)."""
    rng = np.random.default_rng(seed)
    pa, pb = _structure(rng)
    params = dataclasses.replace(bcr.SharingParams(), depth=depth)
    one = _sharing(rng, pa, pb, 200, 400, params)
    ten = _sharing(rng, pa, pb, 2000 if scale_a else 200, 4000, params)
    assert abs(ten.loc["all", "jaccard"] / one.loc["all", "jaccard"] - 1) > 0.2
    for clones in ("all", "expanded"):
        for m in ("jaccard", "morisita_horn"):
            r = f"{m}_rarefied"
            a, b = one.loc[clones], ten.loc[clones]
            assert a[f"{r}_lo"] <= b[r] <= a[f"{r}_hi"] and b[f"{r}_lo"] <= a[r] <= b[f"{r}_hi"], (clones, m)
