"""The response model's features: baseline clinical values and B-subset fractions, selected and described.

A feature is one baseline value per patient: ``clinical:<column>`` (``clinical:log1p_<column>``
for right-skewed labs, ``clinical:<column>>=<cut-off>`` for a published threshold) or
``clr:{modality}:{tissue}:{subset}`` for a subset's centred log-ratio in a specimen (or
``{modality}:{tissue}:{subset}``, its share, with ``model.immune.transform: fraction``; NaN where the
specimen is missing or has too few B cells).
Nothing here is fitted to the outcome, so building the matrix once, outside the CV folds, leaks
nothing; imputation and scaling are fitted per fold in :mod:`belimap.clinical.model`.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from belimap.clinical.params import ClinicalParams, ModelParams

log = logging.getLogger(__name__)

OUTCOME_STATUS = {"responder": 1, "non_responder": 0}
DESC_COLUMNS = ["feature", "n_responders", "median_responders", "q1_responders", "q3_responders",
                "n_non_responders", "median_non_responders", "q1_non_responders", "q3_non_responders",
                "median_difference"]


def clinical_features(table: pd.DataFrame, activity: pd.DataFrame, *, features: list[str], baseline_visit: str,
                      visits: list[str], log_features: list[str], thresholds: dict[str, float] | None = None
                      ) -> pd.DataFrame:
    """Baseline clinical features per patient: the baseline visit's value, else the screening value.

    ``activity`` supplies the scores (``sledai2k``); the table supplies labs and static columns
    (age is usually recorded at screening only). ``log_features`` enter as ``log(1 + x)``.
    """
    shared = [c for c in activity.columns if c in table.columns and c not in ("patient_id", "visit")]
    merged = table.drop(columns=shared)
    merged = merged.assign(visit=merged["visit"].astype(str)).merge(
        activity.assign(visit=activity["visit"].astype(str)), on=["patient_id", "visit"], how="left")
    before = [v for v in visits if visits.index(v) < visits.index(baseline_visit)]
    order = [baseline_visit] + before[::-1]  # baseline, else the latest visit before it
    out = pd.DataFrame(index=sorted(merged["patient_id"].unique()))
    for f in features:
        if f not in merged.columns:
            log.warning("clinical feature %s is not in the clinical table; skipped", f)
            continue
        vals = pd.Series(np.nan, index=out.index)
        for v in reversed(order):  # later in `order` = lower priority, so write it first
            rows = merged[merged["visit"] == v].set_index("patient_id")[f]
            rows = pd.to_numeric(rows, errors="coerce").dropna()
            vals.loc[rows.index] = rows
        if f in log_features:
            out[f"clinical:log1p_{f}"] = np.log1p(vals)
        else:
            out[f"clinical:{f}"] = vals
        if thresholds and f in thresholds:  # a published cut-off as its own 0/1 feature
            out[f"clinical:{f}>={thresholds[f]:g}"] = (vals >= thresholds[f]).astype(float).where(vals.notna())
    return out


def immune_features(compositions: dict[str, pd.DataFrame], *, timepoint: str, tissues: list[str] | None = None,
                    subsets: list[str] | None = None, min_bcells: int = 0, transform: str = "clr",
                    pseudocount: float = 0.5) -> pd.DataFrame:
    """Baseline B-subset features per patient (NaN = no specimen, or too few B cells to trust a share).

    A specimen with fewer than ``min_bcells`` B-lineage cells gives no feature: a synovium with 2 B
    cells would give shares of 0 or 0.5. ``transform="clr"`` turns each specimen's subset counts into
    centred log-ratios, ``log(n + pseudocount) - mean(log(n + pseudocount))`` over all its subsets, so the
    features are not forced to sum to one (columns ``clr:{modality}:{tissue}:{subset}``); ``"fraction"``
    keeps the shares (``{modality}:{tissue}:{subset}``). The log-ratio reference is every subset of the
    specimen, whichever ``subsets`` are kept as features.
    """
    frames = []
    for modality, comp in compositions.items():
        c = comp[comp["timepoint"].astype(str) == timepoint]
        if tissues:
            c = c[c["tissue"].astype(str).isin(tissues)]
        if c.empty:
            continue
        c = c.assign(n_cells=pd.to_numeric(c["n_cells"], errors="coerce"),
                     n_bcells=pd.to_numeric(c["n_bcells"], errors="coerce"),
                     fraction=pd.to_numeric(c["fraction"], errors="coerce"))
        few = c["n_bcells"].fillna(0) < min_bcells
        if few.any():
            log.info("%s: %d specimen(s) with < %d B cells give no immune features", modality,
                     c.loc[few, "sample_id"].nunique(), min_bcells)
        if transform == "clr":
            logn = np.log(c["n_cells"] + pseudocount)
            value = logn - logn.groupby(c["sample_id"]).transform("mean")
            prefix = "clr:"
        else:
            value, prefix = c["fraction"], ""
        c = c.assign(value=value.where(~few))
        if subsets:
            c = c[c["subset"].astype(str).isin(subsets)]
        c = c.assign(feature=prefix + modality + ":" + c["tissue"].astype(str) + ":" + c["subset"].astype(str))
        frames.append(c.pivot_table(index="patient_id", columns="feature", values="value", aggfunc="mean",
                                    dropna=False))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, axis=1)


def select_features(X: pd.DataFrame, *, min_coverage: float) -> tuple[pd.DataFrame, list[str]]:
    """Drop features measured in too few patients or constant where measured; say which and why."""
    dropped = []
    keep = []
    for col in X.columns:
        v = X[col]
        if v.notna().mean() < min_coverage:
            dropped.append(f"{col} (measured in {v.notna().sum()}/{len(v)} patients)")
        elif v.nunique(dropna=True) < 2:
            dropped.append(f"{col} (constant)")
        else:
            keep.append(col)
    return X[keep], dropped


def model_inputs(response: pd.DataFrame, clin: pd.DataFrame, immune: pd.DataFrame, *, outcome: str,
                 min_coverage: float) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, list[str]]:
    """Split enrolled patients into the modelled (known outcome) and the pending, with usable features.

    Coverage is judged on the patients with a known outcome only: they are the ones the model
    learns from, and the pending patients are predicted on the same columns.
    """
    resp = response.set_index("patient_id")
    X = clin.join(immune, how="left") if len(immune) else clin
    X = X.reindex(resp.index)
    if outcome == "sri4":
        y = resp["status"].map(OUTCOME_STATUS)
    else:
        y = pd.to_numeric(resp[outcome], errors="coerce").where(resp["status"] != "pending")
        if "imputed" in resp:  # non-responder imputation applies to every binary outcome of the visit
            y = y.mask(resp["imputed"].fillna("").astype(str).ne(""), 0.0)
    known = y.notna()
    Xk, dropped = select_features(X[known], min_coverage=min_coverage)
    pending = X.loc[resp.index[resp["status"] == "pending"], Xk.columns]
    return Xk, y[known].astype(int), pending, dropped


def prepare(table: pd.DataFrame, activity: pd.DataFrame, response: pd.DataFrame,
            compositions: dict[str, pd.DataFrame], *, clinical: ClinicalParams, params: ModelParams, timepoint: str
            ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, list[str]]:
    """Feature matrix, outcome and pending patients from the clinical layer and the composition tables.

    ``timepoint`` is the sample sheet's baseline timepoint, used when ``model.immune.timepoint`` is empty.
    Returns ``(X, y, pending, dropped)``: features of the patients with a known outcome, their
    outcome (1/0), features of the pending patients, and the dropped features with the reason.
    """
    clin = clinical_features(table, activity, features=list(params.clinical_features),
                             baseline_visit=clinical.baseline_visit, visits=list(clinical.visits),
                             log_features=list(params.log_features), thresholds=params.thresholds)
    imm = immune_features(compositions, timepoint=params.immune.timepoint or timepoint, tissues=params.immune.tissues,
                          subsets=params.immune.subsets, min_bcells=params.immune.min_bcells,
                          transform=params.immune.transform, pseudocount=params.immune.pseudocount)
    return model_inputs(response, clin, imm, outcome=params.outcome, min_coverage=params.immune.min_coverage)


def descriptive_comparison(X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """Median and IQR of every feature in responders vs non-responders (no test: small n)."""
    rows = []
    for col in X.columns:
        r, nr = X.loc[y == 1, col].dropna(), X.loc[y == 0, col].dropna()

        def q(s: pd.Series, p: float) -> float:
            return float(s.quantile(p)) if len(s) else math.nan

        rows.append({"feature": col, "n_responders": len(r), "median_responders": q(r, .5), "q1_responders": q(r, .25),
                     "q3_responders": q(r, .75), "n_non_responders": len(nr), "median_non_responders": q(nr, .5),
                     "q1_non_responders": q(nr, .25), "q3_non_responders": q(nr, .75),
                     "median_difference": q(r, .5) - q(nr, .5)})
    return pd.DataFrame(rows, columns=DESC_COLUMNS)
