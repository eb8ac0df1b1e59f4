"""The two annotation passes of the study-level scRNA-seq object.

Pass 1 labels every cell with a lineage: Leiden clusters are labelled by the lineage whose markers
(``resources/markers/lineages.yaml``) score highest in the cluster. Pass 2 re-embeds the B lineage
and labels each cell with a subset of ``resources/bcell_subsets.yaml``: per-cell marker scores
(up minus down markers) are averaged with the cell's B-cell neighbourhood, which keeps the signal
of a small compartment (e.g. transitional cells) that a coarse cluster would swallow, then the best
subset allowed for the cell's lineage and tissue is taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from belimap.notes import note
from belimap.params import parameters
from belimap.scrna.embed import IntegrateParams, embed
from belimap.vocab import Vocabulary

if TYPE_CHECKING:
    import anndata as ad


@parameters("scrna", "bcells")
class BcellParams:
    """``scrna.bcells``: PCs and Leiden resolution of the B-lineage re-embedding."""

    n_comps: int
    resolution: float


def marker_scores(adata: ad.AnnData, sets: dict[str, tuple[list[str], list[str]]], *, seed: int) -> pd.DataFrame:
    """Per-cell score of each marker set: mean of up markers minus mean of down markers (scanpy's
    ``score_genes``, which subtracts a matched control set). Genes absent from the data are ignored."""
    present = set(adata.var_names)
    scores = {}
    for name, (up, down) in sets.items():
        up_p = [g for g in up if g in present]
        down_p = [g for g in down if g in present]
        if not up_p:
            scores[name] = np.full(adata.n_obs, -np.inf)
            continue
        s = _score(adata, up_p, seed)
        if down_p:
            s = s - _score(adata, down_p, seed)
        scores[name] = s
    return pd.DataFrame(scores, index=adata.obs_names)


def _score(adata: ad.AnnData, genes: list[str], seed: int) -> np.ndarray:
    import scanpy as sc

    ctrl = int(min(50, max(1, adata.n_vars - len(genes))))
    return sc.tl.score_genes(adata, genes, ctrl_size=ctrl, random_state=seed, copy=True,
                             score_name="_s").obs["_s"].to_numpy()


def absent_markers(var_names: pd.Index, vocab: Vocabulary) -> tuple[dict[str, list[str]], list[str]]:
    """(absent markers per subset, subsets that cannot be called) for this gene list.

    A subset none of whose ``up`` markers is measured can never win its score: report it as not
    callable rather than let it show 0 % as if that were biology.
    """
    present = set(var_names)
    absent = {s.id: [g for g in (*s.up, *s.down) if g not in present] for s in vocab.subsets}
    uncallable = [s.id for s in vocab.subsets if not any(g in present for g in s.up)]
    return {k: v for k, v in absent.items() if v}, uncallable


def warn_absent_markers(adata: ad.AnnData, vocab: Vocabulary) -> list[str]:
    """Note every vocabulary marker absent from the data and the subsets that cannot be called.

    Stores the uncallable subsets in ``uns['uncallable_subsets']``; returns them.
    """
    absent, uncallable = absent_markers(adata.var_names, vocab)
    if absent:
        listed = "; ".join(f"{sid}: {', '.join(genes)}" for sid, genes in absent.items())
        note(adata, f"B-cell subset markers absent from the data ({listed})")
    if uncallable:
        note(adata, f"subset(s) {', '.join(uncallable)} cannot be called: none of their 'up' markers is in the data; "
                    "they are left out of the composition table, not reported as 0 %")
    adata.uns["uncallable_subsets"] = list(uncallable)
    return uncallable


def label_lineages(adata: ad.AnnData, vocab: Vocabulary, *, seed: int, cluster_key: str = "leiden") -> None:
    """Label each cluster with its best-scoring lineage, in place.

    Writes ``obs['lineage']`` (categories: the vocabulary's lineages), ``obsm['lineage_scores']``
    and ``uns['lineage_score_names']`` (the score columns).
    """
    sets = {lin.id: (list(lin.markers), []) for lin in vocab.lineages}
    scores = marker_scores(adata, sets, seed=seed)
    # z-score each lineage's score across cells so that marker sets of different size compare fairly
    z = (scores - scores.mean()) / scores.std(ddof=0).replace(0, 1)
    per_cluster = z.groupby(adata.obs[cluster_key].to_numpy(), observed=True).mean()
    best = per_cluster.idxmax(axis=1)
    adata.obs["lineage"] = pd.Categorical(adata.obs[cluster_key].map(best).astype(str), categories=vocab.lineage_ids)
    adata.obsm["lineage_scores"] = scores.to_numpy()
    adata.uns["lineage_score_names"] = list(scores.columns)


def label_bcell_subsets(adata: ad.AnnData, vocab: Vocabulary, *, params: BcellParams, integrate: IntegrateParams,
                        n_neighbors: int, n_top_genes: int, seed: int, min_cells: int = 30,
                        hvg_exclude: str = "") -> ad.AnnData:
    """Re-embed the B lineage and label its cells with subsets; returns the B-lineage AnnData.

    Writes ``obs['bcell_subset']`` on ``adata`` ("" outside the B lineage). The returned object
    carries its own embedding (``obs['bcell_cluster']``, ``obsm['X_umap']``, ...),
    ``obsm['subset_scores']`` and ``uns['subset_score_names']``. A subset is allowed for a cell only
    if it belongs to the cell's lineage (B or plasma) and, where the vocabulary restricts it
    (germinal centre: lymph node), to the cell's tissue.
    """
    warn_absent_markers(adata, vocab)
    is_b = adata.obs["lineage"].isin(vocab.bcell_lineages).to_numpy()
    adata.obs["bcell_subset"] = ""
    bcells = adata[is_b].copy()
    if bcells.n_obs == 0:
        note(adata, "no B-lineage cells: B-cell subsets not labelled")
        return bcells
    sets = {s.id: (list(s.up), list(s.down)) for s in vocab.subsets}
    scores = marker_scores(bcells, sets, seed=seed)
    if bcells.n_obs >= min_cells:
        embed(bcells, n_top_genes=n_top_genes, n_comps=params.n_comps, integrate=integrate, n_neighbors=n_neighbors,
              resolution=params.resolution, seed=seed, key_added="bcell_cluster",
              hvg_exclude=hvg_exclude)
        smooth = _smooth(scores.to_numpy(), bcells.obsp["connectivities"])
    else:
        note(adata, f"only {bcells.n_obs} B-lineage cells (< {min_cells}): subsets labelled per cell without re-embedding")
        smooth = scores.to_numpy()
    allowed = _allowed(bcells, vocab)
    smooth = np.where(allowed, smooth, -np.inf)
    labels = np.array(vocab.subset_ids, dtype=object)[np.argmax(smooth, axis=1)]
    bcells.obs["bcell_subset"] = labels
    bcells.obsm["subset_scores"] = scores.to_numpy()
    bcells.uns["subset_score_names"] = list(scores.columns)
    adata.obs.loc[bcells.obs_names, "bcell_subset"] = labels
    return bcells


def _smooth(scores: np.ndarray, conn: sp.spmatrix) -> np.ndarray:
    """Half the cell's own scores, half the connectivity-weighted mean of its neighbours'.

    Equal weight to the cell keeps small compartments (e.g. plasmablasts beside plasma cells) from
    being averaged into a larger neighbour, while the neighbourhood half removes dropout noise.
    """
    w = sp.csr_matrix(conn)
    deg = np.asarray(w.sum(axis=1)).ravel()
    deg[deg == 0] = 1.0
    return 0.5 * scores + 0.5 * np.asarray(sp.diags(1.0 / deg) @ w @ scores)


def _allowed(bcells: ad.AnnData, vocab: Vocabulary) -> np.ndarray:
    lineage = bcells.obs["lineage"].astype(str).to_numpy()
    tissue = bcells.obs["tissue"].astype(str).to_numpy()
    cols = []
    for s in vocab.subsets:
        ok = lineage == s.lineage
        if s.tissues:
            ok &= np.isin(tissue, list(s.tissues))
        cols.append(ok)
    allowed = np.column_stack(cols)
    # a cell whose lineage has no allowed subset (should not happen) may take any subset
    allowed[~allowed.any(axis=1)] = True
    return allowed
