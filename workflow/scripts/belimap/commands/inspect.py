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
    if is_fcs(p):
        from belimap.flow import inspect_fcs

        return inspect_fcs(p)
    from belimap.scrna.io import summarise_counts

    return summarise_counts(p)


def is_fcs(path: Path) -> bool:
    """An FCS file by its magic bytes (``FCS2.0``/``FCS3.0``/``FCS3.1``), whatever its extension (``.lmd``...)."""
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        return fh.read(3) == b"FCS"


def run(args: argparse.Namespace) -> int:
    for key, value in summarise_file(args.file).items():
        print(f"{key}: {value}")
    return 0
