"""Glue between Snakemake's ``snakemake`` object and the library, shared by every script.

Scripts call :func:`run`: stderr and logging go to the rule's log, and a user's mistake ends the job with one line instead of a traceback
(Snakemake then removes the job's outputs, so nothing half-written stays behind).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from belimap.errors import BelimapError


def run(snakemake: Any, main: Callable[[Any], None]) -> None:
    """Run ``main(snakemake)`` with logging to ``snakemake.log[0]`` and one-line user errors."""
    log_path = snakemake.log[0] if len(snakemake.log) else None
    handle = open(log_path, "w") if log_path else sys.stderr  # noqa: SIM115 - lives for the job
    sys.stderr = handle
    logging.basicConfig(stream=handle, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        force=True)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting chatter
    # Thread counts reach the numeric libraries through the OMP/MKL/OPENBLAS variables Snakemake
    # sets for each job; scanpy is not imported here, since most jobs (flow, BCR, clinical) never
    # need it and its import costs seconds per job.
    try:
        settings = getattr(snakemake.input, "figure_settings", None)
        if settings:  # figure rules: the palette and style come from their input (resources/figures.yaml)
            from belimap.pl.palette import apply_figure_settings

            apply_figure_settings(settings)
        main(snakemake)
    except BelimapError as err:
        line = f"belimap: error: {err}"
        print(line, file=handle, flush=True)
        print(line, file=sys.__stderr__, flush=True)
        raise SystemExit(1) from None
    finally:
        handle.flush()
