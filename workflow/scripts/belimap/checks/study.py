"""A whole study checked at once: config, sample sheet, every file's contents, the clinical table.

``belimap validate`` is a thin adapter over :func:`check_study`. Each file is checked by the module
of its modality; a file whose check fails in an unforeseen way is reported as a problem of that
file (a user's file must never produce a traceback here), and checking goes on with the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from belimap.checks.bcr import check_contigs, overlap_problem
from belimap.checks.problems import Problem, errors, from_error, problem
from belimap.checks.scrna import check_matrix
from belimap.checks.sheet import check_sheet
from belimap.config import SECTION_SCHEMAS, read_yaml, schema_errors, validate_config
from belimap.errors import BelimapError


@dataclass
class StudyCheck:
    """Problems found (errors and warnings, in the order found) and a one-line summary of the study."""

    problems: list[Problem] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return not errors(self.problems)


def check_config(path: str | Path) -> tuple[dict | None, list[Problem]]:
    """The validated config (defaults filled), or None and every schema violation of every section."""
    try:
        raw = read_yaml(path) or {}
    except BelimapError as err:
        return None, [from_error(err)]
    if not isinstance(raw, dict):
        return None, [problem(str(path), f"the top level is a {type(raw).__name__}", "a mapping of config keys")]
    found = schema_errors(raw, "config", str(path))
    for section in SECTION_SCHEMAS:
        sub = raw.setdefault(section, {})
        if not isinstance(sub, dict):
            found.append(f"{path}: field '{section}': {sub!r} is not a mapping")
        else:
            found += schema_errors(sub, section, f"{path} section '{section}'")
    if found:
        return None, [Problem(" ".join(m.split())) for m in found]
    try:
        return validate_config(raw, str(path)), []
    except BelimapError as err:
        return None, [from_error(err)]


def clinical_problems(cfg: dict, *, check_files: bool = True) -> tuple[str, list[Problem]]:
    """Read and check the clinical table as the workflow will (schema, identifiers); a few words on it."""
    from belimap.clinical.params import ClinicalParams
    from belimap.clinical.pipeline import check_table
    from belimap.simulate.clinical import simulates_table

    table = cfg["clinical"]["table"]
    if not table:
        return "no clinical table (clinical.table is empty)", []
    if not Path(table).exists():
        if simulates_table(cfg):
            return f"{table}: simulated by the workflow", []
        if not check_files:
            return "", []
        return "", [problem("clinical.table", f"file '{table}' does not exist", "the study's clinical table (TSV)")]
    try:
        n_patients, n_visits = check_table(table, params=ClinicalParams.from_config(cfg))
    except BelimapError as err:
        return "", [from_error(err)]
    return f"{table}: {n_patients} patients, {n_visits} visits", []


class _FlowContext:
    """The strategy's gate dimensions, read once and only when the sheet has flow files (FlowKit is slow
    to import)."""

    def __init__(self, cfg: dict) -> None:
        from belimap.checks.flow import strategy_dimensions
        from belimap.flow.pipeline import FlowParams

        self.params = FlowParams.from_config(cfg)
        self.dims, self.strategy, self.problems = strategy_dimensions(self.params)


def _guarded(check, where: str, *args, **kwargs):  # noqa: ANN001, ANN202 - any check function
    """Run one file's check; an unforeseen failure becomes a problem of that file, not a traceback."""
    try:
        return check(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - whatever a user's file does to a reader is the file's
        msg = str(err).splitlines()[0] if str(err) else ""
        return [problem(where, f"cannot be checked ({type(err).__name__}: {msg})", "a readable file of its format")]


def file_problems(files: list[dict], cfg: dict) -> list[Problem]:
    """Contents of every sheet file (scRNA, then flow, then BCR with its overlap with the scRNA cells)."""
    from belimap.checks.flow import check_fcs

    opts = cfg["validate"]  # validated: the schema's defaults are filled in
    max_values, min_overlap = int(opts["max_values"]), float(opts["min_barcode_overlap"])
    out: list[Problem] = []
    barcodes: dict[str, tuple[list[str], str]] = {}
    for r in (r for r in files if r["modality"] == "scrna"):
        res = _guarded(check_matrix, r["path"], r["file"], max_values=max_values)
        probs, codes = res if isinstance(res, tuple) else (res, None)
        out += probs
        if codes is not None:
            barcodes[r["sample_id"]] = (codes, r["path"])
    flow = [r for r in files if r["modality"] == "flow"]
    if flow:
        ctx = _FlowContext(cfg)
        out += ctx.problems
        for r in flow:
            out += _guarded(check_fcs, r["path"], r["file"], params=ctx.params, dimensions=ctx.dims,
                            strategy=ctx.strategy)
    for r in (r for r in files if r["modality"] == "bcr"):
        res = _guarded(check_contigs, r["path"], r["file"])
        probs, cells = res if isinstance(res, tuple) else (res, None)
        out += probs
        if cells is not None and r["sample_id"] in barcodes:
            codes, scrna_file = barcodes[r["sample_id"]]
            warn = overlap_problem(cells, codes, r["path"], scrna_file, min_overlap=min_overlap)
            out += [warn] if warn else []
    return out


def check_sheet_files(sheet, cfg: dict) -> list[Problem]:  # noqa: ANN001 - read_sample_sheet's frame
    """Contents of the files of an already validated sheet that exist now, and the clinical table: what
    the workflow checks once before its first job (files the simulator has yet to write are skipped)."""
    files = [{**r, "file": Path(r["path"]).resolve()} for r in sheet.astype(str).to_dict("records")
             if Path(r["path"]).exists()]
    return file_problems(files, cfg) + clinical_problems(cfg)[1]


def check_study(config: str | Path, *, check_files: bool = True) -> StudyCheck:
    """Every problem of a study: config, sheet, (``check_files``) each file's contents, clinical table."""
    cfg, probs = check_config(config)
    if cfg is None:
        return StudyCheck(probs)
    sheet = check_sheet(cfg["samples"], cfg, check_files=check_files)
    out = StudyCheck(probs + sheet.problems)
    if check_files:
        out.problems += file_problems(sheet.files, cfg)
    clinical, probs = clinical_problems(cfg, check_files=check_files)
    out.problems += probs
    if sheet.df is not None and not sheet.df.empty:
        df = sheet.df
        counts = df.groupby("modality").size().to_dict()
        out.summary = (f"{cfg['samples']}: {len(df)} files "
                       f"({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}), "
                       f"{df['patient_id'].nunique()} patients, {len(sheet.files)} files read"
                       + (f"; {clinical}" if clinical else ""))
    return out
