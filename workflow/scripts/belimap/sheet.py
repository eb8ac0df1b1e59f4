"""The sample sheet: one row per input file, validated before any job runs.

A study is a table of specimens (patient × tissue × timepoint) and the files measured on them. The
sheet is read once, by ``workflow/rules/common.smk`` (and by ``belimap validate``); rules and
scripts receive the rows they need and never parse it themselves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from belimap.config import validate
from belimap.errors import BelimapError
from belimap.tables import read_table

SHEET_COLUMNS = ["sample_id", "patient_id", "tissue", "timepoint", "modality", "path"]
OPTIONAL_COLUMNS = ["batch", "chemistry", "cells_per_ul"]
MODALITIES = ("scrna", "bcr", "flow")


def simulated_path(cfg: dict, path: str | Path) -> bool:
    """Whether ``path`` lies under ``simulate.outdir`` of a simulated study (the workflow writes it)."""
    sim = cfg.get("simulate", {})
    if not sim.get("enabled"):
        return False
    sim_dir = Path(sim.get("outdir", "results/demo"))
    return Path(path).parts[: len(sim_dir.parts)] == sim_dir.parts


def read_sample_sheet(
    path: str | Path, cfg: dict, check_files: bool = True, base_dir: str | Path | None = None
) -> pd.DataFrame:
    """Read and validate the sample sheet against ``config/schemas/samples.schema.yaml``.

    Checks, each refused with the file, row (1-based data row) and column: schema (IDs match
    ``^[A-Za-z0-9_-]+$``, modality known), tissues and timepoints declared in the config, a
    ``(sample_id, modality)`` pair at most once, one patient/tissue/timepoint per ``sample_id``,
    and (``check_files``) that each path exists. Files the demo simulator will write are exempt.
    """
    path = Path(path)
    df = read_table(path, SHEET_COLUMNS, "sample sheet")
    if df.empty:
        raise BelimapError(f"{path}: the sample sheet has no rows")
    tissues, timepoints = list(cfg["tissues"]), list(cfg["timepoints"])
    base = Path(base_dir) if base_dir else Path.cwd()
    root = base.resolve()
    seen: dict[Path, str] = {}
    for i, row in enumerate(df.to_dict("records"), start=1):
        where = f"{path} row {i}"
        for col, value in row.items():
            if value != value.strip():
                raise BelimapError(f"{where}: column '{col}': value '{value}' has leading or trailing whitespace; "
                                   "expected the value without spaces or tabs around it")
        record = {k: v for k, v in row.items() if v != ""}
        if "cells_per_ul" in record:
            try:
                record["cells_per_ul"] = float(record["cells_per_ul"])
            except ValueError:
                raise BelimapError(f"{where}: column 'cells_per_ul': expected a number, got '{row['cells_per_ul']}'") from None
        validate(record, "samples", where, set_default=False)
        if row["tissue"] not in tissues:
            raise BelimapError(f"{where}: column 'tissue': '{row['tissue']}' is not one of the config's tissues {tissues}")
        if row["timepoint"] not in timepoints:
            raise BelimapError(
                f"{where}: column 'timepoint': '{row['timepoint']}' is not one of the config's timepoints {timepoints}"
            )
        given = Path(row["path"])
        p = given if given.is_absolute() else base / given
        resolved = p.resolve()
        if not given.is_absolute() and not resolved.is_relative_to(root):
            raise BelimapError(f"{where}: column 'path': '{row['path']}' climbs out of the study folder {base}; "
                               "expected a path inside it (or an absolute path)")
        first = seen.setdefault(resolved, row["sample_id"])
        if first != row["sample_id"]:
            raise BelimapError(f"{where}: column 'path': '{row['path']}' is already listed for specimen '{first}'; "
                               "expected each file under one specimen (one measurement counted once)")
        if check_files:
            if not simulated_path(cfg, row["path"]) and not p.exists():
                raise BelimapError(f"{where}: column 'path': file '{row['path']}' does not exist")
    dup = df.duplicated(["sample_id", "modality"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup)[1]) + 1
        r = df.iloc[i - 1]
        raise BelimapError(
            f"{path} row {i}: column 'sample_id': '{r['sample_id']}' appears more than once for modality "
            f"'{r['modality']}'; expected one row per input file"
        )
    keys = df.groupby("sample_id")[["patient_id", "tissue", "timepoint"]].nunique()
    bad = keys[(keys > 1).any(axis=1)]
    if not bad.empty:
        sid = bad.index[0]
        i = int(np.flatnonzero(df["sample_id"] == sid)[1]) + 1
        raise BelimapError(
            f"{path} row {i}: sample_id '{sid}' names different patient/tissue/timepoint in different rows; "
            "expected one specimen per sample_id"
        )
    for col in OPTIONAL_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df["tissue"] = pd.Categorical(df["tissue"], categories=tissues, ordered=True)
    df["timepoint"] = pd.Categorical(df["timepoint"], categories=timepoints, ordered=True)
    return df.sort_values(["patient_id", "tissue", "timepoint", "modality"], kind="stable").reset_index(drop=True)


def specimens(sheet: pd.DataFrame) -> pd.DataFrame:
    """One row per specimen (sample_id) with its patient, tissue and timepoint."""
    return sheet.drop_duplicates("sample_id")[["sample_id", "patient_id", "tissue", "timepoint"]].reset_index(drop=True)
