"""The per-file flow path used by the workflow: read → QC → compensate/transform/gate, from config."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from belimap.flow.compensate import Spillover, spillover_of
from belimap.config import repo_path
from belimap.flow.gating import GatingResult, Strategy, gate_events, strategy_from_config
from belimap.flow.io import FcsData, read_fcs


@dataclass
class FlowSample:
    """One file taken through the flow path."""

    fcs: FcsData
    spill: Spillover | None
    strategy: Strategy
    keep: np.ndarray
    result: GatingResult


def read_configured(path: str, flow_cfg: dict) -> tuple[FcsData, Spillover | None]:
    """Read a file and its spillover as config ``flow:`` says (markers, data set, matrix file)."""
    fcs = read_fcs(path, channel_markers=flow_cfg.get("channel_markers"), dataset=int(flow_cfg.get("dataset", 0)))
    matrix = (flow_cfg.get("compensation") or {}).get("matrix")
    return fcs, spillover_of(fcs, repo_path(matrix) if matrix else None)


def gate_file(path: str, flow_cfg: dict, keep: np.ndarray | None = None) -> FlowSample:
    """Gate one file (QC keep-mask applied when given) with the configured strategy."""
    fcs, spill = read_configured(path, flow_cfg)
    strategy = strategy_from_config(flow_cfg)
    if keep is None:
        keep = np.ones(fcs.n_events, dtype=bool)
    if len(keep) != fcs.n_events:
        from belimap.errors import BelimapError

        raise BelimapError(f"{path}: QC mask has {len(keep)} events but the file has {fcs.n_events}; rerun flow_qc")
    result = gate_events(strategy, fcs, spill=spill, keep=keep)
    return FlowSample(fcs, spill, strategy, keep, result)
