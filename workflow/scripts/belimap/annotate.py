"""Study-level scRNA-seq: embedding, integration, clustering and the two annotation passes.

Pass 1 labels every cell with a lineage: Leiden clusters are labelled by the lineage whose markers
(``resources/markers/lineages.yaml``) score highest in the cluster. Pass 2 re-embeds the B lineage
and labels each cell with a subset of ``resources/bcell_subsets.yaml``: per-cell marker scores
(up minus down markers) are averaged with the cell's B-cell neighbourhood, which keeps the signal
of a small compartment (e.g. transitional cells) that a coarse cluster would swallow, then the best
subset allowed for the cell's lineage and tissue is taken.
"""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp

from belimap.vocab import Vocabulary

log = logging.getLogger(__name__)


def note(adata: ad.AnnData, text: str) -> None:
    """Record why a step was skipped or changed, in ``uns['notes']`` (shown in the summary)."""
    log.warning(text)
    notes = list(adata.uns.get("notes", []))
    notes.append(text)
    adata.uns["notes"] = notes


def normalise(adata: ad.AnnData, min_cells_per_gene: int = 0) -> None:
    """Keep raw counts in ``layers['counts']``; ``X`` becomes log1p of counts per 10,000."""
    if min_cells_per_gene:
        sc.pp.filter_genes(adata, min_cells=min_cells_per_gene)
    adata.layers["counts"] = adata.X.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)


def harmony(adata: ad.AnnData, key: str, seed: int, basis: str = "X_pca", out: str = "X_pca_harmony") -> str:
    """Harmony on ``obsm[basis]`` over ``obs[key]``; returns the basis to build neighbours on.

    Calls ``harmonypy.run_harmony`` directly: scanpy's ``harmony_integrate`` wrapper breaks with
    harmonypy 2.x (DESIGN.md §4). With a single level of ``key`` there is nothing to integrate.
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


def embed(adata: ad.AnnData, n_top_genes: int, n_comps: int, integrate: dict, n_neighbors: int,
          resolution: float, seed: int, key_added: str = "leiden") -> None:
    """HVG → PCA → (Harmony) → neighbours → UMAP → Leiden on a log-normalised AnnData, in place."""
    n_top = int(min(n_top_genes, adata.n_vars))
    batch = None
    if integrate["method"] != "none":
        if adata.obs[integrate["key"]].nunique() > 1:
            batch = integrate["key"]
        elif key_added == "leiden":  # say it once, for the study-level embedding
            note(adata, f"integration skipped: one level of '{integrate['key']}'")
    sc.pp.highly_variable_genes(adata, n_top_genes=n_top, flavor="seurat", batch_key=batch)
    n_comps = int(min(n_comps, adata.n_obs - 1, int(adata.var["highly_variable"].sum()) - 1))
    sc.pp.pca(adata, n_comps=n_comps, mask_var="highly_variable", random_state=seed)
    use_rep = harmony(adata, integrate["key"], seed) if batch else "X_pca"
    sc.pp.neighbors(adata, n_neighbors=int(min(n_neighbors, adata.n_obs - 1)), use_rep=use_rep, random_state=seed)
    sc.tl.umap(adata, random_state=seed)
    sc.tl.leiden(adata, resolution=resolution, key_added=key_added, flavor="igraph", n_iterations=2,
                 random_state=seed)


def marker_scores(adata: ad.AnnData, sets: dict[str, tuple[list[str], list[str]]], seed: int) -> pd.DataFrame:
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
    ctrl = int(min(50, max(1, adata.n_vars - len(genes))))
    return sc.tl.score_genes(adata, genes, ctrl_size=ctrl, random_state=seed, copy=True,
                             score_name="_s").obs["_s"].to_numpy()


def label_lineages(adata: ad.AnnData, vocab: Vocabulary, seed: int, cluster_key: str = "leiden") -> None:
    """Label each cluster with its best-scoring lineage: ``obs['lineage']`` (+ ``obsm['lineage_scores']``)."""
    sets = {lin.id: (list(lin.markers), []) for lin in vocab.lineages}
    scores = marker_scores(adata, sets, seed)
    # z-score each lineage's score across cells so that marker sets of different size compare fairly
    z = (scores - scores.mean()) / scores.std(ddof=0).replace(0, 1)
    per_cluster = z.groupby(adata.obs[cluster_key].to_numpy(), observed=True).mean()
    best = per_cluster.idxmax(axis=1)
    adata.obs["lineage"] = pd.Categorical(adata.obs[cluster_key].map(best).astype(str), categories=vocab.lineage_ids)
    adata.obsm["lineage_scores"] = scores.to_numpy()
    adata.uns["lineage_score_names"] = list(scores.columns)


def label_bcell_subsets(adata: ad.AnnData, vocab: Vocabulary, params: dict, integrate: dict, n_neighbors: int,
                        n_top_genes: int, seed: int, min_cells: int = 30) -> ad.AnnData:
    """Re-embed the B lineage and label its cells with subsets; returns the B-lineage AnnData.

    Writes ``obs['bcell_subset']`` on ``adata`` ("" outside the B lineage). A subset is allowed for a
    cell only if it belongs to the cell's lineage (B or plasma) and, where the vocabulary restricts
    it (germinal centre: lymph node), to the cell's tissue.
    """
    is_b = adata.obs["lineage"].isin(vocab.bcell_lineages).to_numpy()
    adata.obs["bcell_subset"] = ""
    bcells = adata[is_b].copy()
    if bcells.n_obs == 0:
        note(adata, "no B-lineage cells: B-cell subsets not labelled")
        return bcells
    sets = {s.id: (list(s.up), list(s.down)) for s in vocab.subsets}
    scores = marker_scores(bcells, sets, seed)
    if bcells.n_obs >= min_cells:
        embed(bcells, n_top_genes, params["n_comps"], integrate, n_neighbors, params["resolution"], seed,
              key_added="bcell_cluster")
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
