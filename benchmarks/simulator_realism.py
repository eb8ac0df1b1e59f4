"""Simulated vs real 10x PBMC data, side by side (issue 11 part 1).

Real: the count matrix in the celltypist wheel (depth, sparsity, % mito, B-marker detection; real B cells
= MS4A1 > 0 and CD79A > 0 and CD3E = 0) and scanpy's pbmc68k_reduced with its published ``bulk_labels``
(15-NN label purity in its PCA space). Simulated: one demo blood sample (truth singlets, high quality for
the marker rows; all cells for depth), lineage|subset truth labels for kNN purity after the same scanpy
normalise/log/HVG/PCA. Targets: depth/sparsity within ±25 % of real, kNN purity ≤ real + 0.05.

    PYTHONPATH=workflow/scripts python benchmarks/simulator_realism.py [SAMPLE_ID]
"""
import sys
import time

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from belimap.config import ROOT, load_config
from belimap.simulate import scrna
from belimap.simulate.cohort import simulate_cohort
from belimap.simulate.reference import celltypist_sample_path

MARKERS = ["MS4A1", "CD79A", "CD19", "CD27", "IGHD", "IGHM", "TCL1A", "CD24", "CD38"]


def stats(x: sp.csr_matrix, genes: list[str]) -> dict:
    x = sp.csr_matrix(x)
    umi = np.asarray(x.sum(1)).ravel()
    mt = np.array([g.startswith("MT-") for g in genes])
    return {"UMIs/cell (median)": np.median(umi), "genes/cell (median)": np.median(np.diff(x.indptr)),
            "zero fraction": 1 - x.nnz / (x.shape[0] * x.shape[1]),
            "% mito (median)": 100 * np.median(np.asarray(x[:, mt].sum(1)).ravel() / umi)}


def detection(x: sp.csr_matrix, genes: list[str], cells: np.ndarray) -> dict:
    gi = {g: i for i, g in enumerate(genes)}
    sub = sp.csr_matrix(x)[cells]
    return {f"{g} detected in B (%)": (100 * (sub[:, gi[g]].toarray() > 0).mean() if g in gi else np.nan)
            for g in MARKERS}


def knn_purity(adata, labels: np.ndarray, k: int = 15) -> float:
    nn = NearestNeighbors(n_neighbors=k + 1).fit(adata.obsm["X_pca"][:, :30])
    idx = nn.kneighbors(return_distance=False)[:, 1:]
    return float((labels[idx] == labels[:, None]).mean())


def pca(counts, genes):
    a = sc.AnnData(sp.csr_matrix(counts, dtype=np.float32))
    a.var_names = genes
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    sc.pp.highly_variable_genes(a, n_top_genes=2000)
    a = a[:, a.var["highly_variable"]].copy()
    sc.pp.scale(a, max_value=10)
    sc.tl.pca(a, n_comps=30)
    return a


def main(sid: str = "P01_blood_baseline") -> None:
    frame = pd.read_csv(celltypist_sample_path(), index_col=0)
    rgenes = list(frame.columns)
    rx = sp.csr_matrix(frame.to_numpy())
    gi = {g: i for i, g in enumerate(rgenes)}
    rb = np.flatnonzero((rx[:, gi["MS4A1"]].toarray().ravel() > 0) & (rx[:, gi["CD79A"]].toarray().ravel() > 0)
                        & (rx[:, gi["CD3E"]].toarray().ravel() == 0))
    real = {**stats(rx, rgenes), **detection(rx, rgenes, rb), "n B cells": len(rb)}
    pbmc = sc.datasets.pbmc68k_reduced()
    real["15-NN label purity"] = knn_purity(pbmc, pbmc.obs["bulk_labels"].to_numpy())

    cfg = load_config(ROOT / "config" / "config.yaml")
    cohort = simulate_cohort(cfg)
    model = scrna.build_model(cohort)
    t = time.time()
    counts, truth, cont = scrna.simulate_sample(cohort, sid, model, np.ones(len(model.dense)), np.ones(len(model.dense)))
    secs = time.time() - t
    sb = np.flatnonzero((truth["lineage"] == "B") & ~truth["is_low_quality"])
    sim = {**stats(counts, model.genes), **detection(counts, model.genes, sb), "n B cells": len(sb)}
    a = pca(counts, model.genes)
    # pbmc68k_reduced's bulk_labels split T cells into sorted subsets (naive, memory, regulatory, cytotoxic);
    # the matching granularity here splits the B lineage into its subsets. Lineage-only purity is shown too.
    cell_type = (truth["lineage"] + "|" + truth["bcell_subset"].fillna("")).to_numpy()
    sim["15-NN label purity"] = knn_purity(a, cell_type)
    sim["15-NN lineage purity"] = knn_purity(a, truth["lineage"].to_numpy())
    table = pd.DataFrame({"real": real, "simulated": sim})
    table["sim/real"] = table["simulated"] / table["real"]
    pd.set_option("display.width", 120)
    print(table.round(3).to_string())
    print(f"\n{sid}: {len(model.genes)} genes, contamination {cont:.3f}, {secs:.2f} s to simulate "
          f"{counts.shape[0]} cells; real B cells = MS4A1>0 & CD79A>0 & CD3E=0 in the celltypist sample")


if __name__ == "__main__":
    main(*sys.argv[1:])
