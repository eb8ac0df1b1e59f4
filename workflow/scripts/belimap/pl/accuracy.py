"""The annotation scored against truth: a truth × predicted confusion matrix (simulated studies)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from belimap.pl.palette import plt
from belimap.vocab import UNASSIGNED, Vocabulary


def confusion_matrix(conf: pd.DataFrame, vocab: Vocabulary, *, title: str = "scRNA-seq B-cell subsets") -> plt.Figure:
    """Row-normalised heat map of ``conf`` (truth rows × predicted columns, cell counts), counts written in.

    Columns beyond the subsets (``unassigned``, other lineages, QC removals) are drawn after a
    divider, so what was lost is read beside what was confused; rows are labelled with their size.
    """
    labels = {**vocab.subset_labels(), UNASSIGNED: "Unassigned", "other_lineage": "Other lineage",
              "doublet": "Doublet (truth)", "removed_low_quality": "Removed: low quality",
              "removed_doublet": "Removed: doublet", "removed": "Removed by QC"}
    counts = conf.to_numpy(float)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    fig, ax = plt.subplots(figsize=(0.55 * conf.shape[1] + 2.6, 0.45 * conf.shape[0] + 1.6))
    im = ax.imshow(share, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(conf.shape[0]):
        for j in range(conf.shape[1]):
            if counts[i, j]:
                ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=6,
                        color="black" if share[i, j] > 0.6 else "white")
    n_sub = sum(c in vocab.subset_ids for c in conf.columns)
    if 0 < n_sub < conf.shape[1]:
        ax.axvline(n_sub - 0.5, color="white", lw=2)
    ax.set_xticks(range(conf.shape[1]), [labels.get(c, c) for c in conf.columns], rotation=45, ha="right")
    ax.set_yticks(range(conf.shape[0]), [f"{labels.get(r, r)} (n={int(t)})" for r, t in zip(conf.index, totals[:, 0],
                                                                                           strict=True)])
    ax.set(xlabel="Predicted label", ylabel="Truth label", title=title)
    ax.spines[:].set_visible(False)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="Share of truth row")
    fig.tight_layout()
    return fig
