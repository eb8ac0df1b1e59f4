"""Adaptive QC flags the simulator's low-quality cells and keeps the good ones."""

import numpy as np
import pandas as pd

from belimap.scrna import qc
from belimap.scrna.doublets import DoubletParams, call_doublets
from belimap.scrna.io import read_counts
from belimap.scrna.pipeline import ScrnaParams, filter_sample


def test_mad_outlier_rule():
    values = pd.Series([10.0] * 50 + [11.0] * 50 + [100.0])
    flags = qc.is_outlier(values, nmads=5)
    assert flags.iloc[-1] and not flags.iloc[:-1].any()
    assert not qc.is_outlier(pd.Series([5.0] * 10), 3).any()  # MAD 0: nothing flagged


def test_filter_sample_removes_low_quality_cells(scrna_study):
    cfg = scrna_study["cfg"]
    row = scrna_study["sheet"].iloc[0]
    raw = read_counts(row["path"])
    params = ScrnaParams.from_config({**cfg, "seed": 0})
    kept, table = filter_sample(raw, params=params)
    truth = scrna_study["cells"].query("sample_id == @row.sample_id").set_index("barcode")
    t = table.set_index("barcode").join(truth)
    lowq = t["is_low_quality"].astype(bool)
    recall = (t.loc[lowq, "removed"] == "low_quality").mean()
    false_removal = (t.loc[~lowq & ~t["is_doublet"].astype(bool), "removed"] == "low_quality").mean()
    # damage is a continuum in the simulator: the MAD rule finds the damaged end, not every cell past the
    # truth's cut (issue 11 open; measured recall 0.63 on the 2-patient study)
    assert recall >= 0.4
    assert false_removal <= 0.25
    assert kept.n_obs == int((table["removed"] == "").sum())
    assert set(table["removed"]) <= {"", "low_quality", "doublet"}
    summary = qc.qc_summary(table, row["sample_id"])
    assert summary["cells_in"] == raw.n_obs and summary["cells_kept"] == kept.n_obs


def test_doublets_skipped_with_a_note_on_tiny_samples(scrna_study):
    raw = read_counts(scrna_study["sheet"].iloc[0]["path"])[:20].copy()
    qc.qc_metrics(raw)
    calls = call_doublets(raw, params=DoubletParams(method="scrublet", expected_rate=0.05), seed=0)
    assert not calls.any()
    assert "doublet detection skipped" in raw.uns["notes"][0]
    assert np.isnan(raw.obs["doublet_score"]).all()
