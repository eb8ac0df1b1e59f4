"""Per-file flow QC: margin (saturated) events, flow-rate anomalies over acquisition time, too few events.

Margin events sit at the top of a channel's range (``$PnR``): their true value is unknown, so
they are removed (flowCore's boundary filter). Flow-rate anomalies follow flowAI's idea — a clog or
a bubble changes the event rate and the signal of the events acquired meanwhile — with a robust
rule: events are binned over ``$TIMESTEP``-scaled time, and bins whose count lies more than
``rate_nmads`` robust SDs (MAD, floored at the Poisson SD) from the median are removed. A file with
fewer than ``min_events`` events left is flagged, not dropped: its counts are still reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from belimap.flow.compensate import spill_is_empty
from belimap.flow.io import FcsData
from belimap.params import parameters

QC_COLUMNS = ["sample_id", "n_events", "n_margin", "n_rate_anomaly", "n_kept", "pct_kept", "n_bins", "n_bins_flagged",
              "flags"]


@parameters("flow", "qc")
class QcParams:
    """``flow.qc`` of the config (defaults: config/schemas/flow.schema.yaml)."""

    margin: bool
    rate_bin_events: int
    rate_nmads: float
    min_bins: int
    max_bins: int
    min_events: int


def margin_events(fcs: FcsData) -> np.ndarray:
    """Events at or above ``$PnR - 1`` in any scatter or fluorescence channel."""
    idx = sorted(set(fcs.scatter_idx) | set(fcs.fluoro_idx))
    out = np.zeros(fcs.n_events, dtype=bool)
    for i in idx:
        top = float(fcs.text.get(f"p{i + 1}r", "0") or 0)
        if top > 0:
            out |= fcs.events[:, i] >= top - 1
    return out


def rate_bins(fcs: FcsData, *, params: QcParams) -> tuple[pd.DataFrame, np.ndarray]:
    """Event counts per time bin with their flag, and the bin of every event (-1 without a Time channel)."""
    if fcs.time_idx is None or fcs.n_events == 0:
        return pd.DataFrame(columns=["bin", "start_s", "end_s", "n_events", "flagged"]), np.full(fcs.n_events, -1)
    t = fcs.events[:, fcs.time_idx]
    n_bins = int(np.clip(fcs.n_events // max(params.rate_bin_events, 1), params.min_bins, params.max_bins))
    lo, hi = float(np.min(t)), float(np.max(t))
    edges = np.linspace(lo, hi if hi > lo else lo + 1, n_bins + 1)
    b = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(b, minlength=n_bins)
    med = float(np.median(counts))
    mad = 1.4826 * float(np.median(np.abs(counts - med)))
    sd = max(mad, np.sqrt(max(med, 1.0)))
    flagged = np.abs(counts - med) > params.rate_nmads * sd
    # FCS time units: flowio applies $TIMESTEP, so values are seconds when $TIMESTEP is given
    bins = pd.DataFrame({"bin": np.arange(n_bins), "start_s": edges[:-1], "end_s": edges[1:], "n_events": counts,
                         "flagged": flagged.astype(int)})
    return bins, b


def qc_events(fcs: FcsData, sample_id: str, *, params: QcParams) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Keep-mask (events passing QC), one-row QC summary and the rate bins of one file."""
    margin = margin_events(fcs) if params.margin else np.zeros(fcs.n_events, dtype=bool)
    bins, ev_bin = rate_bins(fcs, params=params)
    flagged_bins = bins.loc[bins["flagged"] == 1, "bin"].to_numpy()
    rate_bad = np.isin(ev_bin, flagged_bins) if len(flagged_bins) else np.zeros(fcs.n_events, dtype=bool)
    keep = ~margin & ~rate_bad
    flags = []
    if len(flagged_bins):
        flags.append("flow_rate_anomaly")
    if fcs.time_idx is None:
        flags.append("no_time_channel")
    if len(fcs.fluoro_idx) and (fcs.spill_text is None or spill_is_empty(fcs.spill_text)):
        flags.append("no_spillover")  # gating refuses it unless flow.compensation.matrix gives one (or none)
    if keep.sum() < params.min_events:
        flags.append("too_few_events")
    summary = pd.DataFrame([{
        "sample_id": sample_id, "n_events": fcs.n_events, "n_margin": int(margin.sum()),
        "n_rate_anomaly": int((rate_bad & ~margin).sum()), "n_kept": int(keep.sum()),
        "pct_kept": 100.0 * keep.sum() / fcs.n_events if fcs.n_events else np.nan,
        "n_bins": len(bins), "n_bins_flagged": len(flagged_bins), "flags": ";".join(flags) or "ok",
    }], columns=QC_COLUMNS)
    return keep, summary, bins

