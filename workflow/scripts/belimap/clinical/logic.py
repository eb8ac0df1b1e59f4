"""Three-valued logic (Kleene): 1 = true, 0 = false, NaN = not assessable.

Missing data must never pass silently: a conjunction with an unknown part is unknown unless another
part is already false, a disjunction is unknown unless another part is already true.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

MET, NOT_MET, NOT_ASSESSABLE = "met", "not met", "not assessable"


def is_unknown(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def all_of(values: Iterable[float | None]) -> float:
    vals = list(values)
    if any(not is_unknown(v) and not v for v in vals):
        return 0.0
    if any(is_unknown(v) for v in vals):
        return math.nan
    return 1.0


def any_of(values: Iterable[float | None]) -> float:
    vals = list(values)
    if any(not is_unknown(v) and v for v in vals):
        return 1.0
    if any(is_unknown(v) for v in vals):
        return math.nan
    return 0.0


def status(x: float | None) -> str:
    """``met`` / ``not met`` / ``not assessable``."""
    return NOT_ASSESSABLE if is_unknown(x) else (MET if x else NOT_MET)
