"""Reading what users have: the sample sheet and single-cell count matrices.

Readers accept the formats of real studies (10x HDF5, 10x MTX folders, h5ad with counts in ``X``
or a ``counts`` layer) and refuse anything else with one line naming the file and what was
expected. Writers are atomic, so a failure never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from belimap.config import validate
from belimap.errors import BelimapError

SHEET_COLUMNS = ["sample_id", "patient_id", "tissue", "timepoint", "modality", "path"]
OPTIONAL_COLUMNS = ["batch", "chemistry", "cells_per_ul"]
MODALITIES = ("scrna", "bcr", "flow")


def read_table(path: str | Path, required: list[str] | None = None, what: str = "table") -> pd.DataFrame:
    """Read a TSV as strings; refuse a missing file or missing columns with one line."""
    path = Path(path)
    if not path.exists():
        raise BelimapError(f"{path}: {what} not found")
    if not path.is_file():
        raise BelimapError(f"{path}: is a folder; expected a tab-separated {what} file")
    try:
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment=None)
    except pd.errors.EmptyDataError:
        raise BelimapError(f"{path}: the {what} is empty; expected a header row and data rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise BelimapError(f"{path}: cannot be read as a tab-separated {what} ({err})") from None
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in (required or []) if c not in df.columns]
    if missing:
        raise BelimapError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(required or [])}")
    return df


def simulated_path(cfg: dict, path: str | Path) -> bool:
    """Whether ``path`` lies under ``simulate.outdir`` of a simulated study (the workflow writes it)."""
    sim = cfg.get("simulate", {})
    if not sim.get("enabled"):
        return False
    sim_dir = Path(sim.get("outdir", "results/demo"))
    return Path(path).parts[: len(sim_dir.parts)] == sim_dir.parts


def read_sample_sheet(
    path: str | Path, cfg: dict, check_files: bool = True, base_dir: str | Path | None = None
) -> pd.DataFrame:
    """Read and validate the sample sheet against ``config/schemas/samples.schema.yaml``.

    Checks, each refused with the file, row (1-based data row) and column: schema (IDs match
    ``^[A-Za-z0-9_-]+$``, modality known), tissues and timepoints declared in the config, a
    ``(sample_id, modality)`` pair at most once, one patient/tissue/timepoint per ``sample_id``,
    and (``check_files``) that each path exists. Files the demo simulator will write are exempt.
    """
    path = Path(path)
    df = read_table(path, SHEET_COLUMNS, "sample sheet")
    if df.empty:
        raise BelimapError(f"{path}: the sample sheet has no rows")
    tissues, timepoints = list(cfg["tissues"]), list(cfg["timepoints"])
    base = Path(base_dir) if base_dir else Path.cwd()
    for i, row in enumerate(df.to_dict("records"), start=1):
        where = f"{path} row {i}"
        record = {k: v for k, v in row.items() if v != ""}
        if "cells_per_ul" in record:
            try:
                record["cells_per_ul"] = float(record["cells_per_ul"])
            except ValueError:
                raise BelimapError(f"{where}: column 'cells_per_ul': expected a number, got '{row['cells_per_ul']}'") from None
        validate(record, "samples", where, set_default=False)
        if row["tissue"] not in tissues:
            raise BelimapError(f"{where}: column 'tissue': '{row['tissue']}' is not one of the config's tissues {tissues}")
        if row["timepoint"] not in timepoints:
            raise BelimapError(
                f"{where}: column 'timepoint': '{row['timepoint']}' is not one of the config's timepoints {timepoints}"
            )
        if check_files:
            p = Path(row["path"])
            p = p if p.is_absolute() else base / p
            if not simulated_path(cfg, row["path"]) and not p.exists():
                raise BelimapError(f"{where}: column 'path': file '{row['path']}' does not exist")
    dup = df.duplicated(["sample_id", "modality"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup)[1]) + 1
        r = df.iloc[i - 1]
        raise BelimapError(
            f"{path} row {i}: column 'sample_id': '{r['sample_id']}' appears more than once for modality "
            f"'{r['modality']}'; expected one row per input file"
        )
    keys = df.groupby("sample_id")[["patient_id", "tissue", "timepoint"]].nunique()
    bad = keys[(keys > 1).any(axis=1)]
    if not bad.empty:
        sid = bad.index[0]
        i = int(np.flatnonzero(df["sample_id"] == sid)[1]) + 1
        raise BelimapError(
            f"{path} row {i}: sample_id '{sid}' names different patient/tissue/timepoint in different rows; "
            "expected one specimen per sample_id"
        )
    for col in OPTIONAL_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df["tissue"] = pd.Categorical(df["tissue"], categories=tissues, ordered=True)
    df["timepoint"] = pd.Categorical(df["timepoint"], categories=timepoints, ordered=True)
    return df.sort_values(["patient_id", "tissue", "timepoint", "modality"], kind="stable").reset_index(drop=True)


def specimens(sheet: pd.DataFrame) -> pd.DataFrame:
    """One row per specimen (sample_id) with its patient, tissue and timepoint."""
    return sheet.drop_duplicates("sample_id")[["sample_id", "patient_id", "tissue", "timepoint"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# count matrices
# --------------------------------------------------------------------------------------------
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


def read_counts(path: str | Path) -> ad.AnnData:
    """Read a raw count matrix (cells × genes, CSR) from 10x HDF5, a 10x MTX folder or h5ad.

    For h5ad, counts are taken from ``layers['counts']`` if present, else ``X``. Gene symbols become
    ``var_names`` (made unique; Ensembl IDs kept in ``var['gene_ids']`` when given). A matrix that
    is not non-negative integers is refused: belimap needs raw counts for QC, doublets and DE.
    """
    import scanpy as sc

    p = Path(path)
    if not p.exists():
        raise BelimapError(f"{p}: file not found")
    fmt = detect_format(p)
    try:
        if fmt == "10x_h5":
            adata = sc.read_10x_h5(p)
        elif fmt == "10x_mtx":
            adata = sc.read_10x_mtx(p, var_names="gene_symbols", make_unique=True)
        else:
            adata = ad.read_h5ad(p)
            if "counts" in adata.layers:
                adata.X = adata.layers["counts"]
            adata.layers.clear()
            adata.uns.clear()  # e.g. a 'log1p' entry describes X as it was, not the counts
    except BelimapError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's fault here
        raise BelimapError(f"{p}: cannot be read as {fmt} ({type(err).__name__}: {err})") from None
    adata.var_names_make_unique()
    adata.X = sp.csr_matrix(adata.X, dtype=np.float32)
    check_counts(adata.X, p)
    return adata


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


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give outputs the permissions of an ordinary file (umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


#: Identifier columns of belimap's tables: always strings (a patient coded 007 or NA stays itself).
ID_COLUMNS = ("sample_id", "patient_id", "barcode", "cell_id")


def read_tsv(path: str | Path) -> pd.DataFrame:
    """Read a table belimap wrote: identifiers as strings, only blank cells missing."""
    return pd.read_csv(path, sep="\t", dtype=dict.fromkeys(ID_COLUMNS, str), keep_default_na=False, na_values=[""])


def write_tsv(df: pd.DataFrame, path: str | Path, float_format: str = "%.6g") -> None:
    """Write a TSV atomically with a fixed float format (identical inputs give identical bytes)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format=float_format)


def write_h5ad(adata: ad.AnnData, path: str | Path) -> None:
    """Write an h5ad atomically (gzip-compressed)."""
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp, compression="gzip")
