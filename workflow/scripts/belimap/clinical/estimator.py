"""The response model's estimator: the fitted-per-fold pipeline, its inner loop and the nested CV.

Everything fitted to data - imputation of missing specimens, scaling, the penalty strength - sits
inside one scikit-learn ``Pipeline`` that is refitted in every training fold, so no information
from a held-out patient reaches its prediction. :mod:`belimap.clinical.model` evaluates it.
"""

from __future__ import annotations

import fnmatch
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from belimap.clinical.params import ModelParams


class PriorWeight(TransformerMixin, BaseEstimator):
    """Multiply standardised features by fixed weights, so the penalty shrinks the up-weighted less.

    A coefficient on a column scaled by ``w`` pays ``1/w`` of the lasso penalty (``1/w²`` of the
    ridge penalty) for the same effect on the prediction: glmnet's ``penalty.factor``, which
    scikit-learn's ``LogisticRegression`` lacks. The weights are fixed by the config, never fitted,
    so the step cannot leak. ``weights=None`` is the identity.
    """

    def __init__(self, weights: np.ndarray | None = None):
        self.weights = weights

    def fit(self, X, y=None):  # noqa: ARG002 - stateless; fit for the Pipeline protocol
        return self

    def transform(self, X):
        return X if self.weights is None else np.asarray(X) * self.weights


def prior_weights(features: list[str], *, patterns: list[str], weight: float) -> np.ndarray | None:
    """Per-feature weights: ``weight`` for features matching a ``prior_features`` glob, else 1."""
    w = np.array([weight if any(fnmatch.fnmatchcase(f, p) for p in patterns) else 1.0 for f in features])
    return None if np.all(w == 1.0) else w


def _solver(l1_ratio: float, seed: int, tol: float) -> dict:
    """saga (lasso / elastic net) or lbfgs (ridge), never liblinear: it penalises the intercept,
    pulling probabilities to 0.5."""
    if l1_ratio <= 0.0:
        return {"solver": "lbfgs", "tol": tol, "max_iter": 1000}
    return {"solver": "saga", "tol": tol, "max_iter": 5000, "random_state": seed}


def _pipeline(clf, weights: np.ndarray | None) -> Pipeline:
    return Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                     ("scale", StandardScaler()), ("prior", PriorWeight(weights)), ("clf", clf)])


def make_pipeline(*, C: float = 1.0, l1_ratio: float = 1.0, seed: int = 0,  # noqa: N803 - scikit-learn's name
                  weights: np.ndarray | None = None, tol: float = 1e-3) -> Pipeline:
    """Median imputation → standardisation → prior weights → penalised logistic regression at a fixed C."""
    return _pipeline(LogisticRegression(C=C, l1_ratio=l1_ratio, **_solver(l1_ratio, seed, tol)), weights)


def tuned_estimator(y: np.ndarray, *, params: ModelParams, seed: int, n_jobs: int = 1,
                    weights: np.ndarray | None = None, groups: np.ndarray | None = None) -> Pipeline:
    """The inner loop for training patients ``y``: the pipeline whose last step chooses C by stratified CV.

    The inner folds are capped at the smaller class count, so every inner fold holds both classes,
    and keep a patient's bootstrap copies (``groups``) together. Imputation and scaling are fitted
    on the whole training set before the inner split: that can only touch the choice of C, never
    the outer, held-out patients.
    """
    groups = np.arange(len(y)) if groups is None else groups
    n_inner = max(2, _n_splits(params.inner_folds, y, groups))
    inner = list(StratifiedGroupKFold(n_splits=n_inner, shuffle=True, random_state=seed)
                 .split(np.zeros(len(y)), y, groups))
    # scikit-learn's LogisticRegressionCV fits the C grid as one warm-started path per inner fold: ~5x
    # faster than a grid search of cold starts (12.1 s -> 2.5 s per nested-CV repeat on a 120-patient
    # cohort, same run), which is what makes bootstrapping the whole nested CV affordable.
    clf = LogisticRegressionCV(Cs=list(params.C_grid), l1_ratios=[params.l1_ratio], cv=inner,
                               scoring=params.inner_scoring, n_jobs=n_jobs, use_legacy_attributes=False,
                               **_solver(params.l1_ratio, seed, params.tol))
    return _pipeline(clf, weights)


def _n_splits(k: int, y: np.ndarray, groups: np.ndarray) -> int:
    """``k`` capped at the distinct patients of the smaller class, so every fold can hold both classes."""
    return min(k, *(len(np.unique(groups[y == c])) for c in (0, 1)))


def chosen_c(est: Pipeline) -> float:
    """The C the inner loop chose."""
    return float(np.ravel(est.named_steps["clf"].C_)[0])


def nested_cv(X: np.ndarray, y: np.ndarray, *, params: ModelParams, seed: int, repeats: int | None = None,
              n_jobs: int = 1, weights: np.ndarray | None = None, groups: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold probabilities, shape (repeats, n): each patient predicted by a model that never saw it.

    ``seed`` (not ``params.seed``): the permutation test reruns the whole CV with a seed per permutation.
    ``groups`` (a bootstrap resample's original patient per row) keeps a patient's copies in one fold.
    """
    repeats = params.repeats if repeats is None else repeats
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    n_splits = _n_splits(params.outer_folds, y, groups)
    oof = np.full((repeats, len(y)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for r in range(repeats):
            outer = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + 7919 * r)
            for k, (train, test) in enumerate(outer.split(X, y, groups)):
                est = tuned_estimator(y[train], params=params, seed=seed + r * n_splits + k, n_jobs=n_jobs,
                                      weights=weights, groups=groups[train]).fit(X[train], y[train])
                oof[r, test] = est.predict_proba(X[test])[:, 1]
    return oof


def mean_auc(y: np.ndarray, oof: np.ndarray) -> float:
    """AUC of each repeat's out-of-fold predictions, averaged over repeats."""
    return float(np.mean([roc_auc_score(y, p) for p in oof]))


def mean_auc(y: np.ndarray, oof: np.ndarray) -> float:
    """AUC of each repeat's out-of-fold predictions, averaged over repeats."""
    return float(np.mean([roc_auc_score(y, p) for p in oof]))
