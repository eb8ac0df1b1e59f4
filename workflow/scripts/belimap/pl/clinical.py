"""Figures of the clinical layer: CONSORT flow, activity over time, the response model.

matplotlib has no CONSORT diagram, and the field's Python tools (e.g. ``consort`` for R only) do
not exist here, so :func:`consort_diagram` draws the boxes itself from the counts table. Every
function takes the tables and returns the Figure; :func:`belimap.pl.save_figure` saves it.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from belimap.pl.palette import TOL_BRIGHT

STATUS_COLOURS = {"responder": TOL_BRIGHT[2], "non_responder": TOL_BRIGHT[1], "pending": TOL_BRIGHT[6],
                  "not_assessable": "#444444"}
STATUS_LABELS = {"responder": "SRI-4 responder", "non_responder": "non-responder", "pending": "outcome pending",
                 "not_assessable": "not assessable"}


def _trunc(text: str, width: int) -> str:
    """Cut a label to ``width`` characters (feature names have no spaces for textwrap to break at)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def feature_axis_label(feature: str, values: pd.Series) -> str:
    """Axis label with units for a model feature: the clinical table schema's ``x-unit`` (log features as
    log(1 + unit)), ``0/1`` for indicators, the B-cell share or its centred log-ratio for immune features."""
    if feature.startswith("clr:"):
        return "centred log-ratio of B-cell subset count"
    if not feature.startswith("clinical:"):
        return "fraction of B cells"
    name = feature.split(":", 1)[1]
    v = values.dropna()
    if ">=" in name or (len(v) and v.isin([0, 1]).all()):
        return "0/1 at baseline"
    from belimap.config import load_schema

    schema = load_schema("clinical_table")
    base = name.removeprefix("log1p_")
    unit = schema["properties"].get(base, {}).get("x-unit") or schema.get("x-derived-units", {}).get(base)
    if not unit:
        return "value at baseline"
    return f"log(1 + {unit})" if name.startswith("log1p_") else unit


LINE = 0.16  # inches per text line of the CONSORT diagram (7 pt text)


def _rect(ax: plt.Axes, x0: float, x1: float, top: float, lines: list[str], fc: str = "white") -> float:
    """Draw a box of ``lines`` (left-aligned) from ``top`` downwards; return its bottom (in line units)."""
    from matplotlib.patches import Rectangle

    h = len(lines) + 0.8
    ax.add_patch(Rectangle((x0, top), x1 - x0, h, fc=fc, ec="black", lw=0.8))
    ax.text(x0 + 0.015, top + 0.4, "\n".join(lines), ha="left", va="top", fontsize=7, linespacing=1.25)
    return top + h


def _arrow(ax: plt.Axes, x0: float, y0: float, x1: float, y1: float) -> None:
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "->", "lw": 0.8})


def consort_diagram(counts: pd.DataFrame, *, title: str = "") -> plt.Figure:
    """Assessed → excluded (by reason) → enrolled → specimens (tissue | modality | timepoint) → analysed.

    ``counts``: the ``stage, group, n`` table of :func:`belimap.clinical.consort.consort_counts`.
    The height follows the number of lines, so no box is ever cut.
    """
    get = lambda stage: counts[counts["stage"] == stage]  # noqa: E731
    n = lambda stage: int(get(stage)["n"].sum())  # noqa: E731
    short = lambda t, w: textwrap.shorten(str(t), w, placeholder="…")  # noqa: E731
    reasons = get("excluded_reason")
    excl = [f"Excluded (n = {n('excluded')})"]
    for r, k in zip(reasons["group"], reasons["n"], strict=True):  # wrapped, never cut: the reason is the point
        excl += textwrap.wrap(f"• {r.split(': ', 1)[-1]} (n\u00a0=\u00a0{k})", 48, subsequent_indent="   ")
    spec = get("specimens")
    by_tm: dict[str, list[str]] = {}
    for g, k in zip(spec["group"], spec["n"], strict=True):
        tissue, modality, tp = (x.strip() for x in g.split("|"))
        by_tm.setdefault(f"{tissue}, {modality}", []).append(f"{tp} {k}")
    spec_lines = ["Specimens of enrolled patients"] + [f"  {k}: " + ", ".join(v) for k, v in by_tm.items()]
    if len(spec_lines) == 1:
        spec_lines.append("  none in the sample sheet")
    extra = get("specimens_not_enrolled")
    spec_lines += [f"  {short(g, 60)}" for g in extra["group"]]
    enrol = [f"Eligible (n = {n('eligible')})", f"Enrolled (n = {n('enrolled')})"]
    if n("not_enrolled"):
        enrol.append(f"Eligible, not enrolled (n = {n('not_enrolled')})")
    an = get("analysed")
    imp = get("imputed")  # non-responders by the estimand (not by an observed SRI-4), under their line
    imputed = [f"    by imputation, {g.removeprefix('non-responders by imputation: ')}: {k}"
               for g, k in zip(imp["group"], imp["n"], strict=True)]
    analysed = ["Analysed at the response visit"]
    for g, k in zip(an["group"], an["n"], strict=True):
        analysed += [f"  {g}: {k}"] + (imputed if g == "non-responders" else [])
    assessed = [f"Assessed for eligibility (n = {n('assessed')})"]
    for g, k in zip(get("investigator")["group"], get("investigator")["n"], strict=True):  # not computed: said so
        assessed += textwrap.wrap(f"{g} (n\u00a0=\u00a0{k})", 48, subsequent_indent="   ")
    gap = 1.6
    total = (1.8 + len(assessed) - 1 + max(len(excl) + 0.8, 2) + 2 * gap + len(enrol) + len(spec_lines)
             + len(analysed) + 3 * 0.8
             + 2 * gap + 0.5)
    fig, ax = plt.subplots(figsize=(7.2, total * LINE + (0.3 if title else 0)))
    ax.set_axis_off()
    ax.set_xlim(-0.005, 1.005)  # room for the boxes' outer edges
    ax.set_ylim(total, 0)
    xm0, xm1, xc = 0.0, 0.47, 0.235
    y = _rect(ax, xm0, xm1, 0, assessed)
    top_excl = y + gap / 2
    y_excl = _rect(ax, 0.54, 1.0, top_excl, excl, fc="#F2F2F2")
    _arrow(ax, xc, top_excl + (y_excl - top_excl) / 2, 0.54, top_excl + (y_excl - top_excl) / 2)
    top = max(y_excl, y + 2) + gap / 2
    _arrow(ax, xc, y, xc, top)
    y = _rect(ax, xm0, xm1, top, enrol)
    for lines in (spec_lines, analysed):
        _arrow(ax, xc, y, xc, y + gap)
        y = _rect(ax, xm0, xm1, y + gap, lines)
    if title:
        ax.set_title(title)
    return fig


def activity_over_time(activity: pd.DataFrame, response: pd.DataFrame, *, visits: list[str]) -> plt.Figure:
    """SLEDAI-2K and PGA per patient over ``visits``, coloured by response status (enrolled patients
    only when there are any: screening failures have one visit and no outcome)."""
    status = response.set_index("patient_id")["status"].to_dict() if len(response) else {}
    act = activity[activity["patient_id"].isin(status)] if status else activity
    pos = {v: i for i, v in enumerate(visits)}
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.0))
    for ax, col, label in ((axes[0], "sledai2k", "SLEDAI-2K (points)"), (axes[1], "pga", "PGA (0–3)")):
        for pid, d in act.groupby("patient_id"):
            d = d.dropna(subset=[col])
            st = status.get(pid, "not_assessable")
            ax.plot(d["visit"].map(pos), d[col], marker="o", ms=3, lw=1, alpha=0.8, color=STATUS_COLOURS[st])
        ax.set_xticks(range(len(visits)), visits, rotation=30)
        ax.set_xlabel("Visit")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
    axes[1].set_ylim(0, 3.05)
    handles = [plt.Line2D([], [], color=c, marker="o", ms=3, label=STATUS_LABELS[s]) for s, c in STATUS_COLOURS.items()
               if s in set(status.values())]
    if handles:
        axes[1].legend(handles=handles, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(f"Disease activity per patient (n = {act['patient_id'].nunique()})")
    fig.tight_layout()
    return fig


def responder_comparison(X: pd.DataFrame, y: pd.Series, *, message: str = "", max_features: int = 12) -> plt.Figure:
    """Baseline features of responders vs non-responders (points per patient, median bars).

    Shown whether or not a model was fitted: with few patients it is the honest result, and
    ``message`` (why no model was fitted) becomes its title.
    """
    cols = list(X.columns[:max_features]) if len(X.columns) else []
    ncol = 4
    nrow = max(1, int(np.ceil(len(cols) / ncol)))
    fig, axes = plt.subplots(nrow, ncol, figsize=(7.2, 1.9 * nrow + 0.6), squeeze=False)
    for ax, col in zip(axes.ravel(), cols, strict=False):
        for k, (lab, st) in enumerate(((0, "non_responder"), (1, "responder"))):
            v = X.loc[y == lab, col].dropna()
            jitter = np.linspace(-0.12, 0.12, len(v)) if len(v) > 1 else np.zeros(len(v))
            ax.scatter(k + jitter, v, s=12, color=STATUS_COLOURS[st], zorder=3)
            if len(v):
                ax.hlines(v.median(), k - 0.25, k + 0.25, color="black", lw=1)
        ax.set_xticks([0, 1], ["non-resp.", "resp."])
        ax.set_xlim(-0.6, 1.6)
        name = col.split(":", 1)[1] if col.startswith("clinical:") else col
        ax.set_title(_trunc(name, 34), fontsize=7)
        ax.set_ylabel(feature_axis_label(col, X[col]), fontsize=7)
    for ax in axes.ravel()[len(cols):]:
        ax.set_axis_off()
    fig.suptitle(textwrap.fill(message or "Baseline features: responders vs non-responders", 110), fontsize=8)
    fig.tight_layout()
    return fig


def model_figure(roc: pd.DataFrame, calibration: pd.DataFrame, coefficients: pd.DataFrame, summary: dict, *,
                 top: int = 15) -> plt.Figure:
    """ROC (every repeat), calibration and the largest standardised coefficients with selection frequency."""
    # constrained layout gives the long feature labels their room without widening every gap
    fig, axes = plt.subplots(1, 3, figsize=(7.2, 2.8), gridspec_kw={"width_ratios": [1, 1, 1.2]}, layout="constrained")
    ax = axes[0]
    for _, d in roc.groupby("repeat"):
        ax.plot(d["fpr"], d["tpr"], color=TOL_BRIGHT[0], lw=0.6, alpha=0.5)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.set_title(f"AUC {summary['auc']:.2f} (95% CI {summary['auc_ci_low']:.2f}–{summary['auc_ci_high']:.2f})\n"
                 f"permutation p = {summary['permutation_p']:.3g}", fontsize=7)
    ax = axes[1]
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    ax.plot(calibration["mean_predicted"], calibration["observed_fraction"], marker="o", color=TOL_BRIGHT[0])
    ax.set_xlabel("Predicted probability (out of fold)")
    ax.set_ylabel("Observed responder fraction")
    cal = ("" if "calibration_slope" not in summary else
           f"\nslope {summary['calibration_slope']:.2f}, intercept {summary['calibration_intercept']:.2f}, "
           f"Brier {summary['brier']:.3f}")
    ax.set_title("Calibration" + cal, fontsize=7)
    ax = axes[2]
    c = coefficients.head(top).iloc[::-1]
    yy = np.arange(len(c))
    ax.barh(yy, c["coefficient"], color=[TOL_BRIGHT[2] if v > 0 else TOL_BRIGHT[1] for v in c["coefficient"]])
    prior = c["prior"].eq("yes") if "prior" in c else pd.Series(False, index=c.index)
    ax.set_yticks(yy, [_trunc(f, 36) + (" †" if p else "") for f, p in zip(c["feature"], prior, strict=True)],
                  fontsize=6)
    for yi, f in zip(yy, c["selection_frequency"], strict=True):
        ax.text(ax.get_xlim()[1], yi, f" {f:.0%}", va="center", fontsize=6)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("Coefficient (per SD; log-odds)")
    note = "\n† published predictor, penalised less" if prior.any() else ""
    ax.set_title("Coefficients at fixed C\n(selection stability %, not confidence)" + note, fontsize=7)
    return fig


def not_fitted_figure(message: str, *, ax: plt.Axes | None = None) -> plt.Figure:
    """The model figure when no model was fitted: the reason, in words (the report must not show
    an empty slot where a reader expects the ROC curve)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 1.6))
    ax.set_axis_off()
    ax.text(0.5, 0.5, textwrap.fill(message, 100), ha="center", va="center", fontsize=8)
    return ax.figure
