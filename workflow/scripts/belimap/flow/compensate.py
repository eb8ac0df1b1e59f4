"""Compensation: the spillover matrix from ``$SPILLOVER``/``$SPILL`` or a matrix file, applied to events.

Parsing (FCS keyword text or CSV/TSV matrix files) is flowutils' (the library under FlowKit), so a
matrix reads here exactly as FlowKit reads it; applying it is one linear solve over the
fluorescence channels (``raw = comp @ S`` ⇒ ``comp = raw @ S⁻¹``), which is what flowutils does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit, prange

from belimap.errors import BelimapError
from belimap.flow.io import FcsData
from belimap.params import parameters


@parameters("flow", "compensation")
class CompensationParams:
    """``flow.compensation`` of the config: ``matrix``, a spillover file used instead of the files' own."""

    matrix: str | None


@dataclass
class Spillover:
    """A spillover matrix over ``detectors`` (``$PnN`` names); rows = source, columns = detector."""

    detectors: list[str]
    matrix: np.ndarray
    source: str

    def as_fcs_text(self) -> str:
        """The matrix as an FCS ``$SPILLOVER`` value."""
        vals = ",".join(f"{v:.6g}" for v in self.matrix.ravel())
        return f"{len(self.detectors)},{','.join(self.detectors)},{vals}"


def spillover_of(fcs: FcsData, matrix_file: str | Path | None = None) -> Spillover | None:
    """The spillover of ``fcs``: ``matrix_file`` when given, else ``$SPILLOVER``/``$SPILL``, else None."""
    from flowutils.compensate import get_spill, parse_compensation_matrix

    try:
        if matrix_file:
            path = Path(matrix_file)
            if not path.exists():
                raise BelimapError(f"{path}: compensation matrix file not found (flow.compensation.matrix)")
            labels = [fcs.pnn[i] for i in fcs.fluoro_idx]
            full = parse_compensation_matrix(path, labels)
            detectors = [labels[int(i) - 1] for i in full[0]]
            matrix, source = full[1:], str(path)
        else:
            text = fcs.spill_text
            if text is None or spill_is_empty(text):
                return None  # no keyword, or a header without values (MACSQuant writes these)
            matrix, detectors = get_spill(text.strip())
            source = "FCS"
    except BelimapError:
        raise
    except Exception as err:  # noqa: BLE001 - a malformed matrix is the user's
        where = matrix_file or f"{fcs.path} $SPILLOVER"
        raise BelimapError(f"{where}: cannot be parsed as a spillover matrix over the channels of {fcs.path} ({err})") from None
    missing = [d for d in detectors if d not in fcs.pnn]
    if missing:
        raise BelimapError(f"{matrix_file or fcs.path}: spillover names channel(s) {', '.join(missing)} that "
                           f"{fcs.path} does not have (channels: {', '.join(fcs.pnn)})")
    return Spillover(detectors=list(detectors), matrix=np.asarray(matrix, dtype=np.float64), source=source)


def spill_is_empty(text: str) -> bool:
    """True for a ``$SPILLOVER`` that names its channels but carries no values."""
    parts = [t for t in text.strip().split(",") if t.strip()]
    try:
        n = int(float(parts[0]))
    except (ValueError, IndexError):
        return False
    return len(parts) <= 1 + n


def _rows_dot_py(events: np.ndarray, rows: np.ndarray, det: np.ndarray, w: np.ndarray) -> np.ndarray:
    out = np.empty(rows.shape[0])
    for i in prange(rows.shape[0]):
        r = rows[i]
        acc = 0.0
        for k in range(det.shape[0]):
            acc += events[r, det[k]] * w[k]
        out[i] = acc
    return out


_rows_dot_par = njit(cache=True, parallel=True)(_rows_dot_py)
_rows_dot_ser = njit(cache=True)(_rows_dot_py)


def compensated_column(events: np.ndarray, rows: np.ndarray, det: list[int], unmix_col: np.ndarray) -> np.ndarray:
    """One compensated channel at ``rows``: ``raw[rows][:, det] @ S⁻¹[:, j]``, without the gather.

    A gate needs one or two channels on its parent's events, so compensating column by column on
    those rows does a fraction of the work of compensating the whole matrix; the result equals the
    full solve to rounding (1e-12 relative, tests/test_flow_gating.py checks identical membership).
    """
    kernel = _rows_dot_par if len(rows) >= 50_000 else _rows_dot_ser
    return kernel(np.ascontiguousarray(events), np.asarray(rows, dtype=np.int64), np.asarray(det, dtype=np.int64),
                     np.ascontiguousarray(unmix_col, dtype=np.float64))


def compensate(events: np.ndarray, fcs: FcsData, spill: Spillover | None) -> np.ndarray:
    """Compensated copy of ``events`` (only the spillover's detectors change)."""
    out = np.array(events, dtype=np.float64, copy=True)
    if spill is None:
        return out
    idx = [fcs.pnn.index(d) for d in spill.detectors]
    try:
        out[:, idx] = np.linalg.solve(spill.matrix.T, out[:, idx].T).T
    except np.linalg.LinAlgError:
        raise BelimapError(f"{fcs.path}: the spillover matrix ({spill.source}) is singular") from None
    return out
