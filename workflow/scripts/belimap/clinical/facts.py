"""The clinical facts of ``resources/clinical``: one loader, so no weight or threshold is re-typed.

``criteria.json`` holds SLEDAI-2K, SRI-4, LLDAS and the classification criteria as published;
``classification.yaml`` maps table columns to its items (each item text must appear in
``criteria.json``), ``outcomes.yaml`` writes the LLDAS text as numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from belimap.clinical.params import ClinicalParams
from belimap.config import read_yaml, repo_path
from belimap.errors import BelimapError

#: The config keys naming the facts files, and belimap's own files (the schema's defaults).
FACT_FILES = ("criteria", "classification", "outcomes")
DEFAULTS = {key: getattr(ClinicalParams(), key) for key in FACT_FILES}


@dataclass(frozen=True)
class ClinicalFacts:
    """SLEDAI-2K weights, SRI-4 / LLDAS thresholds and classification item columns."""

    criteria: dict[str, Any]
    classification: dict[str, Any]
    outcomes: dict[str, Any]

    @property
    def sledai_weights(self) -> dict[str, int]:
        """Descriptor -> weight, in the published order."""
        return {name: int(w) for name, w, _ in self.criteria["SLEDAI_2K"]["items"]}

    @property
    def sri4(self) -> dict[str, Any]:
        return self.criteria["SRI4"]

    @property
    def lldas(self) -> dict[str, Any]:
        return self.outcomes["lldas"]

    @property
    def eular_items(self) -> dict[str, dict[str, int]]:
        """Domain -> {item id: weight} of EULAR/ACR 2019."""
        return self.criteria["EULAR_ACR_2019"]["domains"]

    def classification_columns(self) -> list[str]:
        """Every 0/1 column carrying a classification item."""
        c = self.classification
        cols = list(c["acr_1997"]["columns"])
        cols += list(c["slicc_2012"]["clinical"]) + list(c["slicc_2012"]["immunologic"])
        cols.append(c["slicc_2012"]["biopsy_nephritis"])
        e = c["eular_acr_2019"]
        cols.append(e["entry"])
        cols += [e["prefix"] + item for items in self.eular_items.values() for item in items]
        return list(dict.fromkeys(cols))

    def binary_columns(self) -> list[str]:
        """The 0/1 columns defined by the facts (SLEDAI-2K descriptors, classification items)."""
        return list(self.sledai_weights) + self.classification_columns()


def _check(facts: ClinicalFacts, where: str) -> None:
    """Refuse a classification/outcomes file that names an item or descriptor criteria.json lacks."""
    crit, cls = facts.criteria, facts.classification
    acr_items = set(crit["ACR_1997"]["items"])
    for col, text in cls["acr_1997"]["columns"].items():
        if text not in acr_items:
            raise BelimapError(
                f"{where}: acr_1997 column '{col}': item '{text}' is not in criteria.json ACR_1997.items")
    for part in ("clinical", "immunologic"):
        known = set(crit["SLICC_2012"][part])
        for col, text in cls["slicc_2012"][part].items():
            if text not in known:
                raise BelimapError(
                    f"{where}: slicc_2012 column '{col}': item '{text}' is not in criteria.json SLICC_2012.{part}")
    for dom in cls["eular_acr_2019"]["clinical_domains"]:
        if dom not in facts.eular_items:
            raise BelimapError(f"{where}: eular_acr_2019 clinical domain '{dom}' is not in criteria.json")
    weights = facts.sledai_weights
    for organ, names in facts.lldas["no_activity_in"].items():
        for n in names:
            if n not in weights:
                raise BelimapError(
                    f"{where}: lldas.no_activity_in.{organ}: '{n}' is not a SLEDAI-2K descriptor of criteria.json")


@lru_cache(maxsize=8)
def _load(criteria: str, classification: str, outcomes: str) -> ClinicalFacts:
    p = Path(criteria)
    if not p.exists():
        raise BelimapError(f"{p}: clinical criteria file not found")
    try:
        crit = json.loads(p.read_text())
    except json.JSONDecodeError as err:
        raise BelimapError(f"{p}: is not valid JSON ({err.msg} at line {err.lineno})") from None
    facts = ClinicalFacts(crit, read_yaml(classification), read_yaml(outcomes))
    _check(facts, f"{classification} / {outcomes}")
    return facts


def load_facts(params: ClinicalParams | None = None) -> ClinicalFacts:
    """The facts named by ``clinical.criteria|classification|outcomes`` (belimap's resources when
    unset or empty), read once per process: every table of a rule scores with the same facts."""
    c = {k: (getattr(params, k) if params else "") or DEFAULTS[k] for k in FACT_FILES}
    return _load(str(repo_path(c["criteria"])), str(repo_path(c["classification"])), str(repo_path(c["outcomes"])))
