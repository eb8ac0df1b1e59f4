"""The clinical layer: clinical table in, eligibility, disease activity, response, CONSORT, and the
week-48 response model.

One module per step: ``params`` (the typed ``clinical``/``model`` sections), ``facts`` (the clinical
facts of resources/clinical), ``table`` (reads and validates the clinical table, refusing direct
identifiers), ``activity`` (SLEDAI-2K, classification criteria, SRI-4 and LLDAS), ``eligibility``
(a trial's criteria written as data), ``consort`` (the flow of patients and specimens),
``accuracy`` (against the simulator's truth), ``features`` and ``model`` (the response model);
``pipeline`` holds the one call per workflow rule.

The public names are imported on first use (PEP 562): the workflow's rule files import
``belimap.clinical.facts`` while Snakemake parses them, and importing scikit-learn and pandas
there would add seconds to every ``snakemake`` call.
"""

from __future__ import annotations

import importlib
from typing import Any

#: The public names, by the module that defines them.
_PUBLIC = {
    "accuracy": ("clinical_accuracy", "eligibility_agreement", "response_agreement"),
    "activity": ("activity_table", "any_classification", "classification", "lldas_row", "response_table",
                 "sledai2k", "sri4"),
    "consort": ("consort_counts", "enrolled_patients"),
    "eligibility": ("Criterion", "Trial", "eligibility_table", "load_trial", "renal_flare", "screening_records"),
    "facts": ("ClinicalFacts", "load_facts"),
    "features": ("clinical_features", "descriptive_comparison", "immune_features", "prepare"),
    "model": ("ModelResult", "calibration_summary", "fit_response_model", "nested_cv"),
    "params": ("ClinicalParams", "ImmuneParams", "ModelParams"),
    "pipeline": ("accuracy_file", "check_table", "clinical_tables", "figure_files", "response_model_files",
                 "tables_file", "write_model"),
    "table": ("read_clinical_table",),
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"belimap.clinical.{_MODULE_OF[name]}"), name)
    raise AttributeError(f"module 'belimap.clinical' has no attribute '{name}'")


def __dir__() -> list[str]:
    return __all__
