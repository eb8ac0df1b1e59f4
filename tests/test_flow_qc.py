"""Flow QC against the simulator's truth: margin events, the flow-rate drop, too few events; metadata and tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimap.config import ROOT, load_config
from belimap.flow.counts import composition_from_counts, metadata_table
from belimap.flow.gating import gate_events
from belimap.flow.io import read_fcs
from belimap.flow.qc import QcParams, margin_events, qc_events
from belimap.flow.strategy import read_strategy


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from belimap.simulate.cohort import sample_sheet, simulate_cohort
    from belimap.simulate.flow import write_all

    out = tmp_path_factory.mktemp("flowqc")
    cfg = load_config(ROOT / "config" / "config.yaml", {"simulate": {
        "n_patients": 1, "design": {"blood": ["baseline", "week12", "week48"], "lymph_node": [], "synovium": []},
        "modalities": {"scrna": False, "flow": True}, "flow": {"n_events": 20000}}})
    cohort = simulate_cohort(cfg)
    sheet = sample_sheet(cohort, out)
    write_all(cohort, sheet, out)
    return out, sheet[sheet["modality"] == "flow"].reset_index(drop=True), cohort


def _truth(out, sid):
    return pd.read_csv(out / "truth" / "flow_events" / f"{sid}.tsv.gz", sep="\t", keep_default_na=False)


def test_margin_events_are_the_simulated_saturated_ones(study):
    out, sheet, _ = study
    sid, path = sheet.loc[0, ["sample_id", "path"]]
    truth = _truth(out, sid)
    m = margin_events(read_fcs(path))
    is_margin = (truth["kind"] == "margin").to_numpy()
    assert is_margin.sum() > 20
    assert m[is_margin].all()  # every saturated event is caught ...
    assert m[~is_margin].mean() < 0.002  # ... and almost nothing else (real cells rarely saturate)


def test_flow_rate_drop_flagged_only_where_simulated(study):
    out, sheet, _ = study
    results = {}
    for sid, path in sheet[["sample_id", "path"]].itertuples(index=False):
        keep, summary, bins = qc_events(read_fcs(path), sid, params=QcParams(min_events=1000))
        results[sid] = (keep, summary.iloc[0], bins)
    # the simulator puts a clog (10 % rate) into every third file: here the third
    hic_sid = sheet["sample_id"].iloc[2]
    keep, s, bins = results[hic_sid]
    truth = _truth(out, hic_sid)
    hic = truth["hiccup"].to_numpy() == 1
    assert "flow_rate_anomaly" in s["flags"]
    assert (~keep[hic]).mean() > 0.9  # events acquired during the clog are removed
    assert s["n_rate_anomaly"] < 3 * hic.sum() + 200  # and not much else
    for sid in sheet["sample_id"].iloc[:2]:
        assert results[sid][1]["flags"] == "ok" and results[sid][1]["n_bins_flagged"] == 0
    assert int(bins["n_events"].sum()) == len(keep)


def test_too_few_events_is_a_flag(study):
    _, sheet, _ = study
    _, s, _ = qc_events(read_fcs(sheet["path"].iloc[0]), "x", params=QcParams(min_events=10**6))
    assert "too_few_events" in s.iloc[0]["flags"]


def test_metadata_table_and_composition_format(study):
    from belimap.composition import COMPOSITION_COLUMNS
    from belimap.flow.compensate import spillover_of
    from belimap.flow.counts import sample_counts

    _, sheet, _ = study
    strat = read_strategy(ROOT / "resources" / "gating" / "bcell_panel.yaml")
    fcs = read_fcs(sheet["path"].iloc[0])
    spill = spillover_of(fcs)
    res = gate_events(strat, fcs, spill=spill)
    meta = metadata_table(fcs, "s1", strat, spill, result=res)
    sections = set(meta["section"])
    assert {"file", "instrument", "channel", "compensation", "transform", "gate", "strategy"} <= sections
    assert meta.loc[(meta["section"] == "channel") & (meta["item"] == "BV786-A"), "value"].str.contains("CD19").all()
    assert (meta["section"] == "gate").sum() == len(res.gate_ids)
    counts = sample_counts(res, "s1")
    spec = pd.DataFrame({"sample_id": ["s1", "s2"], "patient_id": ["P", "P"], "tissue": ["blood", "blood"],
                         "timepoint": ["baseline", "week12"]})
    comp = composition_from_counts(counts, spec, ["naive", "plasmablast"], bcell_gate="CD19pos")
    assert list(comp.columns) == COMPOSITION_COLUMNS
    s1 = comp[comp["sample_id"] == "s1"].set_index("subset")
    assert s1.loc["naive", "n_bcells"] == res.count("CD19pos")
    assert s1.loc["naive", "fraction"] == pytest.approx(res.count("naive") / res.count("CD19pos"))
    s2 = comp[comp["sample_id"] == "s2"]  # a specimen without counts keeps its rows, fraction NaN
    assert (s2["n_bcells"] == 0).all() and s2["fraction"].isna().all()


def test_truth_composition_follows_the_cohort(study):
    out, sheet, cohort = study
    truth = pd.read_csv(out / "truth" / "flow_composition.tsv", sep="\t")
    for sid in sheet["sample_id"]:
        p = cohort.subset_probs.loc[sid]
        t = truth[truth["sample_id"] == sid].set_index("subset")["fraction"]
        n_b = truth.loc[truth["sample_id"] == sid, "n_bcells"].iloc[0]
        assert n_b > 500
        expect_pb = p["plasmablast"] + p["plasma_cell"]  # plasma cells are counted in the plasmablast gate
        assert t["plasmablast"] == pytest.approx(expect_pb, abs=4 * np.sqrt(expect_pb / n_b) + 0.005)
        assert t["naive"] == pytest.approx(p["naive"], abs=4 * np.sqrt(p["naive"] / n_b) + 0.005)
        assert "plasma_cell" not in t.index


def test_figures_are_returned_not_saved_and_the_pipeline_saves_both_formats(study, tmp_path):
    import matplotlib.pyplot as plt

    from belimap.flow.pipeline import FlowParams, qc_file, sample_figure_files
    from belimap.pl.flow import gating_figure, qc_figure

    _, sheet, _ = study
    sid, path = sheet.loc[0, ["sample_id", "path"]]
    strat = read_strategy(ROOT / "resources" / "gating" / "bcell_panel.yaml")
    res = gate_events(strat, read_fcs(path))
    fig = gating_figure(res, sid, max_points=5000)
    assert isinstance(fig, plt.Figure) and len([a for a in fig.axes if a.axison]) >= 8
    keep, summary, bins = qc_events(read_fcs(path), sid, params=QcParams(min_events=1000))
    assert isinstance(qc_figure(bins, summary, sid), plt.Figure)
    plt.close("all")
    assert not list(tmp_path.iterdir())  # drawing writes nothing
    params = FlowParams.from_config({"flow": {"qc": {"min_events": 1000}}})
    out = {k: tmp_path / f"{k}.tsv" for k in ("table", "bins")}
    qc_file(path, sid, params=params, keep=tmp_path / "keep.npy", **out)
    assert np.array_equal(np.load(tmp_path / "keep.npy"), keep)
    sample_figure_files(path, tmp_path / "keep.npy", out["table"], out["bins"], sid, params=params,
                        gating=tmp_path / "gating.pdf", qc_figure=tmp_path / "qc.pdf")
    for name in ("gating", "qc"):
        assert (tmp_path / f"{name}.pdf").read_bytes()[:4] == b"%PDF"
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
