"""The scRNA branch scored against the simulator's truth (simulated studies only), without conditioning.

Every truth cell is scored, matched on (sample_id, barcode). A cell QC removed is not dropped from
the score: its prediction is ``removed_low_quality`` or ``removed_doublet`` (the reason in the
per-sample QC table, ``removed`` when no table says), which is never a correct label; an
``unassigned`` B-lineage cell is not recovered either. Populations:

* lineage accuracy and macro-F1: all truth singlets (``is_doublet`` false), removed or not;
* B-subset precision / recall / F1: recall over all truth B-lineage singlets of the subset,
  precision over every cell predicted as the subset (true non-B cells and kept doublets count as
  false positives); the macro-F1 averages the subsets present in the truth;
* per-sample fraction MAE: the composition table's fractions (over assigned B-lineage cells, see
  :mod:`belimap.composition`) against the truth's (over true B-lineage singlets);
* unassigned share: unassigned over kept cells labelled B lineage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimap.vocab import UNASSIGNED, Vocabulary

if TYPE_CHECKING:
    import anndata as ad

#: Columns of ``results/scrna/accuracy.tsv``: ``label`` is a subset, lineage or sample (``""`` = whole study).
ACCURACY_COLUMNS = ["metric", "label", "value", "n"]
#: Predicted labels of truth cells that QC removed (the QC table's ``removed`` reason).
REMOVED = "removed_{}"
#: Truth and prediction classes outside the B-subset vocabulary in the confusion matrix.
OTHER_LINEAGE, DOUBLET = "other_lineage", "doublet"


def score_cells(obs: pd.DataFrame, truth_cells: pd.DataFrame, vocab: Vocabulary,
                qc: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per truth cell: truth and predicted lineage and subset (``*_true`` / ``*_pred``).

    ``obs`` holds the labelled cells (``sample_id, barcode, lineage, bcell_subset``); ``qc`` the
    per-cell QC tables (``sample_id, barcode, removed``) that say why a truth cell is missing.
    """
    t = truth_cells.copy()
    t["sample_id"], t["barcode"] = t["sample_id"].astype(str), t["barcode"].astype(str)
    is_doublet = t["is_doublet"].astype(str).str.lower().isin(["true", "1"]) if "is_doublet" in t \
        else t["lineage"].astype(str).eq(DOUBLET)
    low_q = t["is_low_quality"].astype(str).str.lower().isin(["true", "1"]) if "is_low_quality" in t \
        else pd.Series(False, index=t.index)
    o = obs[["sample_id", "barcode", "lineage", "bcell_subset"]].astype(str)
    m = t[["sample_id", "barcode", "lineage", "bcell_subset"]].astype(str).merge(
        o, on=["sample_id", "barcode"], how="left", suffixes=("_true", "_pred"), indicator=True)
    m["is_doublet"], m["is_low_quality"] = is_doublet.to_numpy(), low_q.to_numpy()
    removed = m["_merge"].eq("left_only").to_numpy()
    reason = pd.Series("", index=m.index)
    if qc is not None and len(qc):
        q = qc[["sample_id", "barcode", "removed"]].astype({"sample_id": str, "barcode": str})
        # the QC tables name a barcode as the cell (``"{sample_id}:{barcode}"``): strip the sample prefix
        prefix = q["sample_id"] + ":"
        q["barcode"] = [b[len(p):] if b.startswith(p) else b for b, p in zip(q["barcode"], prefix, strict=True)]
        q = q.drop_duplicates(["sample_id", "barcode"]).set_index(["sample_id", "barcode"])["removed"]
        reason = pd.Series(pd.MultiIndex.from_frame(m[["sample_id", "barcode"]]).map(q), index=m.index)
    reason = reason.fillna("").astype(str).replace({"nan": ""})
    removed_label = np.where(reason.eq(""), "removed", "removed_" + reason)
    bl = list(vocab.bcell_lineages)
    m["lineage_pred"] = np.where(removed, removed_label, m["lineage_pred"].fillna(""))
    kept_b = ~removed & m["lineage_pred"].isin(bl).to_numpy()
    m["subset_pred"] = np.where(removed, removed_label,
                                np.where(kept_b, m["bcell_subset_pred"].fillna(UNASSIGNED).replace("", UNASSIGNED),
                                         OTHER_LINEAGE))
    true_b = ~m["is_doublet"] & m["lineage_true"].isin(bl)
    m["subset_true"] = np.where(m["is_doublet"], DOUBLET, np.where(true_b, m["bcell_subset_true"], OTHER_LINEAGE))
    m["lineage_true"] = np.where(m["is_doublet"], DOUBLET, m["lineage_true"])
    return m[["sample_id", "barcode", "is_doublet", "is_low_quality", "lineage_true", "lineage_pred", "subset_true",
              "subset_pred"]]


def accuracy_table(scored: pd.DataFrame, vocab: Vocabulary, observed: pd.DataFrame | None = None,
                   truth_composition: pd.DataFrame | None = None) -> pd.DataFrame:
    """``ACCURACY_COLUMNS`` rows from :func:`score_cells` (and the compositions for the fraction MAE)."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    rows: list[dict] = []

    def add(metric: str, value: float, n: int, label: str = "") -> None:
        rows.append({"metric": metric, "label": label, "value": float(value), "n": int(n)})

    singlets = scored[~scored["is_doublet"]]
    add("cells_scored", len(scored), len(scored))
    add("truth_singlets", len(singlets), len(singlets))
    for reason in sorted(r for r in set(scored["lineage_pred"]) if r.startswith("removed")):
        for cls, part in (("singlet", singlets), ("low_quality_singlet", singlets[singlets["is_low_quality"]]),
                          ("doublet", scored[scored["is_doublet"]])):
            if len(part):
                k = int((part["lineage_pred"] == reason).sum())
                add(f"{reason}_share", k / len(part), k, cls)
    lineages = sorted(set(singlets["lineage_true"]))
    if len(singlets):
        add("lineage_accuracy", accuracy_score(singlets["lineage_true"], singlets["lineage_pred"]), len(singlets))
        add("lineage_macro_f1", f1_score(singlets["lineage_true"], singlets["lineage_pred"], labels=lineages,
                                         average="macro", zero_division=0), len(singlets))
    b_true = singlets[singlets["subset_true"] != OTHER_LINEAGE]
    present = [s for s in vocab.subset_ids if (b_true["subset_true"] == s).any()]
    if present:
        p, r, f, sup = precision_recall_fscore_support(scored["subset_true"], scored["subset_pred"], labels=present,
                                                       zero_division=0)
        for sid, pi, ri, fi, ni in zip(present, p, r, f, sup, strict=True):
            add("precision", pi, int((scored["subset_pred"] == sid).sum()), sid)
            add("recall", ri, ni, sid)
            add("f1", fi, ni, sid)
        add("bcell_subset_macro_f1", float(np.mean(f)), len(b_true))
        # the old, conditioned figure, for comparison only: kept cells labelled B lineage, true B lineage
        both = b_true[~b_true["subset_pred"].isin([OTHER_LINEAGE, UNASSIGNED])
                      & ~b_true["subset_pred"].str.startswith("removed")]
        if len(both):
            add("bcell_subset_macro_f1_conditioned", f1_score(both["subset_true"], both["subset_pred"], labels=present,
                                                              average="macro", zero_division=0), len(both))
    doublets = scored[scored["is_doublet"]]
    if len(doublets):
        add("doublets_removed", doublets["lineage_pred"].str.startswith("removed").mean(), len(doublets))
    kept_b = scored[~scored["subset_pred"].isin([OTHER_LINEAGE]) & ~scored["subset_pred"].str.startswith("removed")]
    if len(kept_b):
        add("unassigned_share", (kept_b["subset_pred"] == UNASSIGNED).mean(), len(kept_b))
        for sid, part in kept_b.groupby("sample_id", sort=True):
            add("unassigned_share", (part["subset_pred"] == UNASSIGNED).mean(), len(part), str(sid))
    if observed is not None and truth_composition is not None:
        per = composition_errors(observed, truth_composition)
        if len(per):
            add("fraction_mae", per["abs_error"].mean(), len(per))
            for sid, part in per.groupby("sample_id", sort=True):
                add("fraction_mae", part["abs_error"].mean(), len(part), str(sid))
    return pd.DataFrame(rows, columns=ACCURACY_COLUMNS)


def confusion(scored: pd.DataFrame, vocab: Vocabulary) -> pd.DataFrame:
    """Truth × predicted cell counts: rows the vocabulary's subsets (then other lineages, doublets),
    columns the subsets, ``unassigned``, other lineages and every QC removal reason."""
    rows = [*vocab.subset_ids, OTHER_LINEAGE, DOUBLET]
    removed = sorted(r for r in set(scored["subset_pred"]) if r.startswith("removed"))
    cols = [*vocab.subset_ids, UNASSIGNED, OTHER_LINEAGE, *removed]
    tab = pd.crosstab(scored["subset_true"], scored["subset_pred"]).reindex(index=rows, columns=cols, fill_value=0)
    tab = tab.loc[tab.sum(axis=1) > 0]
    tab.index.name, tab.columns.name = "truth", "predicted"
    return tab


def accuracy_against_truth(adata: ad.AnnData, truth_cells: pd.DataFrame, vocab: Vocabulary,
                           qc: pd.DataFrame | None = None) -> dict:
    """The study-level figures of :func:`accuracy_table` as a dict (``metric`` → value, label ``""``)."""
    tab = accuracy_table(score_cells(adata.obs, truth_cells, vocab, qc), vocab)
    whole = tab[tab["label"] == ""]
    return dict(zip(whole["metric"], whole["value"], strict=True))


def composition_errors(observed: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per sample × subset absolute error of the fraction against the truth (both sides with B cells)."""
    m = observed.merge(truth, on=["sample_id", "subset"], suffixes=("", "_true"))
    m = m.dropna(subset=["fraction", "fraction_true"])
    return m.assign(abs_error=(m["fraction"] - m["fraction_true"]).abs())[["sample_id", "subset", "abs_error"]]


def composition_error(observed: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Mean absolute error of per-sample subset fractions against the truth (samples with B cells in both)."""
    m = composition_errors(observed, truth)
    return float(m["abs_error"].mean()) if len(m) else float("nan")
