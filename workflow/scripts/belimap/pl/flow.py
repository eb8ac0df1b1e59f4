"""Flow figures: the gating hierarchy as a lab draws it, per-file QC, the study composition and the
flow↔scRNA concordance. Every function returns its Figure (or draws into ``ax=``); callers save
with :func:`belimap.pl.save_figure`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.patches import Ellipse, Polygon, Rectangle

from belimap.flow.strategy import gate_of, gate_tree, gates
from belimap.pl.palette import subset_colours, tissue_colours
from belimap.vocab import Vocabulary

if TYPE_CHECKING:
    from belimap.flow.gating import GatingResult
    from belimap.flow.strategy import Gate

AXIS_UNITS = {"linear": "linear, fraction of T", "logicle": "logicle", "asinh": "asinh"}


def _axis_label(result: GatingResult, dim: str) -> str:
    """Dimension name with its transform (gate coordinates are on the transformed scale)."""
    gs = result.strategy.gs
    for gate in gates(result.strategy):
        for d in getattr(gate, "dimensions", []):
            name = getattr(d, "dimension_ref", None) or d.id
            if name == dim and d.transformation_ref:
                xf = gs.transformations.get(d.transformation_ref)
                kind = type(xf).__name__.replace("Transform", "").lower()
                return f"{dim} ({AXIS_UNITS.get(kind, kind)} scale)"
    return f"{dim} (raw intensity)"


def _panels(result: GatingResult) -> list[tuple[str, tuple[str, ...], list[str]]]:
    """(parent, dims, gate IDs) per plot: gates sharing a parent and dimensions share a panel."""
    panels: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for gid in result.gate_ids:
        dims = tuple(result.dims.get(gid, []))
        if not dims:
            continue  # boolean gates have no plot of their own
        panels.setdefault((result.parents[gid], dims), []).append(gid)
    return [(p, d, g) for (p, d), g in panels.items()]


def _draw_gate(ax: plt.Axes, gate: Gate, dims: tuple[str, ...]) -> None:
    from flowkit import gates as fkg

    style = {"fill": False, "lw": 1.0, "ec": "#CC3311"}
    if isinstance(gate, fkg.PolygonGate):
        ax.add_patch(Polygon(np.asarray(gate.vertices), closed=True, **style))
    elif isinstance(gate, fkg.RectangleGate):
        lims = [(d.min, d.max) for d in gate.dimensions]
        if len(dims) == 1:
            for v in lims[0]:
                if v is not None:
                    ax.axvline(v, color=style["ec"], lw=1)
            return
        (x0, x1), (y0, y1) = lims
        xl, yl = ax.get_xlim(), ax.get_ylim()
        x0 = xl[0] if x0 is None else x0
        x1 = xl[1] if x1 is None else x1
        y0 = yl[0] if y0 is None else y0
        y1 = yl[1] if y1 is None else y1
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, **style))
    elif isinstance(gate, fkg.EllipsoidGate):
        cov = np.asarray(gate.covariance_matrix, dtype=float)
        vals, vecs = np.linalg.eigh(cov)
        angle = math.degrees(math.atan2(vecs[1, 1], vecs[0, 1]))
        w, h = 2 * np.sqrt(vals[::-1] * gate.distance_square)
        ax.add_patch(Ellipse(gate.coordinates, w, h, angle=angle, **style))
    elif isinstance(gate, fkg.QuadrantGate):
        for i, d in enumerate(gate.dimensions):
            for v in d.values:
                (ax.axvline if i == 0 else ax.axhline)(v, color=style["ec"], lw=1)


def gating_figure(result: GatingResult, sample_id: str, *, max_points: int) -> plt.Figure:
    """The gating hierarchy: one 2-D density (or histogram) per parent × dimensions with each gate
    drawn and labelled with its % of parent, in hierarchy order (``max_points`` events per panel)."""
    panels = _panels(result)
    n = len(panels)
    ncol = min(4, max(n, 1))
    nrow = math.ceil(n / ncol) if n else 1
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 2.4 * nrow), squeeze=False)
    for ax, (parent, dims, gids) in zip(axes.ravel(), panels, strict=False):
        gating_panel(result, parent, dims, gids, ax=ax, max_points=max_points)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(f"{sample_id}: gating ({Path(result.strategy.source).name})", fontsize=9)
    fig.tight_layout()
    return fig


def gating_panel(result: GatingResult, parent: str, dims: tuple[str, ...], gate_ids: list[str], *, ax: plt.Axes,
                 max_points: int) -> plt.Axes:
    """One panel of the hierarchy: ``parent``'s events on ``dims`` (density, or histogram for one
    dimension), every gate of ``gate_ids`` drawn and labelled with its % of parent."""
    keys = gate_tree(result.strategy)[2]
    pmask = np.ones(len(next(iter(result.masks.values()))), bool) if parent == "root" else result.masks[parent]
    sel = np.flatnonzero(pmask)
    if len(sel) > max_points:
        sel = sel[:: math.ceil(len(sel) / max_points)]
    x = result.values(dims[0])[sel]
    ok = np.isfinite(x)
    if len(dims) >= 2:
        y = result.values(dims[1])[sel]
        ok &= np.isfinite(y)
        if ok.sum() > 1:
            xr = np.nanpercentile(x[ok], [0.1, 99.9])
            yr = np.nanpercentile(y[ok], [0.1, 99.9])
            xr = [min(xr[0], 0), max(xr[1], 1.0)] if xr[1] <= 1.3 else xr
            yr = [min(yr[0], 0), max(yr[1], 1.0)] if yr[1] <= 1.3 else yr
            ax.hist2d(x[ok], y[ok], bins=150, range=[xr, yr], cmap="viridis", norm=LogNorm(), rasterized=True)
        ax.set_ylabel(_axis_label(result, dims[1]))
    else:
        if ok.sum() > 1:
            ax.hist(x[ok], bins=150, color="#4477AA", histtype="stepfilled", alpha=0.8)
        ax.set_ylabel("events")
    ax.set_xlabel(_axis_label(result, dims[0]))
    ax.set_title(f"{result.strategy.label(parent) if parent != 'root' else 'All events'} (n={int(pmask.sum()):,})",
                 fontsize=7)
    drawn = set()
    for gid in gate_ids:
        gate = gate_of(result.strategy, keys[gid])
        if id(gate) not in drawn:
            _draw_gate(ax, gate, dims)
            drawn.add(id(gate))
        m = result.masks[gid]
        pct = 100.0 * m.sum() / pmask.sum() if pmask.sum() else float("nan")
        inside = m[sel] & ok
        if inside.any():
            cx, cy = np.nanmedian(x[inside]), (np.nanmedian(result.values(dims[1])[sel][inside]) if len(dims) > 1 else None)
        else:
            cx, cy = np.nanmedian(x[ok]) if ok.any() else 0.5, None
        if cy is None:
            cy = ax.get_ylim()[1] * 0.9
        ax.annotate(f"{result.strategy.label(gid)}\n{pct:.1f}%", (cx, cy), fontsize=5.5, ha="center", va="center",
                    color="white", bbox={"boxstyle": "round,pad=0.15", "fc": "#222222", "alpha": 0.6, "lw": 0})
    return ax


def qc_figure(bins: pd.DataFrame, summary: pd.DataFrame, sample_id: str) -> plt.Figure:
    """Event rate over acquisition time (flagged bins in red) and what QC removed."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7.0, 2.4), gridspec_kw={"width_ratios": [3, 1.2]})
    if len(bins):
        width = (bins["end_s"] - bins["start_s"]).to_numpy()
        rate = bins["n_events"].to_numpy() / np.where(width > 0, width, 1)
        colours = np.where(bins["flagged"].to_numpy() == 1, "#CC3311", "#4477AA")
        a1.bar(bins["start_s"], rate, width=width, align="edge", color=colours, lw=0)
        a1.axhline(np.median(rate), color="k", lw=0.7, ls="--")
    a1.set_xlabel("acquisition time (s)")
    a1.set_ylabel("event rate (events/s)")
    a1.set_title(f"{sample_id}: flow rate (red = anomalous bin, removed)", fontsize=8)
    s = summary.iloc[0]
    cats = ["margin", "flow rate", "kept"]
    vals = [s["n_margin"], s["n_rate_anomaly"], s["n_kept"]]
    a2.barh(cats, vals, color=["#CCBB44", "#CC3311", "#228833"])
    a2.set_xlabel("events")
    a2.set_title(f"QC: {s['flags']}", fontsize=8)
    fig.tight_layout()
    return fig


def composition_figure(comp: pd.DataFrame, vocab: Vocabulary, *, tissues: list[str]) -> plt.Figure:
    """Flow B-subset fractions per specimen: stacked bars grouped by tissue, ordered by patient/time."""
    subsets = list(dict.fromkeys(comp["subset"]))
    cols = subset_colours(vocab)
    labels = vocab.subset_labels()
    wide = comp.pivot_table(index="sample_id", columns="subset", values="fraction", sort=False).reindex(columns=subsets)
    meta = comp.drop_duplicates("sample_id").set_index("sample_id")
    tiss = [t for t in tissues if t in set(meta["tissue"].astype(str))]
    fig, axes = plt.subplots(1, max(len(tiss), 1), figsize=(2.2 + 0.22 * len(wide), 3.0), squeeze=False, sharey=True)
    tcol = tissue_colours(tissues)
    for ax, t in zip(axes[0], tiss, strict=False):
        ids = [s for s in wide.index if str(meta.loc[s, "tissue"]) == t]
        bottom = np.zeros(len(ids))
        for sub in subsets:
            v = wide.loc[ids, sub].fillna(0).to_numpy()
            ax.bar(range(len(ids)), v, bottom=bottom, color=cols.get(sub, "#999999"), label=labels.get(sub, sub), width=0.85)
            bottom += v
        ax.set_xticks(range(len(ids)))
        ax.set_xticklabels([f"{meta.loc[s, 'patient_id']} {meta.loc[s, 'timepoint']}" for s in ids], rotation=90, fontsize=5)
        ax.set_title(t.replace("_", " "), color=tcol[t])
    axes[0][0].set_ylabel("fraction of CD19+ B cells")
    axes[0][-1].legend(fontsize=6, frameon=False, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def concordance_figure(pairs: pd.DataFrame, stats: pd.DataFrame, vocab: Vocabulary) -> plt.Figure:
    """Repeated-measures Bland–Altman plots, one panel per tissue (row) × compared subset (column):
    flow − scRNA fraction vs their mean, one colour per patient (the cluster of the limits), the
    bias (solid) and 95 % limits of agreement (dashed) of that tissue × subset, and ρ in the title.
    Subsets left out of the comparison are named under the panels with the reason."""
    from belimap.compare.concordance import ALL_TISSUES
    from belimap.pl.palette import TOL_BRIGHT

    labels = vocab.subset_labels()
    per_tissue = stats[stats["tissue"] != ALL_TISSUES]
    tissues = list(dict.fromkeys(per_tissue["tissue"])) or ["(no pairs)"]
    testable = per_tissue.groupby("subset")["testable"].any()
    compared = [s for s in vocab.subset_ids if bool(testable.get(s, False))] or ["(none)"]
    patients = list(dict.fromkeys(pairs["patient_id"].astype(str)))
    pcol = {p: TOL_BRIGHT[i % len(TOL_BRIGHT)] for i, p in enumerate(patients)}
    fig, axes = plt.subplots(len(tissues), len(compared), figsize=(1.9 * len(compared) + 0.6, 1.7 * len(tissues) + 0.9),
                             squeeze=False, sharey="row")
    for r, t in enumerate(tissues):
        for c, sub in enumerate(compared):
            ax = axes[r][c]
            d = pairs[(pairs["tissue"].astype(str) == t) & (pairs["subset"] == sub)]
            st = per_tissue[(per_tissue["tissue"] == t) & (per_tissue["subset"] == sub)]
            ax.axhline(0, color="0.8", lw=0.5)
            ax.scatter((d["fraction_scrna"] + d["fraction_flow"]) / 2, d["fraction_flow"] - d["fraction_scrna"], s=9,
                       lw=0, color=[pcol[str(p)] for p in d["patient_id"]])
            title = labels.get(sub, sub) if r == 0 else ""
            if len(st) and bool(st.iloc[0]["testable"]) and st.iloc[0]["n_pairs"] > 0:
                x = st.iloc[0]
                for v, ls in ((x["bias"], "-"), (x["loa_low"], "--"), (x["loa_high"], "--")):
                    if np.isfinite(v):
                        ax.axhline(v, color="k", lw=0.7, ls=ls)
                rho = "ρ n/a" if not np.isfinite(x["spearman_rho"]) else f"ρ {x['spearman_rho']:.2f}"
                ax.text(0.02, 0.97, f"{rho}, {int(x['n_pairs'])} pairs / {int(x['n_patients'])} pt", fontsize=5,
                        transform=ax.transAxes, va="top", bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5})
            else:
                ax.text(0.5, 0.5, "not compared", fontsize=6, transform=ax.transAxes, ha="center", color="0.5")
            ax.set_title(title, fontsize=7)
            ax.tick_params(labelsize=5)
            if c == 0:
                ax.set_ylabel(f"{t.replace('_', ' ')}\nflow − scRNA", fontsize=6)
            if r == len(tissues) - 1:
                ax.set_xlabel("mean fraction", fontsize=6)
    left_out = stats[(stats["tissue"] == ALL_TISSUES) & ~stats["testable"].astype(bool)]
    foot = [f"{labels.get(s, s)}: {n}" for s, n in zip(left_out["subset"], left_out["note"].fillna(""), strict=True)]
    if foot:
        import textwrap

        text = "\n".join(textwrap.fill("Not compared — " + f, 160) for f in foot)
        fig.text(0.01, 0.005, text, fontsize=4.5, va="bottom", ha="left")
    fig.tight_layout(rect=(0, 0.06 * len(foot) / max(1, len(tissues)) + 0.02 * len(foot), 1, 1))
    return fig
