"""Composition statistics: tissue differences at baseline and treatment effects, paired within patient.

For each B subset, the subset's cell count ``k`` out of the specimen's B-lineage cells ``n`` is
modelled on ``patient + group`` (``group`` = tissue at baseline, or timepoint within one tissue), so
every contrast is a within-patient comparison. Two methods (``compare.composition.method``):

- ``quasibinomial``: binomial GLM ``logit(p) ~ patient + group`` with Pearson dispersion (floored
  at 1) and Student's t on the residual df. Its variance φ·n·p(1−p) weighs specimens by their
  cells, so at realistic between-specimen variation (Dirichlet concentration 20-50) the specimens
  with many cells dominate and one φ mixes specimens of ~40 and ~600 B cells: it runs
  anticonservative (issue 14).
- ``paired_logit``: propeller's idea with patient as the pairing unit, least squares of the
  empirical logit, every specimen weighted equally, so the variance is the between-patient spread
  of within-patient differences. With 4-10 patients a GLMM's patient variance or a beta-binomial's
  overdispersion are poorly identified and their Wald tests run anticonservative; this fixed-patient
  model needs neither and is calibrated at concentrations 20, 50 and 300
  (``benchmarks/composition_calibration.py``).

Sparse compartments: a pseudocount keeps empty groups finite (shrinking toward no effect), and a
contrast with too few patients, too few cells of the subset, or a subset the vocabulary does not
expect in that tissue is returned as an explicit "not testable" row with the reason. q-values:
Benjamini-Hochberg within each family of ``compare.composition.bh_scope``, named in ``bh_scope``.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from belimap.composition import COMPOSITION_COLUMNS
from belimap.errors import BelimapError
from belimap.params import parameters
from belimap.vocab import Vocabulary

TEST_COLUMNS = [
    "modality", "method", "comparison", "tissue", "timepoint", "reference", "subset", "n_patients", "n_specimens",
    "cells_reference", "cells_test", "fraction_reference", "fraction_test", "log_odds_ratio", "ci_low",
    "ci_high", "dispersion", "df", "p_value", "q_value", "bh_scope", "testable", "note",
]
#: ``compare.composition.bh_scope`` -> the columns whose values make one Benjamini-Hochberg family.
BH_SCOPES = {"modality": ("modality",), "comparison": ("modality", "comparison")}


@parameters("compare", "composition")
class CompositionParams:
    """Thresholds of the composition tests (``compare.composition`` in the config)."""

    min_pairs: int
    min_bcells: int
    min_subset_cells: int
    pseudocount: float
    ci: float
    fdr: float
    method: str
    bh_scope: str


def check_composition(comp: pd.DataFrame, *, where: str = "composition table") -> pd.DataFrame:
    """Refuse a table without ``COMPOSITION_COLUMNS`` or with non-integer counts; return typed copy."""
    missing = [c for c in COMPOSITION_COLUMNS if c not in comp.columns]
    if missing:
        raise BelimapError(f"{where}: missing column(s) {', '.join(missing)}; expected {', '.join(COMPOSITION_COLUMNS)}")
    out = comp.copy()
    for col in ("n_cells", "n_bcells"):
        vals = pd.to_numeric(out[col], errors="coerce")
        bad = vals.isna() | (vals < 0) | (vals != np.round(vals))
        if bad.any():
            i = int(np.flatnonzero(bad)[0]) + 1
            raise BelimapError(f"{where} row {i}: column '{col}': expected a non-negative integer, got '{comp[col].iloc[i - 1]}'")
        out[col] = vals.astype(int)
    over = out["n_cells"] > out["n_bcells"]
    if over.any():
        i = int(np.flatnonzero(over)[0]) + 1
        raise BelimapError(f"{where} row {i}: n_cells ({out['n_cells'].iloc[i - 1]}) exceeds n_bcells ({out['n_bcells'].iloc[i - 1]})")
    for col in ("sample_id", "patient_id", "tissue", "timepoint", "subset"):
        out[col] = out[col].astype(str)
    return out


def _not_testable(base: dict, note: str) -> dict:
    return {**base, "log_odds_ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan, "dispersion": np.nan,
            "df": np.nan, "p_value": np.nan, "testable": False, "note": note}


def patient_design(data: pd.DataFrame, levels: list[str]) -> pd.DataFrame:
    """Indicator design ``patient + group`` (first group = reference); empty columns dropped."""
    patients = sorted(data["patient_id"].unique())
    X = pd.DataFrame(0.0, index=data.index, columns=[f"patient:{p}" for p in patients]
                     + [f"group:{g}" for g in levels[1:]])
    for p in patients:
        X.loc[data["patient_id"] == p, f"patient:{p}"] = 1.0
    for g in levels[1:]:
        X.loc[data["group"] == g, f"group:{g}"] = 1.0
    return X.loc[:, X.any(axis=0)]


def _fit_quasibinomial(data: pd.DataFrame, X: pd.DataFrame, params: CompositionParams) -> tuple[object | None, str]:
    """``logit(k/n) ~ patient + group``, binomial GLM with Pearson dispersion (floored at 1)."""
    k = data["k"].to_numpy(float) + params.pseudocount
    rest = (data["n"] - data["k"]).to_numpy(float) + params.pseudocount
    df_resid = len(data) - X.shape[1]
    model = sm.GLM(np.column_stack([k, rest]), X.to_numpy(), family=sm.families.Binomial())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = model.fit()
        # Quasi-likelihood: binomial variance is the floor; more spread widens intervals.
        phi = max(1.0, float(first.pearson_chi2) / df_resid)
        res = model.fit(scale=phi, use_t=True)
    if not np.all(np.isfinite(res.params)):
        return None, "model did not converge"
    return res, ""


def empirical_logit(k: np.ndarray, n: np.ndarray, pseudocount: float) -> np.ndarray:
    """``log((k + c) / (n - k + c))``: the specimen's log odds of the subset, finite at k = 0 and k = n."""
    return np.log((k + pseudocount) / (n - k + pseudocount))


def _fit_paired_logit(data: pd.DataFrame, X: pd.DataFrame, params: CompositionParams) -> tuple[object | None, str]:
    """``empirical logit ~ patient + group`` by least squares, every specimen weighted equally.

    Propeller's idea (Phipson et al. 2022) with patient as the pairing unit: the residual variance
    comes from the spread between patients, so it carries the biological specimen-to-specimen
    variation whatever a specimen's cell number (with two groups: the paired t-test on logit
    proportions). With few cells (synovium) the logits are discrete and a few tied values would
    claim a precise effect, so a residual variance below the binomial sampling variance of an
    empirical logit (mean of ``1/(k + c) + 1/(n - k + c)``, a lower bound of the true variance) is
    moderated up toward it with the weight of one residual degree of freedom; it is never moved
    down (moderating down toward a lower bound runs anticonservative when biological variation
    dominates), and t keeps the residual df. Calibrated in ``benchmarks/composition_calibration.py``
    (a hard floor at the sampling variance ran conservative and halved the power for rare subsets).
    """
    k, n = data["k"].to_numpy(float), data["n"].to_numpy(float)
    y = empirical_logit(k, n, params.pseudocount)
    sampling = float(np.mean(1.0 / (k + params.pseudocount) + 1.0 / (n - k + params.pseudocount)))
    model = sm.OLS(y, X.to_numpy())
    first = model.fit()
    scale = max(float(first.scale), (first.df_resid * float(first.scale) + sampling) / (first.df_resid + 1.0))
    res = model.fit(cov_type="fixed scale", cov_kwds={"scale": scale}, use_t=True)
    if not np.all(np.isfinite(res.params)):
        return None, "model did not converge"
    return res, ""


#: ``compare.composition.method`` -> fit of one subset's counts over a design matrix.
METHODS = {"quasibinomial": _fit_quasibinomial, "paired_logit": _fit_paired_logit}


def _fit(data: pd.DataFrame, levels: list[str], params: CompositionParams) -> tuple[object | None, list[str], str]:
    """Fit ``patient + group`` with ``params.method``; return (result, coefficient names, note)."""
    if params.method not in METHODS:
        raise BelimapError(f"config compare.composition.method: '{params.method}'; expected one of {', '.join(METHODS)}")
    X = patient_design(data, levels)
    if len(data) - X.shape[1] < 1:
        return None, list(X.columns), "no residual degrees of freedom to estimate the dispersion"
    res, note = METHODS[params.method](data, X, params)
    return res, list(X.columns), note


def paired_specimens(data: pd.DataFrame, ref: str, test: str
                     ) -> tuple[set, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Patients measured in both groups, their specimens of the two groups, and those split by group:
    a contrast is estimated on exactly these rows."""
    both = set(data.loc[data["group"] == ref, "patient_id"]) & set(data.loc[data["group"] == test, "patient_id"])
    sub = data[data["patient_id"].isin(both) & data["group"].isin([ref, test])]
    return both, sub, sub[sub["group"] == ref], sub[sub["group"] == test]


def group_fraction(g: pd.DataFrame, params: CompositionParams) -> float:
    """The subset's share in one group's specimens, weighted as the method weights them.

    ``quasibinomial`` weighs specimens by their cells, so the share is pooled (sum of ``k`` over
    sum of ``n``); ``paired_logit`` weighs specimens equally on the logit scale, so the share is the
    inverse logit of the mean empirical logit (and ``fraction_test`` vs ``fraction_reference`` on
    the logit scale is the effect beside them).
    """
    if g.empty:
        return np.nan
    k, n = g["k"].to_numpy(float), g["n"].to_numpy(float)
    if params.method == "paired_logit":
        return float(1.0 / (1.0 + np.exp(-empirical_logit(k, n, params.pseudocount).mean())))
    return float(k.sum() / n.sum())


def paired_contrasts(
    data: pd.DataFrame, *, levels: list[str], pairs: list[tuple[str, str]], params: CompositionParams
) -> list[dict]:
    """Test ``test`` vs ``reference`` for each ``(reference, test)`` in ``pairs`` on one subset's counts.

    ``data`` holds one row per specimen: ``patient_id, group, k`` (subset cells), ``n`` (B-lineage
    cells). Patients seen in a single group carry no within-patient information and are dropped.
    """
    data = data[data["group"].isin(levels)]
    seen = data.groupby("patient_id")["group"].nunique()
    data = data[data["patient_id"].isin(seen.index[seen >= 2])].reset_index(drop=True)
    present = [g for g in levels if (data["group"] == g).any()]
    fit = _fit(data, present, params) if len(present) >= 2 else (None, [], "fewer than two groups with paired patients")
    res, names, fit_note = fit
    out = []
    for ref, test in pairs:
        both, sub, r, t = paired_specimens(data, ref, test)
        base = {"reference": ref, "test": test, "n_patients": len(both), "n_specimens": len(sub),
                "cells_reference": int(r["k"].sum()), "cells_test": int(t["k"].sum()),
                "fraction_reference": group_fraction(r, params), "fraction_test": group_fraction(t, params)}
        if len(both) < params.min_pairs:
            out.append(_not_testable(base, f"{len(both)} patient(s) measured in both groups (< min_pairs {params.min_pairs})"))
            continue
        total = base["cells_reference"] + base["cells_test"]
        if total < params.min_subset_cells:
            out.append(_not_testable(base, f"{total} cell(s) of the subset in both groups (< min_subset_cells {params.min_subset_cells})"))
            continue
        if res is None:
            out.append(_not_testable(base, fit_note))
            continue
        L = np.zeros(len(names))
        if f"group:{test}" in names:
            L[names.index(f"group:{test}")] += 1.0
        if f"group:{ref}" in names:
            L[names.index(f"group:{ref}")] -= 1.0
        tt = res.t_test(L)
        lo, hi = np.asarray(tt.conf_int(alpha=1 - params.ci)).ravel()
        out.append({**base, "log_odds_ratio": float(np.ravel(tt.effect)[0]), "ci_low": float(lo), "ci_high": float(hi),
                    "dispersion": float(res.scale), "df": float(res.df_resid), "p_value": float(np.ravel(tt.pvalue)[0]),
                    "testable": True, "note": ""})
    return out


def _expected(vocab: Vocabulary, subset: str, tissue: str) -> bool:
    tissues = vocab.subset(subset).tissues
    return tissues is None or tissue in tissues


def composition_tests(
    comp: pd.DataFrame,
    vocab: Vocabulary,
    *,
    tissues: list[str],
    timepoints: list[str],
    params: CompositionParams,
    modality: str = "scrna",
) -> pd.DataFrame:
    """All composition tests of one modality, with BH q-values over its testable rows.

    (a) ``comparison == "tissue"``: at the first timepoint, every later tissue of ``tissues`` vs
    every earlier one (``reference``), one model per pair. (b) ``comparison == "treatment"``: within each tissue, every
    later timepoint vs the first. ``log_odds_ratio`` is test vs reference, with its CI.
    """
    comp = check_composition(comp)
    comp = comp[comp["n_bcells"] >= params.min_bcells]
    baseline = timepoints[0]
    rows: list[dict] = []
    for subset in vocab.subset_ids:
        sub = comp[comp["subset"] == subset].rename(columns={"n_cells": "k", "n_bcells": "n"})
        at_base = sub[sub["timepoint"] == baseline].assign(group=lambda d: d["tissue"])
        pairs = list(itertools.combinations([t for t in tissues if (at_base["tissue"] == t).any()], 2))
        # One fit per tissue pair: tissues differ in B-cell numbers and so in overdispersion, and a
        # pooled dispersion would be too small for the lymph node and too large for the synovium.
        for ref, test in pairs:
            for r in paired_contrasts(at_base, levels=[ref, test], pairs=[(ref, test)], params=params):
                rows.append({**r, "comparison": "tissue", "tissue": r.pop("test"), "timepoint": baseline, "subset": subset})
        for tissue in tissues:
            in_t = sub[sub["tissue"] == tissue].assign(group=lambda d: d["timepoint"])
            later = [tp for tp in timepoints[1:] if (in_t["timepoint"] == tp).any()]
            if not (in_t["timepoint"] == baseline).any():
                continue
            for r in paired_contrasts(in_t, levels=timepoints, pairs=[(baseline, tp) for tp in later], params=params):
                rows.append({**r, "comparison": "treatment", "tissue": tissue, "timepoint": r.pop("test"), "subset": subset})
    out = pd.DataFrame(rows, columns=[c for c in TEST_COLUMNS if c not in ("modality", "method", "q_value", "bh_scope")])
    if out.empty:
        return pd.DataFrame(columns=TEST_COLUMNS)
    # Structural zeros: a subset the vocabulary confines to other tissues is not compared there.
    for i, r in out.iterrows():
        groups = [r["tissue"], r["reference"]] if r["comparison"] == "tissue" else [r["tissue"]]
        absent = [g for g in groups if not _expected(vocab, r["subset"], g)]
        if absent:
            out.loc[i, ["log_odds_ratio", "ci_low", "ci_high", "dispersion", "df", "p_value"]] = np.nan
            out.loc[i, "testable"] = False
            out.loc[i, "note"] = f"subset not expected in {', '.join(absent)} (resources/bcell_subsets.yaml tissues)"
    out["modality"] = modality
    out["method"] = params.method
    out["testable"] = out["testable"].astype(bool)
    out["q_value"], out["bh_scope"] = bh_families(out, scope=params.bh_scope)
    order = {"tissue": 0, "treatment": 1}
    out = out.assign(_c=out["comparison"].map(order), _t=out["tissue"].map(tissues.index),
                     _p=out["timepoint"].map(timepoints.index), _s=out["subset"].map(vocab.subset_ids.index))
    out = out.sort_values(["_c", "_t", "_p", "_s"], kind="stable")
    return out[TEST_COLUMNS].reset_index(drop=True)


def bh_qvalues(p: pd.Series) -> pd.Series:
    """Benjamini-Hochberg q-values over the non-missing entries of ``p`` (missing stay NaN)."""
    q = pd.Series(np.nan, index=p.index, dtype=float)
    ok = p.notna()
    if ok.any():
        q[ok] = multipletests(p[ok].to_numpy(float), method="fdr_bh")[1]
    return q


def bh_families(tests: pd.DataFrame, *, scope: str) -> tuple[pd.Series, pd.Series]:
    """q-values with one BH family per value of ``BH_SCOPES[scope]`` over testable rows, and each
    row's family named as ``column=value`` pairs (``modality=scrna,comparison=treatment``)."""
    if scope not in BH_SCOPES:
        raise BelimapError(f"config compare.composition.bh_scope: '{scope}'; expected one of {', '.join(BH_SCOPES)}")
    cols = list(BH_SCOPES[scope])
    name = tests[cols].astype(str).apply(lambda r: ",".join(f"{c}={v}" for c, v in zip(cols, r, strict=True)), axis=1)
    q = pd.Series(np.nan, index=tests.index, dtype=float)
    p = tests["p_value"].where(tests["testable"])
    for _, idx in name.groupby(name).groups.items():
        q[idx] = bh_qvalues(p[idx])
    return q, name


def study_tests(tables: dict[str, pd.DataFrame], vocab: Vocabulary, *, tissues: list[str], timepoints: list[str],
                params: CompositionParams) -> pd.DataFrame:
    """Composition tests of every modality in ``tables`` (modality -> composition table), stacked.

    Each modality keeps its own FDR (q-values within the modality): adding a flow table must not
    move the scRNA results.
    """
    parts = [composition_tests(t, vocab, tissues=list(tissues), timepoints=list(timepoints), params=params, modality=m)
             for m, t in tables.items()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TEST_COLUMNS)
