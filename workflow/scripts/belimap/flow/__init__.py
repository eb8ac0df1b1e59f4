"""Flow cytometry: FCS files to gated B-cell subset counts and fractions.

``io`` reads FCS (flowio), ``compensate`` applies spillover, ``transform`` holds logicle/asinh,
``qc`` flags margin events and flow-rate anomalies, ``strategy`` reads and writes gating strategies
(YAML, GatingML 2.0, FlowJo .wsp) into FlowKit's gate model, ``gating`` evaluates them (on the
values cached by ``values``), ``counts`` builds the tables; ``pipeline`` holds the one call per
workflow rule and :func:`inspect_fcs`, what ``belimap inspect`` prints for an FCS file.
"""

from belimap.flow.compensate import CompensationParams, Spillover, compensate, spillover_of
from belimap.flow.counts import (AbsoluteParams, accuracy_table, composition_from_counts, counts_table, descendants,
                                 membership_table, metadata_table, panel_subsets, sample_counts, subset_gates)
from belimap.flow.gating import GatingResult, gate_events
from belimap.flow.io import FcsData, read_fcs
from belimap.flow.pipeline import FlowParams, FlowSample, gate_sample, inspect_fcs, read_configured
from belimap.flow.qc import QcParams, margin_events, qc_events, rate_bins
from belimap.flow.strategy import (Strategy, configured_strategy, gate_tree, read_strategy, strategy_from_dict,
                                   write_gatingml)
from belimap.flow.transform import apply_transform, asinh_params, logicle, logicle_inverse

__all__ = [
    "AbsoluteParams", "CompensationParams", "FcsData", "FlowParams", "FlowSample", "GatingResult", "QcParams",
    "Spillover", "Strategy", "accuracy_table", "apply_transform", "asinh_params", "compensate",
    "composition_from_counts", "configured_strategy", "counts_table", "descendants", "gate_events", "gate_sample",
    "gate_tree", "inspect_fcs", "logicle", "logicle_inverse", "margin_events", "membership_table", "metadata_table",
    "panel_subsets", "qc_events", "rate_bins", "read_configured", "read_fcs", "read_strategy", "sample_counts",
    "spillover_of", "strategy_from_dict", "subset_gates", "write_gatingml",
]
