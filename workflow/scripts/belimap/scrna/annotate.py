"""The two annotation passes of the study-level scRNA-seq object (``scrna.annotate.method: markers``).

Pass 1 labels every cell with a lineage: Leiden clusters are labelled by the lineage whose markers
(``resources/markers/lineages.yaml``) score highest in the cluster; inside the B lineage the choice
between its lineages (B vs plasma) is made per cell, since a few plasmablasts in a B-cell cluster
are exactly the cells a study counts. Pass 2 re-embeds the B lineage and labels each cell with a
subset of ``resources/bcell_subsets.yaml``: per-cell marker scores (up minus down markers) are
standardised across B-lineage cells (marker sets differ in size, so raw scores do not compare),
averaged with the cell's B-cell neighbourhood (keeps the signal of a small compartment that a
coarse cluster would swallow), and the best subset allowed for the cell's lineage and tissue is
taken when it beats the runner-up by at least ``scrna.annotate.min_margin``; otherwise the cell is
``unassigned``. The margin is the per-cell confidence (``obs['annotation_margin']``). Where the
cell's VDJ heavy chain is known, its constant gene decides switched vs unswitched memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from belimap.notes import note
from belimap.scrna.celltypist import CelltypistParams
from belimap.params import parameters
from belimap.scrna.embed import IntegrateParams, embed
from belimap.vocab import UNASSIGNED, Vocabulary

if TYPE_CHECKING:
    import anndata as ad


@parameters("scrna", "bcells")
class BcellParams:
    """``scrna.bcells``: PCs and Leiden resolution of the B-lineage re-embedding."""

    n_comps: int
    resolution: float


@parameters("scrna", "annotate")
class AnnotateParams:
    """``scrna.annotate``: the method, the marker-mode thresholds and whether VDJ ``c_call`` decides isotype."""

    method: str
    min_margin: float
    lineage_min_score: float
    sublabel_min_score: float
    isotype_from_vdj: bool
    celltypist: CelltypistParams


#: Heavy-chain constant genes (c_call prefix) → isotype class of ``Subset.isotype``.
ISOTYPE_CLASS = {"IGHM": "unswitched", "IGHD": "unswitched", "IGHG": "switched", "IGHA": "switched",
                 "IGHE": "switched"}


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

    A subset (or sub-label) none of whose ``up`` markers is measured can never win its score: report
    it as not callable rather than let it show 0 % as if that were biology.
    """
    present = set(var_names)
    sets = [*vocab.subsets, *(x for s in vocab.subsets for x in s.sublabels)]
    absent = {s.id: [g for g in (*s.up, *s.down) if g not in present] for s in sets}
    uncallable = [s.id for s in sets if not any(g in present for g in s.up)]
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


def label_lineages(adata: ad.AnnData, vocab: Vocabulary, *, seed: int, cluster_key: str = "leiden",
                   min_score: float = 0.0) -> None:
    """Label each cluster with its best-scoring lineage, then B vs plasma per cell; in place.

    A cluster whose best lineage's mean standardised score is below ``min_score`` (it expresses no
    lineage's markers clearly above the study average: a cell type the vocabulary does not name,
    e.g. CD34+ progenitors) is ``unassigned`` rather than forced into the least-bad lineage.
    Writes ``obs['lineage']`` (categories: the vocabulary's lineages and ``unassigned``), ``obsm['lineage_scores']``
    and ``uns['lineage_score_names']`` (the score columns). A cell of a B-lineage cluster takes the
    B-lineage lineage (e.g. B or plasma) whose standardised score, half its own and half its
    B-lineage neighbours' (``obsp['connectivities']`` when present), is highest.
    """
    sets = {lin.id: (list(lin.markers), []) for lin in vocab.lineages}
    scores = marker_scores(adata, sets, seed=seed)
    z = _standardise(scores)
    per_cluster = z.groupby(adata.obs[cluster_key].to_numpy(), observed=True).mean()
    best = per_cluster.idxmax(axis=1).where(per_cluster.max(axis=1) >= min_score, UNASSIGNED)
    lineage = adata.obs[cluster_key].map(best).astype(str).to_numpy().copy()
    lost = int((lineage == UNASSIGNED).sum())
    if lost:
        note(adata, f"{lost} cells in cluster(s) whose best lineage score is below {min_score:g} standard deviations "
                    "above the study average are lineage 'unassigned' (a cell type the lineage markers do not name)")
    bl = [lin for lin in vocab.bcell_lineages if lin in z.columns]
    in_bl = np.isin(lineage, bl)
    if len(bl) > 1 and in_bl.any():
        zb = z.loc[in_bl, bl].to_numpy()
        if "connectivities" in adata.obsp:
            conn = sp.csr_matrix(adata.obsp["connectivities"])[in_bl][:, in_bl]
            zb = _smooth(zb, conn)
        lineage[in_bl] = np.array(bl, dtype=object)[np.argmax(zb, axis=1)]
    adata.obs["lineage"] = pd.Categorical(lineage, categories=[*vocab.lineage_ids, UNASSIGNED])
    adata.obsm["lineage_scores"] = scores.to_numpy()
    adata.uns["lineage_score_names"] = list(scores.columns)


def _standardise(scores: pd.DataFrame) -> pd.DataFrame:
    """z-score each column across cells (a column of -inf, an uncallable set, stays -inf)."""
    finite = scores.replace(-np.inf, np.nan)
    z = (finite - finite.mean()) / finite.std(ddof=0).replace(0, 1).fillna(1)
    return z.fillna(-np.inf)


def label_bcell_subsets(adata: ad.AnnData, vocab: Vocabulary, *, params: BcellParams, integrate: IntegrateParams,
                        n_neighbors: int, n_top_genes: int, seed: int, min_cells: int = 30,
                        hvg_exclude: str = "", annotate: AnnotateParams | None = None,
                        isotypes: pd.Series | None = None) -> ad.AnnData:
    """Re-embed the B lineage and label its cells with subsets; returns the B-lineage AnnData.

    Writes on ``adata`` (``""`` outside the B lineage): ``obs['bcell_subset']`` (a subset id or
    ``unassigned``), ``obs['bcell_sublabel']`` (a sub-label id such as ``dn2``, or ``""``) and
    ``obs['annotation_margin']`` (best minus runner-up standardised score; NaN outside the B
    lineage). ``isotypes`` (``obs_name`` → ``switched``/``unswitched``, from
    :func:`vdj_isotypes`) overrides the expression-based choice between the vocabulary's
    ``isotype`` subsets. The returned object carries its own embedding (``obs['bcell_cluster']``,
    ``obsm['X_umap']``, ...), ``obsm['subset_scores']`` (standardised, smoothed) and
    ``uns['subset_score_names']``. A subset is allowed for a cell only if it belongs to the cell's
    lineage (B or plasma) and, where the vocabulary restricts it (germinal centre: lymph node), to
    the cell's tissue.
    """
    annotate = annotate or AnnotateParams()
    uncallable = warn_absent_markers(adata, vocab)
    is_b = adata.obs["lineage"].isin(vocab.bcell_lineages).to_numpy()
    adata.obs["bcell_subset"] = ""
    adata.obs["bcell_sublabel"] = ""
    adata.obs["annotation_margin"] = np.nan
    bcells = adata[is_b].copy()
    if bcells.n_obs == 0:
        note(adata, "no B-lineage cells: B-cell subsets not labelled")
        return bcells
    sets = {s.id: (list(s.up), list(s.down)) for s in vocab.subsets}
    subs = {x.id: (list(x.up), list(x.down)) for s in vocab.subsets for x in s.sublabels}
    raw = marker_scores(bcells, {**sets, **subs}, seed=seed)
    if bcells.n_obs >= min_cells:
        embed(bcells, n_top_genes=n_top_genes, n_comps=params.n_comps, integrate=integrate, n_neighbors=n_neighbors,
              resolution=params.resolution, seed=seed, key_added="bcell_cluster",
              hvg_exclude=hvg_exclude)
        finite = np.isfinite(raw.to_numpy())
        smooth = _smooth(np.where(finite, raw.to_numpy(), 0.0), bcells.obsp["connectivities"])
        raw = pd.DataFrame(np.where(finite, smooth, -np.inf), index=raw.index, columns=raw.columns)
    else:
        note(adata, f"only {bcells.n_obs} B-lineage cells (< {min_cells}): subsets labelled per cell without re-embedding")
    # standardise the scores the decision is made on (after smoothing), so that the margin is in
    # units of each score's spread across this study's B-lineage cells
    smooth = _standardise(raw)
    scores = smooth[list(sets)].to_numpy()
    allowed = _allowed(bcells, vocab)
    iso = None
    if isotypes is not None and annotate.isotype_from_vdj:
        iso = isotypes.reindex(bcells.obs_names).fillna("").astype(str).to_numpy()
    labels, margin = assign_subsets(np.where(allowed, scores, -np.inf), vocab, min_margin=annotate.min_margin,
                                    isotypes=iso)
    if iso is not None:
        note(adata, f"isotype from VDJ c_call: {int((iso != '').sum())} of {bcells.n_obs} B-lineage cells have a "
                    "heavy-chain constant gene; it decides switched vs unswitched memory for them")
    sub = _sublabels(labels, smooth, vocab, min_score=annotate.sublabel_min_score, uncallable=uncallable)
    n_un = int((labels == UNASSIGNED).sum())
    if n_un:
        note(adata, f"{n_un} of {len(labels)} B-lineage cells ({100 * n_un / len(labels):.1f}%) unassigned: "
                    f"best subset score within scrna.annotate.min_margin ({annotate.min_margin:g}) of the runner-up")
    bcells.obs["bcell_subset"] = labels
    bcells.obs["bcell_sublabel"] = sub
    bcells.obs["annotation_margin"] = margin
    bcells.obsm["subset_scores"] = scores
    bcells.uns["subset_score_names"] = list(sets)
    adata.obs.loc[bcells.obs_names, "bcell_subset"] = labels
    adata.obs.loc[bcells.obs_names, "bcell_sublabel"] = sub
    adata.obs.loc[bcells.obs_names, "annotation_margin"] = margin
    return bcells


def assign_subsets(scores: np.ndarray, vocab: Vocabulary, *, min_margin: float,
                   isotypes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(label, margin) per cell from standardised subset scores (columns: ``vocab.subsets``; -inf = not allowed).

    The best subset wins when it beats the runner-up by at least ``min_margin``, else the cell is
    ``unassigned``; a cell with a single allowed subset has an infinite margin. With ``isotypes``
    (``switched``/``unswitched``/``""`` per cell), a cell whose best subset is one of the
    vocabulary's ``isotype`` subsets, or that is undecided only between two of them, takes the one
    matching its VDJ isotype: the heavy chain's constant gene is read from the receptor itself,
    while IGHG/IGHM mRNA in a droplet is dominated by ambient plasma-cell Ig.
    """
    ids = np.array(vocab.subset_ids, dtype=object)
    padded = np.column_stack([scores, np.full(len(scores), -np.inf)])  # a runner-up even with one subset
    order = np.argsort(-padded, axis=1, kind="stable")
    rows = np.arange(len(scores))
    first, second = order[:, 0], order[:, 1]
    s1, s2 = padded[rows, first], padded[rows, second]
    with np.errstate(invalid="ignore"):
        margin = np.where(np.isneginf(s1), np.nan, np.where(np.isneginf(s2), np.inf, s1 - s2))
    first = np.minimum(first, len(ids) - 1)
    second = np.minimum(second, len(ids) - 1)
    labels = np.where(np.nan_to_num(margin, nan=-1.0) >= min_margin, ids[first], UNASSIGNED).astype(object)
    if isotypes is not None:
        by_class = {s.isotype: s.id for s in vocab.subsets if s.isotype}
        iso_ids = set(by_class.values())
        in_group = np.isin(ids[first], list(iso_ids))
        tie = (labels == UNASSIGNED) & in_group & np.isin(ids[second], list(iso_ids))
        for cls, sid in by_class.items():
            hit = (isotypes == cls) & ((in_group & (labels != UNASSIGNED)) | tie)
            labels[hit] = sid
    return labels.astype(str), margin


def _sublabels(labels: np.ndarray, smooth: pd.DataFrame, vocab: Vocabulary, *, min_score: float,
               uncallable: list[str]) -> np.ndarray:
    """Sub-label of each cell: the first sub-label of its subset whose standardised score is >= ``min_score``."""
    out = np.full(len(labels), "", dtype=object)
    for s in vocab.subsets:
        for x in s.sublabels:
            if x.id in uncallable or not np.isfinite(smooth[x.id]).any():
                continue
            hit = (labels == s.id) & (smooth[x.id].to_numpy() >= min_score) & (out == "")
            out[hit] = x.id
    return out.astype(str)


def vdj_isotypes(airr: pd.DataFrame) -> pd.Series:
    """Isotype class (``switched``/``unswitched``) per cell from AIRR rearrangements (``cell_id``, ``c_call``).

    Per cell the productive heavy chain (``locus`` IGH, or a ``c_call`` starting IGH) with the most
    UMIs (``umi_count``, ``consensus_count`` or ``duplicate_count``, whichever the table has) is
    taken; cells without a recognisable constant gene are left out (their isotype stays expression-based).
    """
    if airr.empty or "c_call" not in airr.columns:
        return pd.Series(dtype=str)
    df = airr.copy()
    df["c_call"] = df["c_call"].astype(str).str.split(",").str[0].str.strip().str.upper()
    heavy = df["locus"].astype(str).eq("IGH") if "locus" in df.columns else df["c_call"].str.startswith("IGH")
    if "productive" in df.columns:
        heavy &= df["productive"].astype(str).str.upper().isin(["T", "TRUE", "1"])
    df = df[heavy]
    df["cls"] = df["c_call"].str[:4].map(ISOTYPE_CLASS)
    df = df[df["cls"].notna()]
    count = next((c for c in ("umi_count", "consensus_count", "duplicate_count") if c in df.columns), None)
    df["_n"] = pd.to_numeric(df[count], errors="coerce").fillna(0) if count else 0
    df = df.sort_values("_n", ascending=False, kind="stable").drop_duplicates("cell_id")
    return pd.Series(df["cls"].to_numpy(), index=df["cell_id"].astype(str).to_numpy(), dtype=str)


def read_vdj_isotypes(paths: list[str]) -> pd.Series:
    """:func:`vdj_isotypes` over per-sample AIRR tables (``results/bcr/samples/{sample}.tsv``).

    Their ``cell_id`` is ``"{sample_id}:{barcode}"``, the scRNA ``obs_names``, so the result indexes the cells directly.
    """
    frames = []
    for p in paths:
        head = pd.read_csv(p, sep="\t", nrows=0).columns
        cols = [c for c in ("cell_id", "locus", "c_call", "productive", "umi_count", "consensus_count",
                            "duplicate_count") if c in head]
        frames.append(pd.read_csv(p, sep="\t", usecols=cols, dtype=str))
    return vdj_isotypes(pd.concat(frames, ignore_index=True)) if frames else pd.Series(dtype=str)


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
