"""The scRNA-seq branch as verbs the workflow's scripts call, one per rule.

``preprocess_sample`` (per file) → ``concat_samples`` → ``integrate`` → ``annotate`` →
``compositions``. Each takes the validated config and returns AnnData/DataFrames; nothing here
touches Snakemake.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from belimap import annotate as an
from belimap.composition import composition_table, lineage_table
from belimap.errors import BelimapError
from belimap.io import read_counts
from belimap.qc import filter_sample, qc_summary
from belimap.vocab import Vocabulary

OBS_META = ["sample_id", "barcode", "patient_id", "tissue", "timepoint", "batch"]


def preprocess_sample(path: str, meta: dict, cfg: dict) -> tuple[ad.AnnData, pd.DataFrame, dict]:
    """Read one raw file, QC it, call doublets; returns (kept cells, per-cell QC table, summary row).

    ``meta`` is the sample's sheet row. ``obs_names`` become ``"{sample_id}:{barcode}"``.
    """
    raw = read_counts(path)
    raw.obs["barcode"] = raw.obs_names.astype(str)
    raw.obs_names = [f"{meta['sample_id']}:{bc}" for bc in raw.obs["barcode"]]
    seed = int(cfg["seed"])
    kept, table = filter_sample(raw, cfg["scrna"]["qc"], cfg["scrna"]["doublets"], seed)
    for key in OBS_META:
        if key != "barcode":
            kept.obs[key] = str(meta.get(key, "") or "")
    kept.obs = kept.obs[OBS_META + [c for c in kept.obs.columns if c not in OBS_META]]
    table.insert(0, "sample_id", meta["sample_id"])
    summary = qc_summary(table, meta["sample_id"])
    if kept.n_obs == 0:
        kept.uns.setdefault("notes", []).append(f"{meta['sample_id']}: no cells passed QC")
    return kept, table, summary


def concat_samples(samples: list[ad.AnnData], cfg: dict) -> ad.AnnData:
    """Concatenate per-sample objects on their shared genes with ordered tissue/timepoint categories."""
    samples = [s for s in samples if s.n_obs > 0]
    if not samples:
        raise BelimapError("scRNA-seq: no cells passed QC in any sample; check the QC thresholds in config scrna.qc")
    notes = [n for s in samples for n in s.uns.get("notes", [])]
    adata = ad.concat(samples, join="inner", merge="same")
    adata.obs["tissue"] = pd.Categorical(adata.obs["tissue"], categories=cfg["tissues"], ordered=True)
    adata.obs["timepoint"] = pd.Categorical(adata.obs["timepoint"], categories=cfg["timepoints"], ordered=True)
    for key in ("sample_id", "patient_id", "batch"):
        adata.obs[key] = adata.obs[key].astype("category")
    adata.uns = {"notes": notes}
    return adata


def integrate(adata: ad.AnnData, cfg: dict) -> ad.AnnData:
    """Normalise, embed (HVG, PCA, Harmony, neighbours, UMAP) and cluster the whole study, in place."""
    p = cfg["scrna"]
    an.normalise(adata, p["qc"]["min_cells_per_gene"])
    if adata.n_obs < p["min_cells_for_integration"]:
        raise BelimapError(
            f"scRNA-seq: only {adata.n_obs} cells passed QC, fewer than scrna.min_cells_for_integration "
            f"({p['min_cells_for_integration']}); lower it or add samples")
    an.embed(adata, p["hvg"]["n_top_genes"], p["pca"]["n_comps"], p["integrate"], p["neighbors"]["n_neighbors"],
             p["leiden"]["resolution"], int(cfg["seed"]))
    return adata


def annotate(adata: ad.AnnData, vocab: Vocabulary, cfg: dict) -> ad.AnnData:
    """Lineage labels for all cells, then B-subset labels for the B lineage; returns the B-cell object."""
    p = cfg["scrna"]
    seed = int(cfg["seed"])
    an.label_lineages(adata, vocab, seed)
    bcells = an.label_bcell_subsets(adata, vocab, p["bcells"], p["integrate"], p["neighbors"]["n_neighbors"],
                                    p["hvg"]["n_top_genes"], seed)
    adata.obs["bcell_subset"] = adata.obs["bcell_subset"].astype(str)
    return bcells


def compositions(adata: ad.AnnData, specimens: pd.DataFrame, vocab: Vocabulary) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(B-subset composition, lineage composition) of every scRNA specimen, zeros included."""
    obs = adata.obs[["sample_id", "lineage", "bcell_subset"]].astype(str)
    b = obs[obs["lineage"].isin(vocab.bcell_lineages)]
    specimens = specimens.astype({"tissue": str, "timepoint": str})
    return (composition_table(b, specimens, vocab.subset_ids),
            lineage_table(obs, specimens, vocab.lineage_ids))


def accuracy_against_truth(adata: ad.AnnData, truth_cells: pd.DataFrame, vocab: Vocabulary) -> dict:
    """Lineage accuracy (true singlets), B-subset macro-F1 (true B-lineage singlets labelled B) and
    doublet recall, matching cells on (sample_id, barcode)."""
    from sklearn.metrics import accuracy_score, f1_score

    obs = adata.obs[["sample_id", "barcode", "lineage", "bcell_subset"]].astype(str)
    t = truth_cells.astype({"sample_id": str, "barcode": str})
    m = obs.merge(t, on=["sample_id", "barcode"], suffixes=("", "_true"))
    singlets = m[m["lineage_true"] != "doublet"]
    b = singlets[singlets["lineage_true"].isin(vocab.bcell_lineages) & singlets["lineage"].isin(vocab.bcell_lineages)]
    present = sorted(set(b["bcell_subset_true"]))
    n_doublets = int((t["lineage"] == "doublet").sum())
    kept_doublets = int((m["lineage_true"] == "doublet").sum())
    return {
        "cells_scored": len(singlets),
        "lineage_accuracy": float(accuracy_score(singlets["lineage_true"], singlets["lineage"])),
        "bcell_subset_macro_f1": float(f1_score(b["bcell_subset_true"], b["bcell_subset"], labels=present,
                                                average="macro", zero_division=0)) if len(b) else np.nan,
        "doublets_removed": 1.0 - kept_doublets / n_doublets if n_doublets else np.nan,
    }


def composition_error(observed: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Mean absolute error of per-sample subset fractions against the truth (samples with B cells in both)."""
    m = observed.merge(truth, on=["sample_id", "subset"], suffixes=("", "_true")).dropna(subset=["fraction", "fraction_true"])
    return float((m["fraction"] - m["fraction_true"]).abs().mean()) if len(m) else float("nan")
