"""B-cell receptor repertoire: contigs, chain QC, clonotypes across a patient's tissues, and the
tables that answer "are the same clones in lymph node, synovium and blood?".

scirpy does the field-standard parts: reading 10x ``filtered_contig_annotations.csv`` and AIRR
rearrangement TSV, indexing chains (productive chains with a junction, primary/secondary per arm),
chain-pairing QC, junction distances, clonotype clusters and clonal expansion classes. Written here
is only what scirpy lacks: sharing indices between the tissues of one patient and timepoint
(scirpy's ``tl.repertoire_overlap`` is marked experimental, returns scipy distances only and has no
Morisita–Horn index) and the subset × tissue summaries.

Cells are named ``"{sample_id}:{barcode}"`` from the start, exactly like ``obs_names`` of
``results/scrna/integrated.h5ad``, so attaching to the scRNA cells is an index join.
"""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from belimap.errors import BelimapError
from belimap.tables import atomic_path

log = logging.getLogger(__name__)

#: Columns of a Cell Ranger ``filtered_contig_annotations.csv`` that belimap needs.
TENX_COLUMNS = ["barcode", "contig_id", "chain", "v_gene", "j_gene", "c_gene", "productive", "cdr3", "cdr3_nt"]
#: Columns of an AIRR rearrangement TSV that belimap needs (``locus`` and ``c_call`` are optional).
AIRR_COLUMNS = ["cell_id", "sequence_id", "productive", "v_call", "j_call", "junction", "junction_aa"]
#: Per-cell table written to ``results/bcr/cells.tsv``.
CELL_COLUMNS = [
    "cell_id", "sample_id", "barcode", "patient_id", "tissue", "timepoint", "in_gex", "lineage", "bcell_subset",
    "receptor_type", "receptor_subtype", "chain_pairing", "analysed", "clone_id", "clone_size", "clone_size_sample",
    "clonal_expansion", "v_call", "j_call", "c_call", "isotype", "junction_aa", "vj_locus", "vj_v_call",
    "vj_junction_aa",
]
SHARING_COLUMNS = ["patient_id", "timepoint", "tissue_a", "tissue_b", "sample_a", "sample_b", "n_cells_a", "n_cells_b",
                   "n_clones_a", "n_clones_b", "n_shared_clones", "jaccard", "morisita_horn", "estimable"]
EXPANSION_KEYS = ["sample_id", "patient_id", "tissue", "timepoint", "subset"]
ISOTYPE_COLUMNS = ["sample_id", "patient_id", "tissue", "timepoint", "subset", "c_call", "isotype", "n_cells",
                   "n_subset", "fraction"]


def _ir():
    """scirpy, imported late (slow import) and with its progress bars quiet."""
    import scirpy as ir

    return ir


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------
def detect_bcr_format(path: str | Path) -> str:
    """``10x_contigs`` for a Cell Ranger contig CSV (or JSON), ``airr`` for an AIRR rearrangement TSV."""
    name = Path(path).name.lower()
    if name.endswith((".csv", ".csv.gz", ".json")):
        return "10x_contigs"
    if name.endswith((".tsv", ".tsv.gz")):
        return "airr"
    raise BelimapError(f"{path}: unknown BCR format; expected a 10x filtered_contig_annotations .csv(.gz) "
                       "or an AIRR rearrangement .tsv(.gz)")


def gene_call(call: object) -> object:
    """Reduce a V/D/J call to its gene: first of several calls, allele dropped (``IGHV3-23*01`` → ``IGHV3-23``).

    AIRR tools report alleles and ties, 10x reports genes; clonotypes with ``same_v_gene`` compare the
    strings, so both formats must name genes the same way.
    """
    if not isinstance(call, str) or call in ("", "None", "nan"):
        return call
    return call.split(",")[0].strip().split("*")[0]


def read_bcr(path: str | Path, sample_id: str) -> ad.AnnData:
    """Read one BCR file into scirpy's AnnData (``obsm['airr']``), cells named ``{sample_id}:{barcode}``."""
    ir = _ir()
    path = Path(path)
    if not path.exists():
        raise BelimapError(f"{path}: BCR file not found")
    fmt = detect_bcr_format(path)
    try:
        if fmt == "10x_contigs":
            if path.suffix != ".json":
                head = pd.read_csv(path, nrows=1)
                _check_columns(path, head.columns, TENX_COLUMNS, "a 10x contig CSV")
                if head.empty:
                    return _empty_airr()
            adata = ir.io.read_10x_vdj(path)
        else:
            df = pd.read_csv(path, sep="\t", low_memory=False)
            _check_columns(path, df.columns, AIRR_COLUMNS, "an AIRR rearrangement TSV")
            if df.empty:
                return _empty_airr()
            blank = df["cell_id"].isna() | (df["cell_id"].astype(str).str.strip() == "")
            if blank.any():
                raise BelimapError(f"{path} row {int(blank.to_numpy().argmax()) + 1}: empty cell_id; expected "
                                   "single-cell AIRR data with a cell barcode on every rearrangement")
            for col in ("v_call", "d_call", "j_call"):
                if col in df.columns:
                    df[col] = df[col].map(gene_call)
            df["cell_id"] = df["cell_id"].astype(str)
            adata = ir.io.read_airr(df)
    except BelimapError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's fault here
        raise BelimapError(f"{path}: cannot be read as {fmt} ({type(err).__name__}: {err})") from None
    if adata.n_obs == 0:
        log.warning("%s: no cells with contigs", path)
    adata.obs_names = [f"{sample_id}:{b}" for b in adata.obs_names]
    adata.obs.index.name = "cell_id"
    return adata


def _empty_airr() -> ad.AnnData:
    """A sample with no contigs (a failed library, or no B cells): kept as an empty table, not an error."""
    a = ad.AnnData(obs=pd.DataFrame(index=pd.Index([], name="cell_id", dtype=str)))
    return a


def _check_columns(path: Path, columns: pd.Index, required: list[str], what: str) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise BelimapError(f"{path}: missing column(s) {', '.join(missing)}; "
                           f"expected {what} with {', '.join(required)}")


def write_airr_table(adata: ad.AnnData, path: str | Path) -> None:
    """Write the rearrangements of ``adata`` as an AIRR TSV (atomic)."""
    with atomic_path(path) as tmp:
        if adata.n_obs == 0:
            pd.DataFrame(columns=["cell_id", *AIRR_COLUMNS[1:], "locus", "c_call"]).to_csv(tmp, sep="\t", index=False)
        else:
            _ir().io.write_airr(adata, tmp)


def read_airr_tables(paths: dict[str, str | Path]) -> ad.AnnData:
    """Read per-sample AIRR tables (``sample_id -> path``) written by :func:`write_airr_table` into one AnnData.

    One ``read_airr`` call over all files builds one awkward array with one record type (concatenating
    per-file AnnData gives union types that scirpy cannot index).
    """
    ir = _ir()
    files = []
    for sid, p in paths.items():
        head = pd.read_csv(p, sep="\t", nrows=5, usecols=["cell_id"], dtype=str)
        bad = [c for c in head["cell_id"] if not c.startswith(f"{sid}:")]
        if bad:
            raise BelimapError(f"{p}: cell_id '{bad[0]}' does not start with '{sid}:'; expected a belimap sample table")
        if not head.empty:
            files.append(str(p))
    if not files:
        raise BelimapError("no BCR sample has any cell with contigs; expected at least one")
    airr = ir.io.read_airr(files)
    airr.obs.index.name = "cell_id"
    return airr


# --------------------------------------------------------------------------------------------
# attach to the scRNA cells, chain QC
# --------------------------------------------------------------------------------------------
def annotate_cells(airr: ad.AnnData, gex_obs: pd.DataFrame, specimens: pd.DataFrame, bcell_lineages: list[str],
                   qc: dict) -> ad.AnnData:
    """Add specimen keys, the scRNA labels and scirpy's chain QC to ``airr.obs``; mark the analysed cells.

    ``gex_obs`` is ``integrated.h5ad``'s ``obs`` (index ``"{sample_id}:{barcode}"``). A cell is analysed
    when it passed the scRNA steps (``in_gex``), is a BCR cell whose chain pairing is not excluded by
    ``qc['exclude_chain_pairing']`` and, with ``qc['b_lineage_only']``, sits in the B lineage.
    """
    ir = _ir()
    obs = airr.obs
    parts = obs.index.to_series().str.split(":", n=1, expand=True)
    obs["sample_id"], obs["barcode"] = parts[0].to_numpy(), parts[1].to_numpy()
    spec = specimens.drop_duplicates("sample_id").set_index("sample_id")
    unknown = sorted(set(obs["sample_id"]) - set(spec.index))
    if unknown:
        raise BelimapError(f"BCR sample '{unknown[0]}' is not in the sample sheet")
    for col in ("patient_id", "tissue", "timepoint"):
        obs[col] = obs["sample_id"].map(spec[col].astype(str)).to_numpy()
    obs["in_gex"] = obs.index.isin(gex_obs.index)
    for col in ("lineage", "bcell_subset"):
        src = gex_obs[col].astype(str) if col in gex_obs.columns else pd.Series(dtype=str)
        obs[col] = obs.index.map(src).fillna("").astype(str)
    ir.pp.index_chains(airr)
    ir.tl.chain_qc(airr)
    ok = obs["in_gex"] & (obs["receptor_type"].astype(str) == "BCR")
    ok &= ~obs["chain_pairing"].astype(str).isin(qc.get("exclude_chain_pairing", []))
    if qc.get("b_lineage_only", True):
        ok &= obs["lineage"].isin(bcell_lineages)
    obs["analysed"] = ok.to_numpy()
    return airr


def chain_qc_table(airr: ad.AnnData) -> pd.DataFrame:
    """Per sample: cells with contigs, their chain pairing classes, how many reached the scRNA cells and analysis."""
    obs = airr.obs
    pairing = pd.crosstab(obs["sample_id"], obs["chain_pairing"].astype(str))
    pairing.columns = [f"n_{c.replace(' ', '_')}" for c in pairing.columns]
    base = obs.groupby("sample_id", observed=True).agg(
        patient_id=("patient_id", "first"), tissue=("tissue", "first"), timepoint=("timepoint", "first"),
        n_cells=("analysed", "size"), n_in_gex=("in_gex", "sum"), n_analysed=("analysed", "sum"))
    out = base.join(pairing).reset_index()
    out["fraction_analysed"] = out["n_analysed"] / out["n_cells"]
    return out


# --------------------------------------------------------------------------------------------
# clonotypes
# --------------------------------------------------------------------------------------------
def define_clonotypes(airr: ad.AnnData, params: dict, breakpoints: list[int] | tuple[int, ...] = (1, 2),
                      n_jobs: int = 1, seed: int = 0) -> ad.AnnData:
    """Clonotype clusters per patient across all of the patient's specimens (scirpy), on the analysed cells.

    Junction distances (``params``: sequence, metric, cutoff) with the same V and J genes define clones
    (``define_clonotype_clusters`` with ``within_group`` = patient, so a clone never spans patients).
    Adds ``obs`` columns ``clone_id`` (``"{patient}_c{n}"``, numbered by decreasing size; NaN for cells
    not analysed or without the required chains), ``clone_size`` (cells in the patient),
    ``clone_size_sample`` (cells in the specimen) and ``clonal_expansion`` (scirpy's classes within the
    specimen). ``seed`` seeds igraph's RNG (Python's ``random``) for ``partitions: leiden``.
    """
    import random

    ir = _ir()
    obs = airr.obs
    for col in ("clone_id", "clonal_expansion"):
        obs[col] = pd.Series(np.nan, index=obs.index, dtype=object)
    obs["clone_size"] = 0
    obs["clone_size_sample"] = 0
    mask = obs["analysed"].to_numpy(bool)
    if not mask.any():
        log.warning("no analysed BCR cells: no clonotypes defined")
        return airr
    sub = airr[mask].copy()
    arms = {"VDJ": ["VDJ_1"], "VJ": ["VJ_1"]}.get(params["receptor_arms"], ["VDJ_1", "VJ_1"])
    if ir.get.airr(sub, "junction", arms).notna().to_numpy().sum() == 0:
        log.warning("no analysed BCR cell has a %s chain: no clonotypes defined", params["receptor_arms"])
        return airr
    random.seed(seed)
    ir.pp.ir_dist(sub, metric=params["metric"], sequence=params["sequence"], cutoff=params["cutoff"], n_jobs=n_jobs)
    ir.tl.define_clonotype_clusters(
        sub, sequence=params["sequence"], metric=params["metric"], receptor_arms=params["receptor_arms"],
        dual_ir=params["dual_ir"], same_v_gene=params["same_v_gene"], same_j_gene=params["same_j_gene"],
        within_group=["patient_id", "receptor_type"], partitions=params["partitions"], key_added="clone_id",
        n_jobs=n_jobs)
    raw = sub.obs["clone_id"].astype(object).where(~pd.isna(sub.obs["clone_id"]))
    raw = raw.where(raw.astype(str) != "nan")
    # Stable, readable IDs: per patient, by decreasing size then first cell.
    df = pd.DataFrame({"patient_id": sub.obs["patient_id"].astype(str), "raw": raw}).dropna()
    sizes = df.groupby(["patient_id", "raw"], sort=False).size().rename("n").reset_index()
    sizes["first"] = sizes["raw"].map({r: i for i, r in enumerate(dict.fromkeys(df["raw"]))})
    sizes = sizes.sort_values(["patient_id", "n", "first"], ascending=[True, False, True])
    sizes["k"] = sizes.groupby("patient_id").cumcount() + 1
    names = dict(zip(sizes["raw"], sizes["patient_id"] + "_c" + sizes["k"].astype(str), strict=True))
    clone = raw.map(names)
    obs.loc[clone.index, "clone_id"] = clone
    has = obs["clone_id"].notna()
    obs.loc[has, "clone_size"] = obs[has].groupby("clone_id")["clone_id"].transform("size")
    obs.loc[has, "clone_size_sample"] = obs[has].groupby(["sample_id", "clone_id"])["clone_id"].transform("size")
    exp = ir.tl.clonal_expansion(airr[has.to_numpy()].copy(), target_col="clone_id", expanded_in="sample_id",
                                 breakpoints=tuple(breakpoints), inplace=False)
    obs.loc[exp.index, "clonal_expansion"] = exp.astype(str)
    return airr


def isotype_class(c_call: object) -> str:
    """Antibody class of a heavy-chain constant gene (IMGT names): ``IGHG1`` → ``IgG``; else ``unknown``."""
    m = re.match(r"^IGH([MDGAE])", str(c_call))
    return f"Ig{m.group(1)}" if m else "unknown"


def cell_table(airr: ad.AnnData) -> pd.DataFrame:
    """One row per cell with contigs: specimen, scRNA labels, chain QC, clone and the primary chains."""
    ir = _ir()
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


# --------------------------------------------------------------------------------------------
# repertoire tables
# --------------------------------------------------------------------------------------------
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


def sharing_table(cells: pd.DataFrame, specimens: pd.DataFrame, tissues: list[str], min_cells: int = 10,
                  clone_col: str = "clone_id") -> pd.DataFrame:
    """Clone sharing between every pair of tissues of one patient at one timepoint.

    ``cells``: analysed cells with ``sample_id`` and ``clone_col``; ``specimens``: the BCR specimens
    (``sample_id, patient_id, tissue, timepoint``), so a specimen without analysed cells still gives
    a row. Pairs where a specimen has fewer than ``min_cells`` cells are ``estimable = False`` with
    NaN indices: a handful of synovial B cells cannot tell sharing from chance.
    """
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
            a, b = counts.get(sa, pd.Series(dtype=int)), counts.get(sb, pd.Series(dtype=int))
            ok = a.sum() >= min_cells and b.sum() >= min_cells
            rows.append({
                "patient_id": patient, "timepoint": tp, "tissue_a": ta, "tissue_b": tb, "sample_a": sa, "sample_b": sb,
                "n_cells_a": int(a.sum()), "n_cells_b": int(b.sum()), "n_clones_a": len(a), "n_clones_b": len(b),
                "n_shared_clones": len(set(a.index) & set(b.index)),
                "jaccard": jaccard(a, b) if ok else np.nan, "morisita_horn": morisita_horn(a, b) if ok else np.nan,
                "estimable": ok,
            })
    out = pd.DataFrame(rows, columns=SHARING_COLUMNS)
    return _order(out, {"tissue_a": tissues, "tissue_b": tissues}, ["patient_id", "timepoint", "tissue_a", "tissue_b"],
                  specimens)


def expansion_table(cells: pd.DataFrame, specimens: pd.DataFrame, subsets: list[str],
                    breakpoints: list[int] | tuple[int, ...] = (1, 2)) -> pd.DataFrame:
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
    spec = specimens.drop_duplicates("sample_id")[["sample_id", "patient_id", "tissue", "timepoint"]]
    grid = pd.MultiIndex.from_product([spec["sample_id"], subsets], names=["sample_id", "bcell_subset"])
    tab = tab.reindex(grid, fill_value=0).rename(columns=names)
    tab["n_cells"] = tab.sum(axis=1)
    single = tab[names[classes[0]]] if breakpoints[0] == 1 else 0
    tab["fraction_expanded"] = (tab["n_cells"] - single) / tab["n_cells"].where(tab["n_cells"] > 0)
    out = tab.reset_index().rename(columns={"bcell_subset": "subset"}).merge(spec, on="sample_id", how="left")
    cols = EXPANSION_KEYS + ["n_cells", *names.values(), "fraction_expanded"]
    return _order(out[cols], {"subset": subsets}, ["patient_id", "tissue", "timepoint", "subset"], specimens)


def isotype_table(cells: pd.DataFrame, specimens: pd.DataFrame, subsets: list[str]) -> pd.DataFrame:
    """Heavy-chain constant gene (``c_call``) use per specimen × subset: counts and fractions of the subset."""
    cells = cells[cells["c_call"].notna() & (cells["c_call"].astype(str) != "")]
    if cells.empty:
        return pd.DataFrame(columns=ISOTYPE_COLUMNS)
    g = cells.groupby(["sample_id", "bcell_subset", "c_call"], observed=True).size().rename("n_cells").reset_index()
    g["n_subset"] = g.groupby(["sample_id", "bcell_subset"])["n_cells"].transform("sum")
    g["fraction"] = g["n_cells"] / g["n_subset"]
    g["isotype"] = g["c_call"].map(isotype_class)
    spec = specimens.drop_duplicates("sample_id")[["sample_id", "patient_id", "tissue", "timepoint"]]
    out = g.rename(columns={"bcell_subset": "subset"}).merge(spec, on="sample_id", how="left")
    out = out[out["subset"].isin(subsets)]
    return _order(out[ISOTYPE_COLUMNS], {"subset": subsets}, ["patient_id", "tissue", "timepoint", "subset", "c_call"],
                  specimens)


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


# --------------------------------------------------------------------------------------------
# the study-level object
# --------------------------------------------------------------------------------------------
def build_mudata(gex_obs: pd.DataFrame, gex_obsm: dict[str, np.ndarray], airr: ad.AnnData):
    """MuData with ``gex`` (the scRNA cells' ``obs`` and embeddings, no genes) and ``airr`` (scirpy).

    Expression stays in ``results/scrna/integrated.h5ad`` (same ``obs_names``) instead of a second copy;
    scirpy's and muon's plotting work on this object (e.g. UMAP coloured by clone).
    """
    import mudata as md

    md.set_options(pull_on_update=False)  # the future default; keeps modality obs where they are
    gex = ad.AnnData(obs=gex_obs.copy(), obsm={k: np.asarray(v) for k, v in gex_obsm.items()})
    air = airr.copy()
    for col in air.obs.columns:
        if air.obs[col].dtype == object:
            air.obs[col] = air.obs[col].astype(str).replace("nan", "")
    return md.MuData({"gex": gex, "airr": air})


def write_mudata(mdata, path: str | Path) -> None:
    """Write a MuData atomically."""
    with atomic_path(path) as tmp:
        mdata.write(tmp)


# --------------------------------------------------------------------------------------------
# the branch in two calls (used by the rules and the benchmark alike)
# --------------------------------------------------------------------------------------------
def clonotype_cells(airr: ad.AnnData, gex_obs: pd.DataFrame, specimens: pd.DataFrame, bcell_lineages: list[str],
                    cfg_bcr: dict, n_jobs: int = 1, seed: int = 0) -> pd.DataFrame:
    """Chain QC, attachment to the scRNA cells and clonotypes (``airr`` is annotated in place); the cell table."""
    annotate_cells(airr, gex_obs, specimens, bcell_lineages, cfg_bcr["chain_qc"])
    define_clonotypes(airr, cfg_bcr["clonotypes"], cfg_bcr["expansion"]["breakpoints"], n_jobs=n_jobs, seed=seed)
    return cell_table(airr)


def repertoire_tables(cells: pd.DataFrame, specimens: pd.DataFrame, tissues: list[str], subsets: list[str],
                      cfg_bcr: dict) -> dict[str, pd.DataFrame]:
    """Sharing, expansion and isotype tables of the analysed cells of ``cells`` (``results/bcr/cells.tsv``)."""
    analysed = cells[cells["analysed"].astype(str).str.lower().isin(["true", "1"])]
    return {
        "sharing": sharing_table(analysed, specimens, tissues, cfg_bcr["sharing"]["min_cells"]),
        "expansion": expansion_table(analysed, specimens, subsets, cfg_bcr["expansion"]["breakpoints"]),
        "isotypes": isotype_table(analysed, specimens, subsets),
    }


def sharing_accuracy(estimated: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Estimated vs. true sharing per patient × timepoint × tissue pair (estimable rows), with absolute errors.

    ``truth`` is the simulator's ``truth/bcr/sharing.tsv``; the demo reports how closely the clonotype
    definition recovers the true between-tissue sharing.
    """
    keys = ["patient_id", "timepoint", "tissue_a", "tissue_b"]
    est = estimated[estimated["estimable"].astype(str).str.lower().isin(["true", "1"])]
    m = est[keys + ["jaccard", "morisita_horn"]].merge(
        truth[keys + ["jaccard", "morisita_horn"]].astype({"jaccard": float, "morisita_horn": float}),
        on=keys, suffixes=("", "_true"))
    for col in ("jaccard", "morisita_horn"):
        m[col] = m[col].astype(float)
        m[f"abs_error_{col}"] = (m[col] - m[f"{col}_true"]).abs()
    return m
