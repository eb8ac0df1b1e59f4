"""Checks of the sample sheet that need no file contents: every row, every column, all at once.

:func:`belimap.sheet.read_sample_sheet` raises the first of these problems; ``belimap validate``
lists them all. Paths are resolved against the working directory (the study folder) and must land
under one of the study's allowed roots (config ``validate.allowed_roots``; default the sheet's
folder and the working directory), so a sheet cannot make the pipeline read ``/etc`` or another
study's files by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from belimap.checks.problems import Problem, from_error, problem
from belimap.config import validate
from belimap.errors import BelimapError
from belimap.tables import read_table

SHEET_COLUMNS = ["sample_id", "patient_id", "tissue", "timepoint", "modality", "path"]
OPTIONAL_COLUMNS = ["batch", "chemistry", "cells_per_ul"]


@dataclass
class SheetCheck:
    """The sheet as read (strings, ``None`` when unreadable), its problems, and the rows whose file
    can be opened (each with ``row``, its 1-based data row, and ``file``, the resolved path)."""

    df: pd.DataFrame | None
    problems: list[Problem] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)


def simulated_path(cfg: dict, path: str | Path) -> bool:
    """Whether ``path`` lies under ``simulate.outdir`` of a simulated study (the workflow writes it)."""
    sim = cfg.get("simulate", {})
    if not sim.get("enabled"):
        return False
    sim_dir = Path(sim.get("outdir", "results/demo"))
    return Path(path).parts[: len(sim_dir.parts)] == sim_dir.parts


def allowed_roots(cfg: dict, sheet: Path, base: Path) -> list[Path]:
    """Folders a sheet's paths may resolve into: ``validate.allowed_roots`` (relative to ``base``),
    default the sheet's folder and ``base`` (the working directory)."""
    given = (cfg.get("validate") or {}).get("allowed_roots") or []
    roots = [Path(r) if Path(r).is_absolute() else base / r for r in given] or [sheet.parent, base]
    return [r.resolve() for r in roots]


def _row_problems(row: dict, where: str, cfg: dict) -> list[Problem]:
    """Whitespace, schema, tissue and timepoint of one row."""
    out = []
    for col, value in row.items():
        if value != value.strip():
            out.append(problem(f"{where}: column '{col}'", f"value '{value}' has leading or trailing whitespace",
                               "the value without spaces or tabs around it"))
    record = {k: v.strip() for k, v in row.items() if v.strip() != ""}
    if "cells_per_ul" in record:
        try:
            record["cells_per_ul"] = float(record["cells_per_ul"])
        except ValueError:
            out.append(problem(f"{where}: column 'cells_per_ul'", f"'{row['cells_per_ul']}' is not a number",
                               "cells per µL (a number) or an empty cell"))
            record.pop("cells_per_ul")
    try:
        validate(record, "samples", where, set_default=False)
    except BelimapError as err:
        out.append(from_error(err))
    tissues, timepoints = list(cfg["tissues"]), list(cfg["timepoints"])
    if row["tissue"].strip() not in tissues:
        out.append(problem(f"{where}: column 'tissue'", f"'{row['tissue']}' is not one of the config's tissues",
                           f"one of {tissues}"))
    if row["timepoint"].strip() not in timepoints:
        out.append(problem(f"{where}: column 'timepoint'", f"'{row['timepoint']}' is not one of the config's "
                           "timepoints", f"one of {timepoints}"))
    return out


def _path_problems(row: dict, where: str, roots: list[Path], base: Path, cfg: dict,
                   check_files: bool) -> tuple[Path | None, list[Problem]]:
    """The resolved path of a row (None when it must not or cannot be opened) and its problems."""
    given = Path(row["path"].strip())
    p = given if given.is_absolute() else base / given
    resolved = p.resolve()
    if not any(resolved.is_relative_to(r) for r in roots):
        via = "" if str(resolved) == row["path"].strip() else f" resolves to {resolved},"
        return None, [problem(f"{where}: column 'path'", f"'{row['path']}'{via} outside the "
                              f"study's allowed roots ({', '.join(map(str, roots))})",
                              "a path inside one of them (config validate.allowed_roots)")]
    if check_files and not p.exists():
        if simulated_path(cfg, row["path"].strip()):
            return None, []  # the workflow's simulate rule writes it
        return None, [problem(f"{where}: column 'path'", f"file '{row['path']}' does not exist",
                              "an existing file or folder (relative paths are read from the working directory)")]
    return resolved, []


def _sheet_problems(df: pd.DataFrame, path: Path) -> list[Problem]:
    """Problems between rows: a (sample_id, modality) pair twice, one sample_id naming two specimens."""
    out = []
    for (sid, mod), idx in df.groupby(["sample_id", "modality"]).groups.items():
        rows = [int(i) + 1 for i in idx]
        if len(rows) > 1:
            out.append(problem(f"{path} row {rows[1]}: column 'sample_id'",
                               f"'{sid}' appears more than once for modality '{mod}' "
                               f"(rows {', '.join(map(str, rows))})",
                               "one row per input file"))
    for sid, grp in df.groupby("sample_id"):
        if len(grp[["patient_id", "tissue", "timepoint"]].drop_duplicates()) > 1:
            rows = [int(i) + 1 for i in grp.index]
            out.append(problem(f"{path} row {rows[1]}: sample_id '{sid}'",
                               f"names different patient/tissue/timepoint in different rows "
                               f"(rows {', '.join(map(str, rows))})", "one specimen per sample_id"))
    return out


def check_sheet(path: str | Path, cfg: dict, *, check_files: bool = True,
                base_dir: str | Path | None = None) -> SheetCheck:
    """Every problem of the sample sheet that its text shows (no file is opened beyond ``exists``).

    Refused, each with file, 1-based data row and column: a sheet that is not tab-separated or lacks
    columns (then nothing else is checked), values with surrounding whitespace, schema violations,
    unknown tissues/timepoints, paths outside the allowed roots, missing files, one file listed in
    two rows (naming both), a ``(sample_id, modality)`` pair twice, a sample_id naming two specimens.
    """
    path = Path(path)
    try:
        df = read_table(path, SHEET_COLUMNS, "sample sheet")
    except BelimapError as err:
        return SheetCheck(None, [from_error(err)])
    if df.empty:
        return SheetCheck(df, [problem(str(path), "the sample sheet has no rows", "one row per input file")])
    base = (Path(base_dir) if base_dir else Path.cwd()).resolve()
    roots = allowed_roots(cfg, path, base)
    out = SheetCheck(df, _sheet_problems(df, path))  # between rows first: they explain the rows' ones
    seen: dict[Path, int] = {}
    for i, row in enumerate(df.to_dict("records"), start=1):
        where = f"{path} row {i}"
        out.problems += _row_problems(row, where, cfg)
        resolved, probs = _path_problems(row, where, roots, base, cfg, check_files)
        out.problems += probs
        key = resolved or (base / row["path"].strip()).resolve()
        first = seen.setdefault(key, i)
        if first != i:
            out.problems.append(problem(f"{where}: column 'path'", f"'{row['path']}' is already listed in row {first} "
                                        f"(specimen '{df.iloc[first - 1]['sample_id']}'); rows {first} and {i} name "
                                        "the same file", "each file in one row (one measurement counted once)"))
        elif resolved is not None:
            out.files.append({**{k: v.strip() for k, v in row.items()}, "row": i, "file": resolved})
    return out
