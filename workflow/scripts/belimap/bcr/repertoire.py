"""Repertoire tables: the per-cell table, and what answers "are the same clones in lymph node,
synovium and blood?" — sharing between tissues, clonal expansion and isotype use per subset.

Written here because scirpy lacks it: ``tl.repertoire_overlap`` is marked experimental, returns
scipy distances only and has no Morisita–Horn index, and nothing summarises subset × tissue.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimap.bcr.rarefaction import index_rows, pair_seed, rarefied_indices
from belimap.params import parameters

if TYPE_CHECKING:
    import anndata as ad

#: Per-cell table written to ``results/bcr/cells.tsv``.
CELL_COLUMNS = [
    "cell_id", "sample_id", "barcode", "patient_id", "tissue", "timepoint", "in_gex", "lineage", "bcell_subset",
    "receptor_type", "receptor_subtype", "chain_pairing", "analysed", "clone_id", "clone_size", "clone_size_sample",
    "clonal_expansion", "v_call", "j_call", "c_call", "isotype", "junction_aa", "vj_locus", "vj_v_call",
    "vj_junction_aa",
]
#: ``results/bcr/sharing.tsv``: one row per patient × timepoint × tissue pair × ``clones`` (``all``, ``expanded``).
#: ``jaccard``/``morisita_horn`` are the raw indices; ``*_rarefied`` (+ ``_lo``/``_hi``) those at ``depth`` cells.
SHARING_COLUMNS = ["patient_id", "timepoint", "tissue_a", "tissue_b", "sample_a", "sample_b", "clones", "n_cells_a",
                   "n_cells_b", "n_clones_a", "n_clones_b", "n_shared_clones", "jaccard", "morisita_horn", "depth",
                   "jaccard_rarefied", "jaccard_rarefied_lo", "jaccard_rarefied_hi", "morisita_horn_rarefied",
                   "morisita_horn_rarefied_lo", "morisita_horn_rarefied_hi", "estimable"]
EXPANSION_KEYS = ["sample_id", "patient_id", "tissue", "timepoint", "subset"]
ISOTYPE_COLUMNS = ["sample_id", "patient_id", "tissue", "timepoint", "subset", "c_call", "isotype", "n_cells",
                   "n_subset", "fraction"]
SPECIMEN_KEYS = ["sample_id", "patient_id", "tissue", "timepoint"]


@parameters("bcr", "expansion")
class ExpansionParams:
    """``bcr.expansion``: clone-size classes within a specimen (scirpy ``tl.clonal_expansion``)."""

    breakpoints: list[int]


@parameters("bcr", "sharing")
class SharingParams:
    """``bcr.sharing``: analysed cells a specimen needs before its sharing indices mean anything, and the
    rarefaction that makes indices of specimens of different depth comparable (``seed``: the study's)."""

    min_cells: int
    n_rarefy: int
    ci: float
    expanded_min_cells: int
    depth: int | None
    depth_fraction: float
    seed: int


def isotype_class(c_call: str | float | None) -> str:
    """Antibody class of a heavy-chain constant gene (IMGT names): ``IGHG1`` → ``IgG``; else ``unknown``."""
    m = re.match(r"^IGH([MDGAE])", str(c_call))
    return f"Ig{m.group(1)}" if m else "unknown"


def cell_table(airr: ad.AnnData) -> pd.DataFrame:
    """One row per cell with contigs (:data:`CELL_COLUMNS`): specimen, scRNA labels, chain QC, clone and
    the primary heavy (``VDJ_1``) and light (``VJ_1``) chains; columns not yet computed are NaN."""
    import scirpy as ir

    obs = airr.obs.copy()
    chains = ir.get.airr(airr, ["v_call", "j_call", "c_call", "junction_aa", "locus"], ["VDJ_1", "VJ_1"])
    obs["v_call"] = chains["VDJ_1_v_call"]
    obs["j_call"] = chains["VDJ_1_j_call"]
    obs["c_call"] = chains["VDJ_1_c_call"]
    obs["junction_aa"] = chains["VDJ_1_junction_aa"]
    obs["vj_locus"] = chains["VJ_1_locus"]
    obs["vj_v_call"] = chains["VJ_1_v_call"]
    obs["vj_junction_aa"] = chains["VJ_1_junction_aa"]
    obs["isotype"] = [isotype_class(c) if isinstance(c, str) else "" for c in obs["c_call"]]
    obs["cell_id"] = obs.index
    for col in CELL_COLUMNS:
        if col not in obs.columns:
            obs[col] = np.nan
    out = obs[CELL_COLUMNS].reset_index(drop=True)
    for col in ("receptor_type", "receptor_subtype", "chain_pairing"):
        out[col] = out[col].astype(str)
    return out


def jaccard(a: pd.Series, b: pd.Series) -> float:
    """Jaccard index of two clone sets (clone -> cell count); NaN when both are empty."""
    sa, sb = set(a[a > 0].index), set(b[b > 0].index)
    union = sa | sb
    return len(sa & sb) / len(union) if union else float("nan")


def morisita_horn(a: pd.Series, b: pd.Series) -> float:
    """Morisita–Horn overlap of two clone abundance vectors (Horn 1966): 1 = same clones in the same proportions.

    Written out because neither scirpy nor scipy provide it; weights clones by abundance, so large
    expanded clones dominate, complementing the presence-based Jaccard index.
    """
    idx = a.index.union(b.index)
    x = a.reindex(idx, fill_value=0).to_numpy(float)
    y = b.reindex(idx, fill_value=0).to_numpy(float)
    nx, ny = x.sum(), y.sum()
    if nx == 0 or ny == 0:
        return float("nan")
    dx, dy = (x**2).sum() / nx**2, (y**2).sum() / ny**2
    return float(2 * (x * y).sum() / ((dx + dy) * nx * ny))


def sharing_table(cells: pd.DataFrame, specimens: pd.DataFrame, *, tissues: Sequence[str],
                  params: SharingParams | None = None, clone_col: str = "clone_id") -> pd.DataFrame:
    """Clone sharing between every pair of tissues of one patient at one timepoint (:data:`SHARING_COLUMNS`).

    ``cells``: analysed cells with ``sample_id`` and ``clone_col``; ``specimens``: the BCR specimens
    (``sample_id, patient_id, tissue, timepoint``), so a specimen without analysed cells still gives
    rows. Two rows per pair: ``clones = all`` and ``clones = expanded`` (only clones with at least
    ``params.expanded_min_cells`` cells in the specimen; ``n_cells``/``n_clones``/``n_shared_clones``
    then count those). Raw indices use every cell; the rarefied ones subsample both specimens to
    ``depth`` cells (``params.depth``, else ``params.depth_fraction`` of the pair's smaller specimen)
    ``params.n_rarefy`` times and give the mean and the central ``params.ci`` interval, expansion
    judged in the subsample. Below the smaller specimen's size both specimens vary between repeats,
    so the interval also reflects the smaller specimen's sampling (benchmarks/bcr_sharing.py).
    Pairs where a specimen has fewer than ``params.min_cells`` cells are ``estimable = False`` with
    NaN indices: a handful of synovial B cells cannot tell sharing from chance.
    """
    params = params or SharingParams()
    cells = cells[cells[clone_col].notna()]
    counts = {sid: g[clone_col].value_counts() for sid, g in cells.groupby("sample_id", observed=True)}
    spec = specimens.drop_duplicates("sample_id").copy()
    spec["tissue"], spec["timepoint"] = spec["tissue"].astype(str), spec["timepoint"].astype(str)
    rows = []
    for (patient, tp), g in spec.groupby(["patient_id", "timepoint"], sort=False, observed=True):
        by_tissue = dict(zip(g["tissue"], g["sample_id"], strict=True))
        present = [t for t in tissues if t in by_tissue]
        for ta, tb in itertools.combinations(present, 2):
            sa, sb = by_tissue[ta], by_tissue[tb]
            key = {"patient_id": patient, "timepoint": tp, "tissue_a": ta, "tissue_b": tb, "sample_a": sa,
                   "sample_b": sb}
            empty = pd.Series(dtype=int)
            rows += [{**key, **r} for r in _pair_rows(counts.get(sa, empty), counts.get(sb, empty),
                                                       params=params, seed=pair_seed(params.seed, sa, sb))]
    out = pd.DataFrame(rows, columns=SHARING_COLUMNS)
    tissues = list(tissues)
    return _order(out, {"tissue_a": tissues, "tissue_b": tissues, "clones": list(CLONE_SETS)},
                  ["patient_id", "timepoint", "tissue_a", "tissue_b", "clones"], specimens)


#: The clone sets of a sharing row: every clone, or clones expanded in their specimen.
CLONE_SETS = ("all", "expanded")


def _pair_rows(a: pd.Series, b: pd.Series, *, params: SharingParams, seed: int) -> list[dict]:
    """The ``all`` and ``expanded`` rows of one specimen pair (clone -> cells), raw and rarefied."""
    idx = a.index.union(b.index)
    x = a.reindex(idx, fill_value=0).to_numpy(np.int64)
    y = b.reindex(idx, fill_value=0).to_numpy(np.int64)
    n_a, n_b = int(x.sum()), int(y.sum())
    ok = n_a >= params.min_cells and n_b >= params.min_cells
    depth = params.depth or max(1, int(params.depth_fraction * min(n_a, n_b)))
    sizes = {"all": 1, "expanded": params.expanded_min_cells}
    rare = {}
    if ok and depth <= min(n_a, n_b):
        rare = rarefied_indices(x, y, depth=depth, n_rarefy=params.n_rarefy, ci=params.ci,
                                min_sizes=tuple(sizes.values()), rng=np.random.default_rng(seed))
    rows = []
    for name, k in sizes.items():
        xa, yb = np.where(x >= k, x, 0), np.where(y >= k, y, 0)
        jac, mh = index_rows(xa[None], yb[None])
        r = rare.get(k, {})
        rows.append({
            "clones": name, "n_cells_a": int(xa.sum()), "n_cells_b": int(yb.sum()),
            "n_clones_a": int((xa > 0).sum()), "n_clones_b": int((yb > 0).sum()),
            "n_shared_clones": int(((xa > 0) & (yb > 0)).sum()),
            "jaccard": float(jac[0]) if ok else np.nan, "morisita_horn": float(mh[0]) if ok else np.nan,
            "depth": depth if r else np.nan,
            **{f"{m}_rarefied{s}": r.get(f"{m}{s}", np.nan) for m in ("jaccard", "morisita_horn")
               for s in ("", "_lo", "_hi")},
            "estimable": ok,
        })
    return rows


def expansion_table(cells: pd.DataFrame, specimens: pd.DataFrame, *, subsets: Sequence[str],
                    breakpoints: Sequence[int] = (1, 2)) -> pd.DataFrame:
    """Cells per clone-size class (within the specimen) per specimen × subset, zeros included.

    ``fraction_expanded`` is the share of a subset's clonally assigned cells whose clone has more than
    one cell in the specimen (NaN when the subset has no such cells).
    """
    cells = cells[cells["clone_id"].notna()]
    classes = [f"<= {b}" for b in breakpoints] + [f"> {breakpoints[-1]}"]
    names = {c: "n_size_" + c.replace("<= ", "le").replace("> ", "gt") for c in classes}
    tab = pd.DataFrame(columns=classes)
    if len(cells):
        tab = (cells.groupby(["sample_id", "bcell_subset", "clonal_expansion"], observed=True).size()
               .unstack(fill_value=0).reindex(columns=classes, fill_value=0))
    spec = specimens.drop_duplicates("sample_id")[SPECIMEN_KEYS]
    grid = pd.MultiIndex.from_product([spec["sample_id"], subsets], names=["sample_id", "bcell_subset"])
    tab = tab.reindex(grid, fill_value=0).rename(columns=names)
    tab["n_cells"] = tab.sum(axis=1)
    single = tab[names[classes[0]]] if breakpoints[0] == 1 else 0
    tab["fraction_expanded"] = (tab["n_cells"] - single) / tab["n_cells"].where(tab["n_cells"] > 0)
    out = tab.reset_index().rename(columns={"bcell_subset": "subset"}).merge(spec, on="sample_id", how="left")
    cols = EXPANSION_KEYS + ["n_cells", *names.values(), "fraction_expanded"]
    return _order(out[cols], {"subset": list(subsets)}, ["patient_id", "tissue", "timepoint", "subset"], specimens)


def isotype_table(cells: pd.DataFrame, specimens: pd.DataFrame, *, subsets: Sequence[str]) -> pd.DataFrame:
    """Heavy-chain constant gene (``c_call``) use per specimen × subset: counts and fractions of the subset."""
    cells = cells[cells["c_call"].notna() & (cells["c_call"].astype(str) != "")]
    if cells.empty:
        return pd.DataFrame(columns=ISOTYPE_COLUMNS)
    g = cells.groupby(["sample_id", "bcell_subset", "c_call"], observed=True).size().rename("n_cells").reset_index()
    g["n_subset"] = g.groupby(["sample_id", "bcell_subset"])["n_cells"].transform("sum")
    g["fraction"] = g["n_cells"] / g["n_subset"]
    g["isotype"] = g["c_call"].map(isotype_class)
    spec = specimens.drop_duplicates("sample_id")[SPECIMEN_KEYS]
    out = g.rename(columns={"bcell_subset": "subset"}).merge(spec, on="sample_id", how="left")
    out = out[out["subset"].isin(subsets)]
    return _order(out[ISOTYPE_COLUMNS], {"subset": list(subsets)},
                  ["patient_id", "tissue", "timepoint", "subset", "c_call"], specimens)


def _order(df: pd.DataFrame, cats: dict[str, list[str]], by: list[str], specimens: pd.DataFrame) -> pd.DataFrame:
    """Sort by ``by`` honouring the config's tissue/timepoint order and the vocabulary's subset order."""
    key = df.copy()
    for col in ("tissue", "timepoint"):
        if col in key.columns and hasattr(specimens[col], "cat"):
            cats.setdefault(col, [str(c) for c in specimens[col].cat.categories])
    for col, order in cats.items():
        if col in key.columns:
            values = key[col].astype(str)
            key[col] = pd.Categorical(values, categories=list(dict.fromkeys([*order, *values])), ordered=True)
    idx = key.sort_values(by, kind="stable").index
    return df.loc[idx].reset_index(drop=True)


def sharing_accuracy(estimated: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Estimated vs. true raw sharing per patient × timepoint × tissue pair × clone set (estimable rows), with
    absolute errors.

    ``truth`` is the simulator's ``truth/bcr/sharing.tsv``; the demo reports how closely the clonotype
    definition recovers the true between-tissue sharing.
    """
    keys = ["patient_id", "timepoint", "tissue_a", "tissue_b", "clones"]
    est = estimated[estimated["estimable"].astype(str).str.lower().isin(["true", "1"])]
    m = est[keys + ["jaccard", "morisita_horn"]].merge(
        truth[keys + ["jaccard", "morisita_horn"]].astype({"jaccard": float, "morisita_horn": float}),
        on=keys, suffixes=("", "_true"))
    for col in ("jaccard", "morisita_horn"):
        m[col] = m[col].astype(float)
        m[f"abs_error_{col}"] = (m[col] - m[f"{col}_true"]).abs()
    return m
