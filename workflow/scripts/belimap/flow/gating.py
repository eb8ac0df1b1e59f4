"""Gating strategies in three forms (belimap YAML, GatingML 2.0, FlowJo .wsp), evaluated by one path.

Every form becomes a ``flowkit.GatingStrategy`` (FlowKit parses GatingML and FlowJo workspaces; our
YAML is built into the same gate classes), so there is one gate model and one evaluator. The
evaluator mirrors ``GatingStrategy.gate_sample`` gate for gate — the same channel lookup, parent
AND, boolean and quadrant semantics, FlowKit's own ``gate.apply`` for polygons and ellipses — and
differs only in how much arithmetic it does (FlowKit compensates and transforms every event of every
gated channel again for each gate; ~70 % of its time is flowutils' logicle):

* a gate is evaluated on its parent's events only, and each (channel, compensation, transform)
  value is computed once per event, compensation column by column (``compensate.compensated_column``);
* rectangle, range and quadrant gates on strictly increasing transforms with a closed-form inverse
  (logicle, asinh, linear) compare raw values with the inverse-transformed bounds
  (``lo <= T(x) < hi`` ⇔ ``T⁻¹(lo) <= x < T⁻¹(hi)``), so they need no per-event transform;
* polygons and ellipses on transformed axes use our fast logicle (:mod:`belimap.flow.transform`).

``tests/test_flow_gating.py`` checks identical membership with FlowKit for every gate type;
``benchmarks/flow_throughput.py`` measures the speed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from belimap.config import repo_path, validate
from belimap.errors import BelimapError
from belimap.flow.compensate import Spillover, compensated_column, spillover_of
from belimap.flow.io import FcsData
from belimap.flow.transform import apply_transform, asinh_params

#: Dimensions that are never compensated (flowutils' and FlowJo's convention).
UNCOMPENSATED = re.compile(r"^(FSC|SSC|Time)", re.IGNORECASE)
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".xml": "gatingml", ".wsp": "wsp"}

GateKey = tuple[str, tuple[str, ...]]


@dataclass
class Strategy:
    """A gating strategy: FlowKit's gate tree plus what belimap needs to report it."""

    gs: object  # flowkit.GatingStrategy
    source: str
    fmt: str
    name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    bcell_gate: str | None = None
    absorbs: dict[str, list[str]] = field(default_factory=dict)

    def label(self, gate_id: str) -> str:
        return self.labels.get(gate_id, gate_id)


@dataclass
class GatingResult:
    """Membership of every gate (bool per event, file order) and the tree it came from."""

    gate_ids: list[str]
    parents: dict[str, str]  # gate ID -> parent gate ID ("root" at the top)
    masks: dict[str, np.ndarray]
    n_total: int
    strategy: Strategy
    dims: dict[str, list[str]] = field(default_factory=dict)  # gate ID -> dimension names (plots)
    _columns: object = None

    def values(self, dim: str) -> np.ndarray:
        """Transformed values of a gate dimension (NaN where no gate needed them), for plots."""
        return self._columns.full(dim)

    def count(self, gate_id: str) -> int:
        return int(self.masks[gate_id].sum()) if gate_id != "root" else self.n_total


# --------------------------------------------------------------------------------------------
# reading strategies
# --------------------------------------------------------------------------------------------
def read_strategy(path: str | Path, sample: str | None = None, bcell_gate: str | None = None,
                  absorbs: dict[str, list[str]] | None = None) -> Strategy:
    """Read a strategy from YAML, GatingML 2.0 (.xml) or a FlowJo workspace (.wsp).

    For a workspace, ``sample`` picks the sample whose (possibly custom) gates are used; default is
    the first sample. ``bcell_gate``/``absorbs`` fill in what GatingML/FlowJo cannot carry.
    """
    import flowkit as fk

    p = Path(path)
    if not p.exists():
        raise BelimapError(f"{p}: gating strategy not found")
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise BelimapError(f"{p}: unknown strategy format; expected .yaml (belimap), .xml (GatingML 2.0) or .wsp (FlowJo)")
    if fmt == "yaml":
        from belimap.config import read_yaml

        strat = strategy_from_dict(read_yaml(p), str(p))
    else:
        try:
            if fmt == "gatingml":
                gs = fk.parse_gating_xml(str(p))
            else:
                ws = fk.Workspace(str(p), load_missing_file_data=True)
                ids = ws.get_sample_ids(loaded_only=False)
                if not ids:
                    raise BelimapError(f"{p}: the FlowJo workspace holds no samples with gates")
                sid = sample if sample in ids else ids[0]
                gs = ws.get_gating_strategy(sid)
        except BelimapError:
            raise
        except Exception as err:  # noqa: BLE001 - a malformed file is the user's
            raise BelimapError(f"{p}: cannot be read as {fmt} ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from None
        strat = Strategy(gs=gs, source=str(p), fmt=fmt, name=p.stem)
    if bcell_gate and strat.bcell_gate is None:
        strat.bcell_gate = bcell_gate
    if absorbs and not strat.absorbs:
        strat.absorbs = dict(absorbs)
    ids = set(gate_tree(strat)[0])
    if strat.bcell_gate is not None and strat.bcell_gate not in ids:
        if fmt == "yaml":
            raise BelimapError(f"{p}: bcell_gate '{strat.bcell_gate}' is not a gate of the strategy")
        strat.bcell_gate = None
    return strat


def strategy_from_dict(data: dict, where: str = "strategy") -> Strategy:
    """Build a FlowKit ``GatingStrategy`` from belimap's YAML form (see resources/gating/)."""
    import flowkit as fk
    from flowkit import gates as fkg
    from flowkit import transforms as fkt

    data = validate(data or {}, "gating", where)
    gs = fk.GatingStrategy()
    for tid, t in data["transforms"].items():
        kind = t["type"]
        if kind == "linear":
            xf = fkt.LinearTransform(param_t=t.get("t", 262144), param_a=t.get("a", 0))
        elif kind == "logicle":
            xf = fkt.LogicleTransform(param_t=t.get("t", 262144), param_w=t.get("w", 0.5), param_m=t.get("m", 4.5),
                                      param_a=t.get("a", 0))
        else:
            if "cofactor" in t:
                T, M, A = asinh_params(t["cofactor"], t.get("t", 262144))
            else:
                T, M, A = t.get("t", 262144), t.get("m", 4.5), t.get("a", 0)
            xf = fkt.AsinhTransform(param_t=T, param_m=M, param_a=A)
        gs.add_transform(tid, xf)
    chan_xf = dict(data["channels"])
    default_xf = chan_xf.pop("default", None)
    for name, tid in list(chan_xf.items()) + ([("default", default_xf)] if default_xf else []):
        if tid not in data["transforms"]:
            raise BelimapError(f"{where}: field 'channels.{name}': transform '{tid}' is not defined under transforms")
    comp = data["compensation"]

    def dim(name: str, lo: float | None = None, hi: float | None = None) -> object:
        ref = "uncompensated" if UNCOMPENSATED.match(name) else comp
        return fk.Dimension(name, compensation_ref=ref, transformation_ref=chan_xf.get(name, default_xf),
                            range_min=lo, range_max=hi)

    labels: dict[str, str] = {}
    paths: dict[str, tuple[str, ...]] = {}
    for i, g in enumerate(data["gates"]):
        gid, kind = g["id"], g["type"]
        gw = f"{where}: gates[{i}] '{gid}'"
        if gid in paths or gid in labels:
            raise BelimapError(f"{gw}: gate ID is used twice; gate IDs must be unique")
        parent = g.get("parent") or "root"
        if parent != "root" and parent not in paths:
            raise BelimapError(f"{gw}: parent '{parent}' is not defined above it")
        path = ("root",) if parent == "root" else paths[parent] + (parent,)
        dims = g.get("dims", [])
        try:
            if kind in ("range", "rectangle"):
                lo = g.get("min") or [None] * len(dims)
                hi = g.get("max") or [None] * len(dims)
                if len(lo) != len(dims) or len(hi) != len(dims):
                    raise BelimapError(f"{gw}: min/max need one value (or null) per dimension in dims {dims}")
                gate = fkg.RectangleGate(gid, [dim(d, a, b) for d, a, b in zip(dims, lo, hi, strict=True)])
            elif kind == "polygon":
                gate = fkg.PolygonGate(gid, [dim(d) for d in dims], [list(v) for v in g["vertices"]])
            elif kind == "ellipse":
                gate = fkg.EllipsoidGate(gid, [dim(d) for d in dims], g["mean"], g["covariance"], g["distance_square"])
            elif kind == "quadrant":
                divs = [fk.QuadrantDivider(f"{gid}_{d}", d, "uncompensated" if UNCOMPENSATED.match(d) else comp,
                                           [v], chan_xf.get(d, default_xf)) for d, v in zip(dims, g["dividers"], strict=True)]
                quads = []
                for qid, q in g["quadrants"].items():
                    if not re.match(r"^[A-Za-z0-9_]+$", qid):
                        raise BelimapError(f"{gw}: quadrant ID '{qid}' is not a safe identifier")
                    ranges = [[v, None] if side == "pos" else [None, v]
                              for side, v in zip(q["at"], g["dividers"], strict=True)]
                    quads.append(fkg.Quadrant(qid, [dv.id for dv in divs], ranges))
                    labels[qid] = q.get("label", qid)
                    paths[qid] = path + (gid,)
                gate = fkg.QuadrantGate(gid, divs, quads)
            elif kind == "boolean":
                refs = []
                for r in g["refs"]:
                    if r not in paths:
                        raise BelimapError(f"{gw}: boolean reference '{r}' is not a gate defined above it")
                    refs.append({"ref": r, "path": paths[r], "complement": False})
                gate = fkg.BooleanGate(gid, g.get("op", "and"), refs)
            else:  # pragma: no cover - schema enum
                raise BelimapError(f"{gw}: unknown gate type {kind}")
        except BelimapError:
            raise
        except (ValueError, KeyError, TypeError) as err:
            raise BelimapError(f"{gw}: invalid {kind} gate ({err})") from None
        gs.add_gate(gate, path)
        paths[gid] = path
        labels[gid] = g.get("label", gid)
    return Strategy(gs=gs, source=where, fmt="yaml", name=data.get("name", Path(where).stem), labels=labels,
                    bcell_gate=data.get("bcell_gate"), absorbs=dict(data.get("absorbs") or {}))


def write_gatingml(strategy: Strategy, path: str | Path) -> None:
    """Export a strategy as GatingML 2.0 (FlowKit's writer), atomically."""
    import flowkit as fk

    from belimap.tables import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fk.export_gatingml(strategy.gs, fh)


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------
def gate_tree(strategy: Strategy) -> tuple[list[str], dict[str, str], dict[str, GateKey]]:
    """Gate IDs in hierarchy order, their parents and FlowKit keys (quadrants are gates; the quadrant
    container is not). IDs are gate names, made unique with the parent path where FlowJo repeats one."""
    from flowkit.exceptions import QuadrantReferenceError

    gs = strategy.gs
    nodes: list[GateKey] = []
    for name, path in gs.get_gate_ids():
        try:
            gate = gs.get_gate(name, path)
        except QuadrantReferenceError:
            nodes.append((name, tuple(path)))
            continue
        if type(gate).__name__ != "QuadrantGate":
            nodes.append((name, tuple(path)))
    names = [n for n, _ in nodes]
    quad_parents = {}
    for name, path in gs.get_gate_ids():
        try:
            gs.get_gate(name, path)
        except QuadrantReferenceError:
            quad_parents[(name, tuple(path))] = path[:-1]

    def uid(name: str, path: tuple[str, ...]) -> str:
        if names.count(name) == 1:
            return name
        return "/".join([*path[1:], name])
    ids, parents, keys = [], {}, {}
    by_key = {k: uid(*k) for k in nodes}
    for k in nodes:
        name, path = k
        gid = by_key[k]
        ppath = quad_parents.get(k, path)
        if len(ppath) <= 1:
            parent = "root"
        else:
            pk = (ppath[-1], tuple(ppath[:-1]))
            parent = by_key.get(pk, ppath[-1])
        ids.append(gid)
        parents[gid] = parent
        keys[gid] = k
    return ids, parents, keys


class _Columns:
    """Compensated, transformed channel values of one file, computed once and only where needed.

    A gate needs its dimensions only on the events of its parent, so values are computed lazily
    per event: compensation for the rows asked for, then the transform of those rows. Deep in a
    B-cell hierarchy most markers are asked for on ~10 % of the events, which is where most of
    FlowKit's time (transforming every event of every channel) is saved; the values themselves are
    the same numbers FlowKit computes.
    """

    def __init__(self, fcs: FcsData, strategy: Strategy, spill: Spillover | None) -> None:
        self.fcs, self.strategy, self.spill = fcs, strategy, spill
        self._comp: dict[str, tuple[list[int], np.ndarray | None]] = {}
        self._cols: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._xform_of: dict[str, tuple[str | None, str | None]] = {}

    def _matrix(self, ref: str) -> Spillover | None:
        if ref.upper() == "FCS":
            return self.spill
        m = self.strategy.gs.comp_matrices.get(ref)
        if m is None:
            raise BelimapError(f"{self.strategy.source}: compensation '{ref}' is not defined in the strategy")
        return Spillover(list(m.detectors), np.asarray(m.matrix, dtype=np.float64), ref)

    def _raw(self, idx: int, comp_ref: str | None, rows: np.ndarray) -> np.ndarray:
        ev = self.fcs.events
        if comp_ref in (None, "uncompensated"):
            return ev[rows, idx]
        if comp_ref not in self._comp:
            spill = self._matrix(comp_ref)
            det = [] if spill is None else [self.fcs.pnn.index(d) for d in spill.detectors]
            try:
                unmix = np.linalg.inv(spill.matrix) if spill is not None else None
            except np.linalg.LinAlgError:
                raise BelimapError(f"{self.fcs.path}: the spillover matrix ({spill.source}) is singular") from None
            self._comp[comp_ref] = (det, unmix)
        det, unmix = self._comp[comp_ref]
        if idx not in det:
            return ev[rows, idx]
        # comp @ S = raw  =>  comp[:, j] = raw[:, det] @ S^-1[:, j], only for this channel and these rows
        return compensated_column(ev, rows, det, unmix[:, det.index(idx)])

    def index(self, name: str, comp_ref: str | None) -> int:
        fcs = self.fcs
        for labels in (fcs.pnn, fcs.markers, fcs.pns, [x.replace("/", "_") for x in fcs.pnn]):
            if name in labels:
                return labels.index(name)
        if comp_ref not in (None, "uncompensated", "FCS"):
            m = self.strategy.gs.comp_matrices.get(comp_ref)
            if m is not None and name in m.fluorochromes:
                return fcs.pnn.index(m.detectors[m.fluorochromes.index(name)])
        raise BelimapError(f"{fcs.path}: gate dimension '{name}' of {self.strategy.source} matches no channel "
                           f"($PnN: {', '.join(fcs.pnn)}; markers: {', '.join(m for m in fcs.markers if m)}); "
                           "map it with flow.channel_markers")

    def _cached(self, key: tuple, rows: np.ndarray, compute) -> np.ndarray:  # noqa: ANN001
        if key not in self._cols:
            n = self.fcs.n_events
            self._cols[key] = (np.empty(n), np.zeros(n, dtype=bool))
        vals, done = self._cols[key]
        need = rows[~done[rows]]
        if need.size:
            vals[need] = compute(need)
            done[need] = True
        return vals[rows]

    def raw(self, name: str, comp_ref: str | None, rows: np.ndarray) -> np.ndarray:
        """Compensated, untransformed values of dimension ``name`` at ``rows``."""
        idx = self.index(name, comp_ref)
        comp = comp_ref if comp_ref not in (None, "uncompensated") else None
        return self._cached((idx, comp, "raw"), rows, lambda need: self._raw(idx, comp_ref, need))

    def get(self, name: str, comp_ref: str | None, xform_ref: str | None, rows: np.ndarray) -> np.ndarray:
        """Values of dimension ``name`` (compensated by ``comp_ref``, transformed by ``xform_ref``) at ``rows``."""
        if xform_ref is None:
            return self.raw(name, comp_ref, rows)
        idx = self.index(name, comp_ref)
        comp = comp_ref if comp_ref not in (None, "uncompensated") else None
        self._xform_of[name] = (comp_ref, xform_ref)
        xf = self.strategy.gs.transformations.get(xform_ref)
        if xf is None:
            raise BelimapError(f"{self.strategy.source}: transform '{xform_ref}' is not defined in the strategy")
        return self._cached((idx, comp, xform_ref), rows, lambda need: apply_transform(xf, self.raw(name, comp_ref, need)))

    def full(self, name: str) -> np.ndarray:
        """Transformed values of ``name`` wherever a gate needed it (NaN elsewhere), for plots."""
        comp_ref, xform_ref = self._xform_of.get(name, (None, None))
        idx = self.index(name, comp_ref)
        comp = comp_ref if comp_ref not in (None, "uncompensated") else None
        raw_key = (idx, comp, "raw")
        if raw_key not in self._cols:
            return np.full(self.fcs.n_events, np.nan)
        rows = np.flatnonzero(self._cols[raw_key][1])
        out = np.full(self.fcs.n_events, np.nan)
        out[rows] = self.get(name, comp_ref, xform_ref, rows)
        return out


def _raw_bound(xf: object, v: float | None) -> float | None:
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


def _box_in_raw_space(gate: object, strategy: Strategy) -> list | None:
    """For a rectangle/quadrant gate whose every dimension has a monotone, invertible transform: the
    dimensions with their bounds mapped to raw values, else None.

    ``lo <= T(x) < hi`` is ``T⁻¹(lo) <= x < T⁻¹(hi)`` for strictly increasing T, so such a gate needs
    no per-event transform at all; only polygons and ellipses on transformed axes do.
    """
    from flowkit import gates as fkg
    from flowkit import transforms as fkt

    ok = (fkt.LogicleTransform, fkt.LinearTransform, fkt.AsinhTransform)
    xfs = strategy.gs.transformations
    if not isinstance(gate, (fkg.RectangleGate, fkg.QuadrantGate)):
        return None
    out = []
    for d in gate.dimensions:
        if type(d).__name__ == "RatioDimension":
            return None
        xf = xfs.get(d.transformation_ref) if d.transformation_ref else None
        if d.transformation_ref and not isinstance(xf, ok):
            return None
        out.append((d, xf))
    return out


def gate_events(strategy: Strategy, fcs: FcsData, spill: Spillover | None = None, keep: np.ndarray | None = None,
                matrix_file: str | None = None) -> GatingResult:
    """Evaluate every gate of ``strategy`` on ``fcs`` (events outside ``keep`` belong to no gate).

    ``spill`` defaults to the file's own (or ``matrix_file``'s) spillover; it is used for dimensions
    whose compensation reference is ``FCS``.
    """
    import contextlib

    if spill is None:
        spill = spillover_of(fcs, matrix_file)
    # BLAS threads only cost time on these thin (n x 2..12) products; numba does the parallel work.
    try:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn/scanpy
        limit = contextlib.nullcontext()
    with limit:
        return _gate_events(strategy, fcs, spill, keep)


def _gate_events(strategy: Strategy, fcs: FcsData, spill: Spillover | None, keep: np.ndarray | None) -> GatingResult:
    from flowkit import gates as fkg
    from flowkit import QuadrantDivider, RatioDimension
    from flowkit.exceptions import QuadrantReferenceError

    gs = strategy.gs
    n = fcs.n_events
    root = np.ones(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    ids, parents, keys = gate_tree(strategy)
    key_to_id = {v: k for k, v in keys.items()}
    cols = _Columns(fcs, strategy, spill)
    masks: dict[str, np.ndarray] = {}
    dims_of: dict[str, list[str]] = {}
    done: set[str] = set()
    for gid in ids:
        if gid in done:
            continue
        name, path = keys[gid]
        parent = parents[gid]
        pmask = root if parent == "root" else masks[parent]
        try:
            gate = gs.get_gate(name, path, sample_id=None)
            qgate_path = None
        except QuadrantReferenceError:
            gate = gs.get_gate(path[-1], path[:-1])
            qgate_path = path
        if isinstance(gate, fkg.BooleanGate):
            frame = {}
            for ref in gate.gate_refs:
                rid = key_to_id.get((ref["ref"], tuple(ref["path"])))
                if rid is None or rid not in masks:
                    raise BelimapError(f"{strategy.source}: boolean gate '{gid}' refers to unknown gate '{ref['ref']}'")
                frame[(ref["ref"], "/".join(ref["path"]))] = masks[rid]
            res = gate.apply(pd.DataFrame(frame))
            masks[gid] = np.logical_and(pmask, res)
            dims_of[gid] = []
            done.add(gid)
            continue
        # a gate is applied to its parent's events only (FlowKit applies it to all, then ANDs)
        rows = np.flatnonzero(pmask)
        frame, dnames = {}, []
        box = _box_in_raw_space(gate, strategy)
        for d in gate.dimensions:
            if isinstance(d, RatioDimension):
                raise BelimapError(f"{strategy.source}: gate '{gid}' uses a ratio dimension, which belimap does not evaluate")
            dname = d.dimension_ref if isinstance(d, QuadrantDivider) else d.id
            dnames.append(dname)
            if box is None:
                frame[dname] = cols.get(dname, d.compensation_ref, d.transformation_ref, rows)
            else:
                frame[dname] = cols.raw(dname, d.compensation_ref, rows)
                cols._xform_of[dname] = (d.compensation_ref, d.transformation_ref)
        if box is None:
            res = gate.apply(pd.DataFrame(frame, copy=False))
        else:
            res = _apply_box(gate, box, frame)

        def scatter(sub: np.ndarray) -> np.ndarray:
            out = np.zeros(n, dtype=bool)
            out[rows[np.asarray(sub, dtype=bool)]] = True
            return out

        if isinstance(gate, fkg.QuadrantGate):
            qpath = qgate_path if qgate_path is not None else path + (name,)
            for qid in gate.quadrants:
                q_gid = key_to_id[(qid, tuple(qpath))]
                masks[q_gid] = scatter(res[qid])
                dims_of[q_gid] = dnames
                done.add(q_gid)
        else:
            masks[gid] = scatter(res)
            dims_of[gid] = dnames
            done.add(gid)
    return GatingResult(gate_ids=ids, parents=parents, masks=masks, n_total=int(root.sum()), strategy=strategy,
                        dims=dims_of, _columns=cols)


def _apply_box(gate: object, box: list, frame: dict[str, np.ndarray]) -> object:
    """FlowKit's rectangle/quadrant rule (``min <= v < max``) on raw values against raw bounds."""
    from flowkit import gates as fkg

    if isinstance(gate, fkg.RectangleGate):
        n = len(next(iter(frame.values())))
        res = np.ones(n, dtype=bool)
        for d, xf in box:
            v = frame[d.id]
            lo, hi = _raw_bound(xf, d.min), _raw_bound(xf, d.max)
            if lo is not None:
                res &= v >= lo
            if hi is not None:
                res &= v < hi
        return ~res if gate.use_complement else res
    divs = {d.id: (d, xf) for d, xf in box}
    out = {}
    for qid, quad in gate.quadrants.items():
        n = len(next(iter(frame.values())))
        res = np.ones(n, dtype=bool)
        for ref in quad.divider_refs:
            d, xf = divs[ref]
            lo, hi = quad.get_divider_range(ref)
            v = frame[d.dimension_ref]
            if lo is not None:
                res &= v >= _raw_bound(xf, lo)
            if hi is not None:
                res &= v < _raw_bound(xf, hi)
        out[qid] = res
    return out


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------
COUNT_COLUMNS = ["gate_id", "label", "parent", "count", "pct_parent", "pct_total", "pct_bcells"]


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


def strategy_from_config(flow_cfg: dict) -> Strategy:
    """The strategy named by config ``flow:`` (with its fallbacks for GatingML/FlowJo strategies)."""
    return read_strategy(repo_path(flow_cfg["strategy"]), sample=flow_cfg.get("wsp_sample"),
                         bcell_gate=flow_cfg.get("bcell_gate"), absorbs=flow_cfg.get("absorbs"))
