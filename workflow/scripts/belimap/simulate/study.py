"""Simulate a whole study: the sample sheet, every modality's raw files and the truth.

Each modality module (``belimap.simulate.<modality>``) exposes ``write_all(cohort, sheet, outdir)``;
they run in ``MODALITY_ORDER`` (BCR contigs are drawn for the scRNA cells, so scRNA comes first).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd

from belimap.tables import write_tsv
from belimap.simulate.cohort import Cohort, sample_sheet, simulate_cohort

MODALITY_ORDER = ["scrna", "bcr", "flow", "clinical"]


def enabled_modalities(cohort: Cohort) -> list[str]:
    mods = cohort.params.get("modalities", {})
    return [m for m in MODALITY_ORDER if mods.get(m, m == "scrna")]


def write_modality(modality: str, cohort: Cohort, sheet: pd.DataFrame, outdir: str | Path) -> None:
    """Write the raw files and truth of one modality."""
    importlib.import_module(f"belimap.simulate.{modality}").write_all(cohort, sheet, Path(outdir))


def simulate_study(cfg: dict, outdir: str | Path | None = None, sheet_path: str | Path | None = None,
                   sheet_only: bool = False) -> pd.DataFrame:
    """Simulate the study of ``cfg`` into ``outdir`` (default ``simulate.outdir``) and return its sheet."""
    outdir = Path(outdir or cfg["simulate"]["outdir"])
    cohort = simulate_cohort(cfg)
    sheet = sample_sheet(cohort, outdir)
    if sheet_path is not None:
        write_tsv(sheet, sheet_path)
    if not sheet_only:
        for m in enabled_modalities(cohort):
            write_modality(m, cohort, sheet, outdir)
    return sheet
