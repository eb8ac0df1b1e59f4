"""One error type for a user's mistake.

Every problem with a user's input (config, sheets, data files) is raised as ``BelimapError`` with a
one-line message naming the file, row or field and what was expected. The CLI and the Snakemake
scripts print that line and exit 1 instead of a traceback; programming errors still raise normally.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


class BelimapError(Exception):
    """A user-facing error: the message is one line and says what was expected."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def fail(where: str | Path, what: str) -> BelimapError:
    """Build a ``BelimapError`` of the form ``<where>: <what>``."""
    return BelimapError(f"{where}: {what}")


def exit_on_user_error(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``func``; on a ``BelimapError`` print ``belimap: error: <msg>`` and exit 1."""
    try:
        return func(*args, **kwargs)
    except BelimapError as err:
        print(f"belimap: error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
