"""The sample sheet: one row per input file, validated before any job runs.

A study is a table of specimens (patient × tissue × timepoint) and the files measured on them. The
sheet is read once, by ``workflow/rules/common.smk`` (and by ``belimap validate``); rules and
scripts receive the rows they need and never parse it themselves.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from belimap.checks.problems import raise_first
from belimap.checks.sheet import OPTIONAL_COLUMNS, SHEET_COLUMNS, check_sheet, simulated_path

__all__ = ["MODALITIES", "OPTIONAL_COLUMNS", "SHEET_COLUMNS", "read_sample_sheet", "simulated_path", "specimens"]

MODALITIES = ("scrna", "bcr", "flow")


def read_sample_sheet(
    path: str | Path, cfg: dict, check_files: bool = True, base_dir: str | Path | None = None
) -> pd.DataFrame:
    """Read and validate the sample sheet against ``config/schemas/samples.schema.yaml``.

    The checks are :func:`belimap.checks.sheet.check_sheet`'s (file, 1-based data row and column
    in every message): schema (IDs match ``^[A-Za-z0-9_-]+$``, modality known), tissues and
    timepoints declared in the config, no surrounding whitespace, paths inside the allowed roots,
    each file in one row, a ``(sample_id, modality)`` pair at most once, one patient/tissue/timepoint
    per ``sample_id``, and (``check_files``) that each path exists; files the demo simulator will
    write are exempt. The first problem is raised (``belimap validate`` lists them all).
    """
    check = check_sheet(path, cfg, check_files=check_files, base_dir=base_dir)
    raise_first(check.problems)
    df = check.df
    tissues, timepoints = list(cfg["tissues"]), list(cfg["timepoints"])
    for col in OPTIONAL_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df["tissue"] = pd.Categorical(df["tissue"], categories=tissues, ordered=True)
    df["timepoint"] = pd.Categorical(df["timepoint"], categories=timepoints, ordered=True)
    return df.sort_values(["patient_id", "tissue", "timepoint", "modality"], kind="stable").reset_index(drop=True)


def specimens(sheet: pd.DataFrame) -> pd.DataFrame:
    """One row per specimen (sample_id) with its patient, tissue and timepoint."""
    return sheet.drop_duplicates("sample_id")[["sample_id", "patient_id", "tissue", "timepoint"]].reset_index(drop=True)
