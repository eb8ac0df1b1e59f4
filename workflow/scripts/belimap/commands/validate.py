"""``belimap validate``: check a study's config, sample sheet and clinical table without running anything."""

from __future__ import annotations

import argparse

from belimap.config import load_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="validate a config, its sample sheet and clinical table", description=__doc__)
    p.add_argument("--config", default="config/config.yaml")
    p.add_argument("--no-files", action="store_true", help="do not check that input files exist")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from belimap.sheet import read_sample_sheet

    cfg = load_config(args.config)
    sheet = read_sample_sheet(cfg["samples"], cfg, check_files=not args.no_files)
    counts = sheet.groupby("modality", observed=True).size().to_dict()
    print(f"belimap: {args.config} is valid; {cfg['samples']}: {len(sheet)} files "
          f"({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}), {sheet['patient_id'].nunique()} patients"
          + clinical_summary(cfg, check_files=not args.no_files))
    return 0


def clinical_summary(cfg: dict, check_files: bool = True) -> str:
    """Read and check the clinical table as the workflow will (schema, identifiers); a few words on it."""
    from pathlib import Path

    from belimap.clinical.params import ClinicalParams
    from belimap.clinical.pipeline import check_table
    from belimap.errors import BelimapError
    from belimap.simulate.clinical import simulates_table

    table = cfg["clinical"]["table"]
    if not table:
        return "; no clinical table (clinical.table is empty)"
    if not Path(table).exists():
        if simulates_table(cfg):
            return f"; {table}: simulated by the workflow"
        if not check_files:
            return ""
        raise BelimapError(f"clinical.table: file '{table}' does not exist; expected the study's clinical table (TSV)")
    n_patients, n_visits = check_table(table, params=ClinicalParams.from_config(cfg))
    return f"; {table}: {n_patients} patients, {n_visits} visits"
