"""The ``belimap`` command: ``simulate``, ``validate``, ``inspect``, ``gate``, ``reference`` and friends.

Each sub-command lives in the module of its domain as a ``register(subparsers)`` function; this
file only assembles them. A user's mistake prints one line (``belimap: error: ...``) and exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from belimap import __version__
from belimap.errors import BelimapError

#: Modules that contribute sub-commands through ``register(subparsers)``.
COMMAND_MODULES = [
    "belimap.commands.simulate",
    "belimap.commands.validate",
    "belimap.commands.inspect",
    "belimap.commands.gate",
    "belimap.commands.reference",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="belimap", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"belimap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BelimapError as err:
        print(f"belimap: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
