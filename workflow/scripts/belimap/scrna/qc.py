"""Per-sample quality control of scRNA-seq counts (sc-best-practices' adaptive filters).

Cells are flagged as outliers by median absolute deviations (MADs) of log counts, log genes and
% mitochondrial reads, computed per sample because depth differs between samples; a hard % mito
ceiling and a minimum gene count apply on top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

from belimap.params import parameters

if TYPE_CHECKING:
    import anndata as ad

QC_COLUMNS = ["total_counts", "n_genes_by_counts", "pct_counts_mt", "pct_counts_ribo"]


@parameters("scrna", "qc")
class QcParams:
    """``scrna.qc``: MAD multiples of the adaptive filters and the hard floors/ceilings."""

    nmads_counts: float
    nmads_genes: float
    nmads_mito: float
    max_pct_mito: float
    min_genes: int
    min_cells_per_gene: int


def qc_metrics(adata: ad.AnnData) -> None:
    """Add per-cell QC metrics, in place.

    Writes ``var['mt']``, ``var['ribo']`` and the ``obs`` columns of :data:`QC_COLUMNS` with their
    ``log1p_`` versions (scanpy's ``calculate_qc_metrics``).
    """
    import scanpy as sc

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


def flag_outliers(adata: ad.AnnData, *, params: QcParams) -> pd.DataFrame:
    """Flag low-quality cells; returns one boolean column per filter plus ``low_quality``.

    Reads the :func:`qc_metrics` columns of ``obs``; writes ``uns['qc']`` (the thresholds used, for
    the QC figure).
    """
    obs = adata.obs
    flags = pd.DataFrame(index=obs.index)
    flags["outlier_counts"] = is_outlier(obs["log1p_total_counts"], params.nmads_counts)
    flags["outlier_genes"] = is_outlier(obs["log1p_n_genes_by_counts"], params.nmads_genes)
    flags["outlier_mito"] = is_outlier(obs["pct_counts_mt"], params.nmads_mito, "upper") | (
        obs["pct_counts_mt"] > params.max_pct_mito
    )
    flags["too_few_genes"] = obs["n_genes_by_counts"] < params.min_genes
    flags["low_quality"] = flags.any(axis=1)
    med_mt, mad_mt = np.median(obs["pct_counts_mt"]), median_abs_deviation(obs["pct_counts_mt"])
    adata.uns["qc"] = {
        "max_pct_mito": float(min(params.max_pct_mito, med_mt + params.nmads_mito * mad_mt)),
        "log1p_counts_range": _range(obs["log1p_total_counts"], params.nmads_counts),
        "log1p_genes_range": _range(obs["log1p_n_genes_by_counts"], params.nmads_genes),
        "min_genes": int(params.min_genes),
    }
    return flags


def _range(values: pd.Series, nmads: float) -> list[float]:
    med, mad = float(np.median(values)), float(median_abs_deviation(values))
    return [med - nmads * mad, med + nmads * mad]


def qc_summary(table: pd.DataFrame, sample_id: str) -> dict:
    """One row of the study QC summary: cells in, removed by reason, kept, medians, and the estimated
    ambient-RNA share of the kept cells (mean and median; NaN when ``scrna.ambient.method`` is none)."""
    kept = table[table["removed"] == ""]
    ambient = kept["ambient_contamination"] if "ambient_contamination" in kept else pd.Series(dtype=float)
    return {
        "sample_id": sample_id,
        "cells_in": len(table),
        "low_quality": int((table["removed"] == "low_quality").sum()),
        "doublets": int((table["removed"] == "doublet").sum()),
        "cells_kept": len(kept),
        "median_counts": float(kept["total_counts"].median()) if len(kept) else np.nan,
        "median_genes": float(kept["n_genes_by_counts"].median()) if len(kept) else np.nan,
        "median_pct_mito": float(kept["pct_counts_mt"].median()) if len(kept) else np.nan,
        "mean_ambient": float(ambient.mean()) if ambient.notna().any() else np.nan,
        "median_ambient": float(ambient.median()) if ambient.notna().any() else np.nan,
    }
