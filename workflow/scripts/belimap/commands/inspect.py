"""``belimap inspect FILE``: summarise any supported input file."""

from __future__ import annotations

import argparse



def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="summarise an input file (h5, h5ad, MTX folder, FCS, ...)", description=__doc__)
    p.add_argument("file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from belimap.inspect import inspect_file

    for key, value in inspect_file(args.file).items():
        print(f"{key}: {value}")
    return 0
