"""Figures of the BCR branch: clone sharing between tissues, clonal expansion and isotype use.

Each function takes the branch's tables (``results/bcr/*.tsv``) and returns a matplotlib Figure
(``chain_qc_bars``, one panel, also draws into a given ``ax=``); tissue colours come from
:mod:`belimap.pl.palette`, subset names and order from the vocabulary. Saving is the caller's
(:func:`belimap.pl.save_figure`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from belimap.pl.palette import TOL_BRIGHT, tissue_colours

if TYPE_CHECKING:
    from belimap.vocab import Vocabulary

#: Antibody classes in developmental order (unswitched first); colours from Tol's bright scheme.
ISOTYPES = ["IgM", "IgD", "IgG", "IgA", "IgE", "unknown"]
ISOTYPE_COLOURS = dict(zip(ISOTYPES, [TOL_BRIGHT[i] for i in (4, 0, 1, 2, 5, 6)], strict=True))
MEASURES = {"jaccard": "Jaccard index", "morisita_horn": "Morisita–Horn index"}


def sharing_heatmaps(sharing: pd.DataFrame, *, tissues: list[str], timepoints: list[str]) -> plt.Figure:
    """Tissue × tissue clone sharing at equal depth: the rarefied index (mean over patients of estimable
    pairs) with the mean of the patients' rarefaction intervals; one panel per measure × clone set
    (all, expanded) × timepoint. Rarefied, not raw, because raw indices track sampling depth."""
    tps = [t for t in timepoints if t in set(sharing["timepoint"].astype(str))] or timepoints[:1]
    present = [t for t in tissues if t in set(sharing["tissue_a"]) | set(sharing["tissue_b"])] or tissues
    n = len(present)
    clone_sets = [c for c in ("all", "expanded") if c in set(sharing["clones"].astype(str))] or ["all"]
    panels = [(m, c) for m in MEASURES for c in clone_sets]
    fig, axes = plt.subplots(len(panels), len(tps), figsize=(1.4 + 2.6 * len(tps), 1.2 + 2.2 * len(panels)),
                             squeeze=False, constrained_layout=True)
    ok = sharing[sharing["estimable"].astype(str).str.lower().isin(["true", "1"])]
    for r, (measure, clones) in enumerate(panels):
        col = f"{measure}_rarefied"
        rows = ok[(ok["clones"].astype(str) == clones) & ok[col].notna()]
        vmax = max(float(np.nanmax(rows[col])) if len(rows) else 0.0, 1e-3)
        for c, tp in enumerate(tps):
            ax = axes[r, c]
            mat, lo, hi = np.full((n, n), np.nan), np.full((n, n), np.nan), np.full((n, n), np.nan)
            cnt = np.zeros((n, n), dtype=int)
            sub = rows[rows["timepoint"].astype(str) == tp]
            for (ta, tb), g in sub.groupby(["tissue_a", "tissue_b"]):
                if ta in present and tb in present:
                    i, j = present.index(ta), present.index(tb)
                    mat[i, j] = mat[j, i] = g[col].mean()
                    lo[i, j] = lo[j, i] = g[f"{col}_lo"].mean()
                    hi[i, j] = hi[j, i] = g[f"{col}_hi"].mean()
                    cnt[i, j] = cnt[j, i] = len(g)
            im = ax.imshow(np.ma.masked_invalid(mat), cmap="viridis", vmin=0, vmax=vmax)
            for i in range(n):
                for j in range(n):
                    if i != j and not np.isnan(mat[i, j]):
                        ax.text(j, i, f"{mat[i, j]:.2f}\n[{lo[i, j]:.2f}–{hi[i, j]:.2f}]\nn={cnt[i, j]}",
                                ha="center", va="center", fontsize=5,
                                color="white" if mat[i, j] < 0.6 * vmax else "black")
            ax.set_xticks(range(n), [t.replace("_", " ") for t in present], rotation=45, ha="right")
            ax.set_yticks(range(n), [t.replace("_", " ") for t in present])
            ax.set_title(f"{tp}" if r == 0 else "")
            if c == 0:
                ax.set_ylabel(f"{clones} clones")
            if c == len(tps) - 1:
                fig.colorbar(im, ax=ax, shrink=0.8, label=f"{MEASURES[measure]}, rarefied\n(mean over patients)")
    fig.suptitle("Clone sharing between tissues at equal depth\n(rarefied mean [mean interval]; "
                 "n = patients with both specimens estimable)")
    return fig


def expansion_bars(expansion: pd.DataFrame, vocab: Vocabulary, *, tissues: list[str],
                   timepoints: list[str]) -> plt.Figure:
    """Share of a subset's BCR cells in clones with > 1 cell in the specimen, per tissue; one panel per timepoint.

    Bars pool the patients (cells summed); dots are single patients. Subsets without cells are left out.
    """
    subsets, labels = vocab.subset_ids, vocab.subset_labels()
    colours = tissue_colours(tissues)
    tps = [t for t in timepoints if t in set(expansion["timepoint"].astype(str))] or timepoints[:1]
    subs = [s for s in subsets if expansion.loc[expansion["subset"] == s, "n_cells"].sum() > 0] or subsets
    fig, axes = plt.subplots(1, len(tps), figsize=(1.2 + 0.32 * len(subs) * len(tps), 2.8), sharey=True,
                             squeeze=False, constrained_layout=True)
    width = 0.8 / max(len(tissues), 1)
    single = [c for c in expansion.columns if c.startswith("n_size_")][0]
    for c, tp in enumerate(tps):
        ax = axes[0, c]
        d = expansion[expansion["timepoint"].astype(str) == tp]
        for k, tissue in enumerate(tissues):
            dt = d[d["tissue"].astype(str) == tissue]
            if dt.empty:
                continue
            x = np.arange(len(subs)) + (k - (len(tissues) - 1) / 2) * width
            pooled = dt.groupby("subset")[["n_cells", single]].sum().reindex(subs, fill_value=0)
            frac = (pooled["n_cells"] - pooled[single]) / pooled["n_cells"].replace(0, np.nan)
            ax.bar(x, 100 * frac.to_numpy(), width, color=colours[tissue], label=tissue.replace("_", " "))
            for i, s in enumerate(subs):
                pts = dt.loc[(dt["subset"] == s) & (dt["n_cells"] > 0), "fraction_expanded"].dropna()
                ax.scatter(np.full(len(pts), x[i]), 100 * pts, s=4, color="black", zorder=3, linewidths=0)
        ax.set_xticks(np.arange(len(subs)), [labels.get(s, s) for s in subs], rotation=45, ha="right")
        ax.set_title(tp)
        if c == 0:
            ax.set_ylabel("cells in expanded clones (% of subset's BCR cells)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[t]) for t in tissues]
    fig.legend(handles, [t.replace("_", " ") for t in tissues], frameon=False, title="tissue",
               loc="outside right upper")
    return fig


def isotype_bars(isotypes: pd.DataFrame, vocab: Vocabulary, *, tissues: list[str], timepoints: list[str]) -> plt.Figure:
    """Isotype (heavy-chain class) composition per subset, stacked to 100 %; panels tissue × timepoint."""
    subsets, labels = vocab.subset_ids, vocab.subset_labels()
    tis = [t for t in tissues if t in set(isotypes["tissue"].astype(str))] or tissues[:1]
    tps = [t for t in timepoints if t in set(isotypes["timepoint"].astype(str))] or timepoints[:1]
    subs = [s for s in subsets if s in set(isotypes["subset"])] or subsets
    classes = [i for i in ISOTYPES if i in set(isotypes["isotype"])] or ISOTYPES[:1]
    fig, axes = plt.subplots(len(tis), len(tps), figsize=(0.6 + 0.4 * len(subs) * len(tps), 0.6 + 1.9 * len(tis)),
                             sharex=True, sharey=True, squeeze=False, constrained_layout=True)
    for r, tissue in enumerate(tis):
        for c, tp in enumerate(tps):
            ax = axes[r, c]
            d = isotypes[(isotypes["tissue"].astype(str) == tissue) & (isotypes["timepoint"].astype(str) == tp)]
            if d.empty:  # specimen not in the design
                ax.axis("off")
                continue
            tab = d.groupby(["subset", "isotype"])["n_cells"].sum().unstack(fill_value=0)
            tab = tab.reindex(index=subs, columns=classes, fill_value=0)
            tot = tab.sum(axis=1).replace(0, np.nan)
            bottom = np.zeros(len(subs))
            for iso in classes:
                h = (100 * tab[iso] / tot).fillna(0).to_numpy()
                ax.bar(range(len(subs)), h, 0.8, bottom=bottom, color=ISOTYPE_COLOURS[iso], label=iso)
                bottom += h
            for i, n in enumerate(tab.sum(axis=1)):
                ax.text(i, 101, str(int(n)), ha="center", va="bottom", fontsize=5)
            ax.set_ylim(0, 112)
            ax.set_title(f"{tissue.replace('_', ' ')} · {tp}", fontsize=7)
            if c == 0:
                ax.set_ylabel("heavy-chain isotype (% of cells)")
            ax.set_xticks(range(len(subs)), [labels.get(s, s) for s in subs], rotation=45, ha="right")
    handles = [plt.Rectangle((0, 0), 1, 1, color=ISOTYPE_COLOURS[i]) for i in classes]
    fig.legend(handles, classes, frameon=False, title="isotype", loc="outside right upper")
    return fig


def chain_qc_bars(chain_qc: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Figure:
    """Chain pairing classes per sample (scirpy ``chain_qc``), as % of the sample's cells with contigs.

    Draws into ``ax`` when given (and returns its figure), else into a new figure sized to the samples.
    """
    cols = [c for c in chain_qc.columns if c.startswith("n_") and c not in ("n_cells", "n_in_gex", "n_analysed")]
    frac = 100 * chain_qc[cols].div(chain_qc["n_cells"].replace(0, np.nan), axis=0).fillna(0)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.5 + 0.16 * len(chain_qc), 3.0), constrained_layout=True)
    fig = ax.figure
    bottom = np.zeros(len(chain_qc))
    cmap = plt.get_cmap("tab20")
    for k, col in enumerate(cols):
        ax.bar(range(len(chain_qc)), frac[col], 0.85, bottom=bottom, color=cmap(k % 20),
               label=col[2:].replace("_", " "))
        bottom += frac[col].to_numpy()
    ax.set_xticks(range(len(chain_qc)), chain_qc["sample_id"], rotation=90, fontsize=5)
    ax.set_ylabel("chain pairing (% of cells with contigs)")
    ax.set_xlabel("sample")
    ax.legend(frameon=False, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig
