"""Summaries of input files for ``belimap inspect`` (one dict of facts per file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from belimap.errors import BelimapError


def inspect_counts(path: str | Path) -> dict:
    """Cells × genes of a single-cell file and whether it holds raw counts."""
    import anndata as ad
    import scanpy as sc

    from belimap.io import detect_format

    p = Path(path)
    fmt = detect_format(p)
    try:
        if fmt == "10x_h5":
            adata = sc.read_10x_h5(p)
        elif fmt == "10x_mtx":
            adata = sc.read_10x_mtx(p)
        else:
            adata = ad.read_h5ad(p)
    except Exception as err:  # noqa: BLE001 - the file is at fault
        raise BelimapError(f"{p}: cannot be read as {fmt} ({type(err).__name__}: {err})") from None
    X = adata.layers["counts"] if "counts" in adata.layers else adata.X
    data = X.data if sp.issparse(X) else np.asarray(X).ravel()
    looks_counts = bool(data.size and data.min() >= 0 and np.allclose(data, np.round(data)))
    return {"file": str(p), "format": fmt, "cells": adata.n_obs, "genes": adata.n_vars,
            "counts_in": "layers['counts']" if "counts" in adata.layers else "X",
            "looks_like_counts": "yes" if looks_counts else "no (normalised or transformed values)"}


def inspect_file(path: str | Path) -> dict:
    """Dispatch on the file's kind; FCS files go to ``belimap.flow`` when that branch is present."""
    p = Path(path)
    if not p.exists():
        raise BelimapError(f"{p}: file not found")
    if p.suffix.lower() == ".fcs":
        from belimap.flow import inspect_fcs  # provided by the flow branch

        return inspect_fcs(p)
    return inspect_counts(p)
