"""scRNA-seq figures: per-sample QC, UMAPs, marker dot plots, composition bars and patient lines."""

from __future__ import annotations

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from belimap.pl.palette import subset_colours, timepoint_colours, tissue_colours
from belimap.vocab import UNASSIGNED, Vocabulary


def qc_sample(table: pd.DataFrame, thresholds: dict, sample_id: str) -> plt.Figure:
    """Panels per sample: UMI counts, genes and % mito, with the adaptive thresholds drawn, and the
    estimated ambient-RNA share per cell when ambient RNA was removed (``scrna.ambient``).

    ``table`` is the per-cell QC table of :func:`belimap.scrna.pipeline.filter_sample`.
    """
    ambient = table["ambient_contamination"].dropna() if "ambient_contamination" in table else pd.Series(dtype=float)
    fig, axes = plt.subplots(1, 4 if len(ambient) else 3, figsize=(12 if len(ambient) else 9, 2.8))
    removed = table["removed"].astype(str)
    colours = {"": "#4477AA", "low_quality": "#EE6677", "doublet": "#CCBB44"}
    names = {"": "kept", "low_quality": "low quality", "doublet": "doublet"}
    ax = axes[0]
    for reason, sub in table.groupby(removed):
        ax.scatter(sub["total_counts"], sub["n_genes_by_counts"], s=3, c=colours[reason], label=names[reason],
                   rasterized=True)
    ax.set(xscale="log", yscale="log", xlabel="UMI counts per cell", ylabel="genes detected per cell")
    ax.legend(frameon=False, markerscale=3)
    ax = axes[1]
    ax.hist(np.log10(table["total_counts"].clip(lower=1)), bins=40, color="#BBBBBB")
    if thresholds.get("log1p_counts_range"):
        for v in thresholds["log1p_counts_range"]:
            ax.axvline(np.log10(np.expm1(v)), color="#EE6677", ls="--", lw=1)
    ax.set(xlabel="log10 UMI counts per cell", ylabel="cells")
    ax = axes[2]
    ax.hist(table["pct_counts_mt"], bins=40, color="#BBBBBB")
    if "max_pct_mito" in thresholds:
        ax.axvline(thresholds["max_pct_mito"], color="#EE6677", ls="--", lw=1, label="threshold")
    ax.set(xlabel="mitochondrial reads (% of counts)", ylabel="cells")
    kept = int((removed == "").sum())
    title = f"{sample_id}: {kept} of {len(table)} cells kept"
    if len(ambient):
        ax = axes[3]
        ax.hist(100 * ambient, bins=40, color="#BBBBBB")
        ax.axvline(100 * ambient.median(), color="#4477AA", ls="--", lw=1)
        ax.set(xlabel="ambient RNA (% of counts, estimated)", ylabel="cells")
        title += f"; ambient RNA median {100 * ambient.median():.1f} %"
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def umaps(adata: ad.AnnData, vocab: Vocabulary, *, tissues: list[str], timepoints: list[str],
          bcells: ad.AnnData | None = None) -> plt.Figure:
    """UMAP of all cells coloured by tissue, timepoint and lineage, and of the B lineage by subset.

    With ``bcells`` (the B-lineage re-embedding) the subset panel uses its own UMAP, where subsets
    separate; otherwise B cells are highlighted on the study UMAP.
    """
    fig, axes = plt.subplots(2, 2, figsize=(9, 8))
    xy = adata.obsm["X_umap"]
    b = adata.obs["bcell_subset"].astype(str) != ""
    panels = [
        ("tissue", tissue_colours(tissues), None, "Tissue"),
        ("timepoint", timepoint_colours(timepoints), None, "Timepoint"),
        ("lineage", vocab.lineage_colours(), {lin.id: lin.label for lin in vocab.lineages}, "Lineage"),
        ("bcell_subset", subset_colours(vocab), {**vocab.subset_labels(), UNASSIGNED: "Unassigned"}, "B-cell subset"),
    ]
    rng = np.random.default_rng(0)
    order = rng.permutation(adata.n_obs)  # draw in random order so no group hides another
    for ax, (key, colours, labels, title) in zip(axes.ravel(), panels, strict=True):
        values, pts, idx = adata.obs[key].astype(str).to_numpy(), xy, order
        if key == "bcell_subset" and bcells is not None and "X_umap" in bcells.obsm:
            values, pts = bcells.obs[key].astype(str).to_numpy(), bcells.obsm["X_umap"]
            idx = np.random.default_rng(0).permutation(bcells.n_obs)
            title = "B-cell subset (B-lineage re-embedding)"
        elif key == "bcell_subset":
            ax.scatter(xy[~b.to_numpy(), 0], xy[~b.to_numpy(), 1], s=1, c="#DDDDDD", rasterized=True)
            idx = order[b.to_numpy()[order]]
        ax.scatter(pts[idx, 0], pts[idx, 1], s=1, c=[colours.get(v, "#000000") for v in values[idx]], rasterized=True)
        present = [k for k in colours if k in set(values)]
        handles = [plt.Line2D([], [], ls="", marker="o", ms=4, color=colours[k], label=(labels or {}).get(k, k))
                   for k in present]
        ax.legend(handles=handles, frameon=False, fontsize=6, loc="center left", bbox_to_anchor=(1, 0.5))
        ax.set(title=title, xlabel="UMAP 1", ylabel="UMAP 2", xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def marker_dotplot(adata: ad.AnnData, vocab: Vocabulary) -> plt.Figure:
    """Dot plots of lineage markers by lineage (all cells) and subset markers by subset (B lineage)."""
    import scanpy as sc

    present = set(adata.var_names)
    lin_markers = {lin.id: [g for g in lin.markers if g in present] for lin in vocab.lineages}
    sub_markers = {s.id: [g for g in s.up if g in present] for s in vocab.subsets}
    fig, axes = plt.subplots(2, 1, figsize=(14, 8), gridspec_kw={"hspace": 0.8})
    lineages = [lin for lin in vocab.lineage_ids if (adata.obs["lineage"].astype(str) == lin).any()]
    sub = adata[adata.obs["lineage"].isin(lineages).to_numpy()].copy()
    sub.obs["lineage"] = pd.Categorical(sub.obs["lineage"].astype(str), categories=lineages)
    sc.pl.dotplot(sub, {k: v for k, v in lin_markers.items() if k in lineages}, groupby="lineage", ax=axes[0],
                  show=False)
    axes[0].set_ylabel("Lineage markers, all cells", labelpad=30)
    b = adata[adata.obs["bcell_subset"].astype(str) != ""].copy()
    subsets = [s for s in vocab.subset_ids if (b.obs["bcell_subset"] == s).any()]
    if b.n_obs and subsets:
        b.obs["bcell_subset"] = pd.Categorical(b.obs["bcell_subset"], categories=subsets)
        sc.pl.dotplot(b, {k: v for k, v in sub_markers.items() if k in subsets}, groupby="bcell_subset",
                      ax=axes[1], show=False)
        axes[1].set_ylabel("B-cell subset markers, B lineage", labelpad=30)
    else:
        axes[1].text(0.5, 0.5, "no B-lineage cells", ha="center", transform=axes[1].transAxes)
        axes[1].axis("off")
    return fig


def composition_bars(comp: pd.DataFrame, vocab: Vocabulary, *, tissues: list[str], timepoints: list[str],
                     ax: plt.Axes | None = None) -> plt.Figure:
    """Stacked bars of B-subset fractions (pooled cells) per tissue × timepoint."""
    pooled = comp.groupby(["tissue", "timepoint", "subset"], observed=True)[["n_cells"]].sum().reset_index()
    groups = [(t, p) for t in tissues for p in timepoints
              if ((pooled["tissue"] == t) & (pooled["timepoint"] == p)).any()]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.55 * len(groups) + 2.5), 3.5))
    bottom = np.zeros(len(groups))
    colours, labels = vocab.subset_colours(), vocab.subset_labels()
    totals = np.array([pooled[(pooled.tissue == t) & (pooled.timepoint == p)]["n_cells"].sum() for t, p in groups])
    for s in vocab.subset_ids:
        vals = np.array([pooled[(pooled.tissue == t) & (pooled.timepoint == p) & (pooled.subset == s)]["n_cells"].sum()
                         for t, p in groups], dtype=float)
        frac = np.divide(vals, totals, out=np.zeros_like(vals), where=totals > 0) * 100
        ax.bar(range(len(groups)), frac, bottom=bottom, color=colours[s], label=labels[s], width=0.8)
        bottom += frac
    ax.set_xticks(range(len(groups)), [f"{t}\n{p}\n(n={int(n)})" for (t, p), n in zip(groups, totals, strict=True)],
                  fontsize=6)
    ax.set(ylabel="% of B-lineage cells", ylim=(0, 100))
    ax.legend(frameon=False, loc="center left", bbox_to_anchor=(1, 0.5))
    return ax.figure


def patient_lines(comp: pd.DataFrame, vocab: Vocabulary, *, tissues: list[str], timepoints: list[str]) -> plt.Figure:
    """Per-patient fraction of each subset across timepoints, one panel per tissue × subset."""
    tcol = tissue_colours(tissues)
    tissues = [t for t in tissues if (comp["tissue"] == t).any()]
    subsets = vocab.subset_ids
    fig, axes = plt.subplots(len(tissues), len(subsets), figsize=(1.7 * len(subsets), 1.7 * len(tissues) + 0.5),
                             squeeze=False, sharey=False)
    for i, t in enumerate(tissues):
        for j, s in enumerate(subsets):
            ax = axes[i, j]
            if i == 0:
                ax.set_title(vocab.subset_labels()[s], fontsize=7)
            allowed = vocab.subset(s).tissues
            if allowed and t not in allowed:
                ax.text(0.5, 0.5, f"not expected\nin {t}", ha="center", va="center", fontsize=6, color="#777777",
                        transform=ax.transAxes)
                ax.set(xticks=[], yticks=[])
                if j == 0:
                    ax.set_ylabel(f"{t}\n% of B lineage")
                continue
            sub = comp[(comp["tissue"] == t) & (comp["subset"] == s)]
            times = [p for p in timepoints if (sub["timepoint"] == p).any()]
            for _, g in sub.groupby("patient_id"):
                g = g.set_index("timepoint").reindex(times)
                ax.plot(range(len(times)), g["fraction"] * 100, marker="o", ms=2.5, lw=0.8, color=tcol[t], alpha=0.8)
            ax.set_xticks(range(len(times)), times, rotation=45, fontsize=6)
            if j == 0:
                ax.set_ylabel(f"{t}\n% of B lineage")
    fig.tight_layout()
    return fig
