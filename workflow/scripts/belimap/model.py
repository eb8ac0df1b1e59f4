"""The week-48 response model: penalised logistic regression in nested, repeated, stratified CV.

Features are baseline clinical values and baseline B-subset fractions per tissue and modality.
Everything fitted to data — imputation of missing specimens, scaling, the penalty strength — sits
inside one scikit-learn ``Pipeline`` that is refitted in every training fold, so no information
from a held-out patient reaches its prediction. Performance is the out-of-fold AUC averaged over
repeats, with a patient-bootstrap 95 % CI and a permutation p-value (the whole nested CV rerun on
permuted labels); coefficients come with bootstrap selection frequencies. Published SLE response
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
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import calibration_curve
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

log = logging.getLogger(__name__)

OUTCOME_STATUS = {"responder": 1, "non_responder": 0}


# ----------------------------------------------------------------------------------------------
# features
# ----------------------------------------------------------------------------------------------
def clinical_features(table: pd.DataFrame, activity: pd.DataFrame, features: list[str], baseline_visit: str,
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


def immune_features(compositions: dict[str, pd.DataFrame], timepoint: str, tissues: list[str] | None = None,
                    subsets: list[str] | None = None) -> pd.DataFrame:
    """Baseline subset fractions per patient as ``{modality}:{tissue}:{subset}`` columns (NaN = no specimen)."""
    frames = []
    for modality, comp in compositions.items():
        c = comp[comp["timepoint"].astype(str) == timepoint]
        if tissues:
            c = c[c["tissue"].astype(str).isin(tissues)]
        if subsets:
            c = c[c["subset"].astype(str).isin(subsets)]
        if c.empty:
            continue
        c = c.assign(feature=modality + ":" + c["tissue"].astype(str) + ":" + c["subset"].astype(str),
                     fraction=pd.to_numeric(c["fraction"], errors="coerce"))
        frames.append(c.pivot_table(index="patient_id", columns="feature", values="fraction", aggfunc="mean",
                                    dropna=False))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, axis=1)


def select_features(X: pd.DataFrame, min_coverage: float) -> tuple[pd.DataFrame, list[str]]:
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


# ----------------------------------------------------------------------------------------------
# the estimator and its evaluation
# ----------------------------------------------------------------------------------------------
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


def prior_weights(features: list[str], patterns: list[str], weight: float) -> np.ndarray | None:
    """Per-feature weights: ``weight`` for features matching a ``prior_features`` glob, else 1."""
    w = np.array([weight if any(fnmatch.fnmatchcase(f, p) for p in patterns) else 1.0 for f in features])
    return None if np.all(w == 1.0) else w


def make_pipeline(C: float = 1.0, l1_ratio: float = 1.0, seed: int = 0, weights: np.ndarray | None = None
                  ) -> Pipeline:
    """Median imputation → standardisation → prior weights → penalised logistic regression (fitted per fold)."""
    if l1_ratio >= 1.0:
        clf = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", random_state=seed)
    elif l1_ratio <= 0.0:
        clf = LogisticRegression(C=C, l1_ratio=0.0, solver="lbfgs", max_iter=1000)
    else:
        clf = LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", max_iter=5000, random_state=seed)
    return Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                     ("scale", StandardScaler()), ("prior", PriorWeight(weights)), ("clf", clf)])


def tuned_estimator(mcfg: dict, seed: int, n_jobs: int = 1, y: np.ndarray | None = None,
                    weights: np.ndarray | None = None) -> GridSearchCV:
    """The inner loop: choose C by stratified CV on the training patients ``y`` only.

    The inner folds are capped at the smaller class count, so every inner fold holds both classes.
    """
    n_inner = mcfg["inner_folds"] if y is None else max(2, min(mcfg["inner_folds"], int(np.bincount(y).min())))
    inner = StratifiedKFold(n_splits=n_inner, shuffle=True, random_state=seed)
    return GridSearchCV(make_pipeline(l1_ratio=mcfg["l1_ratio"], seed=seed, weights=weights),
                        {"clf__C": list(mcfg["C_grid"])}, scoring=mcfg["inner_scoring"], cv=inner, n_jobs=n_jobs,
                        error_score="raise")


def nested_cv(X: np.ndarray, y: np.ndarray, mcfg: dict, seed: int, repeats: int | None = None,
              n_jobs: int = 1, weights: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold probabilities, shape (repeats, n): each patient predicted by a model that never saw it."""
    repeats = mcfg["repeats"] if repeats is None else repeats
    n_splits = min(mcfg["outer_folds"], int(np.bincount(y).min()))
    outer = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=repeats, random_state=seed)
    oof = np.full((repeats, len(y)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k, (train, test) in enumerate(outer.split(X, y)):
            est = tuned_estimator(mcfg, seed + k, n_jobs, y[train], weights).fit(X[train], y[train])
            oof[k // n_splits, test] = est.predict_proba(X[test])[:, 1]
    return oof


def mean_auc(y: np.ndarray, oof: np.ndarray) -> float:
    """AUC of each repeat's out-of-fold predictions, averaged over repeats."""
    return float(np.mean([roc_auc_score(y, p) for p in oof]))


def bootstrap_auc_ci(y: np.ndarray, oof: np.ndarray, n_boot: int, seed: int, level: float = 0.95
                     ) -> tuple[float, float]:
    """Percentile CI of the repeat-averaged AUC over patient bootstrap resamples."""
    if n_boot <= 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    stats = []
    n = len(y)
    while len(stats) < n_boot:
        idx = rng.integers(0, n, n)
        if y[idx].min() == y[idx].max():
            continue
        stats.append(mean_auc(y[idx], oof[:, idx]))
    a = (1 - level) / 2
    return float(np.quantile(stats, a)), float(np.quantile(stats, 1 - a))


def permutation_p(X: np.ndarray, y: np.ndarray, observed: float, mcfg: dict, seed: int, n_jobs: int = 1,
                  weights: np.ndarray | None = None) -> tuple[float, list[float]]:
    """p = (1 + #{AUC_perm >= observed}) / (1 + n): the whole nested CV (one repeat) on permuted labels."""
    n = mcfg["n_permutations"]
    if n <= 0:
        return math.nan, []
    rng = np.random.default_rng(seed)
    null = [mean_auc(yp, nested_cv(X, yp, mcfg, seed + i, repeats=1, n_jobs=n_jobs, weights=weights))
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
DESC_COLUMNS = ["feature", "n_responders", "median_responders", "q1_responders", "q3_responders",
                "n_non_responders", "median_non_responders", "q1_non_responders", "q3_non_responders",
                "median_difference"]


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


def fit_response_model(X: pd.DataFrame, y: pd.Series, pending: pd.DataFrame, mcfg: dict, seed: int,
                       n_jobs: int = 1) -> ModelResult:
    """Fit and evaluate the model, or explain plainly why not.

    ``X``: patients with a known outcome × features; ``y``: 1 responder / 0 non-responder;
    ``pending``: features of patients whose outcome is not in yet (predicted by the final model).
    """
    n, n_resp = len(y), int(y.sum())
    n_non = n - n_resp
    desc = descriptive_comparison(X, y)
    summary = {"outcome": mcfg["outcome"], "n_patients": n, "n_responders": n_resp, "n_non_responders": n_non,
               "n_pending": len(pending), "n_features": X.shape[1]}
    if n < mcfg["min_patients"] or min(n_resp, n_non) < mcfg["min_per_class"] or X.shape[1] == 0:
        msg = (f"No model was fitted: {n} patients have a known outcome ({n_resp} responders, {n_non} non-responders)"
               f" and {X.shape[1]} usable features; the model needs at least {mcfg['min_patients']} patients and "
               f"{mcfg['min_per_class']} per class. An AUC from so few patients would mislead; the descriptive "
               "comparison of responders and non-responders is shown instead.")
        return ModelResult(False, msg, {**summary, "status": "not_fitted"}, descriptive=desc)
    Xa, ya = X.to_numpy(float), y.to_numpy(int)
    w = prior_weights(list(X.columns), list(mcfg["prior_features"]), mcfg["prior_weight"])
    scale = np.ones(X.shape[1]) if w is None else w  # back to the standardised scale for reporting
    oof = nested_cv(Xa, ya, mcfg, seed, n_jobs=n_jobs, weights=w)
    auc = mean_auc(ya, oof)
    lo, hi = bootstrap_auc_ci(ya, oof, mcfg["n_bootstrap"], seed)
    p, _ = permutation_p(Xa, ya, auc, mcfg, seed + 10_000, n_jobs, w)
    prob = oof.mean(axis=0)
    cv = pd.DataFrame({"patient_id": X.index, "outcome": ya, "probability": prob, "probability_sd": oof.std(axis=0)})
    roc = pd.concat([pd.DataFrame(dict(zip(("fpr", "tpr"), roc_curve(ya, o)[:2], strict=True))).assign(repeat=r + 1)
                     for r, o in enumerate(oof)])[ROC_COLUMNS]
    frac, mean_pred = calibration_curve(ya, prob, n_bins=mcfg["calibration_bins"], strategy="quantile")
    cal = pd.DataFrame({"bin": np.arange(1, len(frac) + 1), "mean_predicted": mean_pred, "observed_fraction": frac})
    # final model on every patient; coefficients on the standardised scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        final = tuned_estimator(mcfg, seed, n_jobs, ya, w).fit(Xa, ya)
        best_c = final.best_params_["clf__C"]
        coef = final.best_estimator_.named_steps["clf"].coef_[0] * scale
        rng = np.random.default_rng(seed + 1)
        boots, pred_boot = [], []
        Xp = pending.reindex(columns=X.columns).to_numpy(float)
        for _ in range(mcfg["n_selection_bootstrap"]):
            idx = rng.integers(0, n, n)
            if ya[idx].min() == ya[idx].max():
                continue
            m = make_pipeline(best_c, mcfg["l1_ratio"], seed, w).fit(Xa[idx], ya[idx])
            boots.append(m.named_steps["clf"].coef_[0] * scale)
            if len(Xp):
                pred_boot.append(m.predict_proba(Xp)[:, 1])
    nan = np.full(X.shape[1], np.nan)
    B = np.array(boots) if boots else None
    coefs = pd.DataFrame({"feature": X.columns, "source": ["clinical" if c.startswith("clinical:") else "immune"
                                                          for c in X.columns],
                          "prior": np.where(scale != 1.0, "yes", "no"), "coefficient": coef,
                          "ci_low": nan if B is None else np.quantile(B, 0.025, axis=0),
                          "ci_high": nan if B is None else np.quantile(B, 0.975, axis=0),
                          "selection_frequency": nan if B is None else (np.abs(B) > 1e-10).mean(axis=0)})
    coefs = coefs.reindex(coefs["coefficient"].abs().sort_values(ascending=False).index)[COEF_COLUMNS]
    if len(Xp):
        pb = np.array(pred_boot) if pred_boot else None
        nanp = np.full(len(Xp), np.nan)
        preds = pd.DataFrame({"patient_id": pending.index, "probability": final.predict_proba(Xp)[:, 1],
                              "ci_low": nanp if pb is None else np.quantile(pb, 0.025, axis=0),
                              "ci_high": nanp if pb is None else np.quantile(pb, 0.975, axis=0)})
    else:
        preds = pd.DataFrame(columns=PRED_COLUMNS)
    summary.update({"status": "fitted", "auc": auc, "auc_ci_low": lo, "auc_ci_high": hi, "permutation_p": p,
                    "n_permutations": mcfg["n_permutations"],
                    "outer_folds": min(mcfg["outer_folds"], min(n_resp, n_non)),
                    "inner_folds": mcfg["inner_folds"], "repeats": mcfg["repeats"], "best_C": best_c,
                    "n_selected": int((np.abs(coef) > 1e-10).sum()),
                    "prior_features": ";".join(X.columns[scale != 1.0]), "prior_weight": mcfg["prior_weight"]})
    msg = (f"Nested {summary['outer_folds']}-fold CV repeated {mcfg['repeats']}x on {n} patients "
           f"({n_resp} responders): "
           f"AUC {auc:.2f} (95% CI {lo:.2f}-{hi:.2f}, permutation p = {p:.3g}).")
    if summary["prior_features"]:
        msg += (f" Published predictors penalised less (weight {mcfg['prior_weight']:g}): "
                f"{summary['prior_features'].replace(';', ', ')}.")
    unmatched = [p for p in mcfg["prior_features"] if not any(fnmatch.fnmatchcase(f, p) for f in X.columns)]
    if unmatched:  # a typo would silently switch the prior off: say so
        log.warning("model.prior_features matching no feature: %s", ", ".join(unmatched))
        msg += f" prior_features matching no feature (misspelt, or dropped for coverage): {', '.join(unmatched)}."
    return ModelResult(True, msg, summary, cv, roc, cal, coefs, preds, desc)


def model_inputs(response: pd.DataFrame, clin: pd.DataFrame, immune: pd.DataFrame, outcome: str, min_coverage: float
                 ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, list[str]]:
    """Split enrolled patients into the modelled (known outcome) and the pending, with usable features."""
    resp = response.set_index("patient_id")
    X = clin.join(immune, how="left") if len(immune) else clin
    X = X.reindex(resp.index)
    if outcome == "sri4":
        y = resp["status"].map(OUTCOME_STATUS)
    else:
        y = pd.to_numeric(resp[outcome], errors="coerce").where(resp["status"] != "pending")
    known = y.notna()
    Xk, dropped = select_features(X[known], min_coverage)
    pending = X.loc[resp.index[resp["status"] == "pending"], Xk.columns]
    return Xk, y[known].astype(int), pending, dropped


def prepare(table: pd.DataFrame, activity: pd.DataFrame, response: pd.DataFrame,
            compositions: dict[str, pd.DataFrame], clinical_cfg: dict, mcfg: dict, timepoint: str
            ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, list[str]]:
    """Feature matrix, outcome and pending patients from the clinical layer and the composition tables."""
    clin = clinical_features(table, activity, list(mcfg["clinical_features"]), clinical_cfg["baseline_visit"],
                             list(clinical_cfg["visits"]), list(mcfg["log_features"]), mcfg["thresholds"])
    imm = immune_features(compositions, mcfg["immune"]["timepoint"] or timepoint, mcfg["immune"]["tissues"],
                          mcfg["immune"]["subsets"])
    return model_inputs(response, clin, imm, mcfg["outcome"], mcfg["immune"]["min_coverage"])


def write_model(result: ModelResult, X: pd.DataFrame, y: pd.Series, pending: pd.DataFrame, dropped: list[str],
                outdir: str | Path) -> None:
    """Write every table of the model step (empty tables with headers when no model was fitted)."""
    from belimap.tables import atomic_path, write_tsv

    out = Path(outdir)
    feats = X.assign(outcome=y).reset_index(names="patient_id")
    if len(pending):
        feats = pd.concat([feats, pending.assign(outcome=np.nan).reset_index(names="patient_id")])
    write_tsv(feats, out / "features.tsv")
    write_tsv(pd.DataFrame({"key": list(result.summary), "value": [str(v) for v in result.summary.values()]}),
              out / "summary.tsv")
    tables = {"cv_predictions": (result.cv_predictions, CV_COLUMNS), "roc": (result.roc, ROC_COLUMNS),
              "calibration": (result.calibration, CAL_COLUMNS), "coefficients": (result.coefficients, COEF_COLUMNS),
              "predictions": (result.predictions, PRED_COLUMNS), "descriptive": (result.descriptive, DESC_COLUMNS)}
    for name, (df, cols) in tables.items():
        write_tsv(df if len(df.columns) else pd.DataFrame(columns=cols), out / f"{name}.tsv")
    text = [result.message, ""]
    if dropped:
        text.append("Features left out: " + "; ".join(dropped))
    with atomic_path(out / "summary.txt") as tmp:
        tmp.write_text("\n".join(text) + "\n")
