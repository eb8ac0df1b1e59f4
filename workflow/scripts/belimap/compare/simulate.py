"""Composition tables drawn straight from the cohort model, for calibration and power studies.

Running the whole scRNA branch for each of dozens of simulated studies would take hours; the
composition tests only see counts, so we draw those counts from the same cohort model the scRNA
simulator uses (:func:`belimap.simulate.cohort.simulate_cohort`): cells per specimen, B-lineage
cells ~ Binomial(cells, p_B), subset counts ~ Multinomial(B cells, subset probabilities).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from belimap.composition import COMPOSITION_COLUMNS, composition_table
from belimap.config import deep_merge, validate_config
from belimap.simulate.cohort import Cohort, simulate_cohort


def counts_from_cohort(cohort: Cohort, cells_per_sample: int, seed: int, qc_keep: float = 0.9) -> pd.DataFrame:
    """A composition table (``COMPOSITION_COLUMNS``) of cell counts drawn from ``cohort``'s truth.

    ``qc_keep`` is the share of cells that survive QC, so B-cell numbers match the pipeline's.
    """
    rng = np.random.default_rng(seed)
    subsets = list(cohort.subset_probs.columns)
    sids, labs = [], []
    for spec in cohort.specimens.to_dict("records"):
        sid = spec["sample_id"]
        n_cells = rng.binomial(cells_per_sample, qc_keep)
        n_b = rng.binomial(n_cells, float(cohort.lineage_probs.loc[sid, "B_lineage"]))
        p = cohort.subset_probs.loc[sid, subsets].to_numpy(float)
        counts = rng.multinomial(n_b, p / p.sum())
        sids.append(np.repeat(sid, n_b))
        labs.append(np.repeat(subsets, counts))
    labels = pd.DataFrame({"sample_id": np.concatenate(sids), "bcell_subset": np.concatenate(labs)})
    spec = cohort.specimens[["sample_id", "patient_id", "tissue", "timepoint"]]
    return composition_table(labels, spec, cohort.vocab.subset_ids)[COMPOSITION_COLUMNS]


def null_overrides(cfg: dict, tissue_profile: str = "blood") -> dict:
    """``simulate:`` overrides with no tissue and no treatment effect on B subsets.

    Every tissue gets ``tissue_profile``'s subset proportions, and every effect fold is 1 (deep
    merge cannot delete the profile's effects, so they are overwritten). Lineage shares keep their
    tissue differences, so B-cell numbers stay realistic (few in synovium).
    """
    params = simulate_cohort(cfg).params
    same = params["subsets"][tissue_profile]
    every = {s for props in params["subsets"].values() for s in props}
    effects = {t: {tp: dict.fromkeys(f, 1.0) for tp, f in tps.items()} for t, tps in params.get("effects", {}).items()}
    return {"subsets": {t: {s: same.get(s, 0.0) for s in every} for t in params["subsets"]}, "effects": effects}


def simulated_study(cfg: dict, overrides: dict, seed: int, n_patients: int | None = None) -> pd.DataFrame:
    """Draw one study: the cohort with ``overrides`` and ``seed``, then its composition counts."""
    sim = {**overrides, "seed": seed}
    if n_patients is not None:
        sim["n_patients"] = n_patients
    c = validate_config(deep_merge(cfg, {"simulate": sim}))
    cohort = simulate_cohort(c)
    return counts_from_cohort(cohort, int(c["simulate"]["cells_per_sample"]), seed=seed + 1)
