"""The shared vocabularies: B-cell subsets, lineages, tissues and timepoints.

``resources/bcell_subsets.yaml`` and ``resources/markers/lineages.yaml`` are the single source of
these facts; everything else (annotator, gating templates, composition tables, figure legends,
simulator) reads them through this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from belimap.config import ROOT, read_yaml, validate

#: Marker lists of a subset or sub-label: up- and down-regulated genes.
_MARKERS = {
    "type": "object",
    "required": ["up"],
    "properties": {
        "up": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "down": {"type": "array", "items": {"type": "string"}, "default": []},
    },
}

#: The label of a B-lineage cell that no subset claims with enough confidence (both annotation methods).
UNASSIGNED = "unassigned"

_SUBSETS_SCHEMA = {
    "type": "object",
    "required": ["subsets"],
    "properties": {
        "subsets": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "label", "colour", "lineage", "markers"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
                    "label": {"type": "string"},
                    "colour": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
                    "lineage": {"type": "string"},
                    "tissues": {"type": ["array", "null"], "items": {"type": "string"}},
                    "flow": {"type": "string"},
                    "markers": _MARKERS,
                    "isotype": {"type": "string", "enum": ["switched", "unswitched"]},
                    "concordance": {"type": "boolean", "default": True},
                    "concordance_note": {"type": "string", "minLength": 1},
                    "sublabels": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "label", "markers"],
                            "properties": {
                                "id": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
                                "label": {"type": "string"},
                                "flow": {"type": "string"},
                                "markers": _MARKERS,
                            },
                        },
                    },
                },
                # a subset left out of the flow <-> scRNA comparison must say why
                "if": {"properties": {"concordance": {"const": False}}, "required": ["concordance"]},
                "then": {"required": ["concordance_note"]},
            },
        }
    },
}

_LINEAGES_SCHEMA = {
    "type": "object",
    "required": ["lineages", "bcell_lineages"],
    "properties": {
        "bcell_lineages": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "lineages": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["label", "colour", "markers"],
                "properties": {
                    "label": {"type": "string"},
                    "colour": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
                    "markers": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Sublabel:
    """A finer state inside a subset (e.g. DN2 inside double negative), called on the subset's cells only."""

    id: str
    label: str
    up: tuple[str, ...]
    down: tuple[str, ...] = ()
    flow: str = ""


@dataclass(frozen=True)
class Subset:
    """One B-cell compartment of the shared vocabulary.

    ``isotype`` (``switched``/``unswitched``) marks the subsets that a cell's VDJ heavy-chain
    constant gene decides between (switched vs unswitched memory). ``concordance`` is false for a
    subset whose flow gate and scRNA call define different cells, so that comparing their fractions
    would measure the definitions, not the methods; ``concordance_note`` says why (or, for a subset
    still compared, what to keep in mind).
    """

    id: str
    label: str
    colour: str
    lineage: str
    up: tuple[str, ...]
    down: tuple[str, ...] = ()
    tissues: tuple[str, ...] | None = None
    flow: str = ""
    isotype: str | None = None
    sublabels: tuple[Sublabel, ...] = ()
    concordance: bool = True
    concordance_note: str = ""


@dataclass(frozen=True)
class Lineage:
    """One cell lineage of the first annotation pass."""

    id: str
    label: str
    colour: str
    markers: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    """Subsets and lineages as read from ``resources/``."""

    subsets: tuple[Subset, ...]
    lineages: tuple[Lineage, ...]
    bcell_lineages: tuple[str, ...] = field(default=("B", "plasma"))

    @property
    def subset_ids(self) -> list[str]:
        return [s.id for s in self.subsets]

    @property
    def lineage_ids(self) -> list[str]:
        return [lin.id for lin in self.lineages]

    def subset(self, sid: str) -> Subset:
        return {s.id: s for s in self.subsets}[sid]

    def subset_colours(self) -> dict[str, str]:
        return {s.id: s.colour for s in self.subsets}

    def subset_labels(self) -> dict[str, str]:
        return {s.id: s.label for s in self.subsets}

    def lineage_colours(self) -> dict[str, str]:
        return {lin.id: lin.colour for lin in self.lineages}

    def marker_genes(self) -> list[str]:
        """Every marker gene named in the vocabulary, in first-seen order."""
        genes: dict[str, None] = {}
        for lin in self.lineages:
            genes.update(dict.fromkeys(lin.markers))
        for s in self.subsets:
            genes.update(dict.fromkeys(s.up + s.down))
            for x in s.sublabels:
                genes.update(dict.fromkeys(x.up + x.down))
        return list(genes)


def read_subsets(path: str | Path) -> tuple[Subset, ...]:
    """Read and validate ``bcell_subsets.yaml``."""
    data = validate(read_yaml(path), _SUBSETS_SCHEMA, str(path))
    out = []
    for s in data["subsets"]:
        tissues = tuple(s["tissues"]) if s.get("tissues") else None
        out.append(
            Subset(
                id=s["id"], label=s["label"], colour=s["colour"], lineage=s["lineage"],
                up=tuple(s["markers"]["up"]), down=tuple(s["markers"].get("down", [])),
                tissues=tissues, flow=s.get("flow", ""), isotype=s.get("isotype"),
                concordance=bool(s.get("concordance", True)), concordance_note=s.get("concordance_note", ""),
                sublabels=tuple(Sublabel(id=x["id"], label=x["label"], up=tuple(x["markers"]["up"]),
                                         down=tuple(x["markers"].get("down", [])), flow=x.get("flow", ""))
                                for x in s.get("sublabels") or []),
            )
        )
    return tuple(out)


def read_lineages(path: str | Path) -> tuple[tuple[Lineage, ...], tuple[str, ...]]:
    """Read and validate ``markers/lineages.yaml``."""
    data = validate(read_yaml(path), _LINEAGES_SCHEMA, str(path))
    lineages = tuple(
        Lineage(id=k, label=v["label"], colour=v["colour"], markers=tuple(v["markers"]))
        for k, v in data["lineages"].items()
    )
    return lineages, tuple(data["bcell_lineages"])


@lru_cache(maxsize=8)
def _load(subsets_path: str, lineages_path: str) -> Vocabulary:
    lineages, bl = read_lineages(lineages_path)
    return Vocabulary(subsets=read_subsets(subsets_path), lineages=lineages, bcell_lineages=bl)


def load_vocabulary(cfg: dict | None = None) -> Vocabulary:
    """The vocabulary named by ``cfg['resources']`` (belimap's own resources by default)."""
    from belimap.config import resource_path

    cfg = cfg or {"resources": {}}
    res = cfg.setdefault("resources", {})
    res.setdefault("bcell_subsets", "resources/bcell_subsets.yaml")
    res.setdefault("lineage_markers", "resources/markers/lineages.yaml")
    return _load(str(resource_path(cfg, "bcell_subsets")), str(resource_path(cfg, "lineage_markers")))


DEFAULT_SUBSETS = ROOT / "resources" / "bcell_subsets.yaml"
