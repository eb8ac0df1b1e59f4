"""Absolute B-cell counts (cells/µL) of flow specimens: paired negative-binomial tests beside the shares.

Belimumab lowers B cells in blood in absolute numbers (BLISS: plasmablasts −40 %), and a subset can
fall per µL while its share of B cells stays put when the other subsets fall with it; only the
absolute count sees that. Where the sample sheet gives ``cells_per_ul`` (or counting beads), the
flow branch writes each gate's cells/µL (:func:`belimap.flow.counts.sample_counts`), so a specimen's
events represent ``volume = count / cells_per_ul`` µL of blood. Per subset (and for all B cells,
``B_lineage``), the events ``k`` follow a negative binomial GLM ``log E[k] = log(volume) + patient +
group`` (patient is the pairing unit, as in the share tests). The NB overdispersion ``alpha`` is the
ML estimate (few specimens: often near 0), and a Pearson χ²/df quasi-scale, never below 1, widens
the intervals when the specimens spread more than the NB says; contrasts take Student's t on the
residual df. Effect = log rate ratio (test vs reference) of cells/µL. Only specimens with a volume
are tested (in the demo: blood, where the sheet gives the lymphocyte count).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as st

from belimap.compare.stats import (CompositionParams, bh_families, check_composition, paired_specimens,
                                   patient_design)
from belimap.errors import BelimapError
from belimap.vocab import Vocabulary

#: The row of all B cells (the composition table's ``n_bcells``), named as the simulator's effect.
ALL_B = "B_lineage"
ABSOLUTE_COLUMNS = [
    "modality", "comparison", "tissue", "timepoint", "reference", "subset", "n_patients", "n_specimens",
    "per_ul_reference", "per_ul_test", "log_rate_ratio", "ci_low", "ci_high", "nb_alpha", "dispersion", "df",
    "p_value", "q_value", "bh_scope", "log_odds_ratio_share", "q_value_share", "testable", "note",
]
_NAN_EFFECT = ["log_rate_ratio", "ci_low", "ci_high", "nb_alpha", "dispersion", "df", "p_value"]


def specimen_volumes(counts: pd.DataFrame, *, where: str = "flow counts") -> pd.Series:
    """µL of blood each specimen's events represent (``count / cells_per_ul`` of its gates), by
    ``sample_id``; specimens without an absolute count are left out."""
    missing = {"sample_id", "count", "cells_per_ul"} - set(counts.columns)
    if missing:
        raise BelimapError(f"{where}: missing column(s) {', '.join(sorted(missing))}")
    c = counts.assign(count=pd.to_numeric(counts["count"], errors="coerce"),
                      cells_per_ul=pd.to_numeric(counts["cells_per_ul"], errors="coerce"))
    c = c[(c["count"] > 0) & (c["cells_per_ul"] > 0)]
    return (c["count"] / c["cells_per_ul"]).groupby(c["sample_id"].astype(str)).median().rename("volume_ul")


def _fit_nb(data: pd.DataFrame, X: pd.DataFrame) -> tuple[object | None, float, str]:
    """NB GLM of ``k`` on ``X`` with offset log(volume): alpha by ML, then a Pearson quasi-scale >= 1.

    With 4-10 patients the ML alpha is poorly identified (often ~0): alone its Wald tests ran at
    p < 0.05 in 20-30 % of seeded null studies; with the quasi-scale on ``n - p`` df and t on
    ``n - p - 1`` (alpha is fitted too), near 5 %.
    """
    y, offset = data["k"].to_numpy(float), np.log(data["volume"].to_numpy(float))
    df_resid = len(data) - X.shape[1]
    if df_resid < 2:
        return None, np.nan, "too few residual degrees of freedom to estimate the dispersion"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            alpha = float(sm.NegativeBinomial(y, X.to_numpy(), offset=offset).fit(disp=0, maxiter=200).params[-1])
        except (np.linalg.LinAlgError, ValueError):
            alpha = np.nan
        alpha = float(np.clip(alpha, 1e-8, 1e3)) if np.isfinite(alpha) else 1e-8
        model = sm.GLM(y, X.to_numpy(), family=sm.families.NegativeBinomial(alpha=alpha), offset=offset)
        first = model.fit()
        res = model.fit(scale=max(1.0, float(first.pearson_chi2) / df_resid))
    if not np.all(np.isfinite(res.params)):
        return None, alpha, "model did not converge"
    res.df_nb = df_resid - 1  # t counts alpha among the fitted parameters
    return res, alpha, ""


def nb_contrasts(data: pd.DataFrame, *, levels: list[str], pairs: list[tuple[str, str]],
                 params: CompositionParams) -> list[dict]:
    """Test ``test`` vs ``reference`` per ``(reference, test)`` of ``pairs`` on one subset's events.

    ``data``: one row per specimen, ``patient_id, group, k`` (events of the subset), ``volume`` (µL).
    Patients seen in a single group are dropped (no within-patient information).
    """
    data = data[data["group"].isin(levels)]
    seen = data.groupby("patient_id")["group"].nunique()
    data = data[data["patient_id"].isin(seen.index[seen >= 2])].reset_index(drop=True)
    present = [g for g in levels if (data["group"] == g).any()]
    X = patient_design(data, present) if len(present) >= 2 else None
    res, alpha, note = _fit_nb(data, X) if X is not None else (None, np.nan, "fewer than two groups with paired patients")
    names = list(X.columns) if X is not None else []
    out = []
    for ref, test in pairs:
        both, sub, r, t = paired_specimens(data, ref, test)
        base = {"reference": ref, "test": test, "n_patients": len(both), "n_specimens": len(sub),
                # Pooled events over pooled volume: the rate the GLM's log link weighs specimens by.
                "per_ul_reference": float(r["k"].sum() / r["volume"].sum()) if len(r) else np.nan,
                "per_ul_test": float(t["k"].sum() / t["volume"].sum()) if len(t) else np.nan}
        why = (f"{len(both)} patient(s) measured in both groups (< min_pairs {params.min_pairs})"
               if len(both) < params.min_pairs else
               f"{int(sub['k'].sum())} event(s) of the subset in both groups (< min_subset_cells {params.min_subset_cells})"
               if sub["k"].sum() < params.min_subset_cells else note if res is None else "")
        if why:
            out.append({**base, **dict.fromkeys(_NAN_EFFECT, np.nan), "testable": False, "note": why})
            continue
        L = np.zeros(len(names))
        for g, sign in ((test, 1.0), (ref, -1.0)):
            if f"group:{g}" in names:
                L[names.index(f"group:{g}")] += sign
        est = float(L @ res.params)
        se = float(np.sqrt(L @ res.cov_params() @ L))
        q = st.t.ppf(0.5 + params.ci / 2, res.df_nb)
        out.append({**base, "log_rate_ratio": est, "ci_low": est - q * se, "ci_high": est + q * se, "nb_alpha": alpha,
                    "dispersion": float(res.scale), "df": float(res.df_nb),
                    "p_value": float(2 * st.t.sf(abs(est / se), res.df_nb)) if se > 0 else np.nan,
                    "testable": se > 0, "note": "" if se > 0 else "no variation to estimate a standard error"})
    return out


def absolute_tests(comp: pd.DataFrame, counts: pd.DataFrame, vocab: Vocabulary, *, tissues: list[str],
                   timepoints: list[str], params: CompositionParams, shares: pd.DataFrame | None = None,
                   modality: str = "flow") -> pd.DataFrame:
    """Paired NB tests of cells/µL for every subset and all B cells, on specimens with a volume.

    Contrasts as the share tests make them (tissue pairs at the first timepoint, later timepoints
    vs the first within a tissue) where both groups have absolute counts (in practice: blood).
    ``shares`` (the share tests, ``composition_tests``) put each share's log odds ratio and q beside
    its absolute effect. q-values: BH within the families of ``params.bh_scope``.
    """
    comp = check_composition(comp)
    vol = specimen_volumes(counts)
    comp = comp[comp["n_bcells"] >= params.min_bcells].assign(volume=lambda d: d["sample_id"].map(vol))
    comp = comp[comp["volume"].notna()]
    spec = comp.drop_duplicates("sample_id")
    long = pd.concat([comp.rename(columns={"n_cells": "k"}),
                      spec.assign(subset=ALL_B, k=spec["n_bcells"])], ignore_index=True)
    baseline = timepoints[0]
    rows: list[dict] = []
    for subset in [ALL_B, *vocab.subset_ids]:
        sub = long[long["subset"] == subset]
        at_base = sub[sub["timepoint"] == baseline].assign(group=lambda d: d["tissue"])
        for ref, test in itertools.combinations([t for t in tissues if (at_base["tissue"] == t).any()], 2):
            for r in nb_contrasts(at_base, levels=[ref, test], pairs=[(ref, test)], params=params):
                rows.append({**r, "comparison": "tissue", "tissue": r.pop("test"), "timepoint": baseline, "subset": subset})
        for tissue in tissues:
            in_t = sub[sub["tissue"] == tissue].assign(group=lambda d: d["timepoint"])
            later = [tp for tp in timepoints[1:] if (in_t["timepoint"] == tp).any()]
            if (in_t["timepoint"] == baseline).any() and later:
                for r in nb_contrasts(in_t, levels=timepoints, pairs=[(baseline, tp) for tp in later], params=params):
                    rows.append({**r, "comparison": "treatment", "tissue": tissue, "timepoint": r.pop("test"),
                                 "subset": subset})
    if not rows:
        return pd.DataFrame(columns=ABSOLUTE_COLUMNS)
    out = pd.DataFrame(rows)
    out["modality"] = modality
    out["testable"] = out["testable"].astype(bool)
    out["q_value"], out["bh_scope"] = bh_families(out, scope=params.bh_scope)
    out["bh_scope"] = out["bh_scope"] + ",measure=cells_per_ul"
    key = ["comparison", "tissue", "timepoint", "reference", "subset"]
    if shares is not None and len(shares):
        s = shares[shares["modality"] == modality].set_index(key)[["log_odds_ratio", "q_value"]]
        s.columns = ["log_odds_ratio_share", "q_value_share"]
        out = out.join(s, on=key)
    for col in ("log_odds_ratio_share", "q_value_share"):
        if col not in out:
            out[col] = np.nan
    return out[ABSOLUTE_COLUMNS].reset_index(drop=True)


__all__ = ["ABSOLUTE_COLUMNS", "ALL_B", "absolute_tests", "nb_contrasts", "specimen_volumes"]
