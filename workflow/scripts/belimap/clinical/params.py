"""The ``clinical`` and ``model`` sections of the config, typed (defaults from their schemas).

Library functions of the clinical layer take these instead of the config dict, so a misspelt key
fails at the dataclass, not three calls deep, and a default is written once, in
``config/schemas/clinical.schema.yaml`` / ``model.schema.yaml``.
"""

from __future__ import annotations

from belimap.params import parameters


@parameters("clinical")
class ClinicalParams:
    """``clinical``: the study's clinical table, the trial's rule file, the facts and the visit plan."""

    table: str
    trial: str
    criteria: str
    classification: str
    outcomes: str
    visits: list[str]
    baseline_visit: str
    response_visit: str
    data_cutoff: str | None
    visit_days: dict[str, int]
    visit_window_days: int


@parameters("model", "immune")
class ImmuneParams:
    """``model.immune``: which composition rows become immune features (empty = all)."""

    timepoint: str
    tissues: list[str]
    subsets: list[str]
    min_coverage: float
    min_bcells: int
    transform: str
    pseudocount: float


@parameters("model")
class ModelParams:
    """``model``: features, the nested-CV design, the published-predictor prior and the resampling counts.

    ``seed`` is ``model.seed`` when the config sets it, else the study's ``seed``.
    """

    outcome: str
    clinical_features: list[str]
    log_features: list[str]
    thresholds: dict[str, float]
    immune: ImmuneParams
    min_patients: int
    min_per_class: int
    outer_folds: int
    inner_folds: int
    repeats: int
    C_grid: list[float]  # noqa: N815 - the config's key
    inner_scoring: str
    prior_features: list[str]
    prior_weight: float
    l1_ratio: float
    tol: float
    n_bootstrap: int
    n_selection_bootstrap: int
    n_permutations: int
    calibration_bins: int
    seed: int
