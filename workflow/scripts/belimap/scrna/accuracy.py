"""The scRNA branch scored against the simulator's truth (simulated studies only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimap.vocab import Vocabulary

if TYPE_CHECKING:
    import anndata as ad


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
