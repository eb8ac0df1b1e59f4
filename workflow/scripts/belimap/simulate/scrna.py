"""Simulated scRNA-seq count matrices for the demo cohort, shaped like 10x data and blind to the annotator.

The feature space is a real 10x reference: the 32,786 symbols of the PBMC count matrix in the
``celltypist`` wheel (per-gene abundance and the fitted mean-dispersion trend committed as
``resources/simulate/gene_reference.tsv.gz``) plus the IG and TR genes that matrix lacks, from the
GENCODE table of the same wheel. Cell types are programmes over that feature space authored in
``resources/simulate/programmes.yaml`` - never the marker lists of the annotator's vocabulary, whose
subset and lineage ids are used only as truth labels. B-lineage cells lean towards a neighbouring state
(truth: ``state_towards``, ``state_weight``), every droplet takes a share of a per-sample soup
(``truth/ambient.tsv``), doublets are homo- or heterotypic, and damage is a continuum (fewer UMIs,
more mitochondrial reads; ``is_low_quality`` marks the damaged end).

Speed: only the ~3k genes that carry a programme or most of the UMIs get negative-binomial noise per
cell; the long tail of rarely detected genes (≈ 30k, a few hundred UMIs per cell) is drawn as Poisson
UMIs from one shared profile in a single sampling call. That keeps a 1,500-cell sample at about a
second instead of a dense 1,500 x 33k Gamma-Poisson draw.
"""

from __future__ import annotations

import gzip
import importlib.util
import shutil
from functools import lru_cache
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from belimap.composition import composition_table, lineage_table
from belimap.config import ROOT, read_yaml
from belimap.errors import BelimapError
from belimap.simulate.cohort import Cohort
from belimap.simulate.reference import read_gene_reference
from belimap.tables import atomic_path, write_tsv

TRUTH_CELL_COLUMNS = ["sample_id", "barcode", "lineage", "bcell_subset", "is_doublet", "is_low_quality",
                      "state_towards", "state_weight", "ambient_fraction"]
GENE_REFERENCE = ROOT / "resources" / "simulate" / "gene_reference.tsv.gz"
PROGRAMMES = ROOT / "resources" / "simulate" / "programmes.yaml"
IG_TR = r"^(IG[HKL][VDJC]|IGH[MDGAE]\d?$|IGLL|TR[ABDG][VDJC])"


@lru_cache(maxsize=1)
def gene_table() -> pd.DataFrame:
    """Feature space: the reference's genes (abundance, dispersion trend) + IG/TR genes it lacks (abundance 0)."""
    ref = read_gene_reference(GENE_REFERENCE)
    spec = importlib.util.find_spec("celltypist")
    gencode = Path(spec.origin).parent / "data" / "samples" / "GENCODEv44_Gene_id2name.csv"
    names = pd.read_csv(gencode, header=None)[1].astype(str)
    extra = names[names.str.match(IG_TR) & ~names.str.contains("OR") & ~names.str.endswith("P")
                  & ~names.isin(ref["gene"])].drop_duplicates()
    add = pd.DataFrame({"gene": extra, "rel_abundance": 0.0, "detection": 0.0,
                        "dispersion_trend": float(ref["dispersion_trend"].min()), "mean_umis": 0.0})
    return pd.concat([ref, add], ignore_index=True)


def gene_universe(cohort: Cohort | None = None) -> list[str]:  # noqa: ARG001 - one feature space for every cohort
    """Every gene symbol of the simulated matrices (≈ 33 k, reference order, IG/TR genes appended)."""
    return gene_table()["gene"].tolist()


def read_programmes(path: str | Path, genes: list[str], cohort: Cohort) -> dict:
    """The programmes resource, checked: every truth lineage and subset has one, every gene exists."""
    prog = read_yaml(path)
    known = set(genes)
    vocab = cohort.vocab
    need_lin = [lin for lin in vocab.lineage_ids]
    missing = [x for x in need_lin if x not in prog["lineages"]] + [s for s in vocab.subset_ids if s not in prog["states"]]
    if missing:
        raise BelimapError(f"{path}: no programme for {', '.join(missing)} (lineages: / states:)")
    for kind in ("lineages", "states"):
        for name, mod in prog[kind].items():
            bad = [g for g in (*mod.get("lfc", {}), *mod.get("level", {})) if g not in known]
            if bad:
                raise BelimapError(f"{path}: {kind}.{name} names gene(s) {', '.join(bad)} absent from the "
                                   "simulator's feature space")
    return prog


def cell_types(cohort: Cohort) -> list[tuple[str, str]]:
    """(lineage, subset) of every simulated cell type; subset is "" outside the B lineage."""
    vocab = cohort.vocab
    types = [(s.lineage, s.id) for s in vocab.subsets]
    types += [(lin, "") for lin in vocab.lineage_ids if lin not in vocab.bcell_lineages]
    return types


def type_profiles(cohort: Cohort, genes: pd.DataFrame, prog: dict) -> tuple[pd.DataFrame, pd.Series]:
    """Log nuclear-UMI shares (rows ``lineage|subset``, columns genes; exp of a row sums to 1) and size factors."""
    names = genes["gene"].to_numpy()
    idx = {g: i for i, g in enumerate(names)}
    base = np.log(genes["rel_abundance"].to_numpy() + 1e-9)
    lineage_genes = {g for m in prog["lineages"].values() for g, v in m.get("lfc", {}).items() if v > 0}
    off = np.zeros(len(names))
    off[[idx[g] for g in lineage_genes]] = float(prog["off_lfc"]) * np.log(2)
    rows, sizes = {}, {}
    for lin, sub in cell_types(cohort):
        lmod = prog["lineages"][lin]
        mods = [lmod] + ([prog["states"][sub]] if sub else [])
        logp = base + off
        levels: dict[str, float] = dict(lmod.get("level", {}))
        for m in mods:
            for g, v in m.get("lfc", {}).items():
                if g in levels:
                    levels[g] *= 2.0 ** v
                else:
                    logp[idx[g]] += v * np.log(2)
            for g, v in m.get("level", {}).items():
                levels[g] = levels.get(g, 0.0) + v
        p = np.exp(logp)
        lv = np.array([idx[g] for g in levels], dtype=int)
        p[lv] = 0.0
        p *= (1.0 - sum(levels.values())) / p.sum()
        p[lv] = list(levels.values())
        rows[f"{lin}|{sub}"] = np.log(p + 1e-12)
        sizes[f"{lin}|{sub}"] = float(lmod.get("size", 1.0))
    return pd.DataFrame(rows, index=names).T, pd.Series(sizes)


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


class Model:
    """Everything shared by the samples of one cohort: genes, profiles, dense/tail split, dispersions."""

    def __init__(self, cohort: Cohort):
        p = cohort.params["scrna"]
        self.genes = gene_table()
        self.prog = read_programmes(PROGRAMMES, self.genes["gene"].tolist(), cohort)
        names = self.genes["gene"]
        self.mito = np.flatnonzero(names.str.startswith("MT-").to_numpy())
        nuclear = np.setdiff1d(np.arange(len(names)), self.mito)
        profiles, self.sizes = type_profiles(cohort, self.genes.iloc[nuclear].reset_index(drop=True), self.prog)
        self.nuclear = nuclear
        shares = np.exp(profiles.to_numpy())
        prog_genes = {g for kind in ("lineages", "states") for m in self.prog[kind].values()
                      for g in (*m.get("lfc", {}), *m.get("level", {}))}
        top = np.argsort(-shares.max(axis=0))[: int(p["dense_genes"])]
        is_prog = np.isin(profiles.columns.to_numpy(), list(prog_genes))
        self.dense = np.union1d(top, np.flatnonzero(is_prog))       # positions within nuclear
        self.tail = np.setdiff1d(np.arange(len(nuclear)), self.dense)
        self.types = profiles.index.tolist()
        self.log_dense = np.log(shares[:, self.dense] + 1e-12)
        self.tail_share = shares[:, self.tail].sum(axis=1)
        tail_p = shares[:, self.tail].mean(axis=0)
        self.tail_p = tail_p / tail_p.sum()
        self.tail_cdf = np.cumsum(self.tail_p)
        phi = self.genes["dispersion_trend"].to_numpy()[nuclear][self.dense] * float(p["dispersion_scale"])
        self.shape = 1.0 / np.clip(phi, 0.01, 10.0)
        mt = self.genes["rel_abundance"].to_numpy()[self.mito]
        self.mito_p = mt / mt.sum()


def simulate_sample(cohort: Cohort, sid: str, model: Model, patient_effect: np.ndarray, batch_effect: np.ndarray
                    ) -> tuple[sp.csr_matrix, pd.DataFrame, float]:
    """Counts (cells x genes), per-cell truth and the sample's mean ambient share, for one specimen."""
    p = cohort.params["scrna"]
    prog = model.prog
    rng = np.random.default_rng(cohort.specimen_seed(sid, "scrna"))
    n = int(cohort.params["cells_per_sample"])
    probs = _cell_type_probs(cohort, sid)
    keys = probs.index.to_numpy()
    row = {k: i for i, k in enumerate(model.types)}
    types = rng.choice(keys, size=n, p=probs.to_numpy())
    ti = np.array([row[t] for t in types])
    # continuous B states: lean towards a neighbour state in log-expression space
    subset = np.array([t.split("|")[1] for t in types], dtype=object)
    towards = np.full(n, "", dtype=object)
    weight = np.zeros(n)
    mix = prog["mixing"]
    for i in np.flatnonzero(subset != ""):
        nbrs = [s for s in prog["trajectories"].get(subset[i], []) if probs.get(_key(cohort, s), 0) > 0]
        if nbrs:
            towards[i] = nbrs[rng.integers(len(nbrs))]
            weight[i] = mix["max_weight"] * rng.beta(mix["a"], mix["b"])
    eff = np.log(patient_effect * batch_effect)
    logm = model.log_dense[ti] + eff[None, :]
    leaning = np.flatnonzero(weight > 0)
    if len(leaning):
        nb = np.array([row[_key(cohort, s)] for s in towards[leaning]])
        logm[leaning] = (1 - weight[leaning, None]) * logm[leaning] + weight[leaning, None] * (model.log_dense[nb] + eff)
    m = np.exp(logm)
    m *= ((1 - model.tail_share[ti]) / m.sum(axis=1))[:, None]
    _light_chain(m, model, subset, rng, float(prog["kappa_fraction"]))
    # doublets: two cells' profiles, homo- or heterotypic by the sample's own type frequencies
    is_doublet = rng.random(n) < p["doublet_rate"]
    partner = rng.choice(np.arange(n), size=n)
    m[is_doublet] = 0.5 * (m[is_doublet] + m[partner[is_doublet]])
    size = model.sizes.to_numpy()[ti]
    lib = np.exp(rng.normal(np.log(p["library_size"]["median"]), p["library_size"]["sdlog"], n)) * size
    lib[is_doublet] *= 1.8
    # damage as a continuum: fewer UMIs and more mitochondrial reads; the damaged end is "low quality"
    damage = np.where(rng.random(n) < p["damaged_rate"], rng.random(n), 0.0)
    damage[is_doublet] = 0.0
    lib *= np.exp(-2.0 * damage)
    mito = np.exp(rng.normal(np.log(p["mito_fraction"]["healthy"]), 0.3, n))
    mito = np.clip(mito + (p["mito_fraction"]["damaged"] - mito) * damage, 0.002, 0.9)
    low_q = damage > 0.5
    # ambient: each droplet takes a share of the sample's soup (the lib-weighted mean of its cells)
    amb = p["ambient"]
    contamination = float(np.clip(np.exp(rng.normal(np.log(amb["mean"]), amb["sdlog"])), 0.0, 0.5))
    rho = np.clip(contamination * np.exp(rng.normal(0, 0.3, n)), 0, 0.6)
    soup = (m * lib[:, None]).sum(axis=0)
    soup *= m.sum(axis=1).mean() / soup.sum()
    m = (1 - rho[:, None]) * m + rho[:, None] * soup[None, :]
    nuc = lib * (1 - mito)
    mu = m * nuc[:, None]
    dense = rng.poisson(rng.gamma(model.shape[None, :], mu / model.shape[None, :])).astype(np.int32)
    n_tail = rng.poisson(nuc * model.tail_share[ti])
    cells = np.repeat(np.arange(n), n_tail)
    tail_genes = np.searchsorted(model.tail_cdf, rng.random(len(cells)) * model.tail_cdf[-1])
    tail = sp.csr_matrix((np.ones(len(cells), np.int32), (cells, np.minimum(tail_genes, len(model.tail) - 1))),
                         shape=(n, len(model.tail)))
    mt = rng.poisson(np.outer(lib * mito, model.mito_p)).astype(np.int32)
    counts = _assemble(model, sp.csr_matrix(dense), tail, sp.csr_matrix(mt))
    lineage = np.array([t.split("|")[0] for t in types], dtype=object)
    lineage[is_doublet] = "doublet"
    subset[is_doublet] = ""
    towards[is_doublet] = ""
    weight[is_doublet] = 0.0
    truth = pd.DataFrame({"sample_id": sid, "barcode": _barcodes(rng, n), "lineage": lineage, "bcell_subset": subset,
                          "is_doublet": is_doublet, "is_low_quality": low_q, "state_towards": towards,
                          "state_weight": np.round(weight, 4), "ambient_fraction": np.round(rho, 4)})
    return counts, truth, contamination


def _key(cohort: Cohort, subset: str) -> str:
    return f"{cohort.vocab.subset(subset).lineage}|{subset}"


def _light_chain(m: np.ndarray, model: Model, subset: np.ndarray, rng: np.random.Generator, kappa: float) -> None:
    """One light chain per B-lineage cell: the other chain's constant genes drop to 2 %, in place."""
    names = model.genes["gene"].to_numpy()[model.nuclear][model.dense]
    k = np.flatnonzero(np.char.startswith(names.astype(str), "IGKC"))
    lam = np.flatnonzero(np.char.startswith(names.astype(str), "IGLC"))
    b = np.flatnonzero(subset != "")
    is_k = rng.random(len(b)) < kappa
    m[np.ix_(b[is_k], lam)] *= 0.02
    m[np.ix_(b[~is_k], k)] *= 0.02


def _assemble(model: Model, dense: sp.csr_matrix, tail: sp.csr_matrix, mt: sp.csr_matrix) -> sp.csr_matrix:
    """Columns back in the feature-space order (reference genes, then the added IG/TR genes)."""
    cols = np.concatenate([model.nuclear[model.dense], model.nuclear[model.tail], model.mito])
    x = sp.hstack([dense, tail, mt], format="csc")
    order = np.empty_like(cols)
    order[cols] = np.arange(len(cols))
    return sp.csr_matrix(x[:, order])


def _barcodes(rng: np.random.Generator, n: int) -> list[str]:
    letters = np.array(list("ACGT"))
    seen: set[str] = set()
    out = []
    while len(out) < n:
        bc = "".join(letters[rng.integers(0, 4, 16)]) + "-1"
        if bc not in seen:
            seen.add(bc)
            out.append(bc)
    return out


# --------------------------------------------------------------------------------------------
# writers: the formats users really have
# --------------------------------------------------------------------------------------------
def write_10x_h5(counts: sp.csr_matrix, barcodes: list[str], genes: list[str], path: Path) -> None:
    """Cell Ranger ``filtered_feature_bc_matrix.h5`` layout (matrix stored genes × cells, CSC)."""
    m = sp.csr_matrix(counts.astype(np.int32))  # cells x genes CSR has the same arrays as genes x cells CSC
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        g = f.create_group("matrix")
        g.create_dataset("barcodes", data=np.array(barcodes, dtype="S"))
        g.create_dataset("data", data=m.data, compression="gzip")
        g.create_dataset("indices", data=m.indices.astype(np.int64), compression="gzip")
        g.create_dataset("indptr", data=m.indptr.astype(np.int64))
        g.create_dataset("shape", data=np.array([len(genes), len(barcodes)], dtype=np.int32))
        feat = g.create_group("features")
        feat.create_dataset("id", data=np.array([f"ENSG_SIM_{g_}" for g_ in genes], dtype="S"))
        feat.create_dataset("name", data=np.array(genes, dtype="S"))
        feat.create_dataset("feature_type", data=np.array(["Gene Expression"] * len(genes), dtype="S"))
        feat.create_dataset("genome", data=np.array(["GRCh38"] * len(genes), dtype="S"))
        feat.create_dataset("_all_tag_keys", data=np.array([b"genome"]))


def write_10x_mtx(counts: sp.csr_matrix, barcodes: list[str], genes: list[str], folder: Path) -> None:
    """Cell Ranger v3 MTX folder: ``matrix.mtx.gz``, ``features.tsv.gz``, ``barcodes.tsv.gz``."""
    tmp = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with gzip.open(tmp / "matrix.mtx.gz", "wb", compresslevel=1) as fh:  # level 9 took ~1 min per sample
        scipy.io.mmwrite(fh, sp.coo_matrix(counts.T.astype(np.int32)), field="integer")
    feats = pd.DataFrame({"id": [f"ENSG_SIM_{g}" for g in genes], "name": genes, "type": "Gene Expression"})
    feats.to_csv(tmp / "features.tsv.gz", sep="\t", header=False, index=False, compression="gzip")
    pd.Series(barcodes).to_csv(tmp / "barcodes.tsv.gz", header=False, index=False, compression="gzip")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def write_h5ad_counts(counts: sp.csr_matrix, barcodes: list[str], genes: list[str], path: Path) -> None:
    """An h5ad as collaborators share them: log-normalised ``X`` with raw counts in ``layers['counts']``."""
    import scanpy as sc

    adata = ad.AnnData(X=counts.copy(), obs=pd.DataFrame(index=barcodes), var=pd.DataFrame(index=genes))
    adata.layers["counts"] = counts.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp, compression="gzip", compression_opts=1)


def write_counts(counts: sp.csr_matrix, barcodes: list[str], genes: list[str], path: str | Path) -> None:
    """Write in the format the path implies (``.h5`` 10x HDF5, ``.h5ad``, else a 10x MTX folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".h5":
        write_10x_h5(counts, barcodes, genes, path)
    elif path.suffix == ".h5ad":
        write_h5ad_counts(counts, barcodes, genes, path)
    else:
        write_10x_mtx(counts, barcodes, genes, path)


def write_all(cohort: Cohort, sheet: pd.DataFrame, outdir: Path) -> None:
    """Write every scRNA file of ``sheet`` and the truth tables under ``outdir/truth``."""
    p = cohort.params["scrna"]
    model = Model(cohort)
    genes = gene_universe()
    nd = len(model.dense)
    patients = sorted(cohort.specimens["patient_id"].unique())
    # Seeded per patient and batch, so adding patients leaves the existing patients' files unchanged.
    patient_eff = {pt: np.exp(np.random.default_rng(cohort.specimen_seed(pt, "patient_effect"))
                              .normal(0, p["patient_sdlog"], nd)) for pt in patients}
    batches = sorted(cohort.specimens["batch"].unique())
    batch_eff = {b: np.exp(np.random.default_rng(cohort.specimen_seed(b, "batch_effect"))
                           .normal(0, p["batch_sdlog"], nd)) for b in batches}
    spec = cohort.specimens.set_index("sample_id")
    truths, ambient = [], []
    for row in sheet[sheet["modality"] == "scrna"].to_dict("records"):
        sid = row["sample_id"]
        counts, truth, contamination = simulate_sample(cohort, sid, model, patient_eff[spec.loc[sid, "patient_id"]],
                                                       batch_eff[spec.loc[sid, "batch"]])
        write_counts(counts, truth["barcode"].tolist(), genes, row["path"])
        truths.append(truth)
        ambient.append({"sample_id": sid, "contamination": round(contamination, 4),
                        "mean_cell_fraction": round(float(truth["ambient_fraction"].mean()), 4)})
    cells = pd.concat(truths, ignore_index=True)
    truth_dir = Path(outdir) / "truth"
    write_tsv(cells[TRUTH_CELL_COLUMNS], truth_dir / "cells.tsv")
    write_tsv(pd.DataFrame(ambient), truth_dir / "ambient.tsv")
    write_truth_tables(cells, cohort, truth_dir)


def write_truth_tables(cells: pd.DataFrame, cohort: Cohort, truth_dir: Path) -> None:
    """True subset composition (B lineage) and lineage composition of the singlets of each sample."""
    specimens = cohort.specimens[["sample_id", "patient_id", "tissue", "timepoint"]]
    singlets = cells[~cells["is_doublet"].astype(bool)]
    b = singlets[singlets["lineage"].isin(cohort.vocab.bcell_lineages)]
    write_tsv(composition_table(b, specimens, cohort.vocab.subset_ids), truth_dir / "composition.tsv")
    write_tsv(lineage_table(singlets, specimens, cohort.vocab.lineage_ids), truth_dir / "lineages.tsv")
