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

from belimap.config import ROOT  # noqa: E402
from belimap.vocab import Vocabulary  # noqa: E402

#: The figure settings file every figure rule takes as input (``resources.figures`` in the config).
DEFAULT_SETTINGS = ROOT / "resources" / "figures.yaml"

#: Filled from the settings file (in place, so that importers keep seeing the current lists).
TOL_BRIGHT: list[str] = []
TIME_SEQ: list[str] = []
CONTRAST_GREYS: list[str] = []
CONTRAST_MARKERS: list[str] = []
#: Colour of ``unassigned`` cells (``palette.unassigned``; default the qualitative scheme's grey).
UNASSIGNED_COLOUR: list[str] = []


def apply_figure_settings(path: str | Path = DEFAULT_SETTINGS) -> None:
    """Load the palette and matplotlib style from ``path`` (``resources/figures.yaml``)."""
    import yaml

    from belimap.errors import BelimapError

    try:
        settings = yaml.safe_load(Path(path).read_text()) or {}
        pal, rc = settings["palette"], settings.get("rc", {})
        for target, key in ((TOL_BRIGHT, "qualitative"), (TIME_SEQ, "timepoints"),
                            (CONTRAST_GREYS, "contrast_greys"), (CONTRAST_MARKERS, "contrast_markers")):
            target[:] = [str(v) for v in pal[key]]
        UNASSIGNED_COLOUR[:] = [str(pal.get("unassigned", TOL_BRIGHT[-1]))]
        plt.rcParams.update(rc)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as err:
        raise BelimapError(f"{path}: not a figure settings file (palette: qualitative, timepoints, "
                           f"contrast_greys, contrast_markers; rc: matplotlib settings): {err}") from None


apply_figure_settings()


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
    """The vocabulary's subset colours plus the settings' colour of ``unassigned``."""
    from belimap.vocab import UNASSIGNED

    return {**vocab.subset_colours(), UNASSIGNED: UNASSIGNED_COLOUR[0]}


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
