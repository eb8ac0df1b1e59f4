"""Content checks of single-cell count matrices (10x HDF5, 10x MTX folders, h5ad), read cheaply.

:mod:`belimap.scrna.io` reads a whole matrix and stops at its first problem; here only the headers,
barcodes, feature names and a sample of the stored values are read (the first ``max_values`` values
in file order: a truncated or normalised matrix shows itself there, and a 50 000-cell matrix
validates in a second), and every problem of the file is reported.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from belimap.checks.problems import Problem, from_error, problem
from belimap.errors import BelimapError
from belimap.scrna.io import _first_file, _text, detect_format

COUNTS = "non-negative integer UMI counts (raw counts in X or layers['counts'])"
ENSEMBL = re.compile(r"^ENS[A-Z]*G\d{6,}(\.\d+)?$")
N_EXAMPLES = 5


def _examples(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values[:N_EXAMPLES]) + (", ..." if len(values) > N_EXAMPLES else "")


def value_problems(values: np.ndarray, where: str, n_stored: int) -> list[Problem]:
    """Non-finite, negative and non-integer values among a sample of stored counts."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return [problem(where, "the count matrix stores no values", COUNTS)] if n_stored == 0 else []
    finite = np.isfinite(v)
    kinds = {"NaN/Inf": int((~finite).sum()), "negative": int((v[finite] < 0).sum()),
             "non-integer": int((v[finite] != np.round(v[finite])).sum())}
    found = [f"{n} {k}" for k, n in kinds.items() if n]
    if not found:
        return []
    bad = v[~finite | (v < 0) | (v != np.round(v))]
    return [problem(where, f"{', '.join(found)} value(s) among the first {v.size} of {n_stored} stored values "
                    f"(e.g. {bad[0]:g})", COUNTS)]


def barcode_problems(barcodes: list[str], where: str) -> list[Problem]:
    """Barcodes must name one cell each."""
    s = np.asarray(barcodes, dtype=object)
    uniq, counts = np.unique(s, return_counts=True)
    dup = [str(b) for b in uniq[counts > 1]]
    if not dup:
        return []
    return [problem(where, f"{len(dup)} cell barcode(s) appear more than once ({_examples(dup)})",
                    "one row per cell barcode")]


def feature_warnings(symbols: list[str], where: str) -> list[Problem]:
    """Warnings (not errors): Ensembl IDs where symbols are expected, duplicated symbols."""
    out = []
    if symbols and all(ENSEMBL.match(s) for s in symbols[:1000]):
        out.append(problem(where, f"gene names are Ensembl IDs only (e.g. '{symbols[0]}')",
                           "gene symbols (marker genes in resources/markers are matched by symbol)", warning=True))
    uniq, counts = np.unique(np.asarray(symbols, dtype=object), return_counts=True)
    dup = [str(s) for s in uniq[counts > 1]]
    if dup:
        out.append(problem(where, f"{len(dup)} gene symbol(s) appear more than once ({_examples(dup)}); they are "
                           "made unique by suffixes (-1, -2)", "unique gene symbols", warning=True))
    return out


def _strings(ds) -> list[str]:  # noqa: ANN001 - an h5py dataset
    return [x.decode() if isinstance(x, bytes) else str(x) for x in ds[:]]


def _sparse_group(g, where: str, n_obs: int, n_var: int, axis_obs: int,  # noqa: ANN001 - an h5py group
                  max_values: int) -> list[Problem]:
    """A CSR/CSC group (``data``, ``indices``, ``indptr``): lengths agree with the shape; values sampled."""
    out = []
    missing = [k for k in ("data", "indices", "indptr") if k not in g]
    if missing:
        return [problem(where, f"sparse matrix lacks {', '.join(missing)}", "data, indices and indptr")]
    n_data, n_idx, n_ptr = g["data"].shape[0], g["indices"].shape[0], g["indptr"].shape[0]
    n_major = n_obs if axis_obs == 0 else n_var
    if n_ptr != n_major + 1:
        out.append(problem(where, f"indptr has {n_ptr} entries for {n_major} {'cells' if axis_obs == 0 else 'genes'}",
                           f"{n_major + 1} (one more than the matrix's major dimension)"))
    if n_idx != n_data:
        out.append(problem(where, f"{n_data} stored values but {n_idx} indices", "as many indices as values"))
    elif n_ptr and int(g["indptr"][-1]) != n_data:
        out.append(problem(where, f"indptr ends at {int(g['indptr'][-1])} but {n_data} values are stored",
                           "the last indptr entry to equal the number of stored values (truncated file?)"))
    # the first max_values stored values (a sample: a non-count matrix shows itself in any part)
    return out + value_problems(g["data"][: min(n_data, max_values)], where, n_data)


def _open_h5(p: Path, kind: str):  # noqa: ANN202 - (h5py.File | None, problems)
    """Open an HDF5 file, or the one-line problem saying it cannot be opened as ``kind``."""
    import h5py

    try:
        return h5py.File(p, "r"), []
    except OSError as err:
        return None, [problem(str(p), f"cannot be opened as HDF5 ({str(err).split('(')[0].strip()})",
                              f"{kind} (is the file truncated or corrupt?)")]


def check_10x_h5(p: Path, *, max_values: int) -> tuple[list[Problem], list[str] | None]:
    """Cell Ranger HDF5 (v3 ``matrix/``, or v2 ``<genome>/``): shape, barcodes, features, values."""
    import h5py

    f, opened = _open_h5(p, "a 10x filtered_feature_bc_matrix.h5")
    if f is None:
        return opened, None
    with f:
        names = [k for k in f if isinstance(f[k], h5py.Group) and {"data", "barcodes", "shape"} <= set(f[k])]
        if not names:
            return [problem(str(p), f"no group with data, barcodes and shape (top level: {', '.join(f) or 'empty'})",
                            "a 10x HDF5 file (Cell Ranger's matrix/ group)")], None
        g = f["matrix"] if "matrix" in names else f[names[0]]
        try:
            n_genes, n_cells = (int(x) for x in g["shape"][:2])
            barcodes = _strings(g["barcodes"])
            if "features" in g:
                symbols = _strings(g["features"]["name"])
            else:
                symbols = _strings(g["gene_names"] if "gene_names" in g else g["genes"])
            out = []
            if len(barcodes) != n_cells:
                out.append(problem(f"{p} barcodes", f"{len(barcodes)} barcodes for the {n_cells} cells of shape",
                                   "one barcode per matrix column"))
            if len(symbols) != n_genes:
                out.append(problem(f"{p} features", f"{len(symbols)} features for the {n_genes} genes of shape",
                                   "one feature per matrix row"))
            out += _sparse_group(g, str(p), n_cells, n_genes, 0, max_values)  # genes x cells CSC = cells x genes CSR
        except (OSError, KeyError, ValueError, TypeError) as err:
            return [problem(str(p), f"cannot be read as 10x HDF5 ({type(err).__name__}: {err})",
                            "a complete 10x HDF5 file (truncated or corrupt?)")], None
    return out + barcode_problems(barcodes, str(p)) + feature_warnings(symbols, str(p)), barcodes


def _mtx_header(mtx: Path) -> tuple[str, int, int, int, int]:
    """MatrixMarket field (integer/real/pattern), rows, columns, entries and the header's line count."""
    with _text(mtx) as fh:
        first = fh.readline()
        if not first.startswith("%%MatrixMarket"):
            raise BelimapError(f"{mtx}: first line is '{first.strip()[:40]}'; expected a '%%MatrixMarket matrix "
                               "coordinate ...' banner")
        n = 1
        for line in fh:
            n += 1
            if not line.startswith("%"):
                break
        try:
            rows, cols, nnz = (int(x) for x in line.split()[:3])
        except ValueError:
            raise BelimapError(f"{mtx}: line {n} is '{line.strip()[:40]}'; expected the 'rows columns entries' "
                               "line of a MatrixMarket file") from None
    parts = first.split()
    return (parts[3].lower() if len(parts) > 3 else ""), rows, cols, nnz, n


def check_10x_mtx(folder: Path, *, max_values: int) -> tuple[list[Problem], list[str] | None]:
    """A 10x MTX folder: banner and size line, features/barcodes line counts, values, barcodes."""
    import pandas as pd

    mtx = _first_file(folder, ("matrix.mtx",))
    try:
        field, n_genes, n_cells, nnz, n_head = _mtx_header(mtx)
    except BelimapError as err:
        return [from_error(err)], None
    except (OSError, EOFError, UnicodeDecodeError) as err:
        return [problem(str(mtx), f"cannot be read ({type(err).__name__}: {err})", "a MatrixMarket file")], None
    out, barcodes, symbols = [], None, []
    if field == "pattern":
        out.append(problem(str(mtx), "a 'pattern' matrix stores no values", COUNTS))
    for names, expected, what, axis in ((("features.tsv", "genes.tsv"), n_genes, "genes", "row"),
                                        (("barcodes.tsv",), n_cells, "cells", "column")):
        found = _first_file(folder, names)
        if found is None:
            out.append(problem(str(folder), f"no {names[0]}(.gz)", f"it beside {mtx.name}"))
            continue
        try:
            with _text(found) as fh:
                lines = fh.read().splitlines()
        except (OSError, EOFError, UnicodeDecodeError) as err:
            out.append(problem(str(found), f"cannot be read ({type(err).__name__}: {err})", "a (gzipped) text file"))
            continue
        if len(lines) != expected:
            out.append(problem(str(found), f"{len(lines)} lines, but {mtx.name} declares {expected} {what}",
                               f"one line per matrix {axis}"))
        if what == "cells":
            barcodes = [ln.split("\t")[0] for ln in lines]
        else:
            symbols = [(ln.split("\t") + [""])[1] or ln.split("\t")[0] for ln in lines]
    try:
        body = pd.read_csv(mtx, sep=" ", header=None, skiprows=n_head, nrows=max_values, comment="%",
                           dtype=np.float64, usecols=[0, 1] if field == "pattern" else [0, 1, 2])
    except Exception as err:  # noqa: BLE001 - any parser failure is the file's
        out.append(problem(str(mtx), f"entries cannot be read ({type(err).__name__}: {str(err).splitlines()[0]})",
                           "'row column count' lines (is the file truncated or corrupt?)"))
        return out, barcodes
    if len(body) < min(nnz, max_values):
        out.append(problem(str(mtx), f"{len(body)} entries, but its size line declares {nnz}",
                           "every declared entry (is the file truncated?)"))
    bad_rows = int(((body[0] < 1) | (body[0] > n_genes)).sum())
    bad_cols = int(((body[1] < 1) | (body[1] > n_cells)).sum())
    if bad_rows or bad_cols:
        out.append(problem(str(mtx), f"{bad_rows} row and {bad_cols} column indices outside the declared "
                           f"{n_genes} × {n_cells}", "1-based indices within the size line"))
    if field != "pattern":
        out += value_problems(body[2].to_numpy(), str(mtx), nnz)
    return (out + (barcode_problems(barcodes, str(folder)) if barcodes else [])
            + feature_warnings(symbols, str(folder))), barcodes


def _frame_index(g) -> list[str]:  # noqa: ANN001 - an h5py group or compound dataset
    import h5py

    if isinstance(g, h5py.Dataset):  # anndata < 0.7 wrote a compound dataset
        return [x.decode() if isinstance(x, bytes) else str(x) for x in g["index"]]
    return _strings(g[g.attrs.get("_index", "_index")])


def check_h5ad(p: Path, *, max_values: int) -> tuple[list[Problem], list[str] | None]:
    """An h5ad: the matrix belimap reads (``layers['counts']``, else ``X``), obs and var names."""
    import h5py

    f, opened = _open_h5(p, "an .h5ad file")
    if f is None:
        return opened, None
    with f:
        try:
            barcodes, genes = _frame_index(f["obs"]), _frame_index(f["var"])
            key = "layers/counts" if "layers" in f and "counts" in f["layers"] else "X"
            where = f"{p} layers['counts']" if key != "X" else f"{p} X"
            m = f[key]
            if isinstance(m, h5py.Group):
                enc = m.attrs.get("encoding-type", "") or m.attrs.get("h5sparse_format", "")
                n_obs, n_var = (int(x) for x in m.attrs.get("shape", m.attrs.get("h5sparse_shape")))
                out = _sparse_group(m, where, n_obs, n_var, 0 if str(enc).startswith("csr") else 1, max_values)
            else:
                n_obs, n_var = m.shape
                out = value_problems(m[: max(1, max_values // max(n_var, 1))], where, n_obs * n_var)
        except (OSError, KeyError, ValueError, TypeError) as err:
            return [problem(str(p), f"cannot be read as h5ad ({type(err).__name__}: {err})",
                            "an AnnData .h5ad with obs, var and X (truncated or corrupt?)")], None
    if (n_obs, n_var) != (len(barcodes), len(genes)):
        out.append(problem(where, f"shape {n_obs} × {n_var} but {len(barcodes)} obs and {len(genes)} var names",
                           "a matrix of cells (obs) × genes (var)"))
    return out + barcode_problems(barcodes, f"{p} obs_names") + feature_warnings(genes, f"{p} var_names"), barcodes


def check_matrix(path: str | Path, *, max_values: int) -> tuple[list[Problem], list[str] | None]:
    """Every problem of one scRNA file, and its cell barcodes (None when they cannot be read)."""
    p = Path(path)
    try:
        fmt = detect_format(p)
    except BelimapError as err:
        return [from_error(err)], None
    reader = {"10x_h5": check_10x_h5, "10x_mtx": check_10x_mtx, "h5ad": check_h5ad}[fmt]
    return reader(p, max_values=max_values)
