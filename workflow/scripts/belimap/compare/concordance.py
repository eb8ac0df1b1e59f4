"""Agreement of B-subset fractions between flow cytometry and scRNA-seq of the same specimens.

Both modalities write ``COMPOSITION_COLUMNS``; specimens are paired on ``sample_id``. Subsets the
flow panel cannot resolve are merged on the scRNA side into the gate that counts them (the
strategy's ``absorbs``: plasma cells inside the plasmablast gate), so like is compared with like.

Agreement is reported per tissue × subset, and per subset over tissues (``tissue`` =
``all_tissues``), never pooled over subsets: fractions of one specimen sum to one in both
modalities, so a pooled "all subsets" ρ mostly measures that naive cells outnumber plasmablasts.
A patient gives several specimens (timepoints, tissues), so the Bland–Altman limits come from the
repeated-measures method of Bland & Altman (2007, "true value varies"; Zou 2013): bias = mean of
all differences, limits = bias ± 1.96 √(s²_between + s²_within) from a one-way ANOVA of the
differences with patient as the cluster. The ANOVA estimator is a few lines of closed-form
arithmetic and never fails to converge on six patients, where a mixed model often sits on the
boundary; on balanced data it equals the REML patient-random-intercept fit (tested).

Subsets whose flow gate and scRNA call define different cells (vocabulary ``concordance: false``),
subsets the panel does not gate, and subsets absorbed into another gate are kept as rows with
``testable`` false and the reason in ``note``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from belimap.composition import COMPOSITION_COLUMNS
from belimap.errors import BelimapError
from belimap.vocab import Vocabulary

#: ``tissue`` of the rows that pool a subset's pairs over tissues (patient still the cluster).
ALL_TISSUES = "all_tissues"
#: Normal quantile of the 95 % limits of agreement.
Z95 = 1.959963984540054

BA_COLUMNS = ["n_pairs", "n_patients", "bias", "sd_between", "sd_within", "sd_total", "loa_low", "loa_high"]
STAT_COLUMNS = ["tissue", "subset", "testable", "note", "n_pairs", "n_patients", "spearman_rho", "spearman_p",
                "bias", "sd_between", "sd_within", "sd_total", "loa_low", "loa_high", "mean_flow", "mean_scrna"]
STATUS_COLUMNS = ["subset", "testable", "note", "tissues"]
PAIR_COLUMNS = ["sample_id", "patient_id", "tissue", "timepoint", "subset", "n_bcells_flow", "n_bcells_scrna",
                "fraction_flow", "fraction_scrna"]


def merge_subsets(comp: pd.DataFrame, absorbs: dict[str, list[str]]) -> pd.DataFrame:
    """Add each absorbed subset's cells to its target (``{target: [absorbed, ...]}``) and drop it."""
    out = comp.copy()
    for target, members in absorbs.items():
        for m in members:
            src = out[out["subset"] == m].set_index("sample_id")["n_cells"]
            if src.empty:
                continue
            rows = out["subset"] == target
            out.loc[rows, "n_cells"] = out.loc[rows, "n_cells"] + out.loc[rows, "sample_id"].map(src).fillna(0).astype(int)
            out = out[out["subset"] != m]
    out["fraction"] = out["n_cells"] / out["n_bcells"].where(out["n_bcells"] > 0)
    return out.reset_index(drop=True)


def pair_modalities(flow: pd.DataFrame, scrna: pd.DataFrame, *, absorbs: dict[str, list[str]] | None = None,
                    min_bcells: int) -> pd.DataFrame:
    """One row per specimen × subset measured by both, with at least ``min_bcells`` B cells in each
    (config ``flow.concordance.min_bcells``). Every gated subset is paired, those left out of the
    statistics too, so the pairs table shows what the modalities measured."""
    for name, df in (("flow", flow), ("scrna", scrna)):
        missing = [c for c in COMPOSITION_COLUMNS if c not in df.columns]
        if missing:
            raise BelimapError(f"{name} composition: missing column(s) {', '.join(missing)}")
    flow_subsets = list(dict.fromkeys(flow["subset"]))
    sc = merge_subsets(scrna, absorbs or {})
    sc = sc[sc["subset"].isin(flow_subsets)]
    keys = ["sample_id", "subset"]
    m = flow[[*keys, "patient_id", "tissue", "timepoint", "n_bcells", "fraction"]].merge(
        sc[[*keys, "n_bcells", "fraction"]], on=keys, suffixes=("_flow", "_scrna"))
    m = m[(m["n_bcells_flow"] >= min_bcells) & (m["n_bcells_scrna"] >= min_bcells)]
    m = m.dropna(subset=["fraction_flow", "fraction_scrna"])
    return m[PAIR_COLUMNS].reset_index(drop=True)


def subset_status(vocab: Vocabulary, gated: list[str], *, absorbs: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Which vocabulary subsets are compared, and why the others are not (one row per subset, in
    vocabulary order). ``gated``: the subsets of the flow composition (the panel's leaf gates)."""
    absorbed = {m: t for t, ms in (absorbs or {}).items() for m in ms}
    rows = []
    for s in vocab.subsets:
        if s.id in absorbed:
            testable, note = False, (f"counted inside the flow {absorbed[s.id]} gate (gating strategy absorbs): "
                                     f"its scRNA cells are added to {absorbed[s.id]}")
        elif not s.concordance:
            testable, note = False, s.concordance_note
        elif s.id not in gated:
            testable, note = False, "not gated by the flow panel"
        else:
            testable, note = True, s.concordance_note
        rows.append({"subset": s.id, "testable": testable, "note": note, "tissues": s.tissues})
    return pd.DataFrame(rows, columns=STATUS_COLUMNS)


def repeated_measures_ba(diff: np.ndarray, cluster: np.ndarray) -> dict:
    """Bland–Altman bias and 95 % limits of agreement for differences with several per patient
    (Bland & Altman 2007, §5): one-way ANOVA of ``diff`` by ``cluster``, s²_between = (MS_between −
    MS_within) / λ with λ = (N² − Σmᵢ²) / ((n − 1) N), truncated at zero. One pair per patient is
    the classical case (SD of the differences, the components not separable); one patient leaves
    the between-patient part, hence the limits, unknown (NaN)."""
    diff = np.asarray(diff, dtype=float)
    groups = pd.Series(diff).groupby(np.asarray(cluster))
    m, means = groups.size().to_numpy(), groups.mean().to_numpy()
    N, n = len(diff), len(m)
    out = dict.fromkeys(BA_COLUMNS, np.nan) | {"n_pairs": N, "n_patients": n}
    if N == 0:
        return out
    bias = float(diff.mean())
    out["bias"] = bias
    if n < 2:
        if N > 1:
            out["sd_within"] = float(diff.std(ddof=1))
        return out
    if N == n:
        sd_total = float(diff.std(ddof=1))
    else:
        ms_within = float(groups.apply(lambda g: ((g - g.mean()) ** 2).sum()).sum()) / (N - n)
        ms_between = float((m * (means - bias) ** 2).sum()) / (n - 1)
        lam = (N ** 2 - float((m ** 2).sum())) / ((n - 1) * N)
        var_between = max(0.0, (ms_between - ms_within) / lam)
        out["sd_between"], out["sd_within"] = float(np.sqrt(var_between)), float(np.sqrt(ms_within))
        sd_total = float(np.sqrt(var_between + ms_within))
    out["sd_total"] = sd_total
    out["loa_low"], out["loa_high"] = float(bias - Z95 * sd_total), float(bias + Z95 * sd_total)
    return out


def _spearman(d: pd.DataFrame) -> tuple[float, float]:
    """ρ and p, or NaN when fewer than 3 pairs or one modality is constant (no correlation to claim)."""
    if len(d) < 3 or d["fraction_flow"].nunique() < 2 or d["fraction_scrna"].nunique() < 2:
        return np.nan, np.nan
    res = spearmanr(d["fraction_flow"], d["fraction_scrna"])
    return float(res.statistic), float(res.pvalue)


def _row(tissue: str, subset: str, testable: bool, note: str, d: pd.DataFrame) -> dict:
    row = dict.fromkeys(STAT_COLUMNS, np.nan) | {"tissue": tissue, "subset": subset, "testable": testable,
                                                 "note": note, "n_pairs": len(d),
                                                 "n_patients": d["patient_id"].nunique()}
    if not testable:
        return row
    ba = repeated_measures_ba((d["fraction_flow"] - d["fraction_scrna"]).to_numpy(), d["patient_id"].to_numpy())
    row.update(ba)
    row["spearman_rho"], row["spearman_p"] = _spearman(d)
    if len(d):
        row["mean_flow"], row["mean_scrna"] = float(d["fraction_flow"].mean()), float(d["fraction_scrna"].mean())
    gaps = ["no pairs" if not len(d) else "",
            "one patient: between-patient SD and limits not estimable" if row["n_patients"] == 1 else "",
            "fewer than 3 pairs: no rank correlation" if 0 < len(d) < 3 else ""]
    row["note"] = "; ".join(x for x in [note, *gaps] if x)
    return row


def concordance_table(pairs: pd.DataFrame, status: pd.DataFrame, *, tissues: list[str] | None = None) -> pd.DataFrame:
    """Spearman ρ and repeated-measures Bland–Altman per tissue × subset, then per subset over
    tissues (``tissue`` = ``all_tissues``; only tissues where the vocabulary expects the subset).
    ``status`` from :func:`subset_status`; ``tissues`` orders the rows (default: order in ``pairs``).
    A subset outside its vocabulary ``tissues`` is not testable there."""
    tissues = list(tissues) if tissues is not None else list(dict.fromkeys(pairs["tissue"].astype(str)))
    tissues = [t for t in tissues if t in set(pairs["tissue"].astype(str))]
    rows = []
    for tissue in [*tissues, ALL_TISSUES]:
        for st in status.itertuples(index=False):
            d = pairs[pairs["subset"] == st.subset]
            expected = st.tissues is None or (tissue == ALL_TISSUES or tissue in st.tissues)
            if tissue != ALL_TISSUES:
                d = d[d["tissue"].astype(str) == tissue]
            elif st.tissues is not None:
                d = d[d["tissue"].astype(str).isin(st.tissues)]
            testable, note = st.testable, st.note
            if testable and not expected:
                testable, note = False, f"not expected in {tissue} (bcell_subsets.yaml tissues)"
            rows.append(_row(tissue, st.subset, testable, note, d))
    out = pd.DataFrame(rows, columns=STAT_COLUMNS)
    out["testable"] = out["testable"].astype(bool)
    return out.astype({"n_pairs": int, "n_patients": int})
