"""``belimap simulate``: a deterministic demo cohort (raw files, sample sheet, truth)."""

from __future__ import annotations

import argparse

from belimap.config import load_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate a study's raw files, sample sheet and truth",
                       description=__doc__)
    p.add_argument("--config", default="config/config.yaml", help="study config (its simulate: section)")
    p.add_argument("--outdir", help="output folder (default: simulate.outdir of the config)")
    p.add_argument("--out", "--sheet", dest="sheet", help="where to write the sample sheet (default: <outdir>/samples.tsv)")
    p.add_argument("--sheet-only", action="store_true", help="write only the sample sheet")
    p.add_argument("--seed", type=int, help="override simulate.seed")
    p.add_argument("--patients", type=int, help="override simulate.n_patients")
    p.add_argument("--cells", type=int, help="override simulate.cells_per_sample")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from belimap.simulate.study import simulate_study

    overrides = {k: v for k, v in {"seed": args.seed, "n_patients": args.patients,
                                   "cells_per_sample": args.cells}.items() if v is not None}
    cfg = load_config(args.config, {"simulate": overrides} if overrides else None)
    outdir = args.outdir or cfg["simulate"]["outdir"]
    sheet_path = args.sheet or f"{outdir}/samples.tsv"
    sheet = simulate_study(cfg, outdir, sheet_path, sheet_only=args.sheet_only)
    print(f"belimap: wrote {len(sheet)} sample-sheet rows to {sheet_path}"
          + ("" if args.sheet_only else f" and their files under {outdir}"))
    return 0
