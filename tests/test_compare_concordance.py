"""Flow ↔ scRNA concordance: pairing, merging plasma cells into plasmablasts, Spearman and Bland–Altman."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimap.composition import composition_table
from belimap.compare.concordance import concordance_table, merge_subsets, pair_modalities
from belimap.errors import BelimapError

SUBSETS = ["naive", "switched_memory", "plasmablast", "plasma_cell"]


def _comp(fracs: dict[str, dict[str, float]], n_b: int, subsets: list[str]) -> pd.DataFrame:
    rows = []
    for sid, f in fracs.items():
        for s, v in f.items():
            rows += [{"sample_id": sid, "bcell_subset": s}] * int(round(v * n_b))
    spec = pd.DataFrame({"sample_id": list(fracs), "patient_id": "P01", "tissue": "blood", "timepoint": "baseline"})
    return composition_table(pd.DataFrame(rows), spec, subsets)


def test_known_bias_and_perfect_rank_agreement():
    rng = np.random.default_rng(1)
    sc, fl = {}, {}
    for i in range(12):
        naive = 0.3 + 0.03 * i
        pb, pc = 0.04 + 0.002 * i, 0.02
        sc[f"S{i}"] = {"naive": naive, "switched_memory": 1 - naive - pb - pc, "plasmablast": pb, "plasma_cell": pc}
        # flow sees 2 points more naive cells, and plasma cells inside its plasmablast gate
        fl[f"S{i}"] = {"naive": naive + 0.02, "switched_memory": 1 - naive - 0.02 - pb - pc, "plasmablast": pb + pc}
    scrna = _comp(sc, 10000, SUBSETS)
    flow = _comp(fl, 10000, ["naive", "switched_memory", "plasmablast"])
    pairs = pair_modalities(flow, scrna, absorbs={"plasmablast": ["plasma_cell"]}, min_bcells=20)
    assert set(pairs["subset"]) == {"naive", "switched_memory", "plasmablast"} and len(pairs) == 36
    stats = concordance_table(pairs).set_index("subset")
    assert stats.loc["naive", "bias"] == pytest.approx(0.02, abs=1e-3)
    assert stats.loc["naive", "spearman_rho"] == pytest.approx(1.0)
    assert stats.loc["plasmablast", "bias"] == pytest.approx(0.0, abs=1e-3)  # merged: no artificial bias
    assert stats.loc["all", "n_pairs"] == 36
    r = stats.loc["naive"]
    assert r["loa_lower"] < r["bias"] < r["loa_upper"]
    assert r["loa_upper"] - r["bias"] == pytest.approx(1.96 * r["sd_diff"])
    del rng


def test_specimens_with_too_few_bcells_are_left_out():
    sc = {"A": {"naive": 0.5, "switched_memory": 0.5}, "B": {"naive": 0.5, "switched_memory": 0.5}}
    scrna = pd.concat([_comp({"A": sc["A"]}, 1000, SUBSETS), _comp({"B": sc["B"]}, 10, SUBSETS)])
    flow = _comp(sc, 1000, ["naive", "switched_memory", "plasmablast"])
    pairs = pair_modalities(flow, scrna, absorbs={}, min_bcells=20)
    assert set(pairs["sample_id"]) == {"A"}
    stats = concordance_table(pairs)
    per_subset = stats[stats["subset"] != "all"]
    assert per_subset["spearman_rho"].isna().all()  # one pair per subset: no correlation claimed
    assert (per_subset["n_pairs"] == 1).all()


def test_merge_subsets_and_errors():
    comp = _comp({"A": {"plasmablast": 0.1, "plasma_cell": 0.05, "naive": 0.85}}, 1000, SUBSETS)
    merged = merge_subsets(comp, {"plasmablast": ["plasma_cell"]}).set_index("subset")
    assert "plasma_cell" not in merged.index
    assert merged.loc["plasmablast", "n_cells"] == 150
    assert merged.loc["plasmablast", "fraction"] == pytest.approx(0.15)
    with pytest.raises(BelimapError, match="missing column"):
        pair_modalities(comp.drop(columns=["fraction"]), comp, min_bcells=20)
