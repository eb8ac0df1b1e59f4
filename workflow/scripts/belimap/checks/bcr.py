"""Content checks of BCR files (10x contig CSV, AIRR rearrangement TSV) and their pairing with scRNA.

A contig file is small (one row per contig), so it is read whole, as text: the required columns
(:data:`belimap.bcr.io.TENX_COLUMNS` / :data:`~belimap.bcr.io.AIRR_COLUMNS`), a barcode on every
row, and no contig ID repeated with a different CDR3 (two contigs merged under one name, which
would silently pick one of them). Its cell barcodes are returned so that the study check can
compare them with the same specimen's scRNA barcodes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from belimap.bcr.io import AIRR_COLUMNS, TENX_COLUMNS, detect_bcr_format
from belimap.checks.problems import Problem, from_error, problem
from belimap.errors import BelimapError

#: Per format: required columns, what it is, and its (cell, contig, CDR3) columns.
FORMATS = {
    "10x_contigs": (TENX_COLUMNS, "a 10x contig CSV", ("barcode", "contig_id", "cdr3"), ","),
    "airr": (AIRR_COLUMNS, "an AIRR rearrangement TSV", ("cell_id", "sequence_id", "junction_aa"), "\t"),
}


def _rows(idx: pd.Index) -> str:
    rows = [str(int(i) + 1) for i in idx[:5]]
    return ", ".join(rows) + (", ..." if len(idx) > 5 else "")


def check_contigs(path: str | Path) -> tuple[list[Problem], set[str] | None]:
    """Every problem of one BCR file, and its cell barcodes (None when they cannot be read)."""
    p = Path(path)
    try:
        fmt = detect_bcr_format(p)
    except BelimapError as err:
        return [from_error(err)], None
    if p.suffix == ".json":
        return [], None  # Cell Ranger's all_contig_annotations.json: left to scirpy's reader
    required, what, (cell, contig, cdr3), sep = FORMATS[fmt]
    try:
        df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        return [problem(str(p), "the file is empty", f"{what} with a header row")], None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as err:
        return [problem(str(p), f"cannot be read ({type(err).__name__}: {str(err).splitlines()[0]})", what)], None
    missing = [c for c in required if c not in df.columns]
    if missing:
        hint = " (the header is split by tabs, not commas)" if len(df.columns) == 1 and "\t" in df.columns[0] else ""
        return [problem(str(p), f"missing column(s) {', '.join(missing)}{hint}",
                        f"{what} with {', '.join(required)}")], None
    out = []
    blank = df.index[df[cell].str.strip() == ""]
    if len(blank):
        out.append(problem(f"{p} row(s) {_rows(blank)}: column '{cell}'", f"{len(blank)} row(s) without a cell barcode",
                           "single-cell data with a barcode on every contig"))
    n_cdr3 = df.groupby(contig)[cdr3].nunique()
    clash = n_cdr3[n_cdr3 > 1].index
    if len(clash):
        rows = df.index[df[contig].isin(clash)]
        out.append(problem(f"{p} rows {_rows(rows)}: column '{contig}'",
                           f"{len(clash)} {contig}(s) repeated with different {cdr3} "
                           f"(e.g. '{clash[0]}': {', '.join(sorted(df.loc[df[contig] == clash[0], cdr3].unique()))})",
                           f"one {cdr3} per {contig}"))
    return out, set(df.loc[df[cell].str.strip() != "", cell])


def overlap_problem(bcr: set[str], scrna: list[str], where: str, scrna_file: str, *,
                    min_overlap: float) -> Problem | None:
    """A warning when few of a specimen's BCR cells are among its scRNA barcodes (wrong pairing?)."""
    if not bcr:
        return None
    shared = len(bcr & set(scrna))
    frac = shared / len(bcr)
    if frac >= min_overlap:
        return None
    return problem(where, f"{shared} of {len(bcr)} BCR cell barcodes ({frac:.1%}) are among the {len(scrna)} barcodes "
                   f"of the specimen's scRNA file {scrna_file}",
                   f"at least {min_overlap:.0%} (validate.min_barcode_overlap): the same cells in both files, with the "
                   "same barcode suffix", warning=True)
