"""The values gates are evaluated on: compensated, transformed channels of one file, computed once.

A gate needs its dimensions only on the events of its parent, so values are computed lazily per
event: compensation for the rows asked for (column by column, :func:`compensated_column`), then
the transform of those rows. Deep in a B-cell hierarchy most markers are asked for on ~10 % of the
events, which is where most of FlowKit's time (transforming every event of every channel) is
saved; the values themselves are the same numbers FlowKit computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from belimap.errors import BelimapError
from belimap.flow.compensate import Spillover, compensated_column
from belimap.flow.io import FcsData
from belimap.flow.transform import apply_transform

if TYPE_CHECKING:
    from belimap.flow.strategy import Strategy


def _comp_key(comp_ref: str | None) -> str | None:
    return comp_ref if comp_ref not in (None, "uncompensated") else None


class EventValues:
    """Cache of a file's gate-dimension values (per channel, compensation and transform, per event)."""

    def __init__(self, fcs: FcsData, strategy: Strategy, spill: Spillover | None) -> None:
        self.fcs, self.strategy, self.spill = fcs, strategy, spill
        self._comp: dict[str, tuple[list[int], np.ndarray | None]] = {}
        self._cols: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._xform_of: dict[str, tuple[str | None, str | None]] = {}  # dimension -> its scale in plots

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
        """The channel of gate dimension ``name``: ``$PnN``, marker, ``$PnS`` or a fluorochrome of the matrix."""
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

    def _cached(self, key: tuple, rows: np.ndarray, compute: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
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
        return self._cached((idx, _comp_key(comp_ref), "raw"), rows, lambda need: self._raw(idx, comp_ref, need))

    def raw_on_scale(self, name: str, comp_ref: str | None, xform_ref: str | None, rows: np.ndarray) -> np.ndarray:
        """:meth:`raw` for a gate whose bounds on scale ``xform_ref`` are mapped to raw values; plots
        show ``name`` on that scale."""
        out = self.raw(name, comp_ref, rows)
        self._xform_of[name] = (comp_ref, xform_ref)
        return out

    def get(self, name: str, comp_ref: str | None, xform_ref: str | None, rows: np.ndarray) -> np.ndarray:
        """Values of dimension ``name`` (compensated by ``comp_ref``, transformed by ``xform_ref``) at ``rows``."""
        if xform_ref is None:
            return self.raw(name, comp_ref, rows)
        idx = self.index(name, comp_ref)
        self._xform_of[name] = (comp_ref, xform_ref)
        xf = self.strategy.gs.transformations.get(xform_ref)
        if xf is None:
            raise BelimapError(f"{self.strategy.source}: transform '{xform_ref}' is not defined in the strategy")
        return self._cached((idx, _comp_key(comp_ref), xform_ref), rows,
                            lambda need: apply_transform(xf, self.raw(name, comp_ref, need)))

    def ratio(self, ratio_ref: str, comp_ref: str | None, xform_ref: str | None, rows: np.ndarray) -> np.ndarray:
        """A GatingML ratio dimension at ``rows``: ``A * (x - B) / (y - C)`` of two channels (the
        ``RatioTransformation`` ``ratio_ref``), then transformed by ``xform_ref`` if given.

        FlowKit takes x and y uncompensated whatever the dimension's ``compensation-ref``; we
        compensate them as that reference says (the same numbers for ``uncompensated``, the only
        reference the GatingML compliance cases use).
        """
        from flowkit import transforms as fkt

        rt = self.strategy.gs.transformations.get(ratio_ref)
        if not isinstance(rt, fkt.RatioTransform):
            raise BelimapError(f"{self.strategy.source}: ratio dimension '{ratio_ref}' names no ratio transformation")
        x, y = (self.raw(d, comp_ref, rows) for d in rt.dimensions)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = rt.param_a * ((x - rt.param_b) / (y - rt.param_c))
        if xform_ref is None:
            return out
        xf = self.strategy.gs.transformations.get(xform_ref)
        if xf is None:
            raise BelimapError(f"{self.strategy.source}: transform '{xform_ref}' is not defined in the strategy")
        return np.asarray(apply_transform(xf, out), dtype=np.float64).ravel()

    def full(self, name: str) -> np.ndarray:
        """Transformed values of ``name`` wherever a gate needed it (NaN elsewhere), for plots."""
        comp_ref, xform_ref = self._xform_of.get(name, (None, None))
        raw_key = (self.index(name, comp_ref), _comp_key(comp_ref), "raw")
        out = np.full(self.fcs.n_events, np.nan)
        if raw_key not in self._cols:
            return out
        rows = np.flatnonzero(self._cols[raw_key][1])
        out[rows] = self.get(name, comp_ref, xform_ref, rows)
        return out
