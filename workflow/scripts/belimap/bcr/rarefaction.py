"""Sharing indices at equal depth: Jaccard and Morisita–Horn of two specimens rarefied to the same
number of cells, repeated, with a percentile interval.

Why: on raw clone sets both indices track sampling depth. A specimen with ten times the cells
shows more of its rare clones, so the union of clone sets grows and Jaccard falls; Morisita–Horn
is less sensitive but still biased at small depth. Synovium has few B cells, blood many, and
belimumab removes B cells, so raw indices would compare depth rather than clonal structure.
Subsampling cells without replacement to a common depth is the same draw as a multivariate
hypergeometric on the clone counts (numpy draws all repeats in one call), and the indices of every
repeat are computed as matrix rows, so no repeat loops in Python.

The interval is the spread over rarefaction repeats (which cells of the larger specimen are kept),
not a confidence interval for the tissue: a specimen rarefied to its own size is used whole in
every repeat, so a pair of equal size has an interval of zero width.
"""

from __future__ import annotations

import hashlib

import numpy as np


def pair_seed(seed: int, sample_a: str, sample_b: str) -> int:
    """A seed for one specimen pair, stable when other specimens are added to the study."""
    key = f"{seed}:sharing:{sample_a}:{sample_b}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


def index_rows(a: np.ndarray, b: np.ndarray, *, min_size: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Jaccard and Morisita–Horn of each row of two clone-count matrices (rows × clones, same columns).

    Only clones with at least ``min_size`` cells in their row count (``min_size = 2``: expanded clones
    of that specimen). Jaccard is NaN when neither row has such a clone; Morisita–Horn (Horn 1966) is
    NaN when either row has none.
    """
    a = np.where(a >= min_size, a, 0).astype(float)
    b = np.where(b >= min_size, b, 0).astype(float)
    pa, pb = a > 0, b > 0
    union, inter = (pa | pb).sum(axis=1), (pa & pb).sum(axis=1)
    nx, ny = a.sum(axis=1), b.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, inter / union, np.nan)
        dx, dy = (a**2).sum(axis=1) / nx**2, (b**2).sum(axis=1) / ny**2
        mh = np.where((nx > 0) & (ny > 0), 2 * (a * b).sum(axis=1) / ((dx + dy) * nx * ny), np.nan)
    return jac, mh


def rarefy(counts: np.ndarray, depth: int, n_rarefy: int, rng: np.random.Generator) -> np.ndarray:
    """``n_rarefy`` subsamples of ``depth`` cells without replacement from clone counts: (n_rarefy × clones)."""
    counts = np.asarray(counts, dtype=np.int64)
    if depth >= counts.sum():
        return np.broadcast_to(counts, (n_rarefy, counts.size)).copy()
    return rng.multivariate_hypergeometric(counts, depth, size=n_rarefy, method="marginals")


def summarise(values: np.ndarray, ci: float) -> tuple[float, float, float]:
    """(mean, lower, upper) of the repeats' defined values: the central ``ci`` percentile interval."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (np.nan, np.nan, np.nan)
    lo, hi = np.percentile(values, [50 * (1 - ci), 50 * (1 + ci)])
    return float(values.mean()), float(lo), float(hi)


def rarefied_indices(x: np.ndarray, y: np.ndarray, *, depth: int, n_rarefy: int, ci: float,
                     min_sizes: tuple[int, ...], rng: np.random.Generator) -> dict[int, dict[str, float]]:
    """Jaccard and Morisita–Horn of two specimens' clone counts (same clone order) at ``depth`` cells each.

    Per ``min_size`` of ``min_sizes`` (1 = all clones; k = clones with ≥ k cells *in the subsample*,
    so expansion is judged at the common depth too): ``{"jaccard": mean, "jaccard_lo": ..,
    "jaccard_hi": .., "morisita_horn": .., ...}``. The same subsamples serve every ``min_size``.
    """
    a, b = rarefy(x, depth, n_rarefy, rng), rarefy(y, depth, n_rarefy, rng)
    out: dict[int, dict[str, float]] = {}
    for k in min_sizes:
        jac, mh = index_rows(a, b, min_size=k)
        row: dict[str, float] = {}
        for name, vals in (("jaccard", jac), ("morisita_horn", mh)):
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = summarise(vals, ci)
        out[k] = row
    return out
