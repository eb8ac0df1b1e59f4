"""``belimap validate``: check a study's config, sample sheet, every file it names and the clinical
table without running anything, and list every problem at once (one line each)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="validate a config, its sample sheet, its files and clinical table",
                       description=__doc__)
    p.add_argument("--config", default="config/config.yaml")
    p.add_argument("--no-files", action="store_true", help="do not check that input files exist or read them")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from belimap.checks.study import check_study

    result = check_study(args.config, check_files=not args.no_files)
    for prob in result.problems:
        print(prob.line(), file=sys.stderr)
    if not result.ok:
        n = sum(p.is_error for p in result.problems)
        print(f"belimap: {args.config}: {n} error(s); nothing was run", file=sys.stderr)
        return 1
    print(f"belimap: {args.config} is valid; {result.summary}")
    return 0


def clinical_summary(cfg: dict, check_files: bool = True) -> str:
    """The clinical table's part of the summary (``; <few words>``); its first problem raised."""
    from belimap.checks.problems import raise_first
    from belimap.checks.study import clinical_problems

    words, probs = clinical_problems(cfg, check_files=check_files)
    raise_first(probs)
    return f"; {words}" if words else ""
