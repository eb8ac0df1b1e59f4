"""Writers of the simulated scRNA-seq matrices in the formats users really have: Cell Ranger's 10x HDF5
and MTX folder, and an h5ad as collaborators share them (log-normalised ``X``, counts in a layer)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from belimap.tables import atomic_path


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
    # MatrixMarket coordinate text written in one pass (scipy.io.mmwrite takes ~15 s for 2 M entries)
    m = sp.coo_matrix(counts.T.astype(np.int32))
    body = pd.DataFrame({"i": m.row + 1, "j": m.col + 1, "v": m.data})
    with gzip.open(tmp / "matrix.mtx.gz", "wt", compresslevel=1) as fh:
        fh.write("%%MatrixMarket matrix coordinate integer general\n%\n")
        fh.write(f"{m.shape[0]} {m.shape[1]} {m.nnz}\n")
        body.to_csv(fh, sep=" ", header=False, index=False)
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
