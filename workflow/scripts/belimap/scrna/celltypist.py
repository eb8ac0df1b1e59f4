"""Reference-based annotation with CellTypist, beside the marker scores of ``annotate``.

A CellTypist model (a logistic-regression classifier trained on a labelled atlas) gives each cell a
probability for every reference label; a label map (``resources/celltypist/label_map.yaml``)
translates each reference label into belimap's vocabulary (a lineage, and for B-lineage labels a
subset). The cell's confidence is CellTypist's probability of its best label: below
``min_confidence`` its B-cell subset is ``unassigned`` rather than forced into a label. Models come
from a file (the user's own, or one ``belimap reference train`` made); nothing is ever downloaded.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from belimap.config import read_yaml, repo_path, validate
from belimap.errors import BelimapError
from belimap.notes import note
from belimap.params import parameters
from belimap.vocab import Vocabulary

if TYPE_CHECKING:
    import anndata as ad
    from celltypist.models import Model

UNASSIGNED = "unassigned"
#: Separator of a combined reference label (``lineage|subset``, as ``belimap reference train`` builds it).
SEP = "|"
TRAIN_HINT = "train one with `belimap reference train --labels COLUMN atlas.h5ad -o model.pkl` (see config/README.md)"
LabelMap = dict[str, tuple[str | None, str | None]]


@parameters("scrna", "annotate", "celltypist")
class CelltypistParams:
    """``scrna.annotate.celltypist``: the model file, the label map and the confidence threshold."""

    model: str | None
    label_map: str
    min_confidence: float
    majority_voting: bool


@parameters("scrna", "annotate", "celltypist", "train")
class TrainParams:
    """``scrna.annotate.celltypist.train``: how ``belimap reference train`` fits a model."""

    n_top_genes: int
    feature_selection: bool
    top_genes: int
    average: bool
    seed: int


# --------------------------------------------------------------------------------------------
# inputs: expression, model, label map
# --------------------------------------------------------------------------------------------
def log_normalised(adata: ad.AnnData, *, where: str = "expression") -> ad.AnnData:
    """A bare AnnData of log1p counts per 10,000 (CellTypist's expected input) from ``layers['counts']``
    when present (belimap's integrated object), else from ``X`` if it holds counts, else ``X`` as is
    when it already is log1p-CP10k (CellTypist's own check). Only obs/var names are carried over."""
    import anndata as ad
    import scanpy as sc

    counts = adata.layers["counts"] if "counts" in adata.layers else adata.X
    x = sp.csr_matrix(counts, dtype=np.float32)
    out = ad.AnnData(X=x, obs=pd.DataFrame(index=adata.obs_names.astype(str)),
                     var=pd.DataFrame(index=adata.var_names.astype(str)))
    out.var_names_make_unique()
    if _is_counts(x):
        sc.pp.normalize_total(out, target_sum=1e4)
        sc.pp.log1p(out)
    elif not _is_log_cp10k(x):
        raise BelimapError(f"{where}: expected raw counts in layers['counts'] or X, or X as log1p counts per 10,000; "
                           "found neither (negative, scaled or otherwise normalised values)")
    return out


def _is_counts(x: sp.csr_matrix) -> bool:
    data = x[: min(x.shape[0], 1000)].data
    return bool(data.size == 0 or (data.min() >= 0 and np.allclose(data, np.round(data))))


def _is_log_cp10k(x: sp.csr_matrix) -> bool:
    head = x[: min(x.shape[0], 100)]
    if head.data.size and head.data.min() < 0:
        return False
    sums = np.asarray(np.expm1(head).sum(axis=1)).ravel()
    return bool(np.allclose(sums[sums > 0], 1e4, rtol=1e-3))


def load_model(path: str | Path | None) -> Model:
    """Read a CellTypist model file, or say in one line why not and how to make one.

    The path is resolved as belimap resolves config paths and handed to CellTypist as an absolute
    path: a bare name would make ``Model.load`` look it up among (and download) CellTypist's models.
    A model file is a pickle: load only files you trust.
    """
    from celltypist.models import Model

    if not path:
        raise BelimapError(f"scrna.annotate.celltypist.model: not set; method 'celltypist' needs a CellTypist model "
                           f"file (.pkl): {TRAIN_HINT}")
    p = repo_path(path)
    if not p.is_file():
        raise BelimapError(f"{path}: CellTypist model file not found (scrna.annotate.celltypist.model); {TRAIN_HINT}")
    try:
        with _quiet():
            return Model.load(str(p.resolve()))
    except Exception as err:  # noqa: BLE001 - CellTypist raises a bare Exception for any unreadable pickle
        why = str(err).replace("🛑", "").replace(str(p.resolve()), "").strip(" .:")
        raise BelimapError(f"{path}: not a readable CellTypist model (scrna.annotate.celltypist.model: {why}); "
                           f"{TRAIN_HINT}") from None


def read_label_map(path: str | Path, vocab: Vocabulary) -> LabelMap:
    """Read a label map and check it against the vocabulary: reference label → (lineage, subset).

    ``lineage: null`` marks a label that translates to no lineage (e.g. doublets); ``subset`` must
    be a subset of that lineage (so only B-lineage labels carry one).
    """
    data = validate(read_yaml(repo_path(path)), "label_map", str(path))
    lineages, subsets = set(vocab.lineage_ids), {s.id: s for s in vocab.subsets}
    out: LabelMap = {}
    for label, entry in data["labels"].items():
        lin, sub = entry.get("lineage"), entry.get("subset")
        field = f"{path}: field 'labels.{label}"
        if lin is not None and lin not in lineages:
            raise BelimapError(f"{field}.lineage': '{lin}' is not a lineage of the vocabulary "
                               f"({', '.join(vocab.lineage_ids)})")
        if sub is not None:
            if sub not in subsets:
                raise BelimapError(f"{field}.subset': '{sub}' is not a subset of the vocabulary "
                                   f"({', '.join(vocab.subset_ids)})")
            if subsets[sub].lineage != lin:
                raise BelimapError(f"{field}.subset': '{sub}' belongs to lineage '{subsets[sub].lineage}', not '{lin}'")
        out[str(label)] = (lin, sub)
    return out


# --------------------------------------------------------------------------------------------
# prediction
# --------------------------------------------------------------------------------------------
def annotate_celltypist(adata: ad.AnnData, vocab: Vocabulary, *, params: CelltypistParams, seed: int,
                        model: Model | None = None) -> None:
    """Label every cell with a CellTypist model translated into the vocabulary, in place.

    Writes ``obs['lineage']`` (categories: the vocabulary's lineages: the lineage of the most
    probable reference label that the map translates, so a low-confidence cell keeps its best
    lineage guess), ``obs['bcell_subset']`` (the subset of the cell's best label for B-lineage cells;
    ``unassigned`` when its confidence is below ``min_confidence`` or its label has no subset of that
    lineage; ``""`` outside the B lineage), ``obs['annotation_confidence']`` (CellTypist's
    probability of the best label) and ``obs['celltypist_label']`` (that label). Notes name model
    labels the map does not translate and a poor gene overlap. Reads ``layers['counts']`` (else
    ``X``); with ``majority_voting`` the vote runs over ``obs['leiden']`` when present, else over
    CellTypist's own over-clustering (fewer than 50 cells: no vote, with a note). ``model`` (already
    in memory) overrides ``params.model``. ``seed`` is taken for the annotators' common signature:
    CellTypist's prediction and its over-clustering (scanpy's fixed default seed) are deterministic.
    """
    import celltypist

    labels_map = read_label_map(params.label_map, vocab)
    model = model if model is not None else load_model(params.model)
    query = log_normalised(adata)
    n_features = len(model.features)
    shared = int(np.isin(query.var_names, model.features).sum())
    if shared == 0:
        raise BelimapError(f"{params.model}: the model shares no genes with the data; expected gene symbols as "
                           "var_names in both")
    if shared < 0.5 * n_features:
        note(adata, f"CellTypist: only {shared} of the model's {n_features} genes are in the data")
    classes = [str(c) for c in model.cell_types]
    if all(labels_map.get(c, (None, None))[0] is None for c in classes):
        raise BelimapError(f"{params.label_map}: translates none of the model's labels into a lineage "
                           f"(model labels: {', '.join(classes[:10])}{' ...' if len(classes) > 10 else ''})")
    missing = [c for c in classes if c not in labels_map]
    if missing:
        note(adata, f"CellTypist: reference label(s) {', '.join(missing)} are not in {params.label_map}; their cells "
                    f"take the lineage of their best translated label and an {UNASSIGNED} subset")
    vote = params.majority_voting and adata.n_obs >= 50
    if params.majority_voting and not vote:
        note(adata, f"CellTypist: only {adata.n_obs} cells, too few for a majority vote; each cell labelled on its own")
    over = adata.obs["leiden"].astype(str).to_numpy() if vote and "leiden" in adata.obs else None
    with _quiet():
        res = celltypist.annotate(query, model=model, mode="best match", majority_voting=vote, over_clustering=over)
    prob = res.probability_matrix.reindex(columns=classes)
    best = res.predicted_labels["majority_voting" if vote else "predicted_labels"].astype(str).to_numpy()
    out = translate(prob, best, labels_map, vocab, min_confidence=params.min_confidence)
    adata.obs["lineage"] = pd.Categorical(out["lineage"].to_numpy(), categories=vocab.lineage_ids)
    adata.obs["bcell_subset"] = out["bcell_subset"].to_numpy()
    adata.obs["annotation_confidence"] = out["confidence"].to_numpy()
    adata.obs["celltypist_label"] = out["reference_label"].to_numpy()


def translate(prob: pd.DataFrame, best: Iterable[str], labels_map: LabelMap, vocab: Vocabulary, *,
              min_confidence: float) -> pd.DataFrame:
    """Reference-label probabilities (cells × labels) and each cell's chosen label → ``lineage``,
    ``bcell_subset``, ``confidence`` and ``reference_label`` columns (see :func:`annotate_celltypist`)."""
    labels = [str(c) for c in prob.columns]
    p = prob.to_numpy(dtype=float)
    best = np.asarray(list(best), dtype=object)
    conf = p[np.arange(len(best)), pd.Index(labels).get_indexer(best)]
    lin_of = np.array([labels_map.get(c, (None, None))[0] or "" for c in labels], dtype=object)
    own = np.array([labels_map.get(str(b), (None, None)) for b in best], dtype=object).reshape(len(best), 2)
    own_ok = np.array([lin is not None for lin in own[:, 0]], dtype=bool)
    # lineage: the chosen label's when it translates, else that of the most probable label that does
    fallback = lin_of[np.argmax(np.where(lin_of != "", p, -np.inf), axis=1)]
    lineage = np.where(own_ok, own[:, 0], fallback).astype(object)
    is_b = np.isin(lineage, list(vocab.bcell_lineages))
    sub_ok = own_ok & (conf >= min_confidence) & np.array([s is not None for s in own[:, 1]])
    subset = np.where(is_b, np.where(sub_ok, own[:, 1], UNASSIGNED), "").astype(object)
    return pd.DataFrame({"lineage": lineage, "bcell_subset": subset, "confidence": conf, "reference_label": best},
                        index=prob.index)


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
def reference_labels(adata: ad.AnnData, column: str, subset_column: str | None = None, *,
                     where: str = "atlas") -> pd.Series:
    """The training label of every cell: ``obs[column]``, or ``column|subset`` where ``subset_column``
    is set and not empty (belimap's ``lineage`` + ``bcell_subset`` become ``B|naive``, ``CD4_T``).
    Cells without a label are missing (left out of training). At least two distinct labels are needed."""
    for flag, c in (("--labels", column), ("--subset-labels", subset_column)):
        if c is not None and c not in adata.obs:
            raise BelimapError(f"{where}: {flag} '{c}' is not an obs column (columns: "
                               f"{', '.join(map(str, adata.obs.columns)) or 'none'})")
    lab = _text(adata.obs[column])
    if subset_column is not None:
        sub = _text(adata.obs[subset_column])
        lab = lab.where(sub.isna() | lab.isna(), lab + SEP + sub)
    if lab.nunique() < 2:
        raise BelimapError(f"{where}: obs '{column}' has {lab.nunique()} distinct label(s); "
                           "a reference needs at least 2")
    return lab


def attach_labels(adata: ad.AnnData, table: pd.DataFrame, columns: Iterable[str], *, where: str = "labels") -> None:
    """Copy label ``columns`` of a per-cell table (e.g. the simulator's ``truth/cells.tsv``) into
    ``adata.obs``, matching cells on ``sample_id`` and ``barcode``; cells the table lacks get no label."""
    keys = ["sample_id", "barcode"]
    for k in keys:
        if k not in adata.obs:
            raise BelimapError(f"{where}: joining labels needs obs column '{k}' in the h5ad "
                               "(belimap's own objects have it)")
    cols = [c for c in dict.fromkeys(columns) if c not in keys]
    idx = pd.MultiIndex.from_frame(table[keys].astype(str))
    if idx.has_duplicates:
        raise BelimapError(f"{where}: more than one row for a (sample_id, barcode) pair; expected one row per cell")
    at = pd.MultiIndex.from_frame(adata.obs[keys].astype(str))
    rows = idx.get_indexer(at)
    if (rows < 0).all():
        raise BelimapError(f"{where}: no (sample_id, barcode) pair matches a cell of the h5ad")
    for c in cols:
        values = table[c].to_numpy(dtype=object)[np.maximum(rows, 0)]
        adata.obs[c] = np.where(rows >= 0, values, None)


def _text(col: pd.Series) -> pd.Series:
    return col.astype(object).map(lambda v: None if pd.isna(v) or str(v).strip() in ("", "nan") else str(v).strip())


def train_reference(adata: ad.AnnData, labels: pd.Series, *, params: TrainParams, exclude: str = "",
                    details: str = "") -> Model:
    """Train a CellTypist model on the labelled cells with CellTypist's own ``celltypist.train``, seeded.

    Counts come from ``layers['counts']`` (else ``X``) and are log1p-normalised to 10,000. Genes are
    first narrowed to the ``n_top_genes`` most variable (Seurat flavour; 0 keeps all), never counting
    genes matching ``exclude`` (IG/TR V genes would teach the model the training cohort's clones):
    CellTypist centres the matrix, so a 33k-gene atlas would be densified whole. The classifier is
    CellTypist's SGD logistic regression (``use_SGD``): its other path passes ``multi_class`` to
    scikit-learn's ``LogisticRegression``, which scikit-learn 1.8+ refuses. ``feature_selection`` is
    CellTypist's two-pass training (each label's ``top_genes`` genes by coefficient, then a refit on
    them); it is skipped when there are no more genes than ``top_genes``. ``average`` switches to scikit-learn's
    averaged SGD: on a small atlas CellTypist's plain SGD overshoots (decision values in the
    thousands), leaving many cells' best-label probability near 0 and so below any threshold.
    """
    import celltypist
    import scanpy as sc

    lab = labels.reindex(adata.obs_names)
    keep = lab.notna().to_numpy()
    data = log_normalised(adata[keep])
    usable = np.asarray(data.X.getnnz(axis=0) > 0)
    if exclude:
        usable &= ~data.var_names.str.match(exclude)
    data = data[:, usable].copy()
    if 0 < params.n_top_genes < data.n_vars:
        sc.pp.highly_variable_genes(data, n_top_genes=params.n_top_genes, flavor="seurat")
        data = data[:, data.var["highly_variable"].to_numpy()].copy()
    fs = params.feature_selection and data.n_vars > params.top_genes
    np.random.seed(params.seed)
    with _quiet():
        return celltypist.train(data, labels=lab[keep].to_numpy().astype(str), feature_selection=fs,
                                top_genes=params.top_genes, use_SGD=True, n_jobs=1, random_state=params.seed,
                                details=details, check_expression=False, average=params.average)


def write_model(model: Model, path: str | Path) -> None:
    """Write a model atomically (a killed run leaves no half-written .pkl that a later run trusts)."""
    from belimap.tables import atomic_path

    if Path(path).suffix != ".pkl":
        raise BelimapError(f"{path}: a CellTypist model file must end in .pkl")
    with atomic_path(path) as tmp:
        model.write(str(tmp))


def label_map_template(labels: Iterable[str], vocab: Vocabulary) -> dict[str, Any]:
    """A label map for ``labels``, pre-filled where a label already is a vocabulary id (``CD4_T``,
    ``B|naive``); every other label gets ``lineage: null`` for the user to fill in."""
    lineages, subsets = set(vocab.lineage_ids), {s.id: s.lineage for s in vocab.subsets}
    out: dict[str, dict[str, str | None]] = {}
    for label in sorted(set(map(str, labels))):
        lin, _, sub = label.partition(SEP)
        ok = lin in lineages and (not sub or subsets.get(sub) == lin)
        out[label] = {"lineage": lin if ok else None, "subset": (sub or None) if ok else None}
    return {"labels": out}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """CellTypist logs every step at INFO; keep its warnings only."""
    log = logging.getLogger("celltypist")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)
