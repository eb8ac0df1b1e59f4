"""Study design and true cell composition of every simulated specimen.

All modality simulators read :func:`simulate_cohort`, so the flow and BCR files of a specimen agree
with its scRNA-seq cells up to modality-specific noise. Parameters come from
``resources/simulate/cohort.yaml`` deep-merged with the config's ``simulate:`` section.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from belimap.clinical.params import ClinicalParams
from belimap.config import ROOT, deep_merge, read_yaml, repo_path
from belimap.errors import BelimapError
from belimap.vocab import Vocabulary, load_vocabulary

PROFILE = ROOT / "resources" / "simulate" / "cohort.yaml"
#: Keys of the config's ``simulate`` section that steer the run rather than the biology.
RUN_KEYS = {"enabled", "outdir", "seed", "n_patients", "cells_per_sample", "design", "profile"}


def simulation_params(cfg: dict) -> dict:
    """The simulator's parameters: the profile YAML updated by the config's ``simulate`` keys."""
    sim = cfg.get("simulate", {})
    profile = Path(sim.get("profile", PROFILE))
    params = read_yaml(repo_path(profile))
    overrides = {k: v for k, v in sim.items() if k not in RUN_KEYS}
    params = deep_merge(params, overrides)
    for key in ("n_patients", "cells_per_sample", "seed", "outdir"):
        params[key] = sim.get(key)
    params["design"] = sim.get("design") or {t: list(cfg["timepoints"]) for t in cfg["tissues"]}
    # The visit plan and cut-off are the study's (config clinical:), so the simulated dates and the
    # analysis' estimand agree; the profile's cut-off anchors the dates when the config sets none.
    clin = ClinicalParams.from_config(cfg)
    params.setdefault("clinical", {}).update(
        {"visit_days": dict(clin.visit_days), "visit_window_days": clin.visit_window_days,
         **({"data_cutoff": clin.data_cutoff} if clin.data_cutoff else {})})
    return params


def sample_id(patient: str, tissue: str, timepoint: str) -> str:
    """The simulator's specimen ID, e.g. ``P01_lymph_node_week12``."""
    return f"{patient}_{tissue}_{timepoint}"


@dataclass
class Cohort:
    """The simulated study: specimens and their true composition probabilities.

    ``specimens``: ``sample_id, patient_id, tissue, timepoint, batch`` (one row per specimen).
    ``lineage_probs``: sample × lineage probabilities over all cells; ``B_lineage`` (B + plasma) is split by ``subset_probs``.
    ``subset_probs``: sample × B subset probabilities within the B lineage.
    """

    specimens: pd.DataFrame
    lineage_probs: pd.DataFrame
    subset_probs: pd.DataFrame
    params: dict
    vocab: Vocabulary

    def specimen_seed(self, sid: str, stream: str) -> int:
        """A seed for ``stream`` (e.g. "scrna", "flow") of one specimen, stable under new samples."""
        key = f"{self.params['seed']}:{stream}:{sid}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:4], "little")


def _dirichlet(rng: np.random.Generator, p: pd.Series, conc: float) -> pd.Series:
    pos = p[p > 0]
    draw = rng.dirichlet(pos.to_numpy() * conc + 1e-3)
    out = pd.Series(0.0, index=p.index)
    out[pos.index] = draw
    return out


def simulate_cohort(cfg: dict) -> Cohort:
    """Draw the demo design and every specimen's true lineage and B-subset probabilities."""
    params = simulation_params(cfg)
    vocab = load_vocabulary(cfg)
    rng = np.random.default_rng(params["seed"])
    tissues, timepoints = list(cfg["tissues"]), list(cfg["timepoints"])
    subsets = vocab.subset_ids
    var = params["variation"]
    rows, lin_rows, sub_rows = [], [], []
    n_batches = int(params["scrna"].get("n_batches", 1))
    for i in range(int(params["n_patients"])):
        patient = f"P{i + 1:02d}"
        for tissue, times in params["design"].items():
            if tissue not in params["lineages"] or tissue not in params["subsets"]:
                raise BelimapError(f"simulate: tissue '{tissue}' has no lineage/subset proportions in the simulator profile")
            lin0 = pd.Series(params["lineages"][tissue], dtype=float)
            sub0 = pd.Series(params["subsets"][tissue], dtype=float).reindex(subsets, fill_value=0.0)
            lin_p = _dirichlet(rng, lin0 / lin0.sum(), var["patient_concentration"])
            sub_p = _dirichlet(rng, sub0 / sub0.sum(), var["patient_concentration"])
            # A patient's own response: the cohort effect scaled on the log scale.
            patient_scale = float(np.exp(rng.normal(0.0, var["effect_sd"])))
            for tp in sorted(times, key=timepoints.index):
                eff = params.get("effects", {}).get(tissue, {}).get(tp, {})
                lin_t, sub_t = lin_p.copy(), sub_p.copy()
                for key, fold in eff.items():
                    f = float(fold) ** patient_scale
                    if key in lin_t.index:
                        lin_t[key] *= f
                    elif key in sub_t.index:
                        sub_t[key] *= f
                lin_t = _dirichlet(rng, lin_t / lin_t.sum(), var["specimen_concentration"])
                sub_t = _dirichlet(rng, sub_t / sub_t.sum(), var["specimen_concentration"])
                sid = sample_id(patient, tissue, tp)
                rows.append({"sample_id": sid, "patient_id": patient, "tissue": tissue, "timepoint": tp,
                             "batch": f"batch{(i % n_batches) + 1}"})
                lin_rows.append(lin_t.rename(sid))
                sub_rows.append(sub_t.rename(sid))
    specimens = pd.DataFrame(rows)
    specimens["_t"] = specimens["tissue"].map(tissues.index)
    specimens["_p"] = specimens["timepoint"].map(timepoints.index)
    specimens = specimens.sort_values(["patient_id", "_t", "_p"]).drop(columns=["_t", "_p"]).reset_index(drop=True)
    lineage_probs = pd.DataFrame(lin_rows).fillna(0.0).loc[specimens["sample_id"]]
    subset_probs = pd.DataFrame(sub_rows).fillna(0.0).loc[specimens["sample_id"]]
    return Cohort(specimens, lineage_probs, subset_probs, params, vocab)


def draw_composition(cohort: Cohort, *, cells_per_sample: int, seed: int, qc_keep: float | None = None,
                     missing: dict[str, float] | None = None) -> pd.DataFrame:
    """The composition table (``COMPOSITION_COLUMNS``) a modality would measure from ``cohort``'s truth.

    Calibration studies, power studies and the response-model benchmarks need dozens of studies'
    counts; running the modality simulators and branches for each would take hours, while the
    composition tests and the model only see counts. So, per specimen in the cohort's order:
    cells ~ Binomial(``cells_per_sample``, ``qc_keep``) when ``qc_keep`` is given (the share of cells
    that survive QC, so B-cell numbers match the scRNA branch's), B-lineage cells ~ Binomial(cells,
    p_B), subset counts ~ Multinomial(B-lineage cells, subset probabilities). ``missing`` drops a
    random fraction of specimens per tissue (e.g. ``{"synovium": 0.3}``: no synovial biopsy for 30 %
    of patients), as real studies lose specimens. All draws come from one generator seeded with
    ``seed``, in this order, so a seed gives the same table to every caller.
    """
    from belimap.composition import COMPOSITION_COLUMNS

    rng = np.random.default_rng(seed)
    subsets = cohort.vocab.subset_ids
    rows = []
    for spec in cohort.specimens.to_dict("records"):
        if missing and rng.random() < missing.get(spec["tissue"], 0.0):
            continue
        sid = spec["sample_id"]
        n_cells = cells_per_sample if qc_keep is None else int(rng.binomial(cells_per_sample, qc_keep))
        lin = cohort.lineage_probs.loc[sid]
        b_share = float(lin["B_lineage"] if "B_lineage" in lin.index
                        else lin.reindex(list(cohort.vocab.bcell_lineages)).fillna(0).sum())
        n_b = int(rng.binomial(n_cells, b_share))
        p = cohort.subset_probs.loc[sid, subsets].to_numpy(float)
        counts = rng.multinomial(n_b, p / p.sum())
        for s, c in zip(subsets, counts, strict=True):
            rows.append({**{k: spec[k] for k in ("sample_id", "patient_id", "tissue", "timepoint")}, "subset": s,
                         "n_cells": int(c), "n_bcells": n_b, "fraction": c / n_b if n_b else np.nan})
    return pd.DataFrame(rows, columns=COMPOSITION_COLUMNS)


SCRNA_SUFFIX = {"10x_h5": ".h5", "10x_mtx": "", "h5ad": ".h5ad"}
BCR_SUFFIX = {"10x_contigs": "_contigs.csv", "airr": "_airr.tsv"}


def sample_sheet(cohort: Cohort, outdir: str | Path) -> pd.DataFrame:
    """The sample sheet of the simulated study: one row per file, paths under ``outdir/raw``.

    scRNA formats are cycled over specimens (10x HDF5, 10x MTX folder, h5ad); BCR files alternate
    10x contig CSV and AIRR TSV; blood flow files carry a lymphocyte count per µL.
    """
    outdir = Path(outdir)
    mods = cohort.params.get("modalities", {"scrna": True})
    formats = cohort.params["scrna"]["formats"]
    rows = []
    for i, spec in enumerate(cohort.specimens.to_dict("records")):
        sid = spec["sample_id"]
        base = {k: spec[k] for k in ("sample_id", "patient_id", "tissue", "timepoint")}
        common = {"batch": spec["batch"], "chemistry": "10x 5' v2", "cells_per_ul": ""}
        if mods.get("scrna", True):
            fmt = formats[i % len(formats)]
            rows.append({**base, "modality": "scrna", "path": str(outdir / "raw" / "scrna" / f"{sid}{SCRNA_SUFFIX[fmt]}"), **common})
        if mods.get("bcr"):
            fmt = "10x_contigs" if i % 2 == 0 else "airr"
            rows.append({**base, "modality": "bcr", "path": str(outdir / "raw" / "bcr" / f"{sid}{BCR_SUFFIX[fmt]}"), **common})
        if mods.get("flow"):
            rng = np.random.default_rng(cohort.specimen_seed(sid, "flow_count"))
            count = f"{rng.normal(1800, 300):.0f}" if spec["tissue"] == "blood" else ""
            rows.append({**base, "modality": "flow", "path": str(outdir / "raw" / "flow" / f"{sid}.fcs"),
                         "batch": spec["batch"], "chemistry": "", "cells_per_ul": count})
    return pd.DataFrame(rows, columns=["sample_id", "patient_id", "tissue", "timepoint", "modality", "path",
                                       "batch", "chemistry", "cells_per_ul"])
