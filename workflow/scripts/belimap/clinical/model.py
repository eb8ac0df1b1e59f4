"""The week-48 response model: penalised logistic regression in nested, repeated, stratified CV.

Features (:mod:`belimap.clinical.features`) are baseline clinical values and baseline B-subset
fractions per tissue and modality.
Everything fitted to data — imputation of missing specimens, scaling, the penalty strength — sits
inside one scikit-learn ``Pipeline`` that is refitted in every training fold, so no information
from a held-out patient reaches its prediction. Performance is the out-of-fold AUC averaged over
repeats, with a 95 % interval that bootstraps the whole nested CV (:func:`auc_interval`) and a
permutation p-value (the whole nested CV rerun on permuted labels); coefficients come with bootstrap
selection frequencies. The estimator and the nested CV are :mod:`belimap.clinical.estimator`. Published SLE response
models reach AUC 0.5–0.78, so on small cohorts we refuse to fit and describe instead.

Published predictors (``prior_features``) can be penalised less than exploratory features, as
glmnet's ``penalty.factor`` does: with 100 patients and 30 candidate features, an equal penalty
spends most of the signal on choosing features, and the literature already tells us where to
look. See :class:`PriorWeight`.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.pipeline import Pipeline

from belimap.clinical.estimator import (PriorWeight, chosen_c, make_pipeline, mean_auc, nested_cv,  # noqa: F401
                                        prior_weights, tuned_estimator)
from belimap.clinical.features import descriptive_comparison
from belimap.clinical.params import ModelParams

log = logging.getLogger(__name__)


def auc_interval(X: np.ndarray, y: np.ndarray, observed: float, *, params: ModelParams, seed: int,
                 n_jobs: int = 1, weights: np.ndarray | None = None, level: float = 0.95
                 ) -> tuple[float, float, float]:
    """(low, high, bootstrap SD) of the AUC, over the whole pipeline: every resample reruns the nested CV.

    Resampling fixed out-of-fold predictions would ignore that a different sample gives different
    models (imputation, scaling, the choice of C, the selected features). Here each of
    ``params.n_bootstrap`` patient resamples (stratified by outcome, so both classes keep their size)
    reruns one repeat of the nested CV, a patient's copies kept in one fold so no copy predicts
    itself. A resample holds ~63 % distinct patients, so its models are weaker and its AUCs sit
    below the observed one; the interval therefore takes the resamples' spread, not their
    location: observed ± z · SD (the normal bootstrap interval), clipped to [0, 1].
    """
    from scipy.stats import norm

    if params.n_bootstrap <= 1:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y == c) for c in (0, 1)]
    stats = []
    for b in range(params.n_bootstrap):
        idx = np.concatenate([rng.choice(members, len(members)) for members in by_class])
        oof = nested_cv(X[idx], y[idx], params=params, seed=seed + b, repeats=1, n_jobs=n_jobs, weights=weights,
                        groups=idx)
        stats.append(roc_auc_score(y[idx], oof[0]))
    sd = float(np.std(stats, ddof=1))
    z = float(norm.ppf(0.5 + level / 2))
    return max(0.0, observed - z * sd), min(1.0, observed + z * sd), sd


def permutation_p(X: np.ndarray, y: np.ndarray, observed: float, *, params: ModelParams, seed: int, n_jobs: int = 1,
                  weights: np.ndarray | None = None) -> tuple[float, list[float]]:
    """p = (1 + #{AUC_perm >= observed}) / (1 + n): the whole nested CV on permuted labels.

    The null statistic is the observed one: the AUC averaged over the same ``params.repeats`` CV
    repeats (a one-repeat AUC has a wider null distribution, so p would not be that of the observed AUC).

    Permuting inside the whole procedure (imputation, scaling, the choice of C) is what makes the
    null honest: permuting the final model's predictions alone would ignore the tuning's optimism.
    """
    n = params.n_permutations
    if n <= 0:
        return math.nan, []
    rng = np.random.default_rng(seed)
    null = [mean_auc(yp, nested_cv(X, yp, params=params, seed=seed + i, n_jobs=n_jobs, weights=weights))
            for i, yp in enumerate(rng.permutation(y) for _ in range(n))]
    return (1 + sum(a >= observed for a in null)) / (1 + n), null


@dataclass
class ModelResult:
    """Everything the model step writes (tables are empty when no model was fitted)."""

    fitted: bool
    message: str
    summary: dict
    cv_predictions: pd.DataFrame = field(default_factory=pd.DataFrame)
    roc: pd.DataFrame = field(default_factory=pd.DataFrame)
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame)
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame)
    descriptive: pd.DataFrame = field(default_factory=pd.DataFrame)


CV_COLUMNS = ["patient_id", "outcome", "probability", "probability_sd"]
ROC_COLUMNS = ["repeat", "fpr", "tpr"]
CAL_COLUMNS = ["bin", "mean_predicted", "observed_fraction"]
COEF_COLUMNS = ["feature", "source", "prior", "coefficient", "ci_low", "ci_high", "selection_frequency"]
PRED_COLUMNS = ["patient_id", "probability", "ci_low", "ci_high"]


def _out_of_fold_tables(index: pd.Index, ya: np.ndarray, oof: np.ndarray, *, bins: int
                        ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """CV predictions, ROC curve per repeat and calibration bins, all from out-of-fold probabilities."""
    prob = oof.mean(axis=0)
    cv = pd.DataFrame({"patient_id": index, "outcome": ya, "probability": prob, "probability_sd": oof.std(axis=0)})
    roc = pd.concat([pd.DataFrame(dict(zip(("fpr", "tpr"), roc_curve(ya, o)[:2], strict=True))).assign(repeat=r + 1)
                     for r, o in enumerate(oof)])[ROC_COLUMNS]
    frac, mean_pred = calibration_curve(ya, prob, n_bins=bins, strategy="quantile")
    cal = pd.DataFrame({"bin": np.arange(1, len(frac) + 1), "mean_predicted": mean_pred, "observed_fraction": frac})
    return cv, roc, cal


def calibration_summary(y: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """Calibration slope (logistic y ~ logit p), intercept (calibration-in-the-large, slope fixed at 1), Brier."""
    y = np.asarray(y, float)
    lp = np.log(np.clip(prob, 1e-6, 1 - 1e-6) / (1 - np.clip(prob, 1e-6, 1 - 1e-6)))
    slope = float(LogisticRegression(C=1e12, solver="lbfgs", max_iter=1000)
                  .fit(lp[:, None], y.astype(int)).coef_[0, 0])
    a = 0.0
    for _ in range(50):  # Newton for a in logit P(y) = a + logit p
        m = 1.0 / (1.0 + np.exp(-(a + lp)))
        step = (y - m).sum() / max((m * (1 - m)).sum(), 1e-12)
        a += step
        if abs(step) < 1e-10:
            break
    return {"calibration_slope": slope, "calibration_intercept": float(a),
            "brier": float(np.mean((np.asarray(prob) - y) ** 2))}


def _final_model(Xa: np.ndarray, ya: np.ndarray, Xp: np.ndarray, *, params: ModelParams, seed: int, n_jobs: int,
                 weights: np.ndarray | None) -> tuple[Pipeline, list[np.ndarray], list[np.ndarray]]:
    """The model tuned on every patient, and bootstrap refits at its C (coefficients, pending predictions).

    Refits at the chosen C rather than re-tuning: the spread shown is that of the coefficients,
    not of the tuning, and 200 refits stay affordable.
    """
    scale = np.ones(Xa.shape[1]) if weights is None else weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        final = tuned_estimator(ya, params=params, seed=seed, n_jobs=n_jobs, weights=weights).fit(Xa, ya)
        rng = np.random.default_rng(seed + 1)
        boots, pred_boot = [], []
        for _ in range(params.n_selection_bootstrap):
            idx = rng.integers(0, len(ya), len(ya))
            if ya[idx].min() == ya[idx].max():
                continue
            m = make_pipeline(C=chosen_c(final), l1_ratio=params.l1_ratio, seed=seed, weights=weights,
                              tol=params.tol)
            m.fit(Xa[idx], ya[idx])
            boots.append(m.named_steps["clf"].coef_[0] * scale)
            if len(Xp):
                pred_boot.append(m.predict_proba(Xp)[:, 1])
    return final, boots, pred_boot


def _coefficient_table(features: pd.Index, coef: np.ndarray, scale: np.ndarray, boots: list[np.ndarray]
                       ) -> pd.DataFrame:
    """Coefficients (largest first), bootstrap 95 % range at the fixed C and selection frequency.

    ci_low/ci_high are refits at the chosen C: they describe selection stability, not confidence.
    """
    nan = np.full(len(features), np.nan)
    B = np.array(boots) if boots else None
    coefs = pd.DataFrame({"feature": features, "source": ["clinical" if c.startswith("clinical:") else "immune"
                                                          for c in features],
                          "prior": np.where(scale != 1.0, "yes", "no"), "coefficient": coef,
                          "ci_low": nan if B is None else np.quantile(B, 0.025, axis=0),
                          "ci_high": nan if B is None else np.quantile(B, 0.975, axis=0),
                          "selection_frequency": nan if B is None else (np.abs(B) > 1e-10).mean(axis=0)})
    return coefs.reindex(coefs["coefficient"].abs().sort_values(ascending=False).index)[COEF_COLUMNS]


def _prediction_table(index: pd.Index, probability: np.ndarray, pred_boot: list[np.ndarray]) -> pd.DataFrame:
    """Pending patients' probabilities from the final model, with the bootstrap refits' 95 % interval."""
    if not len(index):
        return pd.DataFrame(columns=PRED_COLUMNS)
    pb = np.array(pred_boot) if pred_boot else None
    nanp = np.full(len(index), np.nan)
    return pd.DataFrame({"patient_id": index, "probability": probability,
                         "ci_low": nanp if pb is None else np.quantile(pb, 0.025, axis=0),
                         "ci_high": nanp if pb is None else np.quantile(pb, 0.975, axis=0)})


def fit_response_model(X: pd.DataFrame, y: pd.Series, pending: pd.DataFrame, *, params: ModelParams,
                       n_jobs: int = 1) -> ModelResult:
    """Fit and evaluate the model, or explain plainly why not.

    ``X``: patients with a known outcome × features; ``y``: 1 responder / 0 non-responder;
    ``pending``: features of patients whose outcome is not in yet (predicted by the final model).
    Every random step derives its seed from ``params.seed``, so a rerun gives the same tables.
    """
    seed = params.seed
    n, n_resp = len(y), int(y.sum())
    n_non = n - n_resp
    desc = descriptive_comparison(X, y)
    summary = {"outcome": params.outcome, "n_patients": n, "n_responders": n_resp, "n_non_responders": n_non,
               "n_pending": len(pending), "n_features": X.shape[1]}
    if n < params.min_patients or min(n_resp, n_non) < params.min_per_class or X.shape[1] == 0:
        msg = (f"No model was fitted: {n} patients have a known outcome ({n_resp} responders, {n_non} non-responders)"
               f" and {X.shape[1]} usable features; the model needs at least {params.min_patients} patients and "
               f"{params.min_per_class} per class. An AUC from so few patients would mislead; the descriptive "
               "comparison of responders and non-responders is shown instead.")
        return ModelResult(False, msg, {**summary, "status": "not_fitted"}, descriptive=desc)
    Xa, ya = X.to_numpy(float), y.to_numpy(int)
    w = prior_weights(list(X.columns), patterns=list(params.prior_features), weight=params.prior_weight)
    scale = np.ones(X.shape[1]) if w is None else w  # back to the standardised scale for reporting
    oof = nested_cv(Xa, ya, params=params, seed=seed, n_jobs=n_jobs, weights=w)
    auc = mean_auc(ya, oof)
    lo, hi, sd = auc_interval(Xa, ya, auc, params=params, seed=seed + 20_000, n_jobs=n_jobs, weights=w)
    p, _ = permutation_p(Xa, ya, auc, params=params, seed=seed + 10_000, n_jobs=n_jobs, weights=w)
    cv, roc, cal = _out_of_fold_tables(X.index, ya, oof, bins=params.calibration_bins)
    Xp = pending.reindex(columns=X.columns).to_numpy(float)
    final, boots, pred_boot = _final_model(Xa, ya, Xp, params=params, seed=seed, n_jobs=n_jobs, weights=w)
    best_c = chosen_c(final)
    coef = final.named_steps["clf"].coef_[0] * scale  # on the standardised scale
    coefs = _coefficient_table(X.columns, coef, scale, boots)
    preds = _prediction_table(pending.index, final.predict_proba(Xp)[:, 1] if len(Xp) else np.empty(0), pred_boot)
    summary.update(calibration_summary(ya, oof.mean(axis=0)))
    summary.update({"status": "fitted", "auc": auc, "auc_ci_low": lo, "auc_ci_high": hi, "auc_bootstrap_sd": sd,
                    "auc_interval": "nested-CV bootstrap", "n_bootstrap": params.n_bootstrap, "permutation_p": p,
                    "n_permutations": params.n_permutations,
                    "outer_folds": min(params.outer_folds, min(n_resp, n_non)),
                    "inner_folds": params.inner_folds, "repeats": params.repeats, "best_C": best_c,
                    "n_selected": int((np.abs(coef) > 1e-10).sum()),
                    "prior_features": ";".join(X.columns[scale != 1.0]), "prior_weight": params.prior_weight})
    msg = (f"Nested {summary['outer_folds']}-fold CV repeated {params.repeats}x on {n} patients "
           f"({n_resp} responders): "
           f"AUC {auc:.2f} (95% CI {lo:.2f}-{hi:.2f}, permutation p = {p:.3g}).")
    if summary["prior_features"]:
        msg += (f" Published predictors penalised less (weight {params.prior_weight:g}): "
                f"{summary['prior_features'].replace(';', ', ')}.")
    unmatched = [p for p in params.prior_features if not any(fnmatch.fnmatchcase(f, p) for f in X.columns)]
    if unmatched:  # a typo would silently switch the prior off: say so
        log.warning("model.prior_features matching no feature: %s", ", ".join(unmatched))
        msg += f" prior_features matching no feature (misspelt, or dropped for coverage): {', '.join(unmatched)}."
    return ModelResult(True, msg, summary, cv, roc, cal, coefs, preds, desc)
