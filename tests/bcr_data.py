"""Shared inputs of the BCR tests: scirpy's bundled real files and a specimen table."""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

import pandas as pd

SCIRPY_DATA = Path(str(importlib.resources.files("scirpy"))) / "tests" / "data"
MELANOMA = SCIRPY_DATA / "10x" / "sc5p_v2_hs_melanoma_10k_b_filtered_contig_annotations.csv.gz"
AIRR_IG = SCIRPY_DATA / "airr" / "rearrangement_ig.tsv"
BLIN = ["B", "plasma"]


def specimens(ids: list[str], tissues: list[str] | None = None) -> pd.DataFrame:
    """One patient's specimens at baseline, in ``tissues`` (default: all blood)."""
    tissues = tissues or ["blood"] * len(ids)
    return pd.DataFrame({"sample_id": ids, "patient_id": "P1", "tissue": tissues, "timepoint": "baseline"})


@functools.cache
def melanoma():
    """The real 10x BCR contigs shipped in the scirpy wheel (5' v2, 10k melanoma B cells), read once.

    Shared between tests: copy before annotating.
    """
    from belimap.bcr import read_bcr

    assert MELANOMA.exists(), f"scirpy no longer ships {MELANOMA}"
    return read_bcr(MELANOMA, "MEL")
