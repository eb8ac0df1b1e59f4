"""Per-sample quality control of scRNA-seq counts (sc-best-practices' adaptive filters).

Cells are flagged as outliers by median absolute deviations (MADs) of log counts, log genes and
% mitochondrial reads, computed per sample because depth differs between samples; a hard % mito
ceiling and a minimum gene count apply on top. Doublets are called per sample with scrublet
(``sc.pp.scrublet``), since doublets only form within one sample's droplets.
"""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import scanpy as sc
from scipy.stats import median_abs_deviation

log = logging.getLogger(__name__)

QC_COLUMNS = ["total_counts", "n_genes_by_counts", "pct_counts_mt", "pct_counts_ribo"]
#: Scrublet needs enough cells to simulate doublets against; below this it is skipped with a note.
MIN_CELLS_FOR_DOUBLETS = 50


def qc_metrics(adata: ad.AnnData) -> None:
    """Add per-cell QC metrics to ``obs`` (counts, genes, % mito, % ribo) and flags to ``var``.

    Writes ``var['mt']``, ``var['ribo']`` and ``obs`` columns of :data:`QC_COLUMNS` plus their log1p.
    """
    names = adata.var_names.str.upper()
    adata.var["mt"] = names.str.startswith("MT-")
    adata.var["ribo"] = names.str.startswith(("RPS", "RPL"))
    sc.pp.calculate_qc_metrics(adata, qc_vars=["mt", "ribo"], percent_top=None, log1p=True, inplace=True)


def is_outlier(values: pd.Series, nmads: float, side: str = "both") -> pd.Series:
    """True where ``values`` lie more than ``nmads`` MADs from the median (``side``: both/upper/lower)."""
    med = np.median(values)
    mad = median_abs_deviation(values)
    if mad == 0:
        return pd.Series(False, index=values.index)
    upper = values > med + nmads * mad
    lower = values < med - nmads * mad
    return {"both": upper | lower, "upper": upper, "lower": lower}[side]


def flag_outliers(adata: ad.AnnData, params: dict) -> pd.DataFrame:
    """Flag low-quality cells; returns a table of the flags and the thresholds used (``uns['qc']``)."""
    obs = adata.obs
    flags = pd.DataFrame(index=obs.index)
    flags["outlier_counts"] = is_outlier(obs["log1p_total_counts"], params["nmads_counts"])
    flags["outlier_genes"] = is_outlier(obs["log1p_n_genes_by_counts"], params["nmads_genes"])
    flags["outlier_mito"] = is_outlier(obs["pct_counts_mt"], params["nmads_mito"], "upper") | (
        obs["pct_counts_mt"] > params["max_pct_mito"]
    )
    flags["too_few_genes"] = obs["n_genes_by_counts"] < params["min_genes"]
    flags["low_quality"] = flags.any(axis=1)
    med_mt, mad_mt = np.median(obs["pct_counts_mt"]), median_abs_deviation(obs["pct_counts_mt"])
    adata.uns["qc"] = {
        "max_pct_mito": float(min(params["max_pct_mito"], med_mt + params["nmads_mito"] * mad_mt)),
        "log1p_counts_range": _range(obs["log1p_total_counts"], params["nmads_counts"]),
        "log1p_genes_range": _range(obs["log1p_n_genes_by_counts"], params["nmads_genes"]),
        "min_genes": int(params["min_genes"]),
    }
    return flags


def _range(values: pd.Series, nmads: float) -> list[float]:
    med, mad = float(np.median(values)), float(median_abs_deviation(values))
    return [med - nmads * mad, med + nmads * mad]


def call_doublets(adata: ad.AnnData, params: dict, seed: int) -> pd.Series:
    """Scrublet doublet calls (``obs['doublet_score']``, ``obs['predicted_doublet']``) for one sample."""
    if params["method"] == "none" or adata.n_obs < MIN_CELLS_FOR_DOUBLETS:
        if params["method"] != "none":
            log.warning("doublet detection skipped: %d cells < %d", adata.n_obs, MIN_CELLS_FOR_DOUBLETS)
            adata.uns.setdefault("notes", []).append(
                f"doublet detection skipped: {adata.n_obs} cells after QC, scrublet needs ≥ {MIN_CELLS_FOR_DOUBLETS}")
        adata.obs["doublet_score"] = np.nan
        adata.obs["predicted_doublet"] = False
        return adata.obs["predicted_doublet"]
    n_pcs = int(min(30, adata.n_obs - 2, adata.n_vars - 2))
    sc.pp.scrublet(adata, expected_doublet_rate=params["expected_rate"], n_prin_comps=n_pcs,
                   random_state=seed, verbose=False)
    adata.obs["predicted_doublet"] = adata.obs["predicted_doublet"].astype(bool)
    return adata.obs["predicted_doublet"]


def filter_sample(adata: ad.AnnData, qc_params: dict, doublet_params: dict, seed: int) -> tuple[ad.AnnData, pd.DataFrame]:
    """QC one sample: metrics, adaptive filters, doublets. Returns (kept cells, per-cell QC table).

    The per-cell table keeps every barcode with its metrics, flags and the reason it was removed
    (``""`` when kept), so the QC figure and summary can show what each filter did.
    """
    adata = adata.copy()
    qc_metrics(adata)
    flags = flag_outliers(adata, qc_params)
    kept = adata[~flags["low_quality"].to_numpy()].copy()
    kept.uns["qc"] = adata.uns["qc"]
    call_doublets(kept, doublet_params, seed)
    table = adata.obs[QC_COLUMNS].copy()
    table = table.join(flags)
    table["doublet_score"] = kept.obs["doublet_score"].reindex(table.index)
    table["predicted_doublet"] = kept.obs["predicted_doublet"].reindex(table.index).eq(True)
    reason = np.where(flags["low_quality"], "low_quality", np.where(table["predicted_doublet"], "doublet", ""))
    table["removed"] = reason
    table.insert(0, "barcode", table.index)
    out = kept[~kept.obs["predicted_doublet"].to_numpy()].copy()
    return out, table.reset_index(drop=True)


def qc_summary(table: pd.DataFrame, sample_id: str) -> dict:
    """One row of the study QC summary: cells in, removed by reason, kept, medians."""
    kept = table[table["removed"] == ""]
    return {
        "sample_id": sample_id,
        "cells_in": len(table),
        "low_quality": int((table["removed"] == "low_quality").sum()),
        "doublets": int((table["removed"] == "doublet").sum()),
        "cells_kept": len(kept),
        "median_counts": float(kept["total_counts"].median()) if len(kept) else np.nan,
        "median_genes": float(kept["n_genes_by_counts"].median()) if len(kept) else np.nan,
        "median_pct_mito": float(kept["pct_counts_mt"].median()) if len(kept) else np.nan,
    }
