"""The cohort simulator: deterministic, realistic formats and effects in the direction of docs/design.md §4."""

import numpy as np
import pandas as pd

from belimap.simulate.cohort import sample_sheet, simulate_cohort
from tests.conftest import SCRNA_ONLY, small_config


def test_same_seed_same_files(tmp_path):
    from belimap.simulate.study import simulate_study

    out = []
    for name in ("a", "b"):
        cfg = small_config(tmp_path / name, n_patients=1, cells=60, modalities=SCRNA_ONLY)
        simulate_study(cfg, cfg["simulate"]["outdir"], cfg["samples"])
        out.append((tmp_path / name / "sim" / "truth" / "cells.tsv").read_bytes())
    assert out[0] == out[1]


def test_demo_sheet_is_what_the_simulator_writes():
    from belimap.config import ROOT, load_config

    cfg = load_config(ROOT / "config" / "config.yaml")
    sheet = sample_sheet(simulate_cohort(cfg), cfg["simulate"]["outdir"])
    committed = pd.read_csv(ROOT / "config" / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(sheet.astype(str).reset_index(drop=True), committed)


def test_design_and_treatment_effects(tmp_path):
    cfg = small_config(tmp_path, n_patients=30, cells=100)
    c = simulate_cohort(cfg)
    spec = c.specimens
    assert set(spec.query("tissue == 'synovium'")["timepoint"]) == {"baseline", "week12"}
    probs = c.subset_probs.join(spec.set_index("sample_id"))
    blood = probs[probs["tissue"] == "blood"].groupby("timepoint")[["naive", "transitional", "switched_memory"]].mean()
    assert blood.loc["week12", "naive"] < blood.loc["baseline", "naive"]
    assert blood.loc["week12", "transitional"] < 0.6 * blood.loc["baseline", "transitional"]
    assert blood.loc["week12", "switched_memory"] > blood.loc["baseline", "switched_memory"]
    assert (c.subset_probs.loc[spec.query("tissue != 'lymph_node'")["sample_id"], "germinal_centre"] == 0).all()
    lin = c.lineage_probs.join(spec.set_index("sample_id")).groupby("tissue")["B_lineage"].mean()
    assert lin["synovium"] < 0.1 < lin["lymph_node"]  # few B cells in SLE synovium


def test_truth_composition_matches_cells(scrna_study):
    cells, comp = scrna_study["cells"], scrna_study["composition"]
    assert 0.02 < cells["is_doublet"].mean() < 0.09
    s = comp.groupby("sample_id")["n_cells"].sum()
    b = cells[~cells["is_doublet"] & cells["lineage"].isin(["B", "plasma"])].groupby("sample_id").size()
    pd.testing.assert_series_equal(s.sort_index(), b.reindex(s.index, fill_value=0).sort_index(), check_names=False)
    assert np.isclose(comp.dropna(subset=["fraction"]).groupby("sample_id")["fraction"].sum(), 1).all()
