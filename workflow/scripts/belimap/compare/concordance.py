"""Agreement of B-subset fractions between flow cytometry and scRNA-seq of the same specimens.

Both modalities write ``COMPOSITION_COLUMNS``; specimens are paired on ``sample_id``. Subsets the
flow panel cannot resolve are merged on the scRNA side into the gate that counts them (the
strategy's ``absorbs``: plasma cells inside the plasmablast gate), so like is compared with like.
Per subset and over all subsets: Spearman's ρ (scipy) and the Bland–Altman bias and 95 % limits of
agreement (mean ± 1.96 SD of flow − scRNA; two lines of arithmetic, so written here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from belimap.composition import COMPOSITION_COLUMNS
from belimap.errors import BelimapError

STAT_COLUMNS = ["subset", "n_pairs", "spearman_rho", "spearman_p", "bias", "sd_diff", "loa_lower", "loa_upper",
                "mean_flow", "mean_scrna"]
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
    (config ``flow.concordance.min_bcells``)."""
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


def _stats(label: str, d: pd.DataFrame) -> dict:
    n = len(d)
    diff = (d["fraction_flow"] - d["fraction_scrna"]).to_numpy(dtype=float)
    row = {"subset": label, "n_pairs": n, "spearman_rho": np.nan, "spearman_p": np.nan,
           "bias": float(diff.mean()) if n else np.nan, "sd_diff": float(diff.std(ddof=1)) if n > 1 else np.nan,
           "mean_flow": float(d["fraction_flow"].mean()) if n else np.nan,
           "mean_scrna": float(d["fraction_scrna"].mean()) if n else np.nan}
    if n >= 3 and d["fraction_flow"].nunique() > 1 and d["fraction_scrna"].nunique() > 1:
        res = spearmanr(d["fraction_flow"], d["fraction_scrna"])
        row["spearman_rho"], row["spearman_p"] = float(res.statistic), float(res.pvalue)
    row["loa_lower"] = row["bias"] - 1.96 * row["sd_diff"]
    row["loa_upper"] = row["bias"] + 1.96 * row["sd_diff"]
    return row


def concordance_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Spearman and Bland–Altman per subset (vocabulary order of ``pairs``) and over all pairs."""
    rows = [_stats(s, d) for s, d in pairs.groupby("subset", sort=False)]
    rows.append(_stats("all", pairs))
    return pd.DataFrame(rows, columns=STAT_COLUMNS)
