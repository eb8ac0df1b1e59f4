"""Shared fixtures: small simulated studies (the simulator at a few hundred cells per sample)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from belimap.config import ROOT, load_config

SCRNA_ONLY = {"scrna": True, "bcr": False, "flow": False, "clinical": False}


def small_config(tmp: Path, n_patients: int = 2, cells: int = 300, modalities: dict | None = None, **simulate) -> dict:
    """The demo config shrunk to ``n_patients`` × ``cells`` with its sheet and outputs under ``tmp``."""
    sim = {"enabled": True, "outdir": str(tmp / "sim"), "n_patients": n_patients, "cells_per_sample": cells, **simulate}
    if modalities is not None:
        sim["modalities"] = modalities
    return load_config(ROOT / "config" / "config.yaml", {"samples": str(tmp / "samples.tsv"), "simulate": sim})


@pytest.fixture(scope="session")
def scrna_study(tmp_path_factory) -> dict:
    """A 2-patient scRNA-only study simulated once per session: config, sheet and truth tables."""
    from belimap.simulate.study import simulate_study

    tmp = tmp_path_factory.mktemp("scrna_study")
    cfg = small_config(tmp, modalities=SCRNA_ONLY)
    sheet = simulate_study(cfg, cfg["simulate"]["outdir"], cfg["samples"])
    truth = Path(cfg["simulate"]["outdir"]) / "truth"
    return {"cfg": cfg, "sheet": sheet, "dir": tmp,
            "cells": pd.read_csv(truth / "cells.tsv", sep="\t"),
            "composition": pd.read_csv(truth / "composition.tsv", sep="\t")}


@pytest.fixture(scope="session")
def annotated_study(scrna_study) -> dict:
    """The scRNA study run through QC, integration and annotation in-process (no Snakemake)."""
    from belimap import scrna
    from belimap.sheet import read_sample_sheet, specimens
    from belimap.vocab import load_vocabulary

    cfg = scrna_study["cfg"]
    sheet = read_sample_sheet(cfg["samples"], cfg)
    vocab = load_vocabulary(cfg)
    params = scrna.ScrnaParams.from_config(cfg)
    kept = [scrna.preprocess_sample(r["path"], r, params=params)[0] for r in sheet.to_dict("records")]
    adata = scrna.concat_samples(kept, tissues=cfg["tissues"], timepoints=cfg["timepoints"])
    scrna.integrate(adata, params=params)
    scrna.annotate(adata, vocab, params=params)
    comp, lin = scrna.compositions(adata, specimens(sheet), vocab)
    return {**scrna_study, "adata": adata, "vocab": vocab, "comp": comp, "lineages": lin}
