"""Reading single-cell count matrices as users have them: 10x HDF5, 10x MTX folders, h5ad.

Readers refuse anything that is not raw counts with one line naming the file and what was expected:
QC, doublet calls and pseudobulk DE all need integer UMI counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from belimap.errors import BelimapError

if TYPE_CHECKING:
    import anndata as ad


def detect_format(path: str | Path) -> str:
    """Name the single-cell format of ``path``: ``10x_h5``, ``10x_mtx`` or ``h5ad``."""
    p = Path(path)
    if p.is_dir():
        names = {f.name for f in p.iterdir()}
        if {"matrix.mtx.gz", "matrix.mtx"} & names:
            return "10x_mtx"
        raise BelimapError(f"{p}: folder has no matrix.mtx(.gz); expected a 10x MTX folder (matrix, features, barcodes)")
    if p.suffix == ".h5ad":
        return "h5ad"
    if p.suffix == ".h5":
        return "10x_h5"
    raise BelimapError(f"{p}: unknown single-cell format; expected a 10x .h5 file, a 10x MTX folder or an .h5ad file")


def _read(p: Path) -> tuple[ad.AnnData, str]:
    """Read any supported single-cell file as it is (no count checks); a reader failure is the file's."""
    import anndata as ad
    import scanpy as sc

    fmt = detect_format(p)
    if fmt == "10x_mtx":
        check_mtx_dimensions(p)
    try:
        if fmt == "10x_h5":
            return sc.read_10x_h5(p), fmt
        if fmt == "10x_mtx":
            return sc.read_10x_mtx(p, var_names="gene_symbols", make_unique=True), fmt
        return ad.read_h5ad(p), fmt
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's fault here
        raise BelimapError(f"{p}: cannot be read as {fmt} ({type(err).__name__}: {err})") from None


def read_counts(path: str | Path) -> ad.AnnData:
    """Read a raw count matrix (cells × genes, CSR) from 10x HDF5, a 10x MTX folder or h5ad.

    For h5ad, counts are taken from ``layers['counts']`` if present, else ``X``. Gene symbols become
    ``var_names`` (made unique; Ensembl IDs kept in ``var['gene_ids']`` when given). A matrix that
    is not non-negative integers is refused: belimap needs raw counts for QC, doublets and DE.
    """
    p = Path(path)
    if not p.exists():
        raise BelimapError(f"{p}: file not found")
    adata, _ = _read(p)
    dup = adata.obs_names[adata.obs_names.duplicated()].unique()
    if len(dup):
        raise BelimapError(f"{p}: {len(dup)} cell barcode(s) appear more than once (e.g. '{dup[0]}'); "
                           "expected one row per cell barcode")
    if "counts" in adata.layers:
        adata.X = adata.layers["counts"]
    adata.layers.clear()
    adata.uns.clear()  # e.g. a 'log1p' entry describes X as it was, not the counts
    adata.var_names_make_unique()
    adata.X = sp.csr_matrix(adata.X, dtype=np.float32)
    check_counts(adata.X, p)
    return adata


def _first_file(folder: Path, names: tuple[str, ...]) -> Path | None:
    """The first of ``names`` (with or without ``.gz``) present in ``folder``, as 10x writes either."""
    return next((folder / n for name in names for n in (f"{name}.gz", name) if (folder / n).exists()), None)


def _text(path: Path):
    """Open a 10x text file, gzipped or not, for reading lines."""
    import gzip

    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def check_mtx_dimensions(folder: Path) -> None:
    """Refuse a 10x MTX folder whose features/barcodes files disagree with the matrix header.

    Read before scanpy so that the user sees which file is short, not a reshape error.
    """
    mtx = _first_file(folder, ("matrix.mtx",))  # detect_format found one
    with _text(mtx) as fh:
        line = next((ln for ln in fh if not ln.startswith("%")), "")
    try:
        n_genes, n_cells = (int(x) for x in line.split()[:2])
    except ValueError:
        raise BelimapError(f"{mtx}: no 'rows columns entries' header line; expected a MatrixMarket file") from None
    for names, expected, what, axis in ((("features.tsv", "genes.tsv"), n_genes, "genes", "row"),
                                        (("barcodes.tsv",), n_cells, "cells", "column")):
        found = _first_file(folder, names)
        if found is None:
            raise BelimapError(f"{folder}: no {names[0]}(.gz); expected it beside {mtx.name}")
        with _text(found) as fh:
            n_lines = sum(1 for _ in fh)
        if n_lines != expected:
            raise BelimapError(f"{found}: {n_lines} lines, but {mtx.name} declares {expected} {what}; "
                               f"expected one line per matrix {axis}")


def check_counts(X: sp.spmatrix | np.ndarray, where: str | Path) -> None:
    """Raise unless ``X`` holds non-negative integer counts."""
    data = X.data if sp.issparse(X) else np.asarray(X).ravel()
    if data.size == 0:
        raise BelimapError(f"{where}: the count matrix is empty")
    if not np.all(np.isfinite(data)) or data.min() < 0 or not np.allclose(data, np.round(data)):
        raise BelimapError(
            f"{where}: matrix is not raw counts (found negative, non-integer or non-finite values); "
            "expected non-negative integer UMI counts in X or layers['counts']"
        )


def summarise_counts(path: str | Path) -> dict:
    """Cells × genes of a single-cell file and whether it holds raw counts (``belimap inspect``)."""
    adata, fmt = _read(Path(path))
    p = Path(path)
    X = adata.layers["counts"] if "counts" in adata.layers else adata.X
    data = X.data if sp.issparse(X) else np.asarray(X).ravel()
    looks_counts = bool(data.size and data.min() >= 0 and np.allclose(data, np.round(data)))
    return {"file": str(p), "format": fmt, "cells": adata.n_obs, "genes": adata.n_vars,
            "counts_in": "layers['counts']" if "counts" in adata.layers else "X",
            "looks_like_counts": "yes" if looks_counts else "no (normalised or transformed values)"}
