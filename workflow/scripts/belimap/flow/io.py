"""Reading FCS 2.0 / 3.0 / 3.1 files with flowio (the parser under FlowKit).

Real instruments write files that strict readers refuse: data offsets off by one (MACSQuant),
several data sets in one file, ``$PnS`` missing. :func:`read_fcs` reads them all the same way,
names each channel's marker (``$PnS``, overridable from config), and refuses a file it cannot read
with one line. Events are returned as float64 with gain, log amplification and ``$TIMESTEP``
applied (flowio's preprocessing, the same FlowKit applies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from belimap.errors import BelimapError

if TYPE_CHECKING:
    import flowio

#: FCS keywords copied into the MIFlowCyt-style metadata table when present.
INSTRUMENT_KEYS = ("$CYT", "$CYTSN", "$SYS", "CREATOR", "$DATE", "$BTIM", "$ETIM", "$SRC", "$OP", "$INST", "$FIL")


@dataclass
class FcsData:
    """One FCS data set: events (n × channels) with the channel names and the TEXT keywords."""

    path: str
    version: str
    events: np.ndarray
    pnn: list[str]
    pns: list[str]
    markers: list[str]
    text: dict[str, str]
    scatter_idx: list[int] = field(default_factory=list)
    fluoro_idx: list[int] = field(default_factory=list)
    time_idx: int | None = None
    dataset: int = 0
    n_datasets: int = 1
    header: dict = field(default_factory=dict)  # flowio's HEADER offsets (data_start, data_stop, ...)

    @property
    def n_events(self) -> int:
        return int(self.events.shape[0])

    @property
    def spill_text(self) -> str | None:
        """The ``$SPILLOVER`` (FCS 3.1) or ``$SPILL`` (older) keyword, if any."""
        for key in ("spillover", "spill", "$spillover", "$spill"):
            if self.text.get(key, "").strip():
                return self.text[key]
        return None

    def channel_index(self, name: str) -> int:
        """Index of a channel given by ``$PnN``, marker or ``$PnS`` (in that order)."""
        for labels in (self.pnn, self.markers, self.pns):
            if name in labels:
                return labels.index(name)
        raise BelimapError(f"{self.path}: no channel named '{name}' (channels: {', '.join(self.pnn)}; "
                           f"markers: {', '.join(m for m in self.markers if m)})")


def _open(path: Path, dataset: int, only_text: bool) -> tuple[flowio.FlowData, int]:
    import flowio

    kw = {"ignore_offset_error": True, "only_text": only_text}
    try:
        return flowio.FlowData(str(path), **kw), 1
    except flowio.exceptions.MultipleDataSetsError:
        sets = flowio.read_multiple_data_sets(str(path), **kw)
        if not 0 <= dataset < len(sets):
            raise BelimapError(f"{path}: has {len(sets)} data sets; flow.dataset {dataset} is out of range") from None
        return sets[dataset], len(sets)


def check_data_segment(fd: flowio.FlowData | FcsData, path: Path) -> None:
    """Refuse a list-mode data set whose ``$TOT`` × ``$PAR`` × bit widths disagree with its DATA segment.

    flowio reshapes without looking at ``$TOT`` (a wrong count passes silently) and a wrong ``$PAR``
    surfaces as a numpy reshape error; this names the keywords instead. One byte of slack covers the
    off-by-one ``$ENDDATA`` that several instruments write.
    """
    text, head = fd.text, fd.header
    if text.get("mode", "L").strip().upper() != "L":
        return
    try:
        tot, par = int(text["tot"]), int(text["par"])
        dtype = text.get("datatype", "F").strip().upper()
        # $DATATYPE F/D fix every width; I (and A) take each channel's $PnB
        fixed = {"F": 32, "D": 64}.get(dtype)
        widths = [fixed] * par if fixed else [int(text[f"p{i}b"]) for i in range(1, par + 1)]
        start = int(head.get("data_start") or text.get("begindata", 0))
        stop = int(head.get("data_stop") or text.get("enddata", 0))
    except (KeyError, ValueError):
        return  # flowio reports a missing keyword in its own words
    declared, segment = tot * sum(widths) // 8, stop - start + 1
    if stop > 0 and not declared <= segment <= declared + 1:
        raise BelimapError(f"{path}: TEXT declares $TOT={tot} events × $PAR={par} channels = {declared} bytes, but the "
                           f"DATA segment holds {segment} bytes; expected them to agree (truncated or edited file?)")


def read_fcs(path: str | Path, *, channel_markers: dict[str, str] | None = None, dataset: int = 0,
             only_text: bool = False, check_segment: bool = True) -> FcsData:
    """Read one data set of an FCS file; marker names from ``$PnS`` unless ``channel_markers`` maps a ``$PnN``.

    A file flowio cannot parse (truncated, not FCS, inconsistent offsets beyond the known
    off-by-one) raises ``BelimapError`` naming the file. ``check_segment=False`` (with
    ``only_text``) leaves :func:`check_data_segment` to the caller, which ``belimap validate``
    runs beside its other header checks to report them all.
    """
    p = Path(path)
    if not p.exists():
        raise BelimapError(f"{p}: file not found")
    try:
        fd, n_sets = _open(p, dataset, only_text)
        if check_segment or not only_text:
            check_data_segment(fd, p)
        events = np.empty((0, 0)) if only_text else fd.as_array(preprocess=True)
    except BelimapError:
        raise
    except Exception as err:  # noqa: BLE001 - any parser failure is the file's fault
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BelimapError(f"{p}: cannot be read as an FCS file ({msg}); expected FCS 2.0, 3.0 or 3.1") from None
    chans = fd.channels
    nums = sorted(chans, key=int)
    pnn = [chans[n]["pnn"] for n in nums]
    pns = [chans[n].get("pns", "") for n in nums]
    overrides = channel_markers or {}
    markers = [overrides.get(n, s or "") for n, s in zip(pnn, pns, strict=True)]
    if not only_text and events.shape[0] == 0:
        raise BelimapError(f"{p}: the FCS file holds no events")
    return FcsData(
        path=str(p), version=str(fd.version), events=events, pnn=pnn, pns=pns, markers=markers,
        text=dict(fd.text), scatter_idx=list(fd.scatter_indices), fluoro_idx=list(fd.fluoro_indices),
        time_idx=fd.time_index, dataset=dataset, n_datasets=n_sets, header=dict(fd.header),
    )


def n_events_declared(fcs: FcsData) -> int:
    """``$TOT`` of the data set (events declared in TEXT)."""
    return int(fcs.text.get("tot", "0") or 0)
