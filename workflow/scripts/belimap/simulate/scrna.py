"""Simulated scRNA-seq count matrices for the demo cohort, written as users have them.

The simulator does not know the annotator's answer: its feature space, baseline per-gene means and
NB dispersions come from a real 10x PBMC matrix (the celltypist wheel's sample, summarised in
``resources/simulate/gene_reference.tsv.gz``, plus the wheel's GENCODE IG/TR genes it lacks), and its
cell-type programmes are log2 fold changes over gene modules authored in
``resources/simulate/programmes.yaml`` -- never the marker lists of ``resources/bcell_subsets.yaml`` or
``resources/markers/`` (only the lineage and subset ids are used, as truth labels).

B cells are sampled between their subset's state and a neighbour on the trajectories
(``state_to`` / ``state_weight`` in truth), droplets carry a per-sample ambient soup, doublets are homo-
or heterotypic, and damaged cells form a continuum of fewer UMIs and more mito reads. For speed only the
``dense_genes`` most abundant genes (and every programme gene) are drawn Gamma-Poisson per cell; the long
tail of rare genes is drawn as a Poisson total per cell spread multinomially over the tail.
Files are written as 10x HDF5, 10x MTX folders or h5ad (counts in ``layers['counts']``); truth goes to
``truth/cells.tsv``, ``truth/composition.tsv``, ``truth/lineages.tsv`` and ``truth/ambient.tsv``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from belimap.composition import composition_table, lineage_table
from belimap.config import read_yaml, repo_path
from belimap.errors import BelimapError
from belimap.simulate.cohort import Cohort
from belimap.simulate.reference import fit_dispersion_trend, gencode_symbols, read_gene_reference
from belimap.simulate.writers import write_counts
from belimap.tables import write_tsv

TRUTH_CELL_COLUMNS = ["sample_id", "barcode", "lineage", "bcell_subset", "is_doublet", "is_low_quality",
                      "state_to", "state_weight", "doublet_kind", "ambient_fraction", "quality_severity"]
LN2 = np.log(2.0)


@lru_cache(maxsize=4)
def _gene_table(reference: str, pattern: str, programmes: str) -> pd.DataFrame:
    """The real reference's genes, then GENCODE symbols it lacks that match ``pattern`` or a programme."""
    ref = read_gene_reference(repo_path(reference))
    have = set(ref["gene"])
    rx = re.compile(pattern)
    wanted = _programme_genes(read_programmes(programmes))
    extra = sorted({g for g in gencode_symbols() if (rx.match(g) or g in wanted) and g not in have})
    add = pd.DataFrame({"gene": extra, "rel_abundance": 0.0, "detection": 0.0,
                        "dispersion_trend": float(ref["dispersion_trend"].max()), "mean_umis": 0.0})
    return pd.concat([ref, add], ignore_index=True)


def gene_universe(cohort: Cohort) -> list[str]:
    """Every symbol of the real 10x reference plus the GENCODE IG/TR genes it lacks (~33 k)."""
    p = cohort.params["scrna"]
    return _gene_table(str(p["gene_reference"]), p["extra_gene_pattern"], str(p["programmes"]))["gene"].tolist()


def cell_types(cohort: Cohort) -> list[tuple[str, str]]:
    """(lineage, subset) of every simulated cell type; subset is "" outside the B lineage."""
    vocab = cohort.vocab
    types = [(s.lineage, s.id) for s in vocab.subsets]
    types += [(lin, "") for lin in vocab.lineage_ids if lin not in vocab.bcell_lineages]
    return types


def read_programmes(path: str | Path) -> dict:
    """The programme resource, checked: every module is ``[lfc, [genes]]``."""
    prog = read_yaml(repo_path(path))
    for section in ("lineages", "states"):
        for name, modules in prog.get(section, {}).items():
            for mod, val in modules.items():
                if not (isinstance(val, list) and len(val) == 2 and isinstance(val[1], list)):
                    raise BelimapError(f"{path}: {section}.{name}.{mod} must be [log2 fold, [genes...]]")
    return prog


def _programme_genes(prog: dict) -> set[str]:
    return {g for sec in ("lineages", "states") for mods in prog.get(sec, {}).values() for _, gs in mods.values()
            for g in gs}


@dataclass
class Model:
    """Log-profiles of every cell type over the dense genes; the tail is the shared baseline."""

    genes: list[str]
    dense: np.ndarray            # indices (into genes) of the dense genes
    tail: np.ndarray             # indices of the tail genes
    tail_p: np.ndarray           # baseline tail profile, sums to 1
    tail_mass: float             # unnormalised baseline mass of the tail
    logprof: dict[str, np.ndarray]   # state/type key -> log unnormalised profile over dense genes
    mito: np.ndarray             # boolean over dense genes
    trend: tuple[float, float]   # NB dispersion trend phi(mu) = a + b / mu of the real matrix, × dispersion_scale
    programmes: dict


def _lfc(modules: dict, index: dict[str, int], n: int) -> np.ndarray:
    out = np.zeros(n)
    for lfc, genes in modules.values():
        for g in genes:
            if g in index:
                out[index[g]] += float(lfc)
    return out


def build_model(cohort: Cohort) -> Model:
    """Baseline from the real matrix, programmes from programmes.yaml (never the annotator's markers)."""
    p = cohort.params["scrna"]
    table = _gene_table(str(p["gene_reference"]), p["extra_gene_pattern"], str(p["programmes"]))
    prog = read_programmes(p["programmes"])
    genes = table["gene"].tolist()
    base = table["rel_abundance"].to_numpy(dtype=float).copy()
    floor = float(prog.get("absent_floor", 0.5)) * base[base > 0].min()
    base = np.maximum(base, floor)
    prog_genes = _programme_genes(prog)
    gidx = {g: i for i, g in enumerate(genes)}
    absent = [gidx[g] for g in prog_genes if g in gidx and base[gidx[g]] <= floor]
    base[absent] = float(prog.get("absent_programme_abundance", floor))
    is_dense = np.zeros(len(genes), bool)
    is_dense[np.argsort(-base, kind="stable")[: int(p["dense_genes"])]] = True
    is_dense[[gidx[g] for g in prog_genes if g in gidx]] = True
    mito = table["gene"].str.startswith("MT-").to_numpy()
    is_dense |= mito
    dense, tail = np.flatnonzero(is_dense), np.flatnonzero(~is_dense)
    dindex = {genes[i]: k for k, i in enumerate(dense)}
    logb = np.log(base[dense])
    lin_lfc = {lin: _lfc(mods, dindex, len(dense)) for lin, mods in prog["lineages"].items()}
    # A gene some lineage switches on is off elsewhere: the PBMC baseline is mostly T cells, so without
    # this every fibroblast would carry T-cell CD3E/IL7R at the PBMC average.
    on = np.any([v > 0 for v in lin_lfc.values()], axis=0)
    off = float(prog.get("off_lfc", 0.0))
    lin_lfc = {lin: v + off * (on & (v <= 0)) for lin, v in lin_lfc.items()}
    logprof = {}
    plasma_states = set(prog.get("plasma_states", []))
    for lin, sub in cell_types(cohort):
        if sub:
            lineage = "plasma" if sub in plasma_states else "B"
            lfc = lin_lfc[lineage] + _lfc(prog["states"].get(sub, {}), dindex, len(dense))
        else:
            if lin not in lin_lfc:
                raise BelimapError(f"{p['programmes']}: no programme for lineage '{lin}'")
            lfc = lin_lfc[lin]
        logprof[f"{lin}|{sub}"] = logb + LN2 * lfc
    a, b = fit_dispersion_trend(table["mean_umis"].to_numpy(), table["dispersion_trend"].to_numpy())
    scale = float(p["dispersion_scale"])
    return Model(genes, dense, tail, base[tail] / base[tail].sum(), float(base[tail].sum()), logprof,
                 mito[dense], (scale * a, scale * b), prog)


def _cell_type_probs(cohort: Cohort, sid: str) -> pd.Series:
    """Probability of each ``lineage|subset`` cell type in a specimen."""
    lin = cohort.lineage_probs.loc[sid]
    sub = cohort.subset_probs.loc[sid]
    probs = {}
    for lineage, subset in cell_types(cohort):
        key = f"{lineage}|{subset}"
        probs[key] = float(lin.get("B_lineage", 0.0) * sub.get(subset, 0.0)) if subset else float(lin.get(lineage, 0.0))
    s = pd.Series(probs)
    return s / s.sum()


def _profiles(model: Model, keys: np.ndarray, to_keys: np.ndarray, w: np.ndarray,
              effect: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised dense profiles (cells × dense) and tail shares of cells mixing two states in log space."""
    a = np.stack([model.logprof[k] for k in keys])
    b = np.stack([model.logprof[k] for k in to_keys])
    logp = (1 - w)[:, None] * a + w[:, None] * b
    e = np.exp(logp) * effect[None, :]
    z = e.sum(axis=1) + model.tail_mass
    return e / z[:, None], model.tail_mass / z


def simulate_sample(cohort: Cohort, sid: str, model: Model, patient_effect: np.ndarray,
                    batch_effect: np.ndarray) -> tuple[sp.csr_matrix, pd.DataFrame, float]:
    """Counts (cells × genes), per-cell truth and the sample's ambient contamination."""
    p = cohort.params["scrna"]
    prog = model.programmes
    rng = np.random.default_rng(cohort.specimen_seed(sid, "scrna"))
    n = int(cohort.params["cells_per_sample"])
    probs = _cell_type_probs(cohort, sid)
    keys = probs.index.to_numpy()
    types = rng.choice(keys, size=n, p=probs.to_numpy())
    lineage = np.array([t.split("|")[0] for t in types], dtype=object)
    subset = np.array([t.split("|")[1] for t in types], dtype=object)
    # continuous B states: each B cell leans towards one trajectory neighbour, weight < 0.5
    to_keys, w = types.copy(), np.zeros(n)
    state_to = np.full(n, "", dtype=object)
    key_of = {sub: f"{lin}|{sub}" for lin, sub in cell_types(cohort) if sub}
    for i in np.flatnonzero(subset != ""):
        nbrs = [s for s in prog["trajectory"].get(subset[i], []) if s in key_of]
        if nbrs:
            state_to[i] = nbrs[rng.integers(len(nbrs))]
            to_keys[i] = key_of[state_to[i]]
            w[i] = 0.5 * rng.beta(1.0, float(prog["mixing_beta"]))
    effect = patient_effect * batch_effect
    prof, tail_share = _profiles(model, types, to_keys, w, effect)
    # doublets: a second droplet-mate from the same composition (homotypic when it is the same type)
    is_doublet = rng.random(n) < p["doublet_rate"]
    partner = rng.choice(keys, size=n, p=probs.to_numpy())
    kind = np.where(~is_doublet, "", np.where(partner == types, "homotypic", "heterotypic")).astype(object)
    di = np.flatnonzero(is_doublet)
    if len(di):
        pp, pt = _profiles(model, partner[di], partner[di], np.zeros(len(di)), effect)
        prof[di] = 0.5 * (prof[di] + pp)
        tail_share[di] = 0.5 * (tail_share[di] + pt)
    # library sizes by lineage; damaged cells lose UMIs and gain mito continuously with severity
    lf = p.get("library_factor", {})
    lib = np.exp(rng.normal(np.log(p["library_size"]["median"]), p["library_size"]["sdlog"], n))
    lib *= np.array([lf.get(x, 1.0) for x in lineage])
    lib[is_doublet] *= p["doublet_library"] * np.array([0.5 * (1 + lf.get(x.split("|")[0], 1.0))
                                                        for x in partner[di]]) if len(di) else 1.0
    low_q = (rng.random(n) < p["low_quality_rate"]) & ~is_doublet
    sev = np.zeros(n)
    sev[low_q] = rng.uniform(*p["low_quality_severity"], low_q.sum())
    lib *= 1 - 0.85 * sev
    mf = p["mito_fraction"]
    healthy = np.exp(rng.normal(np.log(mf["healthy"]), mf["sdlog"], n))
    mito_frac = np.clip(healthy + sev * (mf["low_quality"] - healthy), 0.002, 0.9)
    m = model.mito
    cur = prof[:, m].sum(axis=1)
    prof[:, m] *= (mito_frac / cur)[:, None]
    prof[:, ~m] *= ((1 - mito_frac) / (1 - cur))[:, None]
    tail_share *= (1 - mito_frac) / (1 - cur)
    # ambient soup: the library-weighted mean of the sample's droplets
    amb = p["ambient"]
    contamination = float(min(np.exp(rng.normal(np.log(amb["mean"]), amb["sdlog"])), amb["max"]))
    # (plasma cells are fragile and Ig-mRNA rich: their RNA is weighted up in the soup)
    wsoup = lib * np.where(lineage == "plasma", float(amb.get("plasma_weight", 1.0)), 1.0)
    soup = (wsoup[:, None] * prof).sum(axis=0) / wsoup.sum()
    soup_tail = float((wsoup * tail_share).sum() / wsoup.sum())
    a = np.clip(contamination * np.exp(rng.normal(0, amb["cell_sdlog"], n)), 0, amb["max"])
    # Gamma noise on the cell's own expression, Poisson on top of it and the soup
    # (dispersion from the real trend at the cell's own expected count, so a gene a programme raises is not
    # as noisy as it is rare in the real mixture)
    ta, tb = model.trend
    shape = 1.0 / (ta + tb / np.maximum(prof * lib[:, None], 1e-6))
    shape[:, m] = 1e4  # the cell's mito share is drawn above; per-gene Gamma noise on top spread healthy cells to 59 %
    own = rng.gamma(shape, prof / shape)
    mu = lib[:, None] * ((1 - a)[:, None] * own + a[:, None] * soup[None, :])
    dense_counts = rng.poisson(mu)
    # tail: independent Poissons drawn as a total per gene, thinned onto cells by their tail rate
    tail_rate = lib * ((1 - a) * tail_share + a * soup_tail)
    per_gene = rng.poisson(model.tail_p * tail_rate.sum())
    cols = np.repeat(model.tail, per_gene)
    rows = np.minimum(np.searchsorted(np.cumsum(tail_rate) / tail_rate.sum(), rng.random(len(cols))), n - 1)
    dr, dc = np.nonzero(dense_counts)
    key, tail_counts = np.unique(rows.astype(np.int64) * len(model.genes) + cols, return_counts=True)
    counts = sp.csr_matrix((np.concatenate([dense_counts[dr, dc], tail_counts]).astype(np.float32),
                            (np.concatenate([dr, key // len(model.genes)]),
                             np.concatenate([model.dense[dc], key % len(model.genes)]))),
                           shape=(n, len(model.genes)))
    counts.has_canonical_format = False
    counts.sort_indices()
    lineage_t, subset_t = lineage.copy(), subset.copy()
    lineage_t[is_doublet] = "doublet"
    subset_t[is_doublet] = ""
    state_to[is_doublet] = ""
    w[is_doublet] = 0.0
    truth = pd.DataFrame({"sample_id": sid, "barcode": _barcodes(rng, n), "lineage": lineage_t,
                          "bcell_subset": subset_t, "is_doublet": is_doublet, "is_low_quality": low_q,
                          "state_to": state_to, "state_weight": np.round(w, 4), "doublet_kind": kind,
                          "ambient_fraction": np.round(a, 4), "quality_severity": np.round(sev, 4)})
    return counts, truth, contamination


def _barcodes(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct random 16-nt 10x-style barcodes (``-1`` suffix), vectorised."""
    letters = np.frombuffer(b"ACGT", dtype="S1")
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        draws = letters[rng.integers(0, 4, (n - len(out) + 8, 16))].view("S16").ravel()
        for bc in draws.astype(str):
            if bc not in seen and len(out) < n:
                seen.add(bc)
                out.append(bc + "-1")
    return out


def write_all(cohort: Cohort, sheet: pd.DataFrame, outdir: Path) -> None:
    """Write every scRNA file of ``sheet`` and the truth tables under ``outdir/truth``."""
    p = cohort.params["scrna"]
    model = build_model(cohort)
    n_dense = len(model.dense)
    patients = sorted(cohort.specimens["patient_id"].unique())
    # Seeded per patient and batch, so adding patients leaves the existing patients' files unchanged.
    patient_eff = {pt: np.exp(np.random.default_rng(cohort.specimen_seed(pt, "patient_effect"))
                              .normal(0, p["patient_sdlog"], n_dense)) for pt in patients}
    batches = sorted(cohort.specimens["batch"].unique())
    batch_eff = {b: np.exp(np.random.default_rng(cohort.specimen_seed(b, "batch_effect"))
                           .normal(0, p["batch_sdlog"], n_dense)) for b in batches}
    spec = cohort.specimens.set_index("sample_id")
    truths, ambient = [], []
    for row in sheet[sheet["modality"] == "scrna"].to_dict("records"):
        sid = row["sample_id"]
        counts, truth, contamination = simulate_sample(cohort, sid, model, patient_eff[spec.loc[sid, "patient_id"]],
                                                       batch_eff[spec.loc[sid, "batch"]])
        write_counts(counts, truth["barcode"].tolist(), model.genes, row["path"])
        truths.append(truth)
        ambient.append({"sample_id": sid, "contamination": round(contamination, 5)})
    cells = pd.concat(truths, ignore_index=True)
    truth_dir = Path(outdir) / "truth"
    write_tsv(cells[TRUTH_CELL_COLUMNS], truth_dir / "cells.tsv")
    write_tsv(pd.DataFrame(ambient, columns=["sample_id", "contamination"]), truth_dir / "ambient.tsv")
    write_truth_tables(cells, cohort, truth_dir)


def write_truth_tables(cells: pd.DataFrame, cohort: Cohort, truth_dir: Path) -> None:
    """True subset composition (B lineage) and lineage composition of the singlets of each sample."""
    specimens = cohort.specimens[["sample_id", "patient_id", "tissue", "timepoint"]]
    singlets = cells[~cells["is_doublet"].astype(bool)]
    b = singlets[singlets["lineage"].isin(cohort.vocab.bcell_lineages)]
    write_tsv(composition_table(b, specimens, cohort.vocab.subset_ids), truth_dir / "composition.tsv")
    write_tsv(lineage_table(singlets, specimens, cohort.vocab.lineage_ids), truth_dir / "lineages.tsv")
