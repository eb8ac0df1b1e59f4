"""Tables of gated files: counts and membership per gate, absolute counts, B-subset composition,
MIFlowCyt-style metadata and the per-event accuracy against the simulator's truth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimap.composition import composition_table
from belimap.errors import BelimapError
from belimap.flow.compensate import Spillover
from belimap.flow.gating import GatingResult
from belimap.flow.io import INSTRUMENT_KEYS, FcsData
from belimap.flow.strategy import Strategy, gate_of, gate_tree
from belimap.params import parameters

if TYPE_CHECKING:
    from belimap.flow.strategy import Transform

COUNT_COLUMNS = ["gate_id", "label", "parent", "count", "pct_parent", "pct_total", "pct_bcells"]
SAMPLE_COUNT_COLUMNS = ["sample_id", *COUNT_COLUMNS, "cells_per_ul"]
METADATA_COLUMNS = ["sample_id", "section", "item", "value"]


@parameters("flow", "absolute")
class AbsoluteParams:
    """``flow.absolute`` of the config: how cells/µL are derived (see :func:`sample_counts`)."""

    reference_gate: str
    bead_gate: str | None
    beads_per_ul: float | None


def counts_table(result: GatingResult) -> pd.DataFrame:
    """One row per gate: count, % of parent, % of all (QC-kept) events and % of the B-cell gate."""
    strat = result.strategy
    n_b = result.count(strat.bcell_gate) if strat.bcell_gate else None
    below_b = set(descendants(result, strat.bcell_gate)) if strat.bcell_gate else set()
    rows = []
    for gid in result.gate_ids:
        c = result.count(gid)
        pc = result.count(result.parents[gid])
        pb = np.nan
        if n_b is not None and (gid in below_b or gid == strat.bcell_gate):
            pb = 100.0 * c / n_b if n_b else np.nan
        rows.append({"gate_id": gid, "label": strat.label(gid), "parent": result.parents[gid], "count": c,
                     "pct_parent": 100.0 * c / pc if pc else np.nan,
                     "pct_total": 100.0 * c / result.n_total if result.n_total else np.nan, "pct_bcells": pb})
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)


def descendants(result: GatingResult, gate_id: str | None) -> list[str]:
    """Gate IDs below ``gate_id`` in the hierarchy."""
    if gate_id is None:
        return []
    out, frontier = [], [gate_id]
    while frontier:
        cur = frontier.pop()
        kids = [g for g, p in result.parents.items() if p == cur]
        out.extend(kids)
        frontier.extend(kids)
    return out


def membership_table(result: GatingResult) -> pd.DataFrame:
    """One row per event in file order, one 0/1 column per gate ID."""
    return pd.DataFrame({gid: result.masks[gid].astype(np.uint8) for gid in result.gate_ids})


def sample_counts(result: GatingResult, sample_id: str, cells_per_ul: float | None = None, *,
                  absolute: AbsoluteParams = AbsoluteParams()) -> pd.DataFrame:
    """Counts of one file with absolute counts (cells/µL) when the sheet or counting beads allow.

    Sheet count: the sample sheet's ``cells_per_ul`` is the lymphocyte count per µL of blood (a
    haematology analyser's number), i.e. the live single lymphocytes ``absolute.reference_gate``; a
    gate's cells/µL = ``cells_per_ul`` × gate count / reference count. Beads (single-platform, e.g.
    TruCount): with ``absolute.bead_gate`` in the strategy and the beads' concentration in the
    stained sample ``absolute.beads_per_ul``, cells/µL = gate count / bead count × beads_per_ul.
    The sheet wins when both are given.
    """
    reference_gate, bead_gate, beads_per_ul = absolute.reference_gate, absolute.bead_gate, absolute.beads_per_ul
    tab = counts_table(result)
    tab.insert(0, "sample_id", sample_id)
    tab["cells_per_ul"] = np.nan
    if cells_per_ul is not None and not pd.isna(cells_per_ul):
        if reference_gate not in result.masks:
            raise BelimapError(f"flow.absolute.reference_gate '{reference_gate}' is not a gate of {result.strategy.source}")
        ref = result.count(reference_gate)
        if ref > 0:
            tab["cells_per_ul"] = float(cells_per_ul) * tab["count"] / ref
    elif bead_gate and beads_per_ul:
        if bead_gate not in result.masks:
            raise BelimapError(f"flow.absolute.bead_gate '{bead_gate}' is not a gate of {result.strategy.source}")
        beads = result.count(bead_gate)
        if beads > 0:
            tab["cells_per_ul"] = tab["count"] / beads * float(beads_per_ul)
    return tab[SAMPLE_COUNT_COLUMNS]


def composition_from_counts(counts: pd.DataFrame, specimens: pd.DataFrame, subsets: list[str], *,
                            bcell_gate: str | None) -> pd.DataFrame:
    """The composition table (``COMPOSITION_COLUMNS``) from gate counts: n_cells of each subset gate,
    n_bcells of the B-cell gate. Built with the shared ``composition_table`` (one label per B cell)."""
    if not bcell_gate:
        raise BelimapError("the gating strategy names no B-cell gate; set bcell_gate in it (YAML) or flow.bcell_gate")
    labels = []
    for sid, tab in counts.groupby("sample_id", sort=False):
        c = tab.set_index("gate_id")["count"]
        if bcell_gate not in c.index:
            raise BelimapError(f"flow counts of {sid}: no B-cell gate '{bcell_gate}'")
        n_b = int(c[bcell_gate])
        sub = {s: int(c.get(s, 0)) for s in subsets}
        other = n_b - sum(sub.values())
        if other < 0:
            raise BelimapError(f"flow counts of {sid}: subset gates hold more events than '{bcell_gate}'; "
                               "the subset gates must lie inside the B-cell gate")
        lab = np.repeat(np.array([*sub.keys(), "_other"], dtype=object), [*sub.values(), other])
        labels.append(pd.DataFrame({"sample_id": sid, "bcell_subset": lab}))
    lab = pd.concat(labels, ignore_index=True) if labels else pd.DataFrame(columns=["sample_id", "bcell_subset"])
    return composition_table(lab, specimens, subsets)


def panel_subsets(strategy: Strategy, subset_ids: list[str]) -> list[str]:
    """Vocabulary subsets the strategy gates (a gate named by the subset ID), in vocabulary order."""
    ids = set(gate_tree(strategy)[0])
    return [s for s in subset_ids if s in ids]


def subset_gates(strategy: Strategy, subset_ids: list[str]) -> dict[str, str]:
    """Every vocabulary subset the panel counts -> the gate that counts it: its own gate, or the
    gate the strategy's ``absorbs`` puts it in (plasma cells inside the plasmablast gate)."""
    where = {s: s for s in panel_subsets(strategy, subset_ids)}
    for target, members in strategy.absorbs.items():
        for m in members:
            where[m] = target
    return where


def _xform_text(xf: Transform) -> str:
    params = {k.replace("param_", ""): v for k, v in vars(xf).items() if k.startswith("param_")}
    return f"{type(xf).__name__.replace('Transform', '').lower()} " + " ".join(f"{k.upper()}={v:g}" for k, v in params.items())


def metadata_table(fcs: FcsData, sample_id: str, strategy: Strategy, spill: Spillover | None, *,
                   result: GatingResult | None = None) -> pd.DataFrame:
    """MIFlowCyt-style description of one file: instrument, channels, markers, compensation, transforms, gates."""
    from flowkit import gates as fkg

    rows = [("file", "path", fcs.path), ("file", "fcs_version", fcs.version), ("file", "events", str(fcs.n_events)),
            ("file", "data_set", f"{fcs.dataset + 1} of {fcs.n_datasets}")]
    for key in INSTRUMENT_KEYS:
        v = fcs.text.get(key.lower().lstrip("$"), "")
        if v:
            rows.append(("instrument", key, v))
    for i, (n, m) in enumerate(zip(fcs.pnn, fcs.markers, strict=True)):
        rng = fcs.text.get(f"p{i + 1}r", "")
        rows.append(("channel", n, f"marker={m or '-'}; range={rng}"))
    if spill is None:
        rows.append(("compensation", "source", "none"))
    else:
        rows.append(("compensation", "source", f"{spill.source} ({len(spill.detectors)} detectors)"))
        rows.append(("compensation", "detectors", ",".join(spill.detectors)))
    for tid, xf in strategy.gs.transformations.items():
        rows.append(("transform", tid, _xform_text(xf)))
    rows.append(("strategy", "source", f"{strategy.source} ({strategy.fmt})"))
    ids, parents, keys = gate_tree(strategy)
    for gid in ids:
        gate = gate_of(strategy, keys[gid])
        kind = "Quadrant" if isinstance(gate, fkg.QuadrantGate) else type(gate).__name__  # the gate's kind, as text
        dims = ",".join(result.dims.get(gid, [])) if result else ""
        rows.append(("gate", gid, f"{kind}; parent={parents[gid]}; label={strategy.label(gid)}" + (f"; dims={dims}" if dims else "")))
    df = pd.DataFrame(rows, columns=["section", "item", "value"])
    df.insert(0, "sample_id", sample_id)
    return df[METADATA_COLUMNS]


ACCURACY_COLUMNS = ["sample_id", "subset", "n_true", "n_gated", "recall", "precision", "fraction_true",
                    "fraction_gated", "abs_error"]


def accuracy_table(membership: pd.DataFrame, truth_events: pd.DataFrame, sample_id: str, *, subsets: list[str],
                   bcell_gate: str, keep: np.ndarray | None = None) -> pd.DataFrame:
    """Per-event agreement of each subset gate with the simulator's truth, and the fraction error.

    Truth cells are live single cells (``kind == cell``, ``live == 1``) kept by QC (``keep``), labelled
    ``flow_subset`` (events QC removed are in no gate, so they are left out of both sides);
    recall = gated ∩ true / true, precision = gated ∩ true / gated. Fractions are of the B-cell
    gate (gated) and of all true B-lineage cells (truth).
    """
    if len(membership) != len(truth_events):
        raise BelimapError(f"{sample_id}: membership has {len(membership)} events, truth {len(truth_events)}")
    valid = ((truth_events["kind"] == "cell") & (truth_events["live"].astype(int) == 1)).to_numpy()
    if keep is not None:
        valid &= np.asarray(keep, dtype=bool)
    lab = truth_events["flow_subset"].fillna("").astype(str).to_numpy()
    n_true_b = int((valid & (truth_events["bcell_subset"].fillna("").astype(str) != "").to_numpy()).sum())
    n_gated_b = int(membership[bcell_gate].sum())
    rows = []
    for s in subsets:
        t = valid & (lab == s)
        g = membership[s].to_numpy().astype(bool)
        both = int((t & g).sum())
        ft = t.sum() / n_true_b if n_true_b else np.nan
        fg = g.sum() / n_gated_b if n_gated_b else np.nan
        rows.append({"sample_id": sample_id, "subset": s, "n_true": int(t.sum()), "n_gated": int(g.sum()),
                     "recall": both / t.sum() if t.sum() else np.nan, "precision": both / g.sum() if g.sum() else np.nan,
                     "fraction_true": ft, "fraction_gated": fg, "abs_error": abs(fg - ft)})
    return pd.DataFrame(rows, columns=ACCURACY_COLUMNS)
