"""Gene reference for the simulator, derived from a real 10x count matrix.

The source is the PBMC count matrix shipped inside the ``celltypist`` wheel
(``celltypist/data/samples/sample_cell_by_gene.csv``).  ``derive_gene_reference``
turns it into a compact table (one row per gene symbol: relative abundance,
detection rate, method-of-moments dispersion and the fitted trend dispersion)
that is committed as ``resources/simulate/gene_reference.tsv.gz``; nothing is
downloaded at run time.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["celltypist_sample_path", "derive_gene_reference", "fit_dispersion_trend",
           "gencode_symbols", "read_gene_reference"]


def celltypist_sample_path() -> Path:
    """Path of the real PBMC cell-by-gene count matrix inside the celltypist wheel."""
    import importlib.util
    spec = importlib.util.find_spec("celltypist")
    if spec is None or spec.origin is None:
        raise ImportError("celltypist is not installed (pip install celltypist==1.7.1)")
    return Path(spec.origin).parent / "data" / "samples" / "sample_cell_by_gene.csv"


def gencode_symbols() -> list[str]:
    """Every gene symbol of the GENCODE v44 id-to-name table in the celltypist wheel; the source of the
    IG constant/V and TR genes that the wheel's PBMC sample lacks."""
    path = celltypist_sample_path().parent / "GENCODEv44_Gene_id2name.csv"
    return pd.read_csv(path, header=None, usecols=[1]).iloc[:, 0].dropna().astype(str).unique().tolist()


def fit_dispersion_trend(mean: np.ndarray, dispersion: np.ndarray) -> tuple[float, float]:
    """Fit the negative-binomial trend ``phi(mu) = a + b / mu`` by least squares on
    genes with a finite, positive moment estimate; returns ``(a, b)`` (both >= 0)."""
    ok = np.isfinite(dispersion) & (dispersion > 0) & (mean > 0)
    x = np.column_stack([np.ones(ok.sum()), 1.0 / mean[ok]])
    coef, *_ = np.linalg.lstsq(x, dispersion[ok], rcond=None)
    return float(max(coef[0], 1e-3)), float(max(coef[1], 0.0))


def derive_gene_reference(counts: sp.spmatrix, genes: list[str]) -> pd.DataFrame:
    """Per-gene parameters of a real count matrix (cells x genes, raw UMIs)."""
    x = sp.csr_matrix(counts, dtype=np.float64)
    n = x.shape[0]
    mean = np.asarray(x.mean(axis=0)).ravel()
    sq = np.asarray(x.multiply(x).mean(axis=0)).ravel()
    var = sq - mean ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        disp = (var - mean) / mean ** 2          # NB: var = mu + phi mu^2
    a, b = fit_dispersion_trend(mean, disp)
    detected = np.asarray((x > 0).sum(axis=0)).ravel() / n
    total = mean.sum()
    return pd.DataFrame({
        "gene": genes,
        "rel_abundance": mean / total,
        "detection": detected,
        "dispersion_trend": np.where(mean > 0, a + b / np.maximum(mean, 1e-12), a + b),
        "mean_umis": mean,
    })


def read_gene_reference(path: str | Path) -> pd.DataFrame:
    """Read the committed gene reference table."""
    return pd.read_csv(path, sep="\t", compression="infer")


if __name__ == "__main__":  # regenerate: python -m belimap.simulate.reference OUT.tsv.gz
    import sys
    frame = pd.read_csv(celltypist_sample_path(), index_col=0)
    table = derive_gene_reference(sp.csr_matrix(frame.to_numpy()), list(frame.columns))
    table.to_csv(sys.argv[1], sep="\t", index=False, float_format="%.4g", compression="gzip")
    print(f"{len(table)} genes, {len(frame)} cells -> {sys.argv[1]}")
