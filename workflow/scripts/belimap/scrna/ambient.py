"""Ambient-RNA decontamination of one sample, before QC (DecontX).

Free mRNA in the droplet suspension — in B-cell work dominated by plasma-cell immunoglobulin — is
captured with every cell and makes, for example, a naive B cell look IgG+. DecontX (Yang et al. 2020,
*Genome Biol* 21:57) models each cell's counts as a mixture of its cell population's profile and the
profile of all other populations, so it needs no empty droplets: belimap reads filtered 10x matrices,
which have none (SoupX's soup estimate needs them). We run ``decontx-scanpy``, a port of the R package
that lets DecontX cluster cells itself (UMAP + DBSCAN, k-means fallback), per sample, since the soup
is a property of one loading. ``benchmarks/ambient.py`` compares it with the other Python ports.
"""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from belimap.errors import BelimapError
from belimap.notes import note
from belimap.params import parameters

if TYPE_CHECKING:
    import anndata as ad

#: ``obs`` column (and QC-table column) with the per-cell estimated ambient share.
CONTAMINATION = "ambient_contamination"


@parameters("scrna", "ambient")
class AmbientParams:
    """``scrna.ambient``: the method (none or decontx) and DecontX's EM and clustering controls."""

    method: str
    max_iter: int
    convergence: float
    delta: list
    estimate_delta: bool
    var_genes: int
    min_cells: int


def decontaminate(adata: ad.AnnData, *, params: AmbientParams, seed: int) -> tuple[ad.AnnData, pd.Series]:
    """Remove ambient RNA from one sample's counts; returns (a corrected copy, per-cell contamination).

    ``X`` of the copy holds DecontX's native counts rounded to integers (QC, scrublet and pseudobulk
    DE expect counts; rounding changes a cell's total by well under one UMI per gene it expresses).
    The uncorrected counts are not kept (they are the input file). The copy's ``obs`` gains
    :data:`CONTAMINATION` (NaN when skipped) and ``uns['ambient']`` the method and the sample's mean and
    median share. With ``method: none``, or fewer than ``min_cells`` barcodes (then with a note), the
    counts are returned unchanged.
    """
    if params.method not in ("none", "decontx"):
        raise BelimapError(f"config scrna.ambient.method: {params.method!r}; expected none or decontx")
    out = adata.copy()
    contamination = pd.Series(np.nan, index=out.obs_names, name=CONTAMINATION)
    if params.method == "decontx" and out.n_obs < params.min_cells:
        note(out, f"ambient RNA not removed: {out.n_obs} barcodes, fewer than scrna.ambient.min_cells "
                  f"({params.min_cells})")
    elif params.method == "decontx":
        native, share = _decontx(out.X, params=params, seed=seed)
        out.X = native
        contamination[:] = share
    out.obs[CONTAMINATION] = contamination
    found = contamination.notna().any()
    out.uns["ambient"] = {"method": params.method, "mean": float(contamination.mean()) if found else np.nan,
                          "median": float(contamination.median()) if found else np.nan}
    return out, contamination


def _decontx(X, *, params: AmbientParams, seed: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """DecontX on a cells × genes count matrix: (rounded native counts as CSR, per-cell share)."""
    import pydecontx

    counts = sp.csr_matrix(X, dtype=np.float64)
    with contextlib.redirect_stdout(io.StringIO()):  # the port prints progress unconditionally in places
        res = pydecontx.decontx(counts, z=None, max_iter=params.max_iter, delta=tuple(params.delta),
                                estimate_delta=params.estimate_delta, convergence=params.convergence,
                                var_genes=params.var_genes, seed=seed, verbose=False)
    native = sp.csr_matrix(res["decontX_counts"])
    native.data = np.rint(native.data)
    native.eliminate_zeros()
    dtype = X.dtype if np.issubdtype(X.dtype, np.number) else np.float32
    return native.astype(dtype), np.asarray(res["contamination"], dtype=float)
