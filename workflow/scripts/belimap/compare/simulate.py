"""Composition tables drawn straight from the cohort model, for calibration and power studies.

Running the whole scRNA branch for each of dozens of simulated studies would take hours; the
composition tests only see counts, so we draw those counts from the same cohort model the scRNA
simulator uses (:func:`belimap.simulate.cohort.simulate_cohort`) with the one shared draw,
:func:`belimap.simulate.cohort.draw_composition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from belimap.composition import sort_composition
from belimap.config import deep_merge, validate_config
from belimap.simulate.cohort import Cohort, draw_composition, simulate_cohort


def counts_from_cohort(cohort: Cohort, *, cells_per_sample: int, seed: int, qc_keep: float = 0.9) -> pd.DataFrame:
    """A composition table (``COMPOSITION_COLUMNS``) of cell counts drawn from ``cohort``'s truth,
    laid out as the scRNA branch writes its table.

    ``qc_keep`` is the share of cells that survive QC, so B-cell numbers match the pipeline's.
    """
    table = draw_composition(cohort, cells_per_sample=cells_per_sample, seed=seed, qc_keep=qc_keep)
    return sort_composition(table, cohort.vocab.subset_ids)


def null_overrides(params: Mapping[str, Any], *, tissue_profile: str = "blood") -> dict:
    """``simulate:`` overrides with no tissue and no treatment effect on B subsets.

    ``params`` are the simulator's parameters (:func:`belimap.simulate.cohort.simulation_params`).
    Every tissue gets ``tissue_profile``'s subset proportions, and every effect fold is 1 (deep
    merge cannot delete the profile's effects, so they are overwritten). Lineage shares keep their
    tissue differences, so B-cell numbers stay realistic (few in synovium).
    """
    same = params["subsets"][tissue_profile]
    every = {s for props in params["subsets"].values() for s in props}
    effects = {t: {tp: dict.fromkeys(f, 1.0) for tp, f in tps.items()} for t, tps in params.get("effects", {}).items()}
    return {"subsets": {t: {s: same.get(s, 0.0) for s in every} for t in params["subsets"]}, "effects": effects}


def simulated_study(cfg: Mapping[str, Any], *, seed: int, overrides: Mapping[str, Any] | None = None,
                    n_patients: int | None = None) -> pd.DataFrame:
    """Draw one study: the cohort of ``cfg`` with ``overrides`` and ``seed``, then its composition counts.

    ``cfg`` is the study being simulated (design, vocabulary and ``simulate`` section, as
    :func:`belimap.simulate.cohort.simulate_cohort` reads it), not a source of parameters: each
    study is a new config with the overrides merged in.
    """
    sim = {**(overrides or {}), "seed": seed}
    if n_patients is not None:
        sim["n_patients"] = n_patients
    c = validate_config(deep_merge(dict(cfg), {"simulate": sim}))
    cohort = simulate_cohort(c)
    return counts_from_cohort(cohort, cells_per_sample=int(c["simulate"]["cells_per_sample"]), seed=seed + 1)
