"""Doublet calls per sample with scrublet (``sc.pp.scrublet``): doublets only form within one
sample's droplets, so they are called before samples are pooled."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimap.notes import note
from belimap.params import parameters

if TYPE_CHECKING:
    import anndata as ad

#: Scrublet needs enough cells to simulate doublets against; below this it is skipped with a note.
MIN_CELLS_FOR_DOUBLETS = 50


@parameters("scrna", "doublets")
class DoubletParams:
    """``scrna.doublets``: the method (scrublet or none) and the expected doublet rate."""

    method: str
    expected_rate: float


def call_doublets(adata: ad.AnnData, *, params: DoubletParams, seed: int) -> pd.Series:
    """Scrublet doublet calls for one sample, in place; returns ``obs['predicted_doublet']``.

    Writes ``obs['doublet_score']`` (NaN when skipped) and ``obs['predicted_doublet']`` (bool), and a
    note in ``uns['notes']`` when a sample is too small for scrublet.
    """
    import scanpy as sc

    if params.method == "none" or adata.n_obs < MIN_CELLS_FOR_DOUBLETS:
        if params.method != "none":
            note(adata, f"doublet detection skipped: {adata.n_obs} cells after QC, scrublet needs "
                        f"≥ {MIN_CELLS_FOR_DOUBLETS}")
        adata.obs["doublet_score"] = np.nan
        adata.obs["predicted_doublet"] = False
        return adata.obs["predicted_doublet"]
    n_pcs = int(min(30, adata.n_obs - 2, adata.n_vars - 2))
    sc.pp.scrublet(adata, expected_doublet_rate=params.expected_rate, n_prin_comps=n_pcs,
                   random_state=seed, verbose=False)
    adata.obs["predicted_doublet"] = adata.obs["predicted_doublet"].astype(bool)
    return adata.obs["predicted_doublet"]
