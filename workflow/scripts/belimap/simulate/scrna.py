"""Simulated scRNA-seq count matrices for the demo cohort, written as users have them.

Each cell type has a negative-binomial expression programme over real human gene symbols (every
marker of ``resources/`` plus scanpy's bundled ``pbmc68k_reduced`` genes and the profile's extra
genes): lineage markers and a random programme per lineage, up/down markers and a small programme
per B subset, per-gene patient and batch effects, log-normal library sizes, mitochondrial reads,
low-quality cells (few UMIs, high % mito) and heterotypic doublets. Files are written as 10x HDF5,
10x MTX folders or h5ad (counts in ``layers['counts']``) by the sheet's path; truth goes to
``truth/cells.tsv``, ``truth/composition.tsv`` and ``truth/lineages.tsv``.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from belimap.composition import composition_table, lineage_table
from belimap.tables import atomic_path, write_tsv
from belimap.simulate.cohort import Cohort

TRUTH_CELL_COLUMNS = ["sample_id", "barcode", "lineage", "bcell_subset", "is_doublet", "is_low_quality"]


def gene_universe(cohort: Cohort) -> list[str]:
    """Real gene symbols: markers, pbmc68k_reduced's genes, the profile's extra, mito and ribo genes."""
    import scanpy as sc

    p = cohort.params["scrna"]
    genes: dict[str, None] = dict.fromkeys(cohort.vocab.marker_genes())
    genes.update(dict.fromkeys(p.get("extra_genes", [])))
    genes.update(dict.fromkeys(g for g in sc.datasets.pbmc68k_reduced().var_names if not g.startswith("MT-")))
    genes.update(dict.fromkeys(p.get("ribo_genes", [])))
    genes.update(dict.fromkeys(p.get("mito_genes", [])))
    return list(genes)


def cell_types(cohort: Cohort) -> list[tuple[str, str]]:
    """(lineage, subset) of every simulated cell type; subset is "" outside the B lineage."""
    vocab = cohort.vocab
    types = [(s.lineage, s.id) for s in vocab.subsets]
    types += [(lin, "") for lin in vocab.lineage_ids if lin not in vocab.bcell_lineages]
    return types


def expression_programmes(cohort: Cohort, genes: list[str], rng: np.random.Generator) -> pd.DataFrame:
    """Relative expression (rows: ``lineage|subset`` cell types, columns: non-mito genes, rows sum to 1)."""
    p = cohort.params["scrna"]
    vocab = cohort.vocab
    mito = set(p.get("mito_genes", []))
    nuclear = [g for g in genes if g not in mito]
    gidx = {g: i for i, g in enumerate(nuclear)}
    base = np.exp(rng.normal(0.0, 1.2, len(nuclear)))
    markers = set(vocab.marker_genes())
    for g in markers:
        base[gidx[g]] = np.exp(-1.0)  # markers are specific: low unless a programme raises them
    for g in p.get("ribo_genes", []) + ["ACTB", "GAPDH", "B2M", "MALAT1"]:
        if g in gidx:
            base[gidx[g]] *= 25.0
    free = np.array([gidx[g] for g in nuclear if g not in markers and g in gidx])
    lineage_prog = {}
    for lin in vocab.lineages:
        prof = base.copy()
        prof[[gidx[g] for g in lin.markers]] *= p["marker_fold"]
        pick = rng.choice(free, size=p["programme_genes"], replace=False)
        prof[pick] *= np.exp(rng.normal(np.log(4.0), 0.5, len(pick)))
        lineage_prog[lin.id] = prof
    # Genes that separate B subsets are expressed at a moderate level in every B-lineage cell, so that a
    # subset's "down" markers are visibly lower than in its neighbours.
    subset_genes = {g for s in vocab.subsets for g in s.up + s.down}
    rows = {}
    for lin, sub in cell_types(cohort):
        prof = lineage_prog[lin].copy()
        if sub:
            s = vocab.subset(sub)
            prof[[gidx[g] for g in subset_genes]] *= 3.0
            prof[[gidx[g] for g in s.up]] *= p["subset_up_fold"]
            if s.down:
                prof[[gidx[g] for g in s.down]] *= p["subset_down_fold"]
            sub_rng = np.random.default_rng(cohort.specimen_seed(sub, "subset_programme"))
            pick = sub_rng.choice(free, size=p["subset_programme_genes"], replace=False)
            prof[pick] *= np.exp(sub_rng.normal(np.log(3.0), 0.3, len(pick)))
        rows[f"{lin}|{sub}"] = prof / prof.sum()
    return pd.DataFrame(rows, index=nuclear).T


def _cell_type_probs(cohort: Cohort, sid: str) -> pd.Series:
    """Probability of each ``lineage|subset`` cell type in a specimen."""
    vocab = cohort.vocab
    lin = cohort.lineage_probs.loc[sid]
    sub = cohort.subset_probs.loc[sid]
    probs = {}
    for lineage, subset in cell_types(cohort):
        key = f"{lineage}|{subset}"
        probs[key] = float(lin.get("B_lineage", 0.0) * sub.get(subset, 0.0)) if subset else float(lin.get(lineage, 0.0))
    s = pd.Series(probs)
    return s / s.sum()


def simulate_sample(cohort: Cohort, sid: str, programmes: pd.DataFrame, genes: list[str], mito_prof: np.ndarray,
                    patient_effect: np.ndarray, batch_effect: np.ndarray) -> tuple[sp.csr_matrix, pd.DataFrame]:
    """Counts (cells × ``genes``) and per-cell truth for one specimen."""
    p = cohort.params["scrna"]
    rng = np.random.default_rng(cohort.specimen_seed(sid, "scrna"))
    n = int(cohort.params["cells_per_sample"])
    probs = _cell_type_probs(cohort, sid)
    types = rng.choice(probs.index.to_numpy(), size=n, p=probs.to_numpy())
    is_doublet = rng.random(n) < p["doublet_rate"]
    partner = rng.choice(probs.index.to_numpy(), size=n, p=probs.to_numpy())
    low_q = (rng.random(n) < p["low_quality_rate"]) & ~is_doublet
    lib = np.exp(rng.normal(np.log(p["library_size"]["median"]), p["library_size"]["sdlog"], n))
    lib[is_doublet] *= 1.8
    lib[low_q] *= 0.25
    mito_frac = np.clip(rng.normal(p["mito_fraction"]["healthy"], 0.012, n), 0.005, None)
    mito_frac[low_q] = np.clip(rng.normal(p["mito_fraction"]["low_quality"], 0.08, low_q.sum()), 0.15, 0.8)
    prog = programmes.to_numpy() * (patient_effect * batch_effect)[None, :]
    prog /= prog.sum(axis=1, keepdims=True)
    row = {k: i for i, k in enumerate(programmes.index)}
    mean_nuc = prog[[row[t] for t in types]]
    mean_nuc[is_doublet] = 0.5 * (mean_nuc[is_doublet] + prog[[row[t] for t in partner[is_doublet]]])
    mito_genes = [g for g in genes if g not in set(programmes.columns)]
    mu = np.hstack([mean_nuc * (lib * (1 - mito_frac))[:, None], np.outer(lib * mito_frac, mito_prof)])
    theta = float(p["dispersion"])
    counts = rng.poisson(rng.gamma(theta, mu / theta)).astype(np.float32)
    order = list(programmes.columns) + mito_genes
    counts = pd.DataFrame(counts, columns=order)[genes].to_numpy()
    barcodes = _barcodes(rng, n)
    lineage = np.array([t.split("|")[0] for t in types], dtype=object)
    subset = np.array([t.split("|")[1] for t in types], dtype=object)
    lineage[is_doublet] = "doublet"
    subset[is_doublet] = ""
    truth = pd.DataFrame({"sample_id": sid, "barcode": barcodes, "lineage": lineage, "bcell_subset": subset,
                          "is_doublet": is_doublet, "is_low_quality": low_q})
    return sp.csr_matrix(counts), truth


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
    with gzip.open(tmp / "matrix.mtx.gz", "wb") as fh:
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
        adata.write_h5ad(tmp, compression="gzip")


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
    rng = np.random.default_rng(cohort.params["seed"])
    genes = gene_universe(cohort)
    programmes = expression_programmes(cohort, genes, rng)
    n_nuc = programmes.shape[1]
    mito_prof = np.exp(rng.normal(0, 0.5, len(genes) - n_nuc))
    mito_prof /= mito_prof.sum()
    patients = sorted(cohort.specimens["patient_id"].unique())
    # Seeded per patient and batch, so adding patients leaves the existing patients' files unchanged.
    patient_eff = {pt: np.exp(np.random.default_rng(cohort.specimen_seed(pt, "patient_effect"))
                              .normal(0, p["patient_sdlog"], n_nuc)) for pt in patients}
    batches = sorted(cohort.specimens["batch"].unique())
    batch_eff = {b: np.exp(np.random.default_rng(cohort.specimen_seed(b, "batch_effect"))
                           .normal(0, p["batch_sdlog"], n_nuc)) for b in batches}
    spec = cohort.specimens.set_index("sample_id")
    truths = []
    for row in sheet[sheet["modality"] == "scrna"].to_dict("records"):
        sid = row["sample_id"]
        counts, truth = simulate_sample(cohort, sid, programmes, genes, mito_prof, patient_eff[spec.loc[sid, "patient_id"]],
                                        batch_eff[spec.loc[sid, "batch"]])
        write_counts(counts, truth["barcode"].tolist(), genes, row["path"])
        truths.append(truth)
    cells = pd.concat(truths, ignore_index=True)
    truth_dir = Path(outdir) / "truth"
    write_tsv(cells[TRUTH_CELL_COLUMNS], truth_dir / "cells.tsv")
    write_truth_tables(cells, cohort, truth_dir)


def write_truth_tables(cells: pd.DataFrame, cohort: Cohort, truth_dir: Path) -> None:
    """True subset composition (B lineage) and lineage composition of the singlets of each sample."""
    specimens = cohort.specimens[["sample_id", "patient_id", "tissue", "timepoint"]]
    singlets = cells[~cells["is_doublet"].astype(bool)]
    b = singlets[singlets["lineage"].isin(cohort.vocab.bcell_lineages)]
    write_tsv(composition_table(b, specimens, cohort.vocab.subset_ids), truth_dir / "composition.tsv")
    write_tsv(lineage_table(singlets, specimens, cohort.vocab.lineage_ids), truth_dir / "lineages.tsv")
