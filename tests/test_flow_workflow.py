"""End-to-end: the flow rules of the Snakemake workflow on a small simulated flow-only study."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from belimap.composition import COMPOSITION_COLUMNS
from belimap.config import ROOT

pytestmark = pytest.mark.slow
TARGETS = ["results/flow/counts.tsv", "results/flow/composition.tsv", "results/flow/qc_summary.tsv",
           "results/flow/metadata.tsv", "results/flow/accuracy.tsv", "results/flow/figures/composition.png"]


@pytest.fixture(scope="module")
def flow_run(tmp_path_factory):
    wd = tmp_path_factory.mktemp("flowwf")
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["samples"] = str(wd / "samples.tsv")
    cfg["simulate"].update({"n_patients": 1, "design": {"blood": ["baseline"], "lymph_node": ["baseline"]},
                            "modalities": {"scrna": False, "bcr": False, "flow": True, "clinical": False},
                            "flow": {"n_events": 10000, "hiccup_every": 2}})
    cfg["flow"]["qc"] = {"min_events": 2000}
    config = wd / "config.yaml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    sheet = subprocess.run([sys.executable, "-m", "belimap.cli", "simulate", "--config", str(config), "--sheet-only",
                            "--out", str(wd / "samples.tsv")], capture_output=True, text=True)
    assert sheet.returncode == 0, sheet.stderr
    sids = pd.read_csv(wd / "samples.tsv", sep="\t")["sample_id"].tolist()
    figs = [f"results/flow/figures/{kind}/{sids[0]}.png" for kind in ("gating", "qc")]
    res = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(wd),
                          "--configfile", str(config), "--cores", "2", *TARGETS, *figs], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    return wd, sids


def test_flow_outputs(flow_run):
    wd, sids = flow_run
    comp = pd.read_csv(wd / "results/flow/composition.tsv", sep="\t")
    assert list(comp.columns) == COMPOSITION_COLUMNS and set(comp["sample_id"]) == set(sids)
    truth = pd.read_csv(wd / "results/demo/truth/flow_composition.tsv", sep="\t")
    m = comp.merge(truth, on=["sample_id", "subset"], suffixes=("", "_true"))
    assert (m["fraction"] - m["fraction_true"]).abs().max() < 0.03
    acc = pd.read_csv(wd / "results/flow/accuracy.tsv", sep="\t")
    big = acc[acc["n_true"] >= 50]
    assert (big["recall"] >= 0.95).all() and (big["precision"] >= 0.95).all()
    counts = pd.read_csv(wd / "results/flow/counts.tsv", sep="\t")
    blood = counts[counts["sample_id"].str.contains("blood") & (counts["gate_id"] == "live")]
    assert blood["cells_per_ul"].notna().all()  # the sheet's lymphocyte count per µL
    assert counts.loc[counts["sample_id"].str.contains("lymph_node"), "cells_per_ul"].isna().all()
    qc = pd.read_csv(wd / "results/flow/qc_summary.tsv", sep="\t").set_index("sample_id")
    assert "flow_rate_anomaly" in qc.loc[sids[1], "flags"] and qc.loc[sids[0], "flags"] == "ok"  # the simulated clog
    assert (wd / f"results/flow/figures/gating/{sids[0]}.pdf").read_bytes()[:4] == b"%PDF"
    assert (wd / f"results/flow/figures/qc/{sids[0]}.png").read_bytes()[:4] == b"\x89PNG"
    for s in sids:
        ev = pd.read_csv(wd / f"results/flow/samples/{s}.events.tsv.gz", sep="\t")
        assert len(ev) == 10000 and "CD19pos" in ev.columns
