"""The simulator as one call per workflow rule: a modality's raw files and truth for the sheet's rows.

Files go where the sheet says; truth tables under ``{simulate.outdir}/truth/`` (the simulated
study's layout, see DEVELOPING.md "Cohort simulator").
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from belimap.simulate.cohort import simulate_cohort
from belimap.simulate.study import write_modality


def simulate_files(modality: str, rows: list[dict[str, str]], cfg: dict[str, Any]) -> None:
    """Rule ``simulate_<modality>``: write the files of ``rows`` (the sheet's rows of that modality)
    and the modality's truth, for the cohort of the study config ``cfg`` (tissues, timepoints,
    resources and simulate sections)."""
    write_modality(modality, simulate_cohort(cfg), pd.DataFrame(rows), cfg["simulate"]["outdir"])
