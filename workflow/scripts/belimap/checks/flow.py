"""Content checks of FCS files against the study's gating strategy, from the HEADER and TEXT only.

Events are not read: the DATA segment's length is compared with ``$TOT`` × ``$PAR`` × bit widths
and with the file's size, which is what a truncated or edited file gets wrong. Every gate dimension
of the configured strategy must be a channel of every file (by ``$PnN``, marker or ``$PnS``, as
:meth:`belimap.flow.io.FcsData.channel_index` finds them), and all missing markers are listed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from belimap.checks.problems import Problem, from_error, problem
from belimap.errors import BelimapError
from belimap.flow.io import FcsData, check_data_segment, read_fcs

if TYPE_CHECKING:
    from belimap.flow.pipeline import FlowParams


def strategy_dimensions(params: FlowParams) -> tuple[list[str], str, list[Problem]]:
    """The channel names the configured strategy's gates use (file order), its path, and its problems."""
    from flowkit import QuadrantDivider, RatioDimension

    from belimap.flow.strategy import configured_strategy, gates

    try:
        strat = configured_strategy(params)
    except BelimapError as err:
        return [], params.strategy, [Problem(f"flow.strategy: {err}")]
    dims: list[str] = []
    for gate in gates(strat):
        for d in getattr(gate, "dimensions", None) or []:
            if isinstance(d, RatioDimension):
                continue  # a ratio transform's channels are the transform's, checked when it is applied
            name = d.dimension_ref if isinstance(d, QuadrantDivider) else d.id
            if name and name not in dims:
                dims.append(name)
    return dims, strat.source, []


def spillover_problems(text: str, pnn: list[str], where: str) -> list[Problem]:
    """``$SPILLOVER``: n, n channel names that exist, n × n numbers."""
    parts = [t.strip() for t in text.strip().split(",")]
    expected = "'n,<n $PnN names>,<n × n numbers>' over channels of the file"
    try:
        n = int(float(parts[0]))
    except ValueError:
        return [problem(where, f"starts with '{parts[0][:20]}', not a channel count", expected)]
    names, values = parts[1:1 + n], parts[1 + n:]
    if len(values) == 0:
        return []  # a header without values (MACSQuant writes these): treated as no spillover
    out = []
    if len(names) != n or len(values) != n * n:
        out.append(problem(where, f"declares {n} channels but holds {len(names)} names and {len(values)} values "
                           "(not a square matrix)", f"{n} names and {n * n} values"))
    missing = [c for c in names if c not in pnn]
    if missing:
        out.append(problem(where, f"names channel(s) {', '.join(missing)} that the file does not have",
                           f"$PnN names of the file ({', '.join(pnn)})"))
    bad = [v for v in values if not _is_number(v)]
    if bad:
        out.append(problem(where, f"{len(bad)} value(s) are not numbers (e.g. '{bad[0][:20]}')", "numbers"))
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _segment_problems(fcs: FcsData, p: Path) -> list[Problem]:
    out = []
    try:
        check_data_segment(fcs, p)
    except BelimapError as err:
        out.append(from_error(err))
    stop, size = int(fcs.header.get("data_stop") or fcs.text.get("enddata") or 0), p.stat().st_size
    if stop > size:  # inclusive 0-based offset; one byte of slack as check_data_segment allows
        out.append(problem(str(p), f"the DATA segment ends at byte {stop} but the file has {size} bytes",
                           "a complete file (truncated during copy?)"))
    return out


def check_fcs(path: str | Path, *, params: FlowParams, dimensions: list[str], strategy: str) -> list[Problem]:
    """Every problem of one FCS file's HEADER/TEXT: parse, DATA length, channels, spillover, panel."""
    from belimap.flow.compensate import spillover_of

    p = Path(path)
    with open(p, "rb") as fh:
        magic = fh.read(10)
    if not magic.startswith(b"FCS"):
        found = "the file is empty" if not magic else f"the file starts with {magic[:6]!r}, not an FCS version"
        return [problem(str(p), found, "an FCS 2.0, 3.0 or 3.1 file (HEADER 'FCS3.1' ...)")]
    try:
        fcs = read_fcs(p, channel_markers=params.channel_markers, dataset=params.dataset, only_text=True,
                       check_segment=False)
    except BelimapError as err:
        return [from_error(err)]
    out = _segment_problems(fcs, p)
    par = fcs.text.get("par", "")
    if par.strip().isdigit() and int(par) != len(fcs.pnn):
        out.append(problem(f"{p} $PAR", f"{par} but {len(fcs.pnn)} channels are described", "one $PnN per channel"))
    dup = [n for n, k in Counter(fcs.pnn).items() if k > 1]
    if dup:
        out.append(problem(f"{p} $PnN", f"channel name(s) {', '.join(dup)} used more than once",
                           "unique channel names"))
    if params.compensation.matrix and params.compensation.matrix != "none":
        try:
            spillover_of(fcs, params.compensation.matrix)
        except BelimapError as err:
            out.append(from_error(err))
    elif fcs.spill_text is not None:
        out += spillover_problems(fcs.spill_text, fcs.pnn, f"{p} $SPILLOVER")
    missing = [d for d in dimensions if d not in fcs.pnn and d not in fcs.markers and d not in fcs.pns]
    if missing:
        out.append(problem(str(p), f"the panel lacks {len(missing)} channel(s) the gating strategy {strategy} needs: "
                           f"{', '.join(missing)} (channels: {', '.join(fcs.pnn)}; markers: "
                           f"{', '.join(m for m in fcs.markers if m) or 'none'})",
                           "every gate dimension as a $PnN, $PnS or flow.channel_markers name"))
    return out
