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
    out = bcr.sharing_table(cells, spec, tissues=["blood", "lymph_node", "synovium"], min_cells=10)
    assert out[["tissue_a", "tissue_b"]].values.tolist() == [["blood", "lymph_node"], ["blood", "synovium"],
                                                             ["lymph_node", "synovium"]]
    bs = out.iloc[1]
    assert not bs["estimable"] and np.isnan(bs["jaccard"]) and bs["n_shared_clones"] == 2
    assert out.iloc[0]["n_cells_b"] == 0 and not out.iloc[0]["estimable"]


@pytest.mark.parametrize("c_call, iso", [("IGHG1", "IgG"), ("IGHA2", "IgA"), ("IGHM", "IgM"), ("IGKC", "unknown"),
                                         (None, "unknown")])
def test_isotype_class(c_call, iso):
    assert bcr.isotype_class(c_call) == iso
