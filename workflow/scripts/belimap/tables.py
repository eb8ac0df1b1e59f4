"""Reading and writing tables and AnnData files: one NA convention, atomic writes.

Every output goes through :func:`atomic_path` (write to a temporary file beside the target, then
``os.replace``), so a job killed mid-write never leaves a half-written file that a rerun trusts.
Every TSV belimap reads goes through :func:`read_table` (a user's table: all strings, checked
columns) or :func:`read_tsv` (a table belimap wrote: identifiers as strings, only blank cells
missing), so that "NA" or "None" in a cell never silently becomes a missing value.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from belimap.errors import BelimapError

if TYPE_CHECKING:  # anndata is a slow import; only the writer needs it, at call time
    import anndata as ad

#: Identifier columns of belimap's tables: always strings (a patient coded 007 or NA stays itself).
ID_COLUMNS = ("sample_id", "patient_id", "barcode", "cell_id")


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


def read_table(path: str | Path, required: list[str] | None = None, what: str = "table") -> pd.DataFrame:
    """Read a user's TSV as strings; refuse a missing file or missing columns with one line."""
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
    if required and len(df.columns) == 1 and ("," in df.columns[0] or ";" in df.columns[0]):
        sep = "commas" if "," in df.columns[0] else "semicolons"
        raise BelimapError(f"{path}: not tab-separated (the header row is split by {sep}); expected a tab-separated "
                           f"{what} with columns {', '.join(required)}")
    missing = [c for c in (required or []) if c not in df.columns]
    if missing:
        raise BelimapError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(required or [])}")
    return df


def read_tsv(path: str | Path) -> pd.DataFrame:
    """Read a table belimap wrote: identifiers as strings, only blank cells missing."""
    return pd.read_csv(path, sep="\t", dtype=dict.fromkeys(ID_COLUMNS, str), keep_default_na=False,
                       na_values=[""], low_memory=False)


def read_tsvs(paths: list[str] | list[Path]) -> pd.DataFrame:
    """Concatenate tables belimap wrote (per-file tables into a study table), in the given order."""
    return pd.concat([read_tsv(p) for p in paths], ignore_index=True)


def write_tsv(df: pd.DataFrame, path: str | Path, float_format: str = "%.6g") -> None:
    """Write a TSV atomically with a fixed float format (identical inputs give identical bytes).

    A ``.gz`` path is gzip-compressed without a timestamp or file name in its header, so that two
    runs on the same inputs give the same bytes there too.
    """
    with atomic_path(path) as tmp:
        if Path(path).suffix == ".gz":
            with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as gz:
                df.to_csv(gz, sep="\t", index=False, float_format=float_format)
        else:
            df.to_csv(tmp, sep="\t", index=False, float_format=float_format)


def write_text(text: str, path: str | Path) -> None:
    """Write a text file (an HTML page, a log summary) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_h5ad(adata: ad.AnnData, path: str | Path) -> None:
    """Write an h5ad atomically (gzip-compressed)."""
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp, compression="gzip")
