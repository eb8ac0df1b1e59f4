"""Flow cytometry: FCS files to gated B-cell subset counts and fractions.

``io`` reads FCS (flowio), ``compensate`` applies spillover, ``transform`` holds logicle/asinh,
``gating`` reads strategies (YAML, GatingML 2.0, FlowJo .wsp) into FlowKit's gate model and
evaluates them, ``qc`` flags margin events and flow-rate anomalies, ``counts`` builds the study
tables. :func:`inspect_fcs` is what ``belimap inspect`` prints for an FCS file.
"""

from __future__ import annotations

from pathlib import Path


def inspect_fcs(path: str | Path) -> dict:
    """Version, events, channels, markers and spillover of an FCS file (every data set counted)."""
    from belimap.flow.compensate import spill_is_empty, spillover_of
    from belimap.flow.io import read_fcs

    fcs = read_fcs(path)
    spill_text = fcs.spill_text
    if spill_text is None:
        spill = "none"
    elif spill_is_empty(spill_text):
        spill = "keyword present without values (uncompensated)"
    else:
        s = spillover_of(fcs)
        spill = f"{len(s.detectors)} x {len(s.detectors)} over {', '.join(s.detectors)}"
    markers = [f"{n}={m}" for n, m in zip(fcs.pnn, fcs.markers, strict=True) if m and m != n]
    return {
        "file": str(path), "format": f"FCS {fcs.version}", "data_sets": fcs.n_datasets, "events": fcs.n_events,
        "channels": len(fcs.pnn), "channel_names": ", ".join(fcs.pnn),
        "markers": ", ".join(markers) if markers else "none ($PnS empty)",
        "instrument": fcs.text.get("cyt", "") or fcs.text.get("creator", "") or "unknown", "spillover": spill,
        "time_channel": fcs.pnn[fcs.time_idx] if fcs.time_idx is not None else "none",
    }
