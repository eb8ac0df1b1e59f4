"""Reading and writing BCR data: 10x contigs and AIRR rearrangements in, AIRR tables and MuData out.

scirpy does the parsing (``io.read_10x_vdj``, ``io.read_airr``, ``io.write_airr``); written here is
what a study needs around it: a one-line error for a file that is not what it claims to be, gene-level
V/D/J calls whatever the aligner wrote, and cells named ``"{sample_id}:{barcode}"`` from the start,
exactly like ``obs_names`` of ``results/scrna/integrated.h5ad``, so attaching to the scRNA cells is an
index join.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from belimap.errors import BelimapError
from belimap.tables import atomic_path

if TYPE_CHECKING:  # anndata, numpy and mudata are slow imports; needed at call time only
    import anndata as ad
    import mudata as md
    import numpy as np

log = logging.getLogger(__name__)

#: Columns of a Cell Ranger ``filtered_contig_annotations.csv`` that belimap needs.
TENX_COLUMNS = ["barcode", "contig_id", "chain", "v_gene", "j_gene", "c_gene", "productive", "cdr3", "cdr3_nt"]
#: Columns of an AIRR rearrangement TSV that belimap needs (``locus`` and ``c_call`` are optional).
AIRR_COLUMNS = ["cell_id", "sequence_id", "productive", "v_call", "j_call", "junction", "junction_aa"]


def detect_bcr_format(path: str | Path) -> str:
    """``10x_contigs`` for a Cell Ranger contig CSV (or JSON), ``airr`` for an AIRR rearrangement TSV."""
    name = Path(path).name.lower()
    if name.endswith((".csv", ".csv.gz", ".json")):
        return "10x_contigs"
    if name.endswith((".tsv", ".tsv.gz")):
        return "airr"
    raise BelimapError(f"{path}: unknown BCR format; expected a 10x filtered_contig_annotations .csv(.gz) "
                       "or an AIRR rearrangement .tsv(.gz)")


def gene_call(call: str | float | None) -> str | float | None:
    """Reduce a V/D/J call to its gene: first of several calls, allele dropped (``IGHV3-23*01`` → ``IGHV3-23``).

    AIRR tools report alleles and ties, 10x reports genes; clonotypes with ``same_v_gene`` compare the
    strings, so both formats must name genes the same way. Missing calls (NaN, None, ``""``) pass through.
    """
    if not isinstance(call, str) or call in ("", "None", "nan"):
        return call
    return call.split(",")[0].strip().split("*")[0]


def read_bcr(path: str | Path, sample_id: str) -> ad.AnnData:
    """Read one BCR file into scirpy's AnnData, cells named ``{sample_id}:{barcode}``.

    Returns an AnnData with the chains in ``obsm['airr']`` (scirpy's awkward array) and
    ``obs_names`` ``"{sample_id}:{barcode}"`` (index name ``cell_id``). A file without contigs gives
    an empty AnnData (a failed library is a result, not an error).

    The user's AIRR TSV is read with pandas' own type inference, not :func:`belimap.tables.read_table`:
    scirpy's ``read_airr`` needs the numeric and boolean columns (``umi_count``, ``productive``) typed.
    """
    import scirpy as ir

    path = Path(path)
    if not path.exists():
        raise BelimapError(f"{path}: BCR file not found")
    fmt = detect_bcr_format(path)
    try:
        if fmt == "10x_contigs":
            if path.suffix != ".json":
                head = pd.read_csv(path, nrows=1)
                _check_columns(path, head.columns, TENX_COLUMNS, "a 10x contig CSV")
                if head.empty:
                    return _empty_airr()
            adata = ir.io.read_10x_vdj(path)
        else:
            df = pd.read_csv(path, sep="\t", low_memory=False)
            _check_columns(path, df.columns, AIRR_COLUMNS, "an AIRR rearrangement TSV")
            if df.empty:
                return _empty_airr()
            blank = df["cell_id"].isna() | (df["cell_id"].astype(str).str.strip() == "")
            if blank.any():
                raise BelimapError(f"{path} row {int(blank.to_numpy().argmax()) + 1}: empty cell_id; expected "
                                   "single-cell AIRR data with a cell barcode on every rearrangement")
            for col in ("v_call", "d_call", "j_call"):
                if col in df.columns:
                    df[col] = df[col].map(gene_call)
            df["cell_id"] = df["cell_id"].astype(str)
            adata = ir.io.read_airr(df)
    except BelimapError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's fault here
        raise BelimapError(f"{path}: cannot be read as {fmt} ({type(err).__name__}: {err})") from None
    if adata.n_obs == 0:
        log.warning("%s: no cells with contigs", path)
    adata.obs_names = [f"{sample_id}:{b}" for b in adata.obs_names]
    adata.obs.index.name = "cell_id"
    return adata


def _empty_airr() -> ad.AnnData:
    """A sample with no contigs (a failed library, or no B cells): kept as an empty table, not an error."""
    import anndata as ad

    return ad.AnnData(obs=pd.DataFrame(index=pd.Index([], name="cell_id", dtype=str)))


def _check_columns(path: Path, columns: pd.Index, required: list[str], what: str) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise BelimapError(f"{path}: missing column(s) {', '.join(missing)}; "
                           f"expected {what} with {', '.join(required)}")


def write_airr_table(adata: ad.AnnData, path: str | Path) -> None:
    """Write the rearrangements of ``adata`` as an AIRR TSV (atomic); an empty sample gets the header only."""
    import scirpy as ir

    with atomic_path(path) as tmp:
        if adata.n_obs == 0:
            pd.DataFrame(columns=["cell_id", *AIRR_COLUMNS[1:], "locus", "c_call"]).to_csv(tmp, sep="\t", index=False)
        else:
            ir.io.write_airr(adata, tmp)


def read_airr_tables(paths: Mapping[str, str | Path]) -> ad.AnnData:
    """Read per-sample AIRR tables (``sample_id -> path``) written by :func:`write_airr_table` into one AnnData.

    One ``read_airr`` call over all files builds one awkward array with one record type (concatenating
    per-file AnnData gives union types that scirpy cannot index). Each file's first cells are checked
    to belong to its sample (a peek at five ``cell_id`` values, not a read of the table, so not
    :func:`belimap.tables.read_tsv`); samples without contigs are left out.
    """
    import scirpy as ir

    files = []
    for sid, p in paths.items():
        head = pd.read_csv(p, sep="\t", nrows=5, usecols=["cell_id"], dtype=str)
        bad = [c for c in head["cell_id"] if not c.startswith(f"{sid}:")]
        if bad:
            raise BelimapError(f"{p}: cell_id '{bad[0]}' does not start with '{sid}:'; expected a belimap sample table")
        if not head.empty:
            files.append(str(p))
    if not files:
        raise BelimapError("no BCR sample has any cell with contigs; expected at least one")
    airr = ir.io.read_airr(files)
    airr.obs.index.name = "cell_id"
    return airr


def build_mudata(gex_obs: pd.DataFrame, gex_obsm: Mapping[str, np.ndarray], airr: ad.AnnData) -> md.MuData:
    """MuData with modalities ``gex`` (the scRNA cells' ``obs`` and ``obsm`` embeddings, no genes) and
    ``airr`` (a copy of scirpy's object).

    Expression stays in ``results/scrna/integrated.h5ad`` (same ``obs_names``) instead of a second copy;
    scirpy's and muon's plotting work on this object (e.g. UMAP coloured by clone). In the ``airr``
    copy, object ``obs`` columns become strings with ``""`` for missing (h5mu stores no mixed columns).
    """
    import anndata as ad
    import mudata as md
    import numpy as np

    md.set_options(pull_on_update=False)  # the future default; keeps modality obs where they are
    gex = ad.AnnData(obs=gex_obs.copy(), obsm={k: np.asarray(v) for k, v in gex_obsm.items()})
    air = airr.copy()
    for col in air.obs.columns:
        if air.obs[col].dtype == object:
            air.obs[col] = air.obs[col].astype(str).replace("nan", "")
    return md.MuData({"gex": gex, "airr": air})


def write_mudata(mdata: md.MuData, path: str | Path) -> None:
    """Write a MuData atomically."""
    with atomic_path(path) as tmp:
        mdata.write(tmp)


def read_gex_cells(path: str | Path) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """``obs`` and every ``obsm`` array of an h5ad, read backed so that the expression matrix stays on disk."""
    import anndata as ad

    gex = ad.read_h5ad(path, backed="r")
    obs, obsm = gex.obs.copy(), {k: gex.obsm[k][:] for k in gex.obsm.keys()}
    gex.file.close()
    return obs, obsm
