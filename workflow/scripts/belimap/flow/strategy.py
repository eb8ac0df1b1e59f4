"""Gating strategies in three forms (belimap YAML, GatingML 2.0, FlowJo .wsp), read into one gate model.

Every form becomes a ``flowkit.GatingStrategy`` (FlowKit parses GatingML and FlowJo workspaces; our
YAML is built into the same gate classes), so there is one gate model and one evaluator
(:mod:`belimap.flow.gating`). This module reads, builds and writes strategies and walks their tree,
as FlowKit keeps its parsers and writers apart from its model. FlowKit is imported when a strategy
is read (it takes seconds to import), not when this module is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from belimap.config import read_yaml, repo_path, validate
from belimap.errors import BelimapError
from belimap.flow.transform import asinh_params

if TYPE_CHECKING:
    import flowkit as fk
    from flowkit import gates as fkg
    from flowkit import transforms as fkt

    from flowkit._models.gates._base_gate import Gate
    from flowkit._models.transforms._base_transform import Transform  # noqa: F401 - the type other modules use

    from belimap.flow.pipeline import FlowParams

#: Dimensions that are never compensated (flowutils' and FlowJo's convention).
UNCOMPENSATED = re.compile(r"^(FSC|SSC|Time)", re.IGNORECASE)
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".xml": "gatingml", ".wsp": "wsp"}

#: A node of FlowKit's gate tree: (gate name, gate path from "root").
GateKey = tuple[str, tuple[str, ...]]


@dataclass
class Strategy:
    """A gating strategy: FlowKit's gate tree plus what belimap needs to report it."""

    gs: fk.GatingStrategy
    source: str
    fmt: str
    name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    bcell_gate: str | None = None
    absorbs: dict[str, list[str]] = field(default_factory=dict)

    def label(self, gate_id: str) -> str:
        return self.labels.get(gate_id, gate_id)


# --------------------------------------------------------------------------------------------
# reading and writing
# --------------------------------------------------------------------------------------------
def read_strategy(path: str | Path, *, sample: str | None = None, bcell_gate: str | None = None,
                  absorbs: dict[str, list[str]] | None = None) -> Strategy:
    """Read a strategy from YAML, GatingML 2.0 (.xml) or a FlowJo workspace (.wsp).

    For a workspace, ``sample`` picks the sample whose (possibly custom) gates are used; default is
    the first sample. ``bcell_gate``/``absorbs`` fill in what GatingML/FlowJo cannot carry.
    """
    p = Path(path)
    if not p.exists():
        raise BelimapError(f"{p}: gating strategy not found")
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise BelimapError(f"{p}: unknown strategy format; expected .yaml (belimap), .xml (GatingML 2.0) or .wsp (FlowJo)")
    if fmt == "yaml":
        strat = strategy_from_dict(read_yaml(p), str(p))
    else:
        strat = Strategy(gs=_read_flowkit(p, fmt, sample), source=str(p), fmt=fmt, name=p.stem)
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


def _read_flowkit(p: Path, fmt: str, sample: str | None) -> fk.GatingStrategy:
    """A GatingML file or a FlowJo workspace's sample, parsed by FlowKit (errors in one line)."""
    import flowkit as fk

    try:
        if fmt == "gatingml":
            return fk.parse_gating_xml(str(p))
        ws = fk.Workspace(str(p), load_missing_file_data=True)
        ids = ws.get_sample_ids(loaded_only=False)
        if not ids:
            raise BelimapError(f"{p}: the FlowJo workspace holds no samples with gates")
        return ws.get_gating_strategy(sample if sample in ids else ids[0])
    except BelimapError:
        raise
    except Exception as err:  # noqa: BLE001 - a malformed file is the user's
        raise BelimapError(f"{p}: cannot be read as {fmt} ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from None


def configured_strategy(params: FlowParams) -> Strategy:
    """The strategy named by config ``flow:`` (with its fallbacks for GatingML/FlowJo strategies)."""
    return read_strategy(repo_path(params.strategy), sample=params.wsp_sample, bcell_gate=params.bcell_gate,
                         absorbs=params.absorbs)


def write_gatingml(strategy: Strategy, path: str | Path) -> None:
    """Export a strategy as GatingML 2.0 (FlowKit's writer), atomically."""
    import flowkit as fk

    from belimap.tables import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fk.export_gatingml(strategy.gs, fh)


# --------------------------------------------------------------------------------------------
# belimap's YAML form: one builder per gate type
# --------------------------------------------------------------------------------------------
def _transform(t: dict[str, Any]) -> fkt.LinearTransform | fkt.LogicleTransform | fkt.AsinhTransform:
    from flowkit import transforms as fkt

    kind = t["type"]
    if kind == "linear":
        return fkt.LinearTransform(param_t=t.get("t", 262144), param_a=t.get("a", 0))
    if kind == "logicle":
        return fkt.LogicleTransform(param_t=t.get("t", 262144), param_w=t.get("w", 0.5), param_m=t.get("m", 4.5),
                                    param_a=t.get("a", 0))
    if "cofactor" in t:
        T, M, A = asinh_params(t["cofactor"], t.get("t", 262144))
    else:
        T, M, A = t.get("t", 262144), t.get("m", 4.5), t.get("a", 0)
    return fkt.AsinhTransform(param_t=T, param_m=M, param_a=A)


class _YamlGates:
    """Builds the gates of one YAML strategy, in file order, into FlowKit's classes."""

    def __init__(self, data: dict[str, Any], where: str) -> None:
        self.where, self.comp = where, data["compensation"]
        self.chan_xf = dict(data["channels"])
        self.default_xf = self.chan_xf.pop("default", None)
        self.labels: dict[str, str] = {}
        self.paths: dict[str, tuple[str, ...]] = {}

    def comp_of(self, name: str) -> str:
        return "uncompensated" if UNCOMPENSATED.match(name) else self.comp

    def dim(self, name: str, lo: float | None = None, hi: float | None = None) -> fk.Dimension:
        import flowkit as fk

        return fk.Dimension(name, compensation_ref=self.comp_of(name),
                            transformation_ref=self.chan_xf.get(name, self.default_xf), range_min=lo, range_max=hi)

    def rectangle(self, g: dict, gw: str, path: tuple[str, ...]) -> fkg.RectangleGate:
        from flowkit import gates as fkg

        dims = g.get("dims", [])
        lo = g.get("min") or [None] * len(dims)
        hi = g.get("max") or [None] * len(dims)
        if len(lo) != len(dims) or len(hi) != len(dims):
            raise BelimapError(f"{gw}: min/max need one value (or null) per dimension in dims {dims}")
        return fkg.RectangleGate(g["id"], [self.dim(d, a, b) for d, a, b in zip(dims, lo, hi, strict=True)])

    def polygon(self, g: dict, gw: str, path: tuple[str, ...]) -> fkg.PolygonGate:
        from flowkit import gates as fkg

        return fkg.PolygonGate(g["id"], [self.dim(d) for d in g.get("dims", [])], [list(v) for v in g["vertices"]])

    def ellipse(self, g: dict, gw: str, path: tuple[str, ...]) -> fkg.EllipsoidGate:
        from flowkit import gates as fkg

        return fkg.EllipsoidGate(g["id"], [self.dim(d) for d in g.get("dims", [])], g["mean"], g["covariance"],
                                 g["distance_square"])

    def quadrant(self, g: dict, gw: str, path: tuple[str, ...]) -> fkg.QuadrantGate:
        import flowkit as fk
        from flowkit import gates as fkg

        gid, dims = g["id"], g.get("dims", [])
        divs = [fk.QuadrantDivider(f"{gid}_{d}", d, self.comp_of(d), [v], self.chan_xf.get(d, self.default_xf))
                for d, v in zip(dims, g["dividers"], strict=True)]
        quads = []
        for qid, q in g["quadrants"].items():
            if not re.match(r"^[A-Za-z0-9_]+$", qid):
                raise BelimapError(f"{gw}: quadrant ID '{qid}' is not a safe identifier")
            ranges = [[v, None] if side == "pos" else [None, v] for side, v in zip(q["at"], g["dividers"], strict=True)]
            quads.append(fkg.Quadrant(qid, [dv.id for dv in divs], ranges))
            self.labels[qid] = q.get("label", qid)
            self.paths[qid] = path + (gid,)
        return fkg.QuadrantGate(gid, divs, quads)

    def boolean(self, g: dict, gw: str, path: tuple[str, ...]) -> fkg.BooleanGate:
        from flowkit import gates as fkg

        refs = []
        for r in g["refs"]:
            if r not in self.paths:
                raise BelimapError(f"{gw}: boolean reference '{r}' is not a gate defined above it")
            refs.append({"ref": r, "path": self.paths[r], "complement": False})
        return fkg.BooleanGate(g["id"], g.get("op", "and"), refs)

    def build(self, i: int, g: dict) -> tuple[Gate, tuple[str, ...]]:
        """Gate ``i`` of the file and its FlowKit path; its ID and label are registered."""
        gid, kind = g["id"], g["type"]
        gw = f"{self.where}: gates[{i}] '{gid}'"
        if gid in self.paths or gid in self.labels:
            raise BelimapError(f"{gw}: gate ID is used twice; gate IDs must be unique")
        parent = g.get("parent") or "root"
        if parent != "root" and parent not in self.paths:
            raise BelimapError(f"{gw}: parent '{parent}' is not defined above it")
        path = ("root",) if parent == "root" else self.paths[parent] + (parent,)
        builder = {"range": self.rectangle, "rectangle": self.rectangle, "polygon": self.polygon,
                   "ellipse": self.ellipse, "quadrant": self.quadrant, "boolean": self.boolean}.get(kind)
        if builder is None:  # pragma: no cover - schema enum
            raise BelimapError(f"{gw}: unknown gate type {kind}")
        try:
            gate = builder(g, gw, path)
        except BelimapError:
            raise
        except (ValueError, KeyError, TypeError) as err:
            raise BelimapError(f"{gw}: invalid {kind} gate ({err})") from None
        self.paths[gid] = path
        self.labels[gid] = g.get("label", gid)
        return gate, path


def strategy_from_dict(data: dict, where: str = "strategy") -> Strategy:
    """Build a FlowKit ``GatingStrategy`` from belimap's YAML form (see resources/gating/)."""
    import flowkit as fk

    data = validate(data or {}, "gating", where)
    gs = fk.GatingStrategy()
    for tid, t in data["transforms"].items():
        gs.add_transform(tid, _transform(t))
    gates = _YamlGates(data, where)
    for name, tid in list(gates.chan_xf.items()) + ([("default", gates.default_xf)] if gates.default_xf else []):
        if tid not in data["transforms"]:
            raise BelimapError(f"{where}: field 'channels.{name}': transform '{tid}' is not defined under transforms")
    for i, g in enumerate(data["gates"]):
        gs.add_gate(*gates.build(i, g))
    return Strategy(gs=gs, source=where, fmt="yaml", name=data.get("name", Path(where).stem), labels=gates.labels,
                    bcell_gate=data.get("bcell_gate"), absorbs=dict(data.get("absorbs") or {}))


# --------------------------------------------------------------------------------------------
# the tree
# --------------------------------------------------------------------------------------------
def gate_of(strategy: Strategy, key: GateKey) -> Gate:
    """The FlowKit gate that evaluates a node of :func:`gate_tree`: the gate itself, or for a
    quadrant the ``QuadrantGate`` holding it."""
    from flowkit.exceptions import QuadrantReferenceError

    name, path = key
    try:
        return strategy.gs.get_gate(name, path)
    except QuadrantReferenceError:
        return strategy.gs.get_gate(path[-1], path[:-1])


def _nodes(strategy: Strategy) -> list[tuple[GateKey, Gate | None]]:
    """FlowKit's gate IDs in its order, each with its gate (None for a quadrant of a quadrant gate)."""
    from flowkit.exceptions import QuadrantReferenceError

    out = []
    for name, path in strategy.gs.get_gate_ids():
        try:
            out.append(((name, tuple(path)), strategy.gs.get_gate(name, path)))
        except QuadrantReferenceError:
            out.append(((name, tuple(path)), None))
    return out


def gates(strategy: Strategy) -> list[Gate]:
    """Every gate of the strategy in FlowKit's order (a quadrant gate once, not per quadrant)."""
    return [g for _, g in _nodes(strategy) if g is not None]


def gate_tree(strategy: Strategy) -> tuple[list[str], dict[str, str], dict[str, GateKey]]:
    """Gate IDs in hierarchy order, their parents and FlowKit keys (quadrants are gates; the quadrant
    container is not). IDs are gate names, made unique with the parent path where FlowJo repeats one."""
    from flowkit import gates as fkg

    nodes: list[GateKey] = []
    quad_parents: dict[GateKey, tuple[str, ...]] = {}
    for key, gate in _nodes(strategy):
        if gate is None:
            quad_parents[key] = key[1][:-1]
        if not isinstance(gate, fkg.QuadrantGate):
            nodes.append(key)
    names = [n for n, _ in nodes]

    def uid(name: str, path: tuple[str, ...]) -> str:
        if names.count(name) == 1:
            return name
        return "/".join([*path[1:], name])
    ids, parents, keys = [], {}, {}
    by_key = {k: uid(*k) for k in nodes}
    for k in nodes:
        gid = by_key[k]
        ppath = quad_parents.get(k, k[1])
        parent = "root" if len(ppath) <= 1 else by_key.get((ppath[-1], tuple(ppath[:-1])), ppath[-1])
        ids.append(gid)
        parents[gid] = parent
        keys[gid] = k
    return ids, parents, keys
