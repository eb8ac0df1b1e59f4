"""Study-level embedding: normalise, HVG, PCA, Harmony, neighbours, UMAP and Leiden.

One function per scanpy stage, so the study-level object (and the B-cell re-embedding of the
annotator) go through the same steps with the same seeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from belimap.notes import note
from belimap.params import parameters

if TYPE_CHECKING:
    import anndata as ad


@parameters("scrna", "integrate")
class IntegrateParams:
    """``scrna.integrate``: the batch-correction method (harmony | none) and the obs key it corrects."""

    method: str
    key: str


@parameters("scrna", "hvg")
class HvgParams:
    """``scrna.hvg``: how many genes, and which never count (``exclude``: a regex on gene symbols)."""

    n_top_genes: int
    exclude: str


@parameters("scrna", "pca")
class PcaParams:
    """``scrna.pca``."""

    n_comps: int


@parameters("scrna", "neighbors")
class NeighborsParams:
    """``scrna.neighbors``."""

    n_neighbors: int


@parameters("scrna", "leiden")
class LeidenParams:
    """``scrna.leiden``."""

    resolution: float


def normalise(adata: ad.AnnData, *, min_cells_per_gene: int = 0) -> None:
    """Normalise in place: raw counts kept in ``layers['counts']``; ``X`` becomes log1p of counts per
    10,000. Genes detected in fewer than ``min_cells_per_gene`` cells are dropped first."""
    import scanpy as sc

    if min_cells_per_gene:
        sc.pp.filter_genes(adata, min_cells=min_cells_per_gene)
    adata.layers["counts"] = adata.X.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)


def harmony(adata: ad.AnnData, key: str, *, seed: int, basis: str = "X_pca", out: str = "X_pca_harmony") -> str:
    """Harmony on ``obsm[basis]`` over ``obs[key]``; writes ``obsm[out]`` and returns the basis to
    build neighbours on.

    Calls ``harmonypy.run_harmony`` directly: scanpy's ``harmony_integrate`` wrapper breaks with
    harmonypy 2.x (docs/design.md §4). With a single level of ``key``
    there is nothing to integrate.
    """
    import harmonypy

    if adata.obs[key].nunique() < 2:
        note(adata, f"integration skipped: one level of '{key}'")
        return basis
    np.random.seed(seed)  # harmonypy's k-means initialisation uses the global NumPy state
    ho = harmonypy.run_harmony(adata.obsm[basis], adata.obs, [key], random_state=seed, verbose=False)
    z = np.asarray(ho.Z_corr)
    adata.obsm[out] = z.T if z.shape[0] != adata.n_obs else z
    return out


def embed(adata: ad.AnnData, *, n_top_genes: int, n_comps: int, integrate: IntegrateParams, n_neighbors: int,
          resolution: float, seed: int, key_added: str = "leiden", hvg_exclude: str = "") -> None:
    """HVG → PCA → (Harmony) → neighbours → UMAP → Leiden on a log-normalised AnnData, in place.

    Writes ``var['highly_variable']``, ``obsm['X_pca']`` (and ``obsm['X_pca_harmony']``),
    ``obsp['connectivities'|'distances']``, ``obsm['X_umap']`` and ``obs[key_added]``. Genes matching
    ``hvg_exclude`` (by default IG/TR V genes, which mark clonotypes rather than cell states) are never
    highly variable, so expanded clones do not form their own clusters.
    """
    import scanpy as sc

    n_top = int(min(n_top_genes, adata.n_vars))
    batch = None
    if integrate.method != "none":
        if adata.obs[integrate.key].nunique() > 1:
            batch = integrate.key
        elif key_added == "leiden":  # say it once, for the study-level embedding
            note(adata, f"integration skipped: one level of '{integrate.key}'")
    sc.pp.highly_variable_genes(adata, n_top_genes=n_top, flavor="seurat", batch_key=batch)
    if hvg_exclude:
        adata.var.loc[adata.var_names.str.match(hvg_exclude), "highly_variable"] = False
    n_comps = int(min(n_comps, adata.n_obs - 1, int(adata.var["highly_variable"].sum()) - 1))
    sc.pp.pca(adata, n_comps=n_comps, mask_var="highly_variable", random_state=seed)
    use_rep = harmony(adata, integrate.key, seed=seed) if batch else "X_pca"
    sc.pp.neighbors(adata, n_neighbors=int(min(n_neighbors, adata.n_obs - 1)), use_rep=use_rep, random_state=seed)
    sc.tl.umap(adata, random_state=seed)
    sc.tl.leiden(adata, resolution=resolution, key_added=key_added, flavor="igraph", n_iterations=2,
                 random_state=seed)
