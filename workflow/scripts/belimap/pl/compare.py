"""Figures of the comparison branch: forest plots, effect heatmap, paired per-patient plots,
volcano plots and gene-set score plots.

Every function takes the tables the branch writes (``composition_tests.tsv``, composition tables,
DE tables, score tables) as data, then keyword parameters (``ax=`` where it draws one panel), and
returns the Figure; :mod:`belimap.compare.pipeline` saves it with :func:`belimap.pl.save_figure`.
Colours come from :mod:`belimap.pl.palette`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.lines import Line2D

from belimap.pl.palette import CONTRAST_GREYS, CONTRAST_MARKERS, subset_colours, timepoint_colours
from belimap.vocab import Vocabulary

NOT_TESTABLE = "n.t."


def _stars(q: float, fdr: float) -> str:
    if not np.isfinite(q) or q >= fdr:
        return ""
    return "***" if q < fdr / 50 else "**" if q < fdr / 5 else "*"


def _message(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def forest_panel(rows: pd.DataFrame, *, subsets: list[str], labels: dict[str, str], group_col: str,
                 colours: dict[str, str], fdr: float, markers: dict[str, str] | None = None,
                 ax: plt.Axes | None = None) -> plt.Figure:
    """Log odds ratios with CIs, one line per subset, one marker per ``group_col`` value.

    Filled markers have q < ``fdr``; rows that are not testable show "n.t." at zero, so a gap in
    the plot is never mistaken for "no effect".
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(3.4, 0.3 * len(subsets) + 1.2))
    groups = [g for g in colours if (rows[group_col] == g).any()]
    markers = markers or {}
    width = 0.7 / max(len(groups), 1)
    for j, g in enumerate(groups):
        sub = rows[rows[group_col] == g].set_index("subset")
        for i, s in enumerate(subsets):
            if s not in sub.index:
                continue
            r = sub.loc[s]
            y = i + (j - (len(groups) - 1) / 2) * width
            if not bool(r["testable"]):
                ax.text(0, y, NOT_TESTABLE, fontsize=6, color="0.5", ha="center", va="center")
                continue
            sig = np.isfinite(r["q_value"]) and r["q_value"] < fdr
            ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colours[g], lw=1.2)
            ax.plot(r["log_odds_ratio"], y, markers.get(g, "o"), ms=4, color=colours[g],
                    mfc=colours[g] if sig else "white")
    ax.axvline(0, color="0.6", lw=0.8, ls="--")
    ax.set_yticks(range(len(subsets)), [labels[s] for s in subsets])
    ax.set_ylim(len(subsets) - 0.5, -0.5)
    ax.set_xlabel("log odds ratio (95 % CI)")
    ax.legend(handles=[Line2D([], [], marker=markers.get(g, "o"), color=colours[g], label=str(g).replace("_", " "))
                       for g in groups],
              fontsize=6, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=1)
    return ax.figure


def forest_figure(tests: pd.DataFrame, vocab: Vocabulary, *, tissues: list[str], timepoints: list[str],
                  fdr: float = 0.05) -> plt.Figure:
    """One panel per tissue (each later timepoint vs baseline) plus one of tissue contrasts at baseline."""
    labels = vocab.subset_labels()
    treat = tests[tests["comparison"] == "treatment"]
    tis = tests[tests["comparison"] == "tissue"].assign(pair=lambda d: d["tissue"] + " vs " + d["reference"])
    shown = [t for t in tissues if (treat["tissue"] == t).any()]
    n = len(shown) + (1 if len(tis) else 0)
    fig, axes = plt.subplots(1, max(n, 1), figsize=(2.6 * max(n, 1) + 0.8, 0.3 * len(vocab.subset_ids) + 1.2),
                             sharey=True, squeeze=False)
    tp_col = timepoint_colours(timepoints)
    for ax, tissue in zip(axes[0], shown, strict=False):
        forest_panel(treat[treat["tissue"] == tissue], subsets=vocab.subset_ids, labels=labels, group_col="timepoint",
                     colours={tp: tp_col[tp] for tp in timepoints[1:]}, fdr=fdr, ax=ax)
        ax.set_title(f"{tissue.replace('_', ' ')}: vs {timepoints[0]}")
    if len(tis):
        # Tissue pairs are not tissues: greys and marker shapes, so no pair borrows a tissue's colour.
        pairs = list(dict.fromkeys(tis["pair"]))
        pal = {p: CONTRAST_GREYS[i % len(CONTRAST_GREYS)] for i, p in enumerate(pairs)}
        shapes = {p: CONTRAST_MARKERS[i % len(CONTRAST_MARKERS)] for i, p in enumerate(pairs)}
        forest_panel(tis, subsets=vocab.subset_ids, labels=labels, group_col="pair", colours=pal, fdr=fdr,
                     markers=shapes, ax=axes[0][-1])
        axes[0][-1].set_title(f"tissues at {timepoints[0]}")
    if n == 0:
        _message(axes[0][0], "no composition tests")
    fig.suptitle(f"Composition: effects on the odds of each subset among B-lineage cells (filled: q < {fdr})", fontsize=8)
    fig.tight_layout()
    return fig


def effect_heatmap(tests: pd.DataFrame, vocab: Vocabulary, *, fdr: float = 0.05,
                   ax: plt.Axes | None = None) -> plt.Figure:
    """Subsets × contrasts coloured by log odds ratio; stars mark q-values, hatching "not testable".

    Drawn into ``ax`` when given (the caller lays out its figure), else into a new figure sized to
    the contrasts.
    """
    tests = tests.copy()
    tests["column"] = np.where(tests["comparison"] == "treatment", tests["tissue"] + "\n" + tests["timepoint"] + " vs "
                               + tests["reference"], tests["tissue"] + " vs\n" + tests["reference"] + " (" + tests["timepoint"] + ")")
    order = list(dict.fromkeys(tests.loc[tests["comparison"] == "treatment", "column"])) + \
        list(dict.fromkeys(tests.loc[tests["comparison"] == "tissue", "column"]))
    subsets = vocab.subset_ids
    val = tests.pivot_table(index="subset", columns="column", values="log_odds_ratio", aggfunc="first", dropna=False)
    val = val.reindex(index=subsets, columns=order)
    own = ax is None
    if own:
        _, ax = plt.subplots(figsize=(0.75 * max(len(order), 1) + 2.5, 0.35 * len(subsets) + 1.6))
    fig = ax.figure
    if not order:
        _message(ax, "no composition tests")
        return fig
    lim = float(np.nanmax(np.abs(val.to_numpy()))) if np.isfinite(val.to_numpy()).any() else 1.0
    im = ax.imshow(val.to_numpy(float), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    idx = tests.set_index(["subset", "column"])
    for i, s in enumerate(subsets):
        for j, c in enumerate(order):
            if (s, c) not in idx.index:
                continue
            r = idx.loc[(s, c)]
            if not bool(r["testable"]):
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", ec="0.75", lw=0))
                ax.text(j, i, NOT_TESTABLE, ha="center", va="center", fontsize=5, color="0.4")
            else:
                ax.text(j, i, _stars(r["q_value"], fdr), ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(order)), order, rotation=90, fontsize=6)
    ax.set_yticks(range(len(subsets)), [vocab.subset_labels()[s] for s in subsets])
    ax.spines[:].set_visible(False)
    fig.colorbar(im, ax=ax, label="log odds ratio (test vs reference)", shrink=0.8)
    ax.set_title(f"Composition effects; * q < {fdr}, ** q < {fdr / 5:g}, *** q < {fdr / 50:g}; {NOT_TESTABLE} not testable")
    if own:
        fig.tight_layout()
    return fig


def paired_figure(comp: pd.DataFrame, vocab: Vocabulary, *, tissues: list[str], timepoints: list[str],
                  min_bcells: int = 1) -> plt.Figure:
    """% of B-lineage cells per subset over timepoints, one line per patient, one row per tissue."""
    comp = comp[comp["n_bcells"] >= min_bcells]
    shown = [t for t in tissues if (comp["tissue"] == t).any()]
    subsets = vocab.subset_ids
    fig, axes = plt.subplots(max(len(shown), 1), len(subsets), figsize=(1.5 * len(subsets) + 0.5, 1.6 * max(len(shown), 1) + 0.6),
                             squeeze=False)
    cols = subset_colours(vocab)
    for i, tissue in enumerate(shown):
        in_t = comp[comp["tissue"] == tissue]
        tps = [tp for tp in timepoints if (in_t["timepoint"] == tp).any()]
        for j, s in enumerate(subsets):
            ax = axes[i][j]
            d = in_t[in_t["subset"] == s].assign(x=lambda x: x["timepoint"].map(tps.index), pct=lambda x: 100 * x["fraction"])
            for _, p in d.sort_values("x").groupby("patient_id"):
                ax.plot(p["x"], p["pct"], "-o", ms=2.5, lw=0.8, color=cols[s], alpha=0.7)
            mean = d.groupby("x")["pct"].mean()
            ax.plot(mean.index, mean.to_numpy(), "-", color="black", lw=1.5)
            ax.set_xticks(range(len(tps)), tps, rotation=45, fontsize=6)
            ax.set_xlim(-0.3, len(tps) - 0.7)
            if i == 0:
                ax.set_title(vocab.subset_labels()[s], fontsize=7)
            if j == 0:
                ax.set_ylabel(f"{tissue.replace('_', ' ')}\n% of B-lineage cells")
    if not shown:
        _message(axes[0][0], "no composition data")
    fig.suptitle("Subset shares per patient (lines) and their mean (black)", fontsize=8)
    fig.tight_layout()
    return fig


def volcano_figure(tables: dict[tuple[str, str], pd.DataFrame], vocab: Vocabulary, *, tissue: str, alpha: float = 0.05,
                   n_labels: int = 5) -> plt.Figure:
    """Volcano plots of one tissue, one panel per (subset, later timepoint) that was tested.

    ``tables`` maps ``(subset, tissue)`` to its DE table; only the given tissue's are drawn.
    """
    panels = [(s, tp, t[t["timepoint"] == tp]) for (s, tis), t in tables.items() if tis == tissue and len(t)
              for tp in dict.fromkeys(t["timepoint"])]
    n = max(len(panels), 1)
    ncol = min(n, 4)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 2.4 * nrow), squeeze=False)
    labels = vocab.subset_labels()
    for ax, (s, tp, t) in zip(axes.ravel(), panels, strict=False):
        t = t.dropna(subset=["p_value", "log2_fold_change"])
        y = -np.log10(t["p_value"].clip(lower=1e-300))
        sig = t["padj"] < alpha
        ax.scatter(t.loc[~sig, "log2_fold_change"], y[~sig], s=3, color="0.7", lw=0, rasterized=True)
        ax.scatter(t.loc[sig, "log2_fold_change"], y[sig], s=5, color=subset_colours(vocab)[s], lw=0, rasterized=True)
        for _, r in t[sig].nsmallest(n_labels, "p_value").iterrows():
            ax.annotate(r["gene"], (r["log2_fold_change"], -np.log10(max(r["p_value"], 1e-300))), fontsize=5,
                        xytext=(2, 2), textcoords="offset points")
        ax.axvline(0, color="0.8", lw=0.6)
        ref = t["reference"].iloc[0] if len(t) else ""
        ax.set_title(f"{labels[s]}: {tp} vs {ref}\n{int(sig.sum())} genes with padj < {alpha}", fontsize=7)
        ax.set_xlabel("log2 fold change")
        ax.set_ylabel("-log10 p")
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    if not panels:
        axes[0][0].set_visible(True)
        _message(axes[0][0], f"{tissue}: no subset had enough paired samples for DE")
    fig.suptitle(f"Pseudobulk DE in {tissue.replace('_', ' ')} (DESeq2, ~ patient + timepoint)", fontsize=8)
    fig.tight_layout()
    return fig


def scores_figure(per_sample: pd.DataFrame, vocab: Vocabulary, *, gene_sets: dict[str, str], tissues: list[str],
                  timepoints: list[str]) -> plt.Figure:
    """Specimen-mean gene-set scores: rows gene sets, columns tissues, x subsets, colour timepoint."""
    sets = [g for g in gene_sets if (per_sample["gene_set"] == g).any()]
    shown = [t for t in tissues if (per_sample["tissue"] == t).any()]
    fig, axes = plt.subplots(max(len(sets), 1), max(len(shown), 1), figsize=(3.2 * max(len(shown), 1), 1.8 * max(len(sets), 1) + 0.6),
                             squeeze=False, sharey="row")
    tp_col = timepoint_colours(timepoints)
    labels = vocab.subset_labels()
    for i, g in enumerate(sets):
        for j, tissue in enumerate(shown):
            ax = axes[i][j]
            d = per_sample[(per_sample["gene_set"] == g) & (per_sample["tissue"] == tissue)]
            subs = [s for s in vocab.subset_ids if (d["subset"] == s).any()]
            tps = [tp for tp in timepoints if (d["timepoint"] == tp).any()]
            w = 0.8 / max(len(tps), 1)
            for k, tp in enumerate(tps):
                for x, s in enumerate(subs):
                    v = d.loc[(d["subset"] == s) & (d["timepoint"] == tp), "mean_score"].to_numpy()
                    pos = x + (k - (len(tps) - 1) / 2) * w
                    ax.scatter(np.full(len(v), pos), v, s=6, color=tp_col[tp], lw=0)
                    if len(v):
                        ax.plot([pos - w / 2.5, pos + w / 2.5], [np.mean(v)] * 2, color=tp_col[tp], lw=1.5)
            last = i == len(sets) - 1
            ax.set_xticks(range(len(subs)), [labels[s] for s in subs] if last else [], rotation=60, ha="right", fontsize=6)
            if i == 0:
                ax.set_title(tissue.replace("_", " "))
            if j == 0:
                ax.set_ylabel(f"{gene_sets[g]}\nscore (log expr. vs control)", fontsize=6)
    if sets and shown:
        axes[0][-1].legend(handles=[Line2D([], [], marker="o", ls="", color=tp_col[t], label=t) for t in timepoints],
                           fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        _message(axes[0][0], "no gene-set scores")
    fig.suptitle("Gene-set scores per specimen (points) and their mean (bars)", fontsize=8)
    fig.tight_layout()
    return fig
