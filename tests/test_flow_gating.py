"""Gating: recovery of the simulator's truth, identity with FlowKit, GatingML round-trip, FlowJo import, CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from belimap.config import ROOT, load_config
from belimap.errors import BelimapError
from belimap.flow.counts import (AbsoluteParams, accuracy_table, composition_from_counts, counts_table,
                                 membership_table, panel_subsets, sample_counts, subset_gates)
from belimap.flow.gating import gate_events
from belimap.flow.io import read_fcs
from belimap.flow.qc import QcParams, qc_events
from belimap.flow.strategy import gate_tree, read_strategy, strategy_from_dict, write_gatingml
from belimap.vocab import load_vocabulary

TEMPLATE = ROOT / "resources" / "gating" / "bcell_panel.yaml"
WSP = Path(__file__).parent / "data" / "gating" / "bcell_lymph_cd19.wsp"


def simulate_flow_study(outdir: Path, n_events: int = 20000) -> tuple[pd.DataFrame, object]:
    """Three specimens of one patient (blood ×2, lymph node) as FCS files plus truth."""
    from belimap.simulate.cohort import sample_sheet, simulate_cohort
    from belimap.simulate.flow import write_all

    cfg = load_config(ROOT / "config" / "config.yaml", {"simulate": {
        "n_patients": 1, "design": {"blood": ["baseline", "week12"], "lymph_node": ["baseline"], "synovium": []},
        "modalities": {"scrna": False, "flow": True}, "flow": {"n_events": n_events}}})
    cohort = simulate_cohort(cfg)
    sheet = sample_sheet(cohort, outdir)
    write_all(cohort, sheet, outdir)
    return sheet[sheet["modality"] == "flow"].reset_index(drop=True), cohort


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("flowsim")
    sheet, cohort = simulate_flow_study(out)
    return out, sheet, cohort


@pytest.fixture(scope="module")
def strategy():
    return read_strategy(TEMPLATE)


def _truth(out: Path, sid: str) -> pd.DataFrame:
    return pd.read_csv(out / "truth" / "flow_events" / f"{sid}.tsv.gz", sep="\t", keep_default_na=False)


def test_gates_recover_simulated_truth(study, strategy):
    out, sheet, cohort = study
    subsets = panel_subsets(strategy, load_vocabulary().subset_ids)
    assert subsets == ["transitional", "naive", "unswitched_memory", "switched_memory", "double_negative",
                       "germinal_centre", "plasmablast"]
    truth_comp = pd.read_csv(out / "truth" / "flow_composition.tsv", sep="\t")
    counts = []
    for row in sheet.itertuples():
        fcs = read_fcs(row.path)
        keep, _, _ = qc_events(fcs, row.sample_id, params=QcParams(min_events=1000))
        res = gate_events(strategy, fcs, keep=keep)
        acc = accuracy_table(membership_table(res), _truth(out, row.sample_id), row.sample_id, subsets=subsets,
                             bcell_gate=strategy.bcell_gate, keep=keep)
        big = acc[acc["n_true"] >= 50]
        assert len(big) >= 5
        assert (big["recall"] >= 0.95).all(), big
        assert (big["precision"] >= 0.95).all(), big
        counts.append(sample_counts(res, row.sample_id))
    comp = composition_from_counts(pd.concat(counts), sheet[["sample_id", "patient_id", "tissue", "timepoint"]],
                                   subsets, bcell_gate=strategy.bcell_gate)
    merged = comp.merge(truth_comp, on=["sample_id", "subset"], suffixes=("", "_true"))
    assert len(merged) == len(sheet) * len(subsets)
    assert (merged["fraction"] - merged["fraction_true"]).abs().max() < 0.03
    # germinal-centre B cells only in lymph node, as simulated
    gc = merged[merged["subset"] == "germinal_centre"].set_index("sample_id")["fraction"]
    assert gc.filter(like="lymph_node").min() > 0.05 and gc.filter(like="blood").max() < 0.01


def test_membership_identical_to_flowkit(study, strategy):
    import flowkit as fk

    path = study[1]["path"].iloc[2]
    ours = gate_events(strategy, read_fcs(path))
    theirs = strategy.gs.gate_sample(fk.Sample(path))
    ids, _, keys = gate_tree(strategy)
    for gid in ids:
        name, gpath = keys[gid]
        assert np.array_equal(theirs.get_gate_membership(name, gate_path=gpath), ours.masks[gid]), gid


def test_gatingml_round_trip_gives_identical_counts(study, strategy, tmp_path):
    path = study[1]["path"].iloc[2]
    xml = tmp_path / "bcell.xml"
    write_gatingml(strategy, xml)
    back = read_strategy(xml, bcell_gate="CD19pos")
    fcs = read_fcs(path)
    a, b = gate_events(strategy, fcs), gate_events(back, fcs)
    assert gate_tree(back)[0] == gate_tree(strategy)[0]
    ca, cb = counts_table(a), counts_table(b)
    assert ca["count"].tolist() == cb["count"].tolist()
    assert ca["count"].iloc[0] > 0
    # the simulator's truth comes from the same reader, so a GatingML strategy names the same subsets
    ids = load_vocabulary().subset_ids
    assert panel_subsets(back, ids) == panel_subsets(strategy, ids)
    assert subset_gates(read_strategy(xml, absorbs=strategy.absorbs), ids) == subset_gates(strategy, ids)


def test_flowjo_workspace_evaluates_like_flowkit(study, tmp_path):
    import flowkit as fk

    strat = read_strategy(WSP)
    assert gate_tree(strat)[0] == ["Lymphocytes", "Singlets", "CD19pos"]
    path = study[1]["path"].iloc[0]
    ours = gate_events(strat, read_fcs(path))
    ref = strat.gs.gate_sample(fk.Sample(path))
    for gid in ["Lymphocytes", "Singlets", "CD19pos"]:
        name, gpath = gate_tree(strat)[2][gid]
        assert np.array_equal(ref.get_gate_membership(name, gate_path=gpath), ours.masks[gid])
    # the workspace's gates are the template's first gates in FlowJo's raw coordinates
    yaml_res = gate_events(read_strategy(TEMPLATE), read_fcs(path))
    assert ours.count("Lymphocytes") == yaml_res.count("lymphocytes")


def test_strategy_errors_are_one_line(study, tmp_path):
    base = {"transforms": {"lin": {"type": "linear"}}, "channels": {"default": "lin"}}
    with pytest.raises(BelimapError, match="parent 'nope' is not defined"):
        strategy_from_dict({**base, "gates": [{"id": "a", "type": "range", "dims": ["FSC-A"], "min": [0.1],
                                               "parent": "nope"}]})
    with pytest.raises(BelimapError, match="gates.0.type"):
        strategy_from_dict({**base, "gates": [{"id": "a", "type": "hexagon", "dims": ["FSC-A"]}]})
    with pytest.raises(BelimapError, match="used twice"):
        strategy_from_dict({**base, "gates": [{"id": "a", "type": "range", "dims": ["FSC-A"], "min": [0.1]}] * 2})
    s = strategy_from_dict({**base, "gates": [{"id": "a", "type": "range", "dims": ["CD999"], "min": [0.1]}]})
    with pytest.raises(BelimapError, match="'CD999'.*matches no channel"):
        gate_events(s, read_fcs(study[1]["path"].iloc[0]))
    bad = tmp_path / "s.txt"
    bad.write_text("x")
    with pytest.raises(BelimapError, match="unknown strategy format"):
        read_strategy(bad)


def test_ellipse_quadrant_and_asinh_gates_match_flowkit(study):
    import flowkit as fk

    s = strategy_from_dict({
        "compensation": "FCS",
        "transforms": {"lin": {"type": "linear"}, "ah": {"type": "asinh", "cofactor": 150}},
        "channels": {"FSC-A": "lin", "SSC-A": "lin", "default": "ah"},
        "gates": [
            {"id": "cells", "type": "ellipse", "dims": ["FSC-A", "SSC-A"], "mean": [0.23, 0.075],
             "covariance": [[0.002, 0.0005], [0.0005, 0.001]], "distance_square": 6.0},
            {"id": "q", "parent": "cells", "type": "quadrant", "dims": ["CD3", "CD19"], "dividers": [0.35, 0.35],
             "quadrants": {"T": {"at": ["pos", "neg"]}, "B": {"at": ["neg", "pos"]}, "DP": {"at": ["pos", "pos"]},
                           "DN": {"at": ["neg", "neg"]}}},
            {"id": "notB", "parent": "cells", "type": "boolean", "op": "not", "refs": ["B"]},
        ]}, "inline")
    path = study[1]["path"].iloc[0]
    ours = gate_events(s, read_fcs(path))
    ref = s.gs.gate_sample(fk.Sample(path))
    ids, _, keys = gate_tree(s)
    assert set(ids) == {"cells", "T", "B", "DP", "DN", "notB"}
    for gid in ids:
        name, gpath = keys[gid]
        assert np.array_equal(ref.get_gate_membership(name, gate_path=gpath), ours.masks[gid]), gid
    assert ours.count("B") > 100 and ours.count("notB") == ours.count("cells") - ours.count("B")


def test_gate_command_counts_and_events(study, tmp_path):
    from belimap.cli import main

    path = study[1]["path"].iloc[0]
    out, ev, xml = tmp_path / "c.tsv", tmp_path / "e.tsv", tmp_path / "s.xml"
    assert main(["gate", path, "--strategy", str(TEMPLATE), "--out", str(out), "--events", str(ev),
                 "--export-gatingml", str(xml)]) == 0
    counts = pd.read_csv(out, sep="\t")
    events = pd.read_csv(ev, sep="\t")
    assert len(events) == read_fcs(path).n_events
    assert list(events.columns) == counts["gate_id"].tolist()
    assert set(np.unique(events.to_numpy())) <= {0, 1}
    assert (events.sum().to_numpy() == counts["count"].to_numpy()).all()
    cd19 = counts.set_index("gate_id").loc["CD19pos"]
    assert cd19["pct_bcells"] == pytest.approx(100.0)
    assert main(["gate", path, "--strategy", str(xml), "--out", str(tmp_path / "c2.tsv")]) == 0
    assert pd.read_csv(tmp_path / "c2.tsv", sep="\t")["count"].tolist() == counts["count"].tolist()
    assert main(["gate", path, "--strategy", str(tmp_path / "none.yaml"), "--out", str(out)]) == 1


def test_absolute_counts_use_reference_gate(study, strategy):
    path = study[1]["path"].iloc[0]
    res = gate_events(strategy, read_fcs(path))
    tab = sample_counts(res, "s1", cells_per_ul=2000.0, absolute=AbsoluteParams(reference_gate="live"))
    tab = tab.set_index("gate_id")
    assert tab.loc["live", "cells_per_ul"] == pytest.approx(2000.0)
    assert tab.loc["CD19pos", "cells_per_ul"] == pytest.approx(2000.0 * tab.loc["CD19pos", "count"] / tab.loc["live", "count"])
    assert sample_counts(res, "s1", None)["cells_per_ul"].isna().all()
    with pytest.raises(BelimapError, match="reference_gate"):
        sample_counts(res, "s1", 1000.0, absolute=AbsoluteParams(reference_gate="nope"))
    # counting beads (single platform): any gate of the strategy can play the bead gate here
    beads = sample_counts(res, "s1", None, absolute=AbsoluteParams(bead_gate="monocyte_check", beads_per_ul=50.0))
    beads = beads.set_index("gate_id")
    n_beads = beads.loc["monocyte_check", "count"]
    assert beads.loc["CD19pos", "cells_per_ul"] == pytest.approx(beads.loc["CD19pos", "count"] / n_beads * 50.0)
    with pytest.raises(BelimapError, match="bead_gate"):
        sample_counts(res, "s1", None, absolute=AbsoluteParams(bead_gate="nope", beads_per_ul=50.0))


def test_simulator_is_deterministic_and_writes_spillover(study, tmp_path):
    out, sheet, _ = study
    again, _ = simulate_flow_study(tmp_path, n_events=20000)
    for a, b in zip(sheet["path"], again["path"], strict=True):
        assert Path(a).read_bytes() == Path(b).read_bytes()
    fcs = read_fcs(sheet["path"].iloc[0])
    assert fcs.version == "3.1" and fcs.n_events == 20000 and fcs.spill_text.startswith("10,")
    shutil.rmtree(tmp_path / "raw")


def test_throughput_benchmark_runs_and_agrees_with_flowkit():
    """The small version of benchmarks/flow_throughput.py: it runs and FlowKit agrees on every event."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-W", "ignore", str(ROOT / "benchmarks" / "flow_throughput.py"),
                          "--events", "30000", "--repeat", "1"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "M events/s" in out.stdout
    assert ", 0 differing event-gate calls" in out.stdout, out.stdout
