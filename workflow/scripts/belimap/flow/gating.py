"""Evaluating a gating strategy on one file: every gate type evaluates itself, on its parent's events.

The evaluator mirrors ``GatingStrategy.gate_sample`` gate for gate — the same channel lookup,
parent AND, boolean and quadrant semantics, FlowKit's own ``gate.apply`` for polygons and
ellipses — and differs only in how much arithmetic it does (FlowKit compensates and transforms
every event of every gated channel again for each gate; ~70 % of its time is flowutils' logicle):

* a gate is evaluated on its parent's events only, and each (channel, compensation, transform)
  value is computed once per event, compensation column by column (:class:`EventValues`);
* rectangle, range and quadrant gates on strictly increasing transforms with a closed-form inverse
  (logicle, asinh, linear) compare raw values with the inverse-transformed bounds
  (``lo <= T(x) < hi`` ⇔ ``T⁻¹(lo) <= x < T⁻¹(hi)``), so they need no per-event transform;
* polygons and ellipses on transformed axes use our fast logicle (:mod:`belimap.flow.transform`).

Each FlowKit gate class has its evaluator in :func:`_evaluators` (subclasses, e.g. GatingML's,
find theirs through the class hierarchy). ``tests/test_flow_gating.py`` checks identical
membership with FlowKit for every gate type; ``benchmarks/flow_throughput.py`` measures the speed.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimap.errors import BelimapError
from belimap.flow.compensate import Spillover, spillover_of
from belimap.flow.io import FcsData
from belimap.flow.strategy import Strategy, gate_of, gate_tree
from belimap.flow.values import EventValues

if TYPE_CHECKING:
    from flowkit import Dimension, QuadrantDivider
    from flowkit import gates as fkg

    from belimap.flow.strategy import Gate, Transform

    Box = list[tuple[Dimension | QuadrantDivider, Transform | None]]

#: What a gate's evaluation yields: gate ID -> (membership per event, dimension names for plots).
Found = dict[str, tuple[np.ndarray, list[str]]]


@dataclass
class GatingResult:
    """Membership of every gate (bool per event, file order) and the tree it came from."""

    gate_ids: list[str]
    parents: dict[str, str]  # gate ID -> parent gate ID ("root" at the top)
    masks: dict[str, np.ndarray]
    n_total: int
    strategy: Strategy
    dims: dict[str, list[str]] = field(default_factory=dict)  # gate ID -> dimension names (plots)
    columns: EventValues | None = None  # the values the gates were evaluated on

    def values(self, dim: str) -> np.ndarray:
        """Transformed values of a gate dimension (NaN where no gate needed them), for plots."""
        return self.columns.full(dim)

    def count(self, gate_id: str) -> int:
        return int(self.masks[gate_id].sum()) if gate_id != "root" else self.n_total


def gate_events(strategy: Strategy, fcs: FcsData, *, spill: Spillover | None = None, keep: np.ndarray | None = None,
                matrix_file: str | None = None) -> GatingResult:
    """Evaluate every gate of ``strategy`` on ``fcs`` (events outside ``keep`` belong to no gate).

    ``spill`` defaults to the file's own (or ``matrix_file``'s) spillover; it is used for dimensions
    whose compensation reference is ``FCS``.
    """
    if spill is None:
        spill = spillover_of(fcs, matrix_file)
    # BLAS threads only cost time on these thin (n x 2..12) products; numba does the parallel work.
    try:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn/scanpy
        limit = contextlib.nullcontext()
    with limit:
        return _Pass(strategy, fcs, spill, keep).run()


class _Pass:
    """One evaluation of a strategy on one file: the tree, the value cache and the masks so far."""

    def __init__(self, strategy: Strategy, fcs: FcsData, spill: Spillover | None, keep: np.ndarray | None) -> None:
        self.strategy, self.n = strategy, fcs.n_events
        self.root = np.ones(self.n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
        self.ids, self.parents, self.keys = gate_tree(strategy)
        self.key_to_id = {v: k for k, v in self.keys.items()}
        self.values = EventValues(fcs, strategy, spill)
        self.masks: dict[str, np.ndarray] = {}
        self.dims: dict[str, list[str]] = {}

    def run(self) -> GatingResult:
        for gid in self.ids:
            self.evaluate(gid)
        return GatingResult(gate_ids=self.ids, parents=self.parents, masks=self.masks, n_total=int(self.root.sum()),
                            strategy=self.strategy, dims=self.dims, columns=self.values)

    def evaluate(self, gid: str, _stack: tuple[str, ...] = ()) -> np.ndarray:
        """The membership of ``gid``, evaluating it (and first its parent) unless done already.

        Gates come in tree order, parents first, but a boolean gate may refer to a gate in another
        branch that comes later (GatingML allows any gate not below it; FlowKit sorts its DAG
        topologically), so references are evaluated on demand.
        """
        if gid in self.masks:  # done, or a quadrant evaluated with its QuadrantGate
            return self.masks[gid]
        if gid in _stack:
            raise BelimapError(f"{self.strategy.source}: gate '{gid}' depends on itself "
                               f"({' -> '.join((*_stack, gid))})")
        stack = (*_stack, gid)
        if self.parents[gid] != "root":
            self.evaluate(self.parents[gid], stack)
        gate = gate_of(self.strategy, self.keys[gid])
        for found_id, (mask, dims) in _evaluator(gate)(gate, gid, self, stack).items():
            self.masks[found_id] = mask
            self.dims[found_id] = dims
        return self.masks[gid]

    def parent_mask(self, gid: str) -> np.ndarray:
        parent = self.parents[gid]
        return self.root if parent == "root" else self.masks[parent]

    def frame(self, gate: Gate, gid: str, rows: np.ndarray, box: Box | None) -> tuple[dict[str, np.ndarray], list[str]]:
        """The gate's dimensions at ``rows``: transformed, or raw where ``box`` maps its bounds to raw."""
        from flowkit import QuadrantDivider, RatioDimension

        frame, names = {}, []
        for d in gate.dimensions:
            if isinstance(d, RatioDimension):  # never in a raw box (_raw_box refuses ratios)
                names.append(d.ratio_ref)
                frame[d.ratio_ref] = self.values.ratio(d.ratio_ref, d.compensation_ref, d.transformation_ref, rows)
                continue
            name = d.dimension_ref if isinstance(d, QuadrantDivider) else d.id
            names.append(name)
            if box is None:
                frame[name] = self.values.get(name, d.compensation_ref, d.transformation_ref, rows)
            else:
                frame[name] = self.values.raw_on_scale(name, d.compensation_ref, d.transformation_ref, rows)
        return frame, names

    def scatter(self, rows: np.ndarray, sub: np.ndarray) -> np.ndarray:
        """Membership at ``rows`` (a gate's parent events) as a mask over all events."""
        out = np.zeros(self.n, dtype=bool)
        out[rows[np.asarray(sub, dtype=bool)]] = True
        return out


# --------------------------------------------------------------------------------------------
# one evaluator per gate type
# --------------------------------------------------------------------------------------------
def _by_flowkit(gate: Gate, gid: str, run: _Pass, stack: tuple[str, ...] = ()) -> Found:
    """Polygon, ellipse (and any other gate): FlowKit's ``apply`` on the parent's transformed values."""
    rows = np.flatnonzero(run.parent_mask(gid))
    frame, names = run.frame(gate, gid, rows, None)
    return {gid: (run.scatter(rows, gate.apply(pd.DataFrame(frame, copy=False))), names)}


def _rectangle(gate: fkg.RectangleGate, gid: str, run: _Pass, stack: tuple[str, ...] = ()) -> Found:
    """Rectangle and range gates: FlowKit's rule (``min <= v < max``), on raw values where it can."""
    box = _raw_box(gate, run.strategy)
    if box is None:
        return _by_flowkit(gate, gid, run, stack)
    rows = np.flatnonzero(run.parent_mask(gid))
    frame, names = run.frame(gate, gid, rows, box)
    res = np.ones(len(rows), dtype=bool)
    for d, xf in box:
        v = frame[d.id]
        lo, hi = _raw_bound(xf, d.min), _raw_bound(xf, d.max)
        if lo is not None:
            res &= v >= lo
        if hi is not None:
            res &= v < hi
    return {gid: (run.scatter(rows, ~res if gate.use_complement else res), names)}


def _quadrant(gate: fkg.QuadrantGate, gid: str, run: _Pass, stack: tuple[str, ...] = ()) -> Found:
    """A quadrant gate yields every quadrant at once (each is a gate of the tree)."""
    box = _raw_box(gate, run.strategy)
    rows = np.flatnonzero(run.parent_mask(gid))
    frame, names = run.frame(gate, gid, rows, box)
    if box is None:
        res = gate.apply(pd.DataFrame(frame, copy=False))
    else:
        divs = {d.id: (d, xf) for d, xf in box}
        res = {}
        for qid, quad in gate.quadrants.items():
            inside = np.ones(len(rows), dtype=bool)
            for ref in quad.divider_refs:
                d, xf = divs[ref]
                lo, hi = quad.get_divider_range(ref)
                v = frame[d.dimension_ref]
                if lo is not None:
                    inside &= v >= _raw_bound(xf, lo)
                if hi is not None:
                    inside &= v < _raw_bound(xf, hi)
            res[qid] = inside
    qpath = run.keys[gid][1]  # gid is one of the quadrants (gate_tree lists quadrants, not their container)
    return {run.key_to_id[(qid, qpath)]: (run.scatter(rows, res[qid]), names) for qid in gate.quadrants}


def _boolean(gate: fkg.BooleanGate, gid: str, run: _Pass, stack: tuple[str, ...] = ()) -> Found:
    """AND/OR/NOT of other gates (in any branch), as FlowKit combines their memberships, within the parent."""
    frame = {}
    for ref in gate.gate_refs:
        rid = run.key_to_id.get((ref["ref"], tuple(ref["path"])))
        if rid is None:
            raise BelimapError(f"{run.strategy.source}: boolean gate '{gid}' refers to unknown gate '{ref['ref']}'")
        frame[(ref["ref"], "/".join(ref["path"]))] = run.evaluate(rid, stack)
    return {gid: (np.logical_and(run.parent_mask(gid), gate.apply(pd.DataFrame(frame))), [])}


@functools.cache
def _evaluators() -> dict[type, Callable[..., Found]]:
    from flowkit import gates as fkg

    return {fkg.RectangleGate: _rectangle, fkg.QuadrantGate: _quadrant, fkg.BooleanGate: _boolean,
            fkg.PolygonGate: _by_flowkit, fkg.EllipsoidGate: _by_flowkit}


def _evaluator(gate: Gate) -> Callable[..., Found]:
    """The evaluator of ``gate``'s class, or of the nearest FlowKit class it derives from."""
    table = _evaluators()
    return next((table[c] for c in type(gate).__mro__ if c in table), _by_flowkit)


# --------------------------------------------------------------------------------------------
# the raw-space fast path of rectangle and quadrant gates
# --------------------------------------------------------------------------------------------
def _raw_bound(xf: Transform | None, v: float | None) -> float | None:
    """A bound on the transformed scale as a raw value: the closed-form inverse of the transform."""
    from flowkit import transforms as fkt

    from belimap.flow.transform import logicle_inverse

    if v is None or xf is None:
        return v
    if isinstance(xf, fkt.LogicleTransform):
        return float(logicle_inverse(np.array([v]), xf.param_t, xf.param_w, xf.param_m, xf.param_a)[0])
    if isinstance(xf, fkt.LinearTransform):
        return v * (xf.param_t + xf.param_a) - xf.param_a
    if isinstance(xf, fkt.AsinhTransform):
        return float(np.asarray(xf.inverse(np.array([[v]], dtype=float))).ravel()[0])
    raise TypeError(type(xf).__name__)


def _raw_box(gate: fkg.RectangleGate | fkg.QuadrantGate, strategy: Strategy) -> Box | None:
    """For a rectangle/quadrant gate whose every dimension has a monotone, invertible transform: the
    dimensions with their transforms (bounds are then mapped to raw values), else None.

    ``lo <= T(x) < hi`` is ``T⁻¹(lo) <= x < T⁻¹(hi)`` for strictly increasing T, so such a gate needs
    no per-event transform at all; only polygons and ellipses on transformed axes do.
    """
    from flowkit import RatioDimension
    from flowkit import transforms as fkt

    ok = (fkt.LogicleTransform, fkt.LinearTransform, fkt.AsinhTransform)
    xfs = strategy.gs.transformations
    out = []
    for d in gate.dimensions:
        if isinstance(d, RatioDimension):
            return None
        xf = xfs.get(d.transformation_ref) if d.transformation_ref else None
        if d.transformation_ref and not isinstance(xf, ok):
            return None
        out.append((d, xf))
    return out


