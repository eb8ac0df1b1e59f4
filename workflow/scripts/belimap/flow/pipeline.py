"""The flow branch as one call per workflow rule, and the typed ``flow:`` section of the config.

Per file: ``qc_file`` (rule flow_qc) → ``gate_file`` (flow_gate) and ``sample_figure_files``
(flow_sample_figures); per study: ``study_tables`` (flow_tables), ``composition_figure_file``,
``accuracy_files`` (demo) and ``concordance_files`` (flow vs scRNA). Each does its reads and writes;
nothing here touches Snakemake, and outputs are passed by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from belimap.config import repo_path
from belimap.errors import BelimapError
from belimap.flow.compensate import CompensationParams, Spillover, spill_is_empty, spillover_of
from belimap.flow.counts import (AbsoluteParams, accuracy_table, composition_from_counts, membership_table,
                                 metadata_table, panel_subsets, sample_counts)
from belimap.flow.gating import GatingResult, gate_events
from belimap.flow.io import FcsData, read_fcs
from belimap.flow.qc import QcParams, qc_events
from belimap.flow.strategy import Strategy, configured_strategy
from belimap.params import parameters
from belimap.tables import atomic_path, read_tsv, read_tsvs, write_tsv
from belimap.vocab import Vocabulary


@parameters("flow", "figures")
class FiguresParams:
    """``flow.figures``: ``max_points``, events drawn per gating panel."""

    max_points: int


@parameters("flow", "concordance")
class ConcordanceParams:
    """``flow.concordance``: ``min_bcells`` a specimen needs in both modalities to be compared."""

    min_bcells: int


@parameters("flow")
class FlowParams:
    """The ``flow`` section of the config, every sub-section typed (config/schemas/flow.schema.yaml)."""

    strategy: str
    wsp_sample: str | None
    bcell_gate: str
    absorbs: dict[str, list[str]]
    channel_markers: dict[str, str]
    dataset: int
    compensation: CompensationParams
    qc: QcParams
    absolute: AbsoluteParams
    figures: FiguresParams
    concordance: ConcordanceParams


@dataclass
class FlowSample:
    """One file taken through the flow path."""

    fcs: FcsData
    spill: Spillover | None
    strategy: Strategy
    keep: np.ndarray
    result: GatingResult


def _read(path: str | Path, params: FlowParams) -> FcsData:
    return read_fcs(path, channel_markers=params.channel_markers, dataset=int(params.dataset))


def read_configured(path: str | Path, *, params: FlowParams) -> tuple[FcsData, Spillover | None]:
    """Read a file and its spillover as config ``flow:`` says (markers, data set, matrix file)."""
    fcs = _read(path, params)
    matrix = params.compensation.matrix
    if matrix == "none":  # uncompensated on purpose (e.g. a single-colour or scatter-only panel)
        return fcs, None
    spill = spillover_of(fcs, repo_path(matrix) if matrix else None)
    if spill is None and len(fcs.fluoro_idx):
        raise BelimapError(f"{path}: no spillover matrix ($SPILLOVER/$SPILL absent or without values) and "
                           "flow.compensation.matrix is not set; give a spillover file in flow.compensation.matrix, "
                           "or set it to none to gate uncompensated on purpose")
    return fcs, spill


def gate_sample(path: str | Path, *, params: FlowParams, keep: np.ndarray | None = None) -> FlowSample:
    """Gate one file (QC keep-mask applied when given) with the configured strategy."""
    fcs, spill = read_configured(path, params=params)
    strategy = configured_strategy(params)
    if keep is None:
        keep = np.ones(fcs.n_events, dtype=bool)
    if len(keep) != fcs.n_events:
        raise BelimapError(f"{path}: QC mask has {len(keep)} events but the file has {fcs.n_events}; rerun flow_qc")
    result = gate_events(strategy, fcs, spill=spill, keep=keep)
    return FlowSample(fcs, spill, strategy, keep, result)


def _write_keep(keep: np.ndarray, path: str | Path) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, keep)


def _read_keep(path: str | Path) -> np.ndarray:
    return np.load(path)


def _cells_per_ul(meta: dict[str, str]) -> float | None:
    """The sheet's lymphocytes per µL (the sheet row's strings: blank or "nan" when not measured)."""
    cpu = meta.get("cells_per_ul", "")
    return float(cpu) if cpu not in ("", "nan") else None


# --------------------------------------------------------------------------------------------
# one call per rule
# --------------------------------------------------------------------------------------------
def qc_file(path: str | Path, sample_id: str, *, params: FlowParams, table: str | Path, bins: str | Path,
            keep: str | Path) -> None:
    """Rule ``flow_qc``: one file → QC summary row, rate bins and keep-mask (.npy). Reads only what
    QC needs: no compensation or gating."""
    mask, summary, rate = qc_events(_read(path, params), sample_id, params=params.qc)
    write_tsv(summary, table)
    write_tsv(rate, bins)
    _write_keep(mask, keep)


def gate_file(path: str | Path, keep: str | Path, meta: dict[str, str], *, params: FlowParams, counts: str | Path,
              events: str | Path, metadata: str | Path) -> None:
    """Rule ``flow_gate``: one file and its QC mask → counts per gate (with cells/µL from the sheet
    row ``meta`` or beads), per-event membership and MIFlowCyt-style metadata."""
    fs = gate_sample(path, params=params, keep=_read_keep(keep))
    sid = meta["sample_id"]
    write_tsv(sample_counts(fs.result, sid, _cells_per_ul(meta), absolute=params.absolute), counts)
    write_tsv(membership_table(fs.result), events)
    write_tsv(metadata_table(fs.fcs, sid, fs.strategy, fs.spill, result=fs.result), metadata)


def sample_figure_files(path: str | Path, keep: str | Path, qc: str | Path, bins: str | Path, sample_id: str, *,
                        params: FlowParams, gating: str | Path, qc_figure: str | Path) -> None:
    """Rule ``flow_sample_figures``: the gating hierarchy and the QC figure of one file (PDF + PNG)."""
    from belimap.pl import flow as pl
    from belimap.pl import save_figure

    fs = gate_sample(path, params=params, keep=_read_keep(keep))
    save_figure(pl.gating_figure(fs.result, sample_id, max_points=params.figures.max_points), gating)
    save_figure(pl.qc_figure(read_tsv(bins), read_tsv(qc), sample_id), qc_figure)


def study_tables(count_files: list[str], qc_files: list[str], metadata_files: list[str],
                 specimens: pd.DataFrame | dict, vocab: Vocabulary, *, params: FlowParams, counts: str | Path,
                 composition: str | Path, qc: str | Path, metadata: str | Path) -> None:
    """Rule ``flow_tables``: per-file tables → study counts, composition, QC summary and metadata.

    ``specimens`` is the specimen table (or its columns as lists, as a rule's params carry it).
    """
    tab = read_tsvs(count_files)
    strategy = configured_strategy(params)
    subsets = panel_subsets(strategy, vocab.subset_ids)
    write_tsv(tab, counts)
    write_tsv(composition_from_counts(tab, pd.DataFrame(specimens), subsets, bcell_gate=strategy.bcell_gate),
              composition)
    write_tsv(read_tsvs(qc_files), qc)
    write_tsv(read_tsvs(metadata_files), metadata)


def composition_figure_file(composition: str | Path, vocab: Vocabulary, *, tissues: list[str],
                            figure: str | Path) -> None:
    """Rule ``flow_composition_figure``: B-subset fractions of every specimen, grouped by tissue."""
    from belimap.pl import save_figure
    from belimap.pl.flow import composition_figure

    save_figure(composition_figure(read_tsv(composition), vocab, tissues=tissues), figure)


def accuracy_files(event_files: list[str], truth_files: list[str], keep_files: list[str], samples: list[str],
                   vocab: Vocabulary, *, params: FlowParams, out: str | Path) -> None:
    """Rule ``flow_accuracy`` (demo): every subset gate's per-event agreement with the simulator's truth."""
    strategy = configured_strategy(params)
    subsets = panel_subsets(strategy, vocab.subset_ids)
    tabs = [accuracy_table(read_tsv(ev), read_tsv(tr), sid, subsets=subsets, bcell_gate=strategy.bcell_gate,
                           keep=_read_keep(keep))
            for sid, ev, tr, keep in zip(samples, event_files, truth_files, keep_files, strict=True)]
    write_tsv(pd.concat(tabs, ignore_index=True), out)


def concordance_files(flow: str | Path, scrna: str | Path, vocab: Vocabulary, *, params: FlowParams,
                      table: str | Path, pairs: str | Path, figure: str | Path,
                      tissues: list[str] | None = None) -> None:
    """Rule ``flow_concordance``: flow vs scRNA subset fractions of the same specimens, per tissue ×
    subset (Spearman, repeated-measures Bland–Altman with patient as cluster), with the strategy's
    ``absorbs`` merged on the scRNA side and the vocabulary's ``concordance: false`` subsets kept as
    rows that say why they are not compared. ``tissues``: the config's order."""
    from belimap.compare.concordance import concordance_table, pair_modalities, subset_status
    from belimap.pl import save_figure
    from belimap.pl.flow import concordance_figure

    flow_comp = read_tsv(flow)
    absorbs = configured_strategy(params).absorbs
    paired = pair_modalities(flow_comp, read_tsv(scrna), absorbs=absorbs, min_bcells=params.concordance.min_bcells)
    status = subset_status(vocab, list(dict.fromkeys(flow_comp["subset"])), absorbs=absorbs)
    stats = concordance_table(paired, status, tissues=tissues)
    write_tsv(stats, table)
    write_tsv(paired, pairs)
    save_figure(concordance_figure(paired, stats, vocab), figure)


def inspect_fcs(path: str | Path) -> dict:
    """What ``belimap inspect`` prints for an FCS file: version, events, channels, markers and
    spillover (every data set counted)."""
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
