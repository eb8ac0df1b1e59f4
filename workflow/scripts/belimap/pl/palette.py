"""One palette for every figure: tissues, timepoints, lineages and B subsets.

Tissue and timepoint colours are assigned by position in the config's ordered lists from
colour-blind-safe qualitative (Paul Tol "bright") and sequential (Tol "YlOrBr"-like) palettes, so a
tissue has the same colour in every figure of a study; lineage and subset colours come from
``resources/`` (the vocabulary is their single source).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from belimap.vocab import Vocabulary  # noqa: E402

#: Paul Tol's "bright" qualitative scheme (colour-blind safe).
TOL_BRIGHT = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB"]
#: An ordered, colour-blind-safe sequence for timepoints (light to dark: time goes on).
TIME_SEQ = ["#FEC44F", "#FB9A29", "#EC7014", "#CC4C02", "#993404", "#662506"]
#: Contrasts between groups (e.g. tissue pairs) in greys with distinct markers: never a group's colour.
CONTRAST_GREYS = ["#000000", "#555555", "#999999"]
CONTRAST_MARKERS = ["o", "s", "^", "D", "v", "P"]

plt.rcParams.update({
    "pdf.fonttype": 42,  # editable text in vector PDFs (journals ask for it)
    "svg.fonttype": "none",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
})


def tissue_colours(tissues: list[str]) -> dict[str, str]:
    """Colour per tissue, by its position in the config's ``tissues``."""
    return {t: TOL_BRIGHT[i % len(TOL_BRIGHT)] for i, t in enumerate(tissues)}


def timepoint_colours(timepoints: list[str]) -> dict[str, str]:
    """Colour per timepoint, light (first) to dark (last)."""
    n = len(timepoints)
    if n == 1:
        return {timepoints[0]: TIME_SEQ[1]}
    idx = [round(i * (len(TIME_SEQ) - 1) / (n - 1)) for i in range(n)]
    return {t: TIME_SEQ[j] for t, j in zip(timepoints, idx, strict=True)}


def subset_colours(vocab: Vocabulary) -> dict[str, str]:
    return vocab.subset_colours()


def lineage_colours(vocab: Vocabulary) -> dict[str, str]:
    return vocab.lineage_colours()


def save_figure(fig: plt.Figure, path: str | Path, formats: tuple[str, ...] = ("pdf", "png")) -> list[Path]:
    """Save ``fig`` as vector PDF plus PNG (same stem as ``path``) and close it.

    ``path`` may carry any of the suffixes; every format in ``formats`` is written beside it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        p = path.with_suffix(f".{fmt}")
        fig.savefig(p, format=fmt, metadata={"CreationDate": None} if fmt == "pdf" else None)
        out.append(p)
    plt.close(fig)
    return out
