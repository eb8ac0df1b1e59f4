"""``belimap inspect FILE``: summarise any supported input file."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="summarise an input file (h5, h5ad, MTX folder, FCS, ...)", description=__doc__)
    p.add_argument("file")
    p.set_defaults(func=run)


def summarise_file(path: str | Path) -> dict:
    """Dispatch on the file's kind: FCS files to the flow branch, everything else to the scRNA reader."""
    from belimap.errors import BelimapError

    p = Path(path)
    if not p.exists():
        raise BelimapError(f"{p}: file not found")
    if p.suffix.lower() == ".fcs":
        from belimap.flow import inspect_fcs

        return inspect_fcs(p)
    from belimap.scrna.io import summarise_counts

    return summarise_counts(p)


def run(args: argparse.Namespace) -> int:
    for key, value in summarise_file(args.file).items():
        print(f"{key}: {value}")
    return 0
