"""Composition statistics: tissue differences at baseline and treatment effects, paired within patient.

For each B subset we fit a binomial GLM of the subset's cell count out of the specimen's B-lineage
cells, ``logit(p) ~ patient + group`` (``group`` = tissue at baseline, or timepoint within one
tissue), so every contrast is a within-patient comparison and the count (not only the fraction) of
every specimen sets its weight. Specimen-to-specimen variation beyond binomial sampling
(overdispersion) is absorbed quasi-likelihood style: the dispersion is the Pearson χ²/df (floored at
1, the binomial variance) and contrasts are tested with Student's t on the residual df. With 4-10
patients a GLMM's patient variance or a beta-binomial's overdispersion are poorly identified and
their Wald tests run anticonservative; the fixed-patient quasi-binomial model is the paired t-test's
count-aware relative and is calibrated here (``benchmarks/composition_calibration.py``).

Sparse compartments: a pseudocount keeps empty groups finite (shrinking toward no effect), and a
contrast with too few patients, too few cells of the subset, or a subset the vocabulary does not
expect in that tissue is returned as an explicit "not testable" row with the reason.
"""

from __future__ import annotations

import itertools
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from belimap.composition import COMPOSITION_COLUMNS
from belimap.errors import BelimapError
from belimap.params import parameters
from belimap.vocab import Vocabulary

if TYPE_CHECKING:
    from statsmodels.genmod.generalized_linear_model import GLMResultsWrapper

TEST_COLUMNS = [
    "modality", "comparison", "tissue", "timepoint", "reference", "subset", "n_patients", "n_specimens",
    "cells_reference", "cells_test", "fraction_reference", "fraction_test", "log_odds_ratio", "ci_low",
    "ci_high", "dispersion", "df", "p_value", "q_value", "testable", "note",
]


@parameters("compare", "composition")
class CompositionParams:
    """Thresholds of the composition tests (``compare.composition`` in the config)."""

    min_pairs: int
    min_bcells: int
    min_subset_cells: int
    pseudocount: float
    ci: float
    fdr: float


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


def _fit(data: pd.DataFrame, levels: list[str], params: CompositionParams) -> tuple[GLMResultsWrapper | None, list[str], str]:
    """Fit ``logit(k/n) ~ patient + group`` (quasi-binomial); return (result, coefficient names, note)."""
    patients = sorted(data["patient_id"].unique())
    X = pd.DataFrame(0.0, index=data.index, columns=[f"patient:{p}" for p in patients]
                     + [f"group:{g}" for g in levels[1:]])
    for p in patients:
        X.loc[data["patient_id"] == p, f"patient:{p}"] = 1.0
    for g in levels[1:]:
        X.loc[data["group"] == g, f"group:{g}"] = 1.0
    X = X.loc[:, X.any(axis=0)]
    k = data["k"].to_numpy(float) + params.pseudocount
    rest = (data["n"] - data["k"]).to_numpy(float) + params.pseudocount
    df_resid = len(data) - X.shape[1]
    if df_resid < 1:
        return None, list(X.columns), "no residual degrees of freedom to estimate the dispersion"
    model = sm.GLM(np.column_stack([k, rest]), X.to_numpy(), family=sm.families.Binomial())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = model.fit()
        # Quasi-likelihood: binomial variance is the floor; more spread widens intervals.
        phi = max(1.0, float(first.pearson_chi2) / df_resid)
        res = model.fit(scale=phi, use_t=True)
    if not np.all(np.isfinite(res.params)):
        return None, list(X.columns), "model did not converge"
    return res, list(X.columns), ""


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
        both = set(data.loc[data["group"] == ref, "patient_id"]) & set(data.loc[data["group"] == test, "patient_id"])
        sub = data[data["patient_id"].isin(both) & data["group"].isin([ref, test])]
        r, t = sub[sub["group"] == ref], sub[sub["group"] == test]
        base = {"reference": ref, "test": test, "n_patients": len(both), "n_specimens": len(sub),
                "cells_reference": int(r["k"].sum()), "cells_test": int(t["k"].sum()),
                "fraction_reference": float((r["k"] / r["n"]).mean()) if len(r) else np.nan,
                "fraction_test": float((t["k"] / t["n"]).mean()) if len(t) else np.nan}
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
    out = pd.DataFrame(rows, columns=[c for c in TEST_COLUMNS if c not in ("modality", "q_value")])
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
    out["q_value"] = bh_qvalues(out["p_value"].where(out["testable"].astype(bool)))
    out["testable"] = out["testable"].astype(bool)
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


def study_tests(tables: dict[str, pd.DataFrame], vocab: Vocabulary, *, tissues: list[str], timepoints: list[str],
                params: CompositionParams) -> pd.DataFrame:
    """Composition tests of every modality in ``tables`` (modality -> composition table), stacked.

    Each modality keeps its own FDR (q-values within the modality): adding a flow table must not
    move the scRNA results.
    """
    parts = [composition_tests(t, vocab, tissues=list(tissues), timepoints=list(timepoints), params=params, modality=m)
             for m, t in tables.items()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TEST_COLUMNS)
