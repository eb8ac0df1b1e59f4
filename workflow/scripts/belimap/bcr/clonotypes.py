"""Clonotypes across all specimens of a patient (scirpy), with stable, readable clone IDs.

A clone is defined once per patient over every tissue and timepoint, so "the same clone in lymph
node and synovium" is a join on ``clone_id``; a clone never spans patients.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimap.params import parameters

if TYPE_CHECKING:
    import anndata as ad

log = logging.getLogger(__name__)


@parameters("bcr", "clonotypes")
class ClonotypeParams:
    """``bcr.clonotypes``: the arguments of scirpy's ``pp.ir_dist`` and ``tl.define_clonotype_clusters``."""

    sequence: str
    metric: str
    cutoff: int
    receptor_arms: str
    dual_ir: str
    same_v_gene: bool
    same_j_gene: bool
    partitions: str


def define_clonotypes(airr: ad.AnnData, *, params: ClonotypeParams, breakpoints: Sequence[int] = (1, 2),
                      n_jobs: int = 1, seed: int) -> ad.AnnData:
    """Clonotype clusters per patient across all of the patient's specimens, on the analysed cells.

    Junction distances (``params``: sequence, metric, cutoff) with the same V and J genes define clones
    (``define_clonotype_clusters`` with ``within_group`` = patient). ``airr`` needs the ``obs`` columns
    of :func:`belimap.bcr.chains.annotate_cells` (``analysed``, ``patient_id``, ``sample_id``). ``seed``
    seeds igraph's RNG (Python's ``random``) for ``partitions: leiden``; ``breakpoints`` are the
    clone-size classes of ``clonal_expansion``.

    Writes
    ------
    ``obs`` of ``airr`` (in place, also returned): ``clone_id`` (``"{patient}_c{n}"``, numbered by
    decreasing size then first cell; NaN for cells not analysed or without the required chains),
    ``clone_size`` (cells in the patient, 0 without a clone), ``clone_size_sample`` (cells in the
    specimen) and ``clonal_expansion`` (scirpy's classes within the specimen, e.g. ``"<= 1"``).
    scirpy's distance matrices are computed on a copy and not kept.
    """
    import random

    import scirpy as ir

    obs = airr.obs
    for col in ("clone_id", "clonal_expansion"):
        obs[col] = pd.Series(np.nan, index=obs.index, dtype=object)
    obs["clone_size"] = 0
    obs["clone_size_sample"] = 0
    mask = obs["analysed"].to_numpy(bool)
    if not mask.any():
        log.warning("no analysed BCR cells: no clonotypes defined")
        return airr
    sub = airr[mask].copy()
    arms = {"VDJ": ["VDJ_1"], "VJ": ["VJ_1"]}.get(params.receptor_arms, ["VDJ_1", "VJ_1"])
    if ir.get.airr(sub, "junction", arms).notna().to_numpy().sum() == 0:
        log.warning("no analysed BCR cell has a %s chain: no clonotypes defined", params.receptor_arms)
        return airr
    random.seed(seed)
    ir.pp.ir_dist(sub, metric=params.metric, sequence=params.sequence, cutoff=params.cutoff, n_jobs=n_jobs)
    ir.tl.define_clonotype_clusters(
        sub, sequence=params.sequence, metric=params.metric, receptor_arms=params.receptor_arms,
        dual_ir=params.dual_ir, same_v_gene=params.same_v_gene, same_j_gene=params.same_j_gene,
        within_group=["patient_id", "receptor_type"], partitions=params.partitions, key_added="clone_id",
        n_jobs=n_jobs)
    raw = sub.obs["clone_id"].astype(object).where(~pd.isna(sub.obs["clone_id"]))
    raw = raw.where(raw.astype(str) != "nan")
    clone = raw.map(_clone_names(sub.obs["patient_id"].astype(str), raw))
    obs.loc[clone.index, "clone_id"] = clone
    has = obs["clone_id"].notna()
    obs.loc[has, "clone_size"] = obs[has].groupby("clone_id")["clone_id"].transform("size")
    obs.loc[has, "clone_size_sample"] = obs[has].groupby(["sample_id", "clone_id"])["clone_id"].transform("size")
    exp = ir.tl.clonal_expansion(airr[has.to_numpy()].copy(), target_col="clone_id", expanded_in="sample_id",
                                 breakpoints=tuple(breakpoints), inplace=False)
    obs.loc[exp.index, "clonal_expansion"] = exp.astype(str)
    return airr


def _clone_names(patient: pd.Series, raw: pd.Series) -> dict[str, str]:
    """scirpy's cluster IDs → ``"{patient}_c{k}"``, per patient by decreasing size then first cell.

    scirpy's cluster IDs are bare numbers over the whole study; these names say whose clone it is,
    and ``_c1`` is always the patient's largest clone.
    """
    df = pd.DataFrame({"patient_id": patient, "raw": raw}).dropna()
    sizes = df.groupby(["patient_id", "raw"], sort=False).size().rename("n").reset_index()
    sizes["first"] = sizes["raw"].map({r: i for i, r in enumerate(dict.fromkeys(df["raw"]))})
    sizes = sizes.sort_values(["patient_id", "n", "first"], ascending=[True, False, True])
    sizes["k"] = sizes.groupby("patient_id").cumcount() + 1
    return dict(zip(sizes["raw"], sizes["patient_id"] + "_c" + sizes["k"].astype(str), strict=True))
