"""Write the corpus of small malformed study inputs that ``belimap validate`` must refuse in one line.

Run from anywhere: ``python tests/data/bad/make_corpus.py`` rewrites every file beside this script
and ``expected.tsv`` (file, kind, level, expected words separated by ``|``). Each entry is one bad
input dropped into an otherwise valid tiny study (``tests/test_validate.py`` builds it): a sheet, a
config, a clinical table, or one scRNA/FCS/BCR file next to the good files under ``good/``. The
files are tiny (a few KB each) and deterministic (fixed seed, gzip without timestamps).
"""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import h5py
import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(13)
N_CELLS, N_GENES = 20, 30
BARCODES = [f"{''.join(RNG.choice(list('ACGT'), 16))}-1" for _ in range(N_CELLS)]
GENES = [f"GENE{i}" for i in range(N_GENES)]
COUNTS = sp.csr_matrix(RNG.poisson(1.0, (N_CELLS, N_GENES)).astype(np.int32))
#: The demo panel ($PnN, $PnS) of resources/gating/bcell_panel.yaml.
PANEL = [("FSC-A", ""), ("FSC-H", ""), ("SSC-A", ""), ("BV510-A", "Viability"), ("APC-H7-A", "CD3"),
         ("BV786-A", "CD19"), ("BUV395-A", "CD20"), ("BV421-A", "CD27"), ("FITC-A", "IgD"),
         ("PerCP-Cy5-5-A", "CD38"), ("PE-A", "CD24"), ("PE-Cy7-A", "CD21"), ("APC-A", "CD11c"), ("Time", "")]
SHEET_HEADER = ["sample_id", "patient_id", "tissue", "timepoint", "modality", "path"]
MANIFEST: list[tuple[str, str, str, str]] = []


def entry(name: str, kind: str, words: str, level: str = "error") -> Path:
    """Register a corpus file (relative to this folder) and return its path."""
    MANIFEST.append((name, kind, level, words))
    path = HERE / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as fh:
        fh.write(data)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# scRNA matrices
# --------------------------------------------------------------------------------------------
def write_h5(path: Path, counts=COUNTS, barcodes=BARCODES, genes=GENES, ids=None, shape=None,  # noqa: ANN001
             data=None, indptr=None) -> None:
    """Cell Ranger v3 HDF5 (genes × cells CSC = cells × genes CSR), each array overridable."""
    m = sp.csr_matrix(counts)
    with h5py.File(path, "w") as f:
        g = f.create_group("matrix")
        g.create_dataset("barcodes", data=np.array(barcodes, dtype="S"))
        g.create_dataset("data", data=m.data if data is None else data)
        g.create_dataset("indices", data=m.indices.astype(np.int64))
        g.create_dataset("indptr", data=(m.indptr if indptr is None else indptr).astype(np.int64))
        g.create_dataset("shape", data=np.array(shape or [len(genes), len(barcodes)], dtype=np.int32))
        feat = g.create_group("features")
        feat.create_dataset("id", data=np.array(ids or [f"ENSG{i:011d}" for i in range(len(genes))], dtype="S"))
        feat.create_dataset("name", data=np.array(genes, dtype="S"))
        feat.create_dataset("feature_type", data=np.array(["Gene Expression"] * len(genes), dtype="S"))


def write_mtx(folder: Path, *, banner: str = "%%MatrixMarket matrix coordinate integer general",
              values=None, rows=None, n_genes=N_GENES, n_cells=N_CELLS, barcodes=BARCODES,  # noqa: ANN001
              genes=GENES, cut: int | None = None, skip: tuple[str, ...] = ()) -> None:
    """A 10x MTX folder (gzipped), with the pieces a test wants broken."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    m = sp.coo_matrix(COUNTS.T)
    vals = m.data if values is None else values
    rr = m.row + 1 if rows is None else rows
    body = "".join(f"{i} {j} {v}\n" for i, j, v in zip(rr, m.col + 1, vals, strict=True))
    text = f"{banner}\n%\n{n_genes} {n_cells} {m.nnz}\n{body}".encode()
    blob = gz(text)
    (folder / "matrix.mtx.gz").write_bytes(blob[:cut] if cut else blob)
    if "features" not in skip:
        feats = "".join(f"ENSG{i:011d}\t{g}\tGene Expression\n" for i, g in enumerate(genes))
        (folder / "features.tsv.gz").write_bytes(gz(feats.encode()))
    if "barcodes" not in skip:
        (folder / "barcodes.tsv.gz").write_bytes(gz("".join(f"{b}\n" for b in barcodes).encode()))


def write_h5ad(path: Path, X, obs=BARCODES, var=GENES, layer=None) -> None:  # noqa: ANN001
    import anndata as ad
    import pandas as pd

    a = ad.AnnData(X=X, obs=pd.DataFrame(index=list(obs)), var=pd.DataFrame(index=list(var)))
    if layer is not None:
        a.layers["counts"] = layer
    a.write_h5ad(path)


def scrna_entries() -> None:
    write_h5(entry("good/good.h5", "good", ""))
    write_mtx(HERE / "good/good_mtx")
    MANIFEST.append(("good/good_mtx", "good", "", ""))
    write_h5ad(entry("good/good.h5ad", "good", ""), COUNTS.astype(np.float32))
    good = (HERE / "good/good.h5").read_bytes()
    entry("h5/truncated.h5", "10x_h5", "cannot be opened as HDF5|truncated").write_bytes(good[: len(good) // 2])
    entry("h5/not_hdf5.h5", "10x_h5", "cannot be opened as HDF5").write_text("barcode,gene,count\n")
    with h5py.File(entry("h5/no_matrix.h5", "10x_h5", "no group with data, barcodes and shape"), "w") as f:
        f.create_dataset("counts", data=np.arange(4))
    neg = COUNTS.copy()
    neg.data[3] = -2
    write_h5(entry("h5/negative.h5", "10x_h5", "negative|non-negative integer"), neg)
    write_h5(entry("h5/float.h5", "10x_h5", "non-integer"), data=COUNTS.data + 0.5)
    nan = COUNTS.data.astype(np.float32)
    nan[0] = np.nan
    write_h5(entry("h5/nan.h5", "10x_h5", "NaN/Inf"), data=nan)
    write_h5(entry("h5/dup_barcodes.h5", "10x_h5", "barcode(s) appear more than once"),
             barcodes=[BARCODES[0]] * 2 + BARCODES[2:])
    write_h5(entry("h5/short_barcodes.h5", "10x_h5", "barcodes for the 20 cells"), barcodes=BARCODES[:-3],
             shape=[N_GENES, N_CELLS])
    write_h5(entry("h5/bad_indptr.h5", "10x_h5", "indptr"), indptr=COUNTS.indptr[:-2])
    write_h5(entry("h5/ensembl_only.h5", "10x_h5", "Ensembl IDs only", "warning"),
             genes=[f"ENSG{i:011d}" for i in range(N_GENES)])
    write_h5(entry("h5/dup_symbols.h5", "10x_h5", "gene symbol(s) appear more than once|'GENE1'", "warning"),
             genes=["GENE1", "GENE1"] + GENES[2:])
    write_mtx(entry("mtx/short_features", "10x_mtx", "features.tsv.gz: 25 lines|declares 30 genes"), genes=GENES[:25])
    write_mtx(entry("mtx/short_barcodes", "10x_mtx", "barcodes.tsv.gz: 18 lines|declares 20 cells"),
              barcodes=BARCODES[:18])
    write_mtx(entry("mtx/no_barcodes", "10x_mtx", "no barcodes.tsv"), skip=("barcodes",))
    write_mtx(entry("mtx/bad_banner", "10x_mtx", "%%MatrixMarket"), banner="matrix 30 20")
    m = sp.coo_matrix(COUNTS.T)
    vals = m.data.astype(object)
    vals[1] = -1
    write_mtx(entry("mtx/negative", "10x_mtx", "negative"), values=vals)
    write_mtx(entry("mtx/real_values", "10x_mtx", "non-integer"), values=m.data / 3,
              banner="%%MatrixMarket matrix coordinate real general")
    write_mtx(entry("mtx/truncated_gz", "10x_mtx", "truncated"), cut=200)
    write_mtx(entry("mtx/dup_barcodes", "10x_mtx", "barcode(s) appear more than once"),
              barcodes=BARCODES[:5] * 4)
    rows = m.row + 1
    rows[0] = N_GENES + 7
    write_mtx(entry("mtx/index_out_of_range", "10x_mtx", "outside the declared"), rows=rows)
    write_mtx(entry("mtx/pattern", "10x_mtx", "'pattern' matrix"), values=[""] * m.nnz,
              banner="%%MatrixMarket matrix coordinate pattern general")
    folder = entry("mtx/no_matrix", "10x_mtx", "no matrix.mtx")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "barcodes.tsv").write_text("".join(f"{b}\n" for b in BARCODES))
    lognorm = COUNTS.astype(np.float32)
    lognorm.data = np.log1p(lognorm.data / 3)
    write_h5ad(entry("h5ad/lognormalised.h5ad", "h5ad", "non-integer|X"), lognorm)
    write_h5ad(entry("h5ad/dup_obs.h5ad", "h5ad", "barcode(s) appear more than once"), COUNTS.astype(np.float32),
               obs=[BARCODES[0]] * 3 + BARCODES[3:])
    ad_good = (HERE / "good/good.h5ad").read_bytes()
    entry("h5ad/truncated.h5ad", "h5ad", "cannot be opened as HDF5").write_bytes(ad_good[:3000])
    dense = COUNTS.toarray().astype(np.float32)
    dense[2, 3] = -5
    write_h5ad(entry("h5ad/dense_negative.h5ad", "h5ad", "negative"), dense)
    inf = COUNTS.astype(np.float32)
    inf.data[0] = np.inf
    write_h5ad(entry("h5ad/inf_counts_layer.h5ad", "h5ad", "NaN/Inf|layers['counts']"), lognorm, layer=inf)
    entry("h5ad/matrix.csv", "h5ad", "unknown single-cell format").write_text("gene,cell\n")


# --------------------------------------------------------------------------------------------
# FCS
# --------------------------------------------------------------------------------------------
def fcs_bytes(panel=PANEL, spill: str | None = None, n: int = 100) -> bytes:  # noqa: ANN001
    import flowio

    events = RNG.uniform(0, 1000, (n, len(panel))).astype(np.float32)
    fl = [p for p, _ in panel if not p.startswith(("FSC", "SSC", "Time"))]
    if spill is None:
        spill = ",".join([str(len(fl)), *fl, *(str(v) for v in np.eye(len(fl)).ravel().astype(int))])
    md = {"$SPILLOVER": spill, "$CYT": "belimap corpus", "$DATE": "01-JAN-2026"}
    buf = io.BytesIO()
    flowio.create_fcs(buf, events.ravel(), [p for p, _ in panel], opt_channel_names=[s for _, s in panel],
                      metadata_dict=md)
    return buf.getvalue()


def fcs_entries() -> None:
    good = fcs_bytes()
    entry("good/good.fcs", "good", "").write_bytes(good)
    entry("fcs/not_fcs.fcs", "fcs", "not an FCS version").write_text("FSC-A,SSC-A\n1,2\n")
    entry("fcs/empty.fcs", "fcs", "the file is empty").write_bytes(b"")
    entry("fcs/truncated.fcs", "fcs", "cannot be read as an FCS file|greater than file size").write_bytes(
        good[: len(good) - 1500])
    tot = good.replace(b"$TOT/100/", b"$TOT/120/") if b"$TOT/100/" in good else None
    assert tot is not None, "flowio wrote $TOT differently"
    entry("fcs/tot_edited.fcs", "fcs", "$TOT=120|DATA segment").write_bytes(tot)
    dup = [("FSC-A", ""), ("FSC-A", ""), *PANEL[2:]]
    entry("fcs/duplicate_channels.fcs", "fcs", "FSC-A used more than once").write_bytes(fcs_bytes(dup))
    fl = [p for p, _ in PANEL if not p.startswith(("FSC", "SSC", "Time"))]
    entry("fcs/spill_not_square.fcs", "fcs", "not a square matrix").write_bytes(
        fcs_bytes(spill=",".join([str(len(fl)), *fl, *["0"] * (len(fl) * len(fl) - 3)])))
    other = ["BV650-A", *fl[1:]]
    entry("fcs/spill_unknown_channel.fcs", "fcs", "BV650-A that the file does not have").write_bytes(
        fcs_bytes(spill=",".join([str(len(fl)), *other, *(str(v) for v in np.eye(len(fl)).ravel().astype(int))])))
    entry("fcs/spill_text_values.fcs", "fcs", "not numbers").write_bytes(
        fcs_bytes(spill=",".join([str(len(fl)), *fl, "one", *["0"] * (len(fl) * len(fl) - 1)])))
    lacking = [(p, "" if s in ("CD27", "IgD", "CD24") else s) for p, s in PANEL]
    entry("fcs/missing_markers.fcs", "fcs", "lacks 3 channel(s)|CD27, IgD, CD24").write_bytes(fcs_bytes(lacking))
    no_cd19 = [p for p in PANEL if p[1] not in ("CD19",)]
    entry("fcs/missing_cd19_channel.fcs", "fcs", "lacks 1 channel(s)|CD19").write_bytes(fcs_bytes(no_cd19))


# --------------------------------------------------------------------------------------------
# BCR
# --------------------------------------------------------------------------------------------
TENX = ("barcode,is_cell,contig_id,high_confidence,chain,v_gene,d_gene,j_gene,c_gene,full_length,productive,"
        "cdr3,cdr3_nt,reads,umis")
AIRR = "cell_id\tsequence_id\tproductive\tv_call\tj_call\tc_call\tlocus\tjunction\tjunction_aa"


def tenx_rows(barcodes=BARCODES[:6]) -> list[list[str]]:  # noqa: ANN001
    rows = []
    for b in barcodes:
        rows.append([b, "True", f"{b}_contig_1", "True", "IGH", "IGHV3-23", "None", "IGHJ4", "IGHM", "True", "True",
                     "CARDYW", "TGTGCGAGAGATTACTGG", "500", "5"])
        rows.append([b, "True", f"{b}_contig_2", "True", "IGK", "IGKV1-39", "None", "IGKJ1", "IGKC", "True", "True",
                     "CQQSYSTPWTF", "TGTCAGCAGAGTTACAGTACCCCGTGGACGTTC", "400", "4"])
    return rows


def airr_rows(barcodes=BARCODES[:6]) -> list[list[str]]:  # noqa: ANN001
    return [[b, f"{b}_contig_1", "T", "IGHV3-23*01", "IGHJ4*02", "IGHM", "IGH", "TGTGCGAGAGATTACTGG", "CARDYW"]
            for b in barcodes]


def table(header: str, rows: list[list[str]], sep: str) -> str:
    return header.replace(",", sep) + "\n" + "".join(sep.join(r) + "\n" for r in rows)


def bcr_entries() -> None:
    entry("good/good_contigs.csv", "good", "").write_text(table(TENX, tenx_rows(), ","))
    entry("good/good_airr.tsv", "good", "").write_text(table(AIRR, airr_rows(), "\t"))
    entry("bcr/contigs_missing_columns.csv", "contigs", "missing column(s) cdr3, cdr3_nt").write_text(
        table(TENX.replace(",cdr3,cdr3_nt", ""), [r[:11] + r[13:] for r in tenx_rows()], ","))
    entry("bcr/contigs_tab_separated.csv", "contigs", "missing column|split by tabs").write_text(
        table(TENX, tenx_rows(), "\t"))
    clash = tenx_rows()
    clash.append([*clash[0][:11], "CARGGW", *clash[0][12:]])
    entry("bcr/contigs_conflicting_cdr3.csv", "contigs", "repeated with different cdr3|CARDYW, CARGGW").write_text(
        table(TENX, clash, ","))
    blank = tenx_rows()
    blank[3][0] = ""
    entry("bcr/contigs_blank_barcode.csv", "contigs", "without a cell barcode|row(s) 4").write_text(
        table(TENX, blank, ","))
    entry("bcr/contigs_empty.csv", "contigs", "the file is empty").write_text("")
    entry("bcr/airr_missing_columns.tsv", "airr", "missing column(s) junction_aa").write_text(
        table(AIRR.replace("\tjunction_aa", ""), [r[:-1] for r in airr_rows()], "\t"))
    aclash = airr_rows()
    aclash.append([*aclash[1][:8], "CTRW"])
    entry("bcr/airr_conflicting_junction.tsv", "airr", "repeated with different junction_aa").write_text(
        table(AIRR, aclash, "\t"))
    ablank = airr_rows()
    ablank[0][0] = " "
    entry("bcr/airr_blank_cell.tsv", "airr", "without a cell barcode").write_text(table(AIRR, ablank, "\t"))
    entry("bcr/contigs.txt", "contigs", "unknown BCR format").write_text("barcode\n")
    other = [f"{b[:-2]}-2" for b in BARCODES[:6]]
    entry("bcr/contigs_other_barcodes.csv", "contigs", "0 of 6 BCR cell barcodes (0.0%)|min_barcode_overlap",
          "warning").write_text(table(TENX, tenx_rows(other), ","))


# --------------------------------------------------------------------------------------------
# sheets, configs, clinical tables (paths relative to this folder, the tests' working directory)
# --------------------------------------------------------------------------------------------
def sheet(rows: list[list[str]], sep: str = "\t", header: list[str] = SHEET_HEADER) -> str:
    return sep.join(header) + "\n" + "".join(sep.join(r) + "\n" for r in rows)


def row(path: str = "good/good.h5", sid: str = "S1", modality: str = "scrna", tissue: str = "blood",
        timepoint: str = "baseline", patient: str = "P1") -> list[str]:
    return [sid, patient, tissue, timepoint, modality, path]


def sheet_entries() -> None:
    good = [row(), row("good/good.fcs", modality="flow"), row("good/good_contigs.csv", modality="bcr"),
            row("good/good_mtx", "S2", timepoint="week12"), row("good/good.h5ad", "S3", tissue="synovium")]
    entry("sheets/good.tsv", "good", "").write_text(sheet(good))
    entry("sheets/comma.tsv", "sheet", "not tab-separated|commas").write_text(sheet(good, ","))
    entry("sheets/semicolon.tsv", "sheet", "not tab-separated|semicolons").write_text(sheet(good, ";"))
    entry("sheets/whitespace_value.tsv", "sheet", "row 1: column 'tissue'|whitespace").write_text(
        sheet([row(tissue="blood ")]))
    entry("sheets/whitespace_path.tsv", "sheet", "row 1: column 'path'|whitespace").write_text(
        sheet([row(" good/good.h5")]))
    entry("sheets/same_file_two_rows.tsv", "sheet", "already listed in row 1|rows 1 and 2").write_text(
        sheet([row(), row(sid="S2", timepoint="week12")]))
    entry("sheets/same_file_via_dots.tsv", "sheet", "rows 1 and 2 name the same file").write_text(
        sheet([row(), row("good/../good/good.h5", sid="S2", timepoint="week12")]))
    entry("sheets/outside_roots_absolute.tsv", "sheet", "outside the study's allowed roots").write_text(
        sheet([row("/etc/hostname")]))
    entry("sheets/outside_roots_climb.tsv", "sheet", "outside the study's allowed roots").write_text(
        sheet([row("../../../../../../etc/hostname")]))
    entry("sheets/missing_columns.tsv", "sheet", "missing column(s) modality, path").write_text(
        sheet([r[:4] for r in good], header=SHEET_HEADER[:4]))
    entry("sheets/no_rows.tsv", "sheet", "no rows").write_text(sheet([]))
    entry("sheets/unknown_tissue.tsv", "sheet", "row 1: column 'tissue'|'spleen'").write_text(
        sheet([row(tissue="spleen")]))
    entry("sheets/unknown_timepoint.tsv", "sheet", "row 1: column 'timepoint'|'week99'").write_text(
        sheet([row(timepoint="week99")]))
    entry("sheets/unknown_modality.tsv", "sheet", "field 'modality'|cytof").write_text(sheet([row(modality="cytof")]))
    entry("sheets/bad_sample_id.tsv", "sheet", "field 'sample_id'").write_text(sheet([row(sid="S 1")]))
    entry("sheets/pair_twice.tsv", "sheet", "appears more than once for modality 'scrna'|rows 1, 2").write_text(
        sheet([row(), row("good/good.h5ad")]))
    entry("sheets/specimen_clash.tsv", "sheet", "different patient/tissue/timepoint|rows 1, 2").write_text(
        sheet([row(), row("good/good.fcs", modality="flow", patient="P2")]))
    entry("sheets/missing_file.tsv", "sheet", "file 'good/nope.h5' does not exist").write_text(
        sheet([row("good/nope.h5")]))
    entry("sheets/cells_per_ul_text.tsv", "sheet", "column 'cells_per_ul'|not a number").write_text(
        sheet([row("good/good.fcs", modality="flow") + ["many"]], header=[*SHEET_HEADER, "cells_per_ul"]))
    entry("sheets/many_problems.tsv", "sheet", "whitespace|'spleen'|does not exist|field 'modality'").write_text(
        sheet([row(tissue=" blood"), row("good/good.fcs", "S2", "flow", tissue="spleen"),
               row("good/missing.h5", "S3"), row("good/good_airr.tsv", "S4", "vdj")]))


CONFIG_BASE = """tissues: [blood, lymph_node, synovium]
timepoints: [baseline, week12, week48]
samples: sheets/good.tsv
clinical: {table: ""}
"""


def config_entries() -> None:
    entry("config/good.yaml", "good", "").write_text(CONFIG_BASE)
    entry("config/not_yaml.yaml", "config", "is not valid YAML").write_text("tissues: [blood\nsamples: x\n")
    entry("config/a_list.yaml", "config", "top level is a list|mapping").write_text("- tissues\n- samples\n")
    entry("config/no_tissues.yaml", "config", "'tissues' is a required property").write_text(
        CONFIG_BASE.replace("tissues: [blood, lymph_node, synovium]\n", ""))
    entry("config/seed_text.yaml", "config", "field 'seed'").write_text(CONFIG_BASE + "seed: twelve\n")
    entry("config/several_errors.yaml", "config",
          "field 'seed'|field 'dataset'|field 'scrna.qc.max_pct_mito'").write_text(
        CONFIG_BASE + "seed: twelve\nflow: {dataset: -1}\nscrna: {qc: {max_pct_mito: 200}}\n")
    entry("config/allowed_roots_string.yaml", "config", "field 'validate.allowed_roots'").write_text(
        CONFIG_BASE + "validate: {allowed_roots: good}\n")
    entry("config/design_unknown_tissue.yaml", "config", "simulate.design|'spleen'").write_text(
        CONFIG_BASE + "simulate: {design: {spleen: [baseline]}}\n")
    entry("config/strategy_missing.yaml", "config", "flow.strategy|gating strategy not found").write_text(
        CONFIG_BASE + "flow: {strategy: gating/none.yaml}\n")


CLINICAL_HEADER = ["patient_id", "visit", "visit_date", "c3"]
CLINICAL_ROWS = [["P1", "baseline", "2024-11-03", "0.9"], ["P1", "week12", "2025-01-24", "1.0"]]


def clinical_entries() -> None:
    def tab(rows: list[list[str]], header: list[str] = CLINICAL_HEADER, sep: str = "\t") -> str:
        return sep.join(header) + "\n" + "".join(sep.join(r) + "\n" for r in rows)

    entry("clinical/good.tsv", "good", "").write_text(tab(CLINICAL_ROWS))
    entry("clinical/c3_text.tsv", "clinical", "row 2: column 'c3'|expected a number").write_text(
        tab([CLINICAL_ROWS[0], [*CLINICAL_ROWS[1][:3], "low"]]))
    entry("clinical/bad_date.tsv", "clinical", "visit_date").write_text(
        tab([["P1", "baseline", "03/11/2024", "0.9"]]))
    entry("clinical/unknown_visit.tsv", "clinical", "visit|week99").write_text(
        tab([["P1", "week99", "2024-11-03", "0.9"]]))
    entry("clinical/direct_identifier.tsv", "clinical", "name").write_text(
        tab([[*r, "Jane Doe"] for r in CLINICAL_ROWS], [*CLINICAL_HEADER, "name"]))
    entry("clinical/comma.tsv", "clinical", "not tab-separated").write_text(tab(CLINICAL_ROWS, sep=","))
    entry("clinical/empty.tsv", "clinical", "empty").write_text("")
    entry("clinical/missing.tsv", "clinical", "does not exist")
    (HERE / "clinical/missing.tsv").unlink(missing_ok=True)


def main() -> None:
    for sub in ("good", "h5", "mtx", "h5ad", "fcs", "bcr", "sheets", "config", "clinical"):
        shutil.rmtree(HERE / sub, ignore_errors=True)
    MANIFEST.clear()
    scrna_entries()
    fcs_entries()
    bcr_entries()
    sheet_entries()
    config_entries()
    clinical_entries()
    lines = ["file\tkind\tlevel\texpected"] + ["\t".join(e) for e in MANIFEST if e[1] != "good"]
    (HERE / "expected.tsv").write_text("\n".join(lines) + "\n")
    total = sum(f.stat().st_size for f in HERE.rglob("*") if f.is_file())
    print(f"{len(lines) - 1} corpus entries, {total / 1024:.0f} KB under {HERE}")


if __name__ == "__main__":
    main()
