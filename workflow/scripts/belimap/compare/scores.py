"""Per-cell gene-set scores (BAFF axis, interferon signature, activation) by subset × tissue × timepoint.

The sets live in ``resources/markers/gene_sets.yaml``; scores are scanpy's ``sc.tl.score_genes``
(mean log expression of the set minus that of expression-matched random control genes, Tirosh et
al. 2016) computed on the B-lineage cells only, so control genes are matched within B cells.
Summaries keep the specimen as the unit (mean per specimen × subset), as for pseudobulk DE.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimap.config import read_yaml, validate
from belimap.errors import BelimapError
from belimap.params import parameters

if TYPE_CHECKING:  # anndata is imported by the caller (a slow import)
    import anndata as ad

log = logging.getLogger(__name__)

_SCHEMA = {
    "type": "object",
    "required": ["gene_sets"],
    "properties": {
        "gene_sets": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[A-Za-z0-9_]+$"},
            "additionalProperties": {
                "type": "object",
                "required": ["label", "genes"],
                "properties": {
                    "label": {"type": "string"},
                    "description": {"type": "string"},
                    "source": {"type": "string"},
                    "genes": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                },
            },
        }
    },
}
SCORE_COLUMNS = ["sample_id", "patient_id", "tissue", "timepoint", "subset", "gene_set", "n_cells", "mean_score",
                 "median_score"]
SUMMARY_COLUMNS = ["subset", "tissue", "timepoint", "gene_set", "n_samples", "n_cells", "mean_score", "sd_score"]
NOTE_COLUMNS = ["gene_set", "n_genes", "n_present", "missing", "status"]


@parameters("compare", "scores")
class ScoresParams:
    """Gene-set scoring (``compare.scores`` in the config): the sets' file and ``sc.tl.score_genes``'s knobs."""

    gene_sets: str
    ctrl_size: int
    n_bins: int
    min_genes: int


@dataclass(frozen=True)
class GeneSet:
    """One gene set of the resource: ``id`` (its key), ``label`` (shown in figures) and its genes."""

    id: str
    label: str
    genes: tuple[str, ...]
    description: str = ""


def read_gene_sets(path: str | Path) -> list[GeneSet]:
    """Read and validate a gene-set YAML (``resources/markers/gene_sets.yaml``)."""
    data = validate(read_yaml(path), _SCHEMA, str(path))
    return [GeneSet(k, v["label"], tuple(v["genes"]), v.get("description", "").strip())
            for k, v in data["gene_sets"].items()]


def score_cells(
    adata: ad.AnnData, gene_sets: list[GeneSet], *, params: ScoresParams, seed: int, subset_key: str = "bcell_subset",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every gene set on the B-lineage cells of ``adata`` (``X`` log-normalised).

    ``adata`` is not changed (the scores are computed on a copy of its B-lineage cells, so control
    genes are expression-matched within B cells). Returns per-cell scores (index = B-lineage
    ``obs_names``, one column per scored set) and notes per set (genes present; ``skipped`` when
    fewer than ``params.min_genes`` of its genes are in the data).
    """
    import scanpy as sc

    if subset_key not in adata.obs.columns:
        raise BelimapError(f"integrated object: obs lacks column '{subset_key}'")
    labels = adata.obs[subset_key].astype(str)
    bcells = adata[(labels != "") & (labels != "nan")].copy()
    scores = pd.DataFrame(index=bcells.obs_names)
    notes = []
    present_all = set(bcells.var_names)
    for gs in gene_sets:
        present = [g for g in gs.genes if g in present_all]
        missing = [g for g in gs.genes if g not in present_all]
        ok = len(present) >= params.min_genes and bcells.n_obs > 0
        notes.append({"gene_set": gs.id, "n_genes": len(gs.genes), "n_present": len(present),
                      "missing": ",".join(missing), "status": "scored" if ok else "skipped"})
        if not ok:
            log.warning("gene set %s: %d of %d genes present (< %d); not scored", gs.id, len(present), len(gs.genes),
                        params.min_genes)
            continue
        sc.tl.score_genes(bcells, present, ctrl_size=params.ctrl_size, n_bins=params.n_bins, score_name="_score",
                          random_state=seed, use_raw=False)
        scores[gs.id] = bcells.obs["_score"].to_numpy()
    return scores, pd.DataFrame(notes, columns=NOTE_COLUMNS)


def summarise_scores(obs: pd.DataFrame, scores: pd.DataFrame, *, subset_key: str = "bcell_subset") -> pd.DataFrame:
    """Mean and median score per specimen × subset × gene set (``SCORE_COLUMNS``)."""
    keys = ["sample_id", "patient_id", "tissue", "timepoint"]
    meta = obs.loc[scores.index, keys + [subset_key]].astype(str).rename(columns={subset_key: "subset"})
    long = scores.join(meta).melt(id_vars=keys + ["subset"], var_name="gene_set", value_name="score")
    grouped = long.groupby(keys + ["subset", "gene_set"], sort=True)["score"]
    out = grouped.agg(n_cells="size", mean_score="mean", median_score="median").reset_index()
    return out[SCORE_COLUMNS]


def summarise_groups(per_sample: pd.DataFrame) -> pd.DataFrame:
    """Per subset × tissue × timepoint: mean and SD over specimens of the specimen means."""
    g = per_sample.groupby(["subset", "tissue", "timepoint", "gene_set"], sort=True)
    out = g.agg(n_samples=("sample_id", "nunique"), n_cells=("n_cells", "sum"), mean_score=("mean_score", "mean"),
                sd_score=("mean_score", lambda x: float(np.std(x, ddof=1)) if len(x) > 1 else np.nan)).reset_index()
    return out[SUMMARY_COLUMNS]
