"""belimap.bcr.repertoire: sharing indices and the sparse-specimen rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimap import bcr
from tests.bcr_data import specimens


def test_jaccard_and_morisita_horn_values():
    a, b = pd.Series({"x": 2, "y": 1}), pd.Series({"x": 1, "z": 3})
    assert bcr.jaccard(a, b) == pytest.approx(1 / 3)
    # Horn (1966): 2 Σ xy / ((Σx²/X² + Σy²/Y²) X Y) = 2·2 / ((5/9 + 10/16)·3·4)
    assert bcr.morisita_horn(a, b) == pytest.approx(4 / ((5 / 9 + 10 / 16) * 12))
    assert bcr.morisita_horn(a, a * 3) == pytest.approx(1.0)
    assert bcr.morisita_horn(a, pd.Series({"q": 4})) == 0.0
    assert np.isnan(bcr.jaccard(pd.Series(dtype=int), pd.Series(dtype=int)))


def test_sparse_specimen_is_not_estimable_but_kept():
    clones = [f"c{i}" for i in range(12)] + ["c0", "c1", "x"]
    cells = pd.DataFrame({"sample_id": ["B"] * 12 + ["S"] * 3, "clone_id": clones})
    spec = specimens(["B", "S", "L"], ["blood", "synovium", "lymph_node"])
    out = bcr.sharing_table(cells, spec, tissues=["blood", "lymph_node", "synovium"],
                            params=bcr.SharingParams(min_cells=10))
    assert out["clones"].tolist() == ["all", "expanded"] * 3
    out = out[out["clones"] == "all"].reset_index(drop=True)
    assert out[["tissue_a", "tissue_b"]].values.tolist() == [["blood", "lymph_node"], ["blood", "synovium"],
                                                             ["lymph_node", "synovium"]]
    bs = out.iloc[1]
    assert not bs["estimable"] and np.isnan(bs["jaccard"]) and bs["n_shared_clones"] == 2
    assert out.iloc[0]["n_cells_b"] == 0 and not out.iloc[0]["estimable"]


@pytest.mark.parametrize("c_call, iso", [("IGHG1", "IgG"), ("IGHA2", "IgA"), ("IGHM", "IgM"), ("IGKC", "unknown"),
                                         (None, "unknown")])
def test_isotype_class(c_call, iso):
    assert bcr.isotype_class(c_call) == iso


def test_index_rows_match_the_series_indices():
    from belimap.bcr.rarefaction import index_rows

    a, b = pd.Series({"x": 2, "y": 1, "z": 0}), pd.Series({"x": 1, "y": 0, "z": 3})
    jac, mh = index_rows(a.to_numpy()[None], b.to_numpy()[None])
    assert jac[0] == pytest.approx(bcr.jaccard(a, b)) and mh[0] == pytest.approx(bcr.morisita_horn(a, b))
    # expanded (>= 2 cells): x in a, z in b -> nothing shared
    jac, mh = index_rows(a.to_numpy()[None], b.to_numpy()[None], min_size=2)
    assert jac[0] == 0.0 and mh[0] == 0.0


def test_rarefied_columns_and_expanded_rows():
    # blood: 10 clones of 5 cells + 50 singletons; lymph node: the 10 clones with 1 cell each + 10 own
    blood = [f"e{i}" for i in range(10) for _ in range(5)] + [f"s{i}" for i in range(50)]
    ln = [f"e{i}" for i in range(10)] + [f"l{i}" for i in range(10)]
    cells = pd.DataFrame({"sample_id": ["B"] * len(blood) + ["L"] * len(ln), "clone_id": blood + ln})
    spec = specimens(["B", "L"], ["blood", "lymph_node"])
    params = bcr.SharingParams(min_cells=10, n_rarefy=50, seed=3)  # depth: half of the lymph node's 20
    out = bcr.sharing_table(cells, spec, tissues=["blood", "lymph_node"], params=params).set_index("clones")
    assert list(out.columns) == [c for c in bcr.SHARING_COLUMNS if c != "clones"]
    al, ex = out.loc["all"], out.loc["expanded"]
    assert al["depth"] == 10 and al["n_cells_a"] == 100 and al["jaccard"] == pytest.approx(10 / 70)
    assert al["jaccard_rarefied_lo"] <= al["jaccard_rarefied"] <= al["jaccard_rarefied_hi"]
    # expanded clones: blood's 10, none in the lymph node -> Jaccard 0, Morisita–Horn undefined
    assert ex["n_clones_a"] == 10 and ex["n_clones_b"] == 0 and ex["jaccard"] == 0.0
    assert np.isnan(ex["morisita_horn"])
    again = bcr.sharing_table(cells, spec, tissues=["blood", "lymph_node"], params=params).set_index("clones")
    pd.testing.assert_frame_equal(out, again)  # seeded


def test_fixed_depth_above_a_specimen_gives_nan():
    cells = pd.DataFrame({"sample_id": ["B"] * 30 + ["L"] * 12, "clone_id": [f"c{i % 7}" for i in range(42)]})
    spec = specimens(["B", "L"], ["blood", "lymph_node"])
    out = bcr.sharing_table(cells, spec, tissues=["blood", "lymph_node"],
                            params=bcr.SharingParams(min_cells=10, depth=20))
    assert out["estimable"].all() and out["jaccard"].notna().all() and out["jaccard_rarefied"].isna().all()
