"""Sample sheet validation and count-matrix readers: every mistake named by file, row and column."""

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from belimap.config import ROOT, load_config
from belimap.errors import BelimapError
from belimap.scrna.io import read_counts
from belimap.sheet import read_sample_sheet

HEADER = "sample_id\tpatient_id\ttissue\ttimepoint\tmodality\tpath\n"


@pytest.fixture
def cfg():
    return load_config(ROOT / "config" / "config.yaml", {"simulate": {"enabled": False}})


def write_sheet(tmp_path, rows, header=HEADER):
    p = tmp_path / "samples.tsv"
    p.write_text(header + "".join("\t".join(r) + "\n" for r in rows))
    return p


@pytest.fixture
def h5ad_file(tmp_path):
    a = ad.AnnData(sp.csr_matrix(np.random.default_rng(0).poisson(1, (20, 30)).astype(np.float32)))
    a.var_names = [f"G{i}" for i in range(30)]
    path = tmp_path / "x.h5ad"
    a.write_h5ad(path)
    return path


def test_valid_sheet_orders_tissues_and_timepoints(tmp_path, cfg, h5ad_file):
    other = tmp_path / "y.h5ad"
    other.write_bytes(h5ad_file.read_bytes())
    fcs = tmp_path / "z.fcs"  # one file is one row: the flow row names its own file
    fcs.write_bytes(b"")
    sheet = write_sheet(tmp_path, [["S2", "P1", "synovium", "week12", "scrna", str(other)],
                                   ["S1", "P1", "blood", "baseline", "scrna", str(h5ad_file)],
                                   ["S1", "P1", "blood", "baseline", "flow", str(fcs)]])
    df = read_sample_sheet(sheet, cfg)
    assert list(df["sample_id"]) == ["S1", "S1", "S2"]
    assert list(df["tissue"].cat.categories) == cfg["tissues"]


@pytest.mark.parametrize(
    "row, message",
    [
        (["S 1", "P1", "blood", "baseline", "scrna", "{f}"], r"row 1: field 'sample_id'"),
        (["S1", "P1", "spleen", "baseline", "scrna", "{f}"], r"row 1: column 'tissue': 'spleen' is not one of"),
        (["S1", "P1", "blood", "week99", "scrna", "{f}"], r"row 1: column 'timepoint'"),
        (["S1", "P1", "blood", "baseline", "cytof", "{f}"], r"row 1: field 'modality'"),
        (["S1", "P1", "blood", "baseline", "scrna", "missing.h5"], r"row 1: column 'path': file 'missing.h5' does not exist"),
    ],
)
def test_bad_rows_are_refused_with_file_row_and_column(tmp_path, cfg, h5ad_file, row, message):
    row = [c.format(f=h5ad_file) for c in row]
    sheet = write_sheet(tmp_path, [row])
    with pytest.raises(BelimapError, match=message) as err:
        read_sample_sheet(sheet, cfg)
    assert str(sheet) in str(err.value) and "\n" not in str(err.value)


def test_duplicates_and_inconsistent_specimens(tmp_path, cfg, h5ad_file):
    f = str(h5ad_file)
    dup = write_sheet(tmp_path, [["S1", "P1", "blood", "baseline", "scrna", f], ["S1", "P1", "blood", "baseline", "scrna", f]])
    with pytest.raises(BelimapError, match="row 2: column 'sample_id': 'S1' appears more than once"):
        read_sample_sheet(dup, cfg)
    clash = write_sheet(tmp_path, [["S1", "P1", "blood", "baseline", "scrna", f], ["S1", "P2", "blood", "baseline", "flow", f]])
    with pytest.raises(BelimapError, match="different patient/tissue/timepoint"):
        read_sample_sheet(clash, cfg)


def test_careless_sheets_are_refused_with_the_right_words(tmp_path, cfg, h5ad_file):
    f = str(h5ad_file)
    comma = tmp_path / "comma.tsv"
    comma.write_text(HEADER.replace("\t", ",") + ",".join(["S1", "P1", "blood", "baseline", "scrna", f]) + "\n")
    with pytest.raises(BelimapError, match="not tab-separated"):
        read_sample_sheet(comma, cfg)
    spaced = write_sheet(tmp_path, [["S1", "P1", "blood ", "baseline", "scrna", f]])
    with pytest.raises(BelimapError, match="row 1: column 'tissue': .*trailing whitespace"):
        read_sample_sheet(spaced, cfg)
    twice = write_sheet(tmp_path, [["S1", "P1", "blood", "baseline", "scrna", f],
                                   ["S2", "P1", "blood", "week12", "scrna", f]])
    with pytest.raises(BelimapError, match="row 2: column 'path': .* already listed in row 1 \(specimen 'S1'\); rows 1 and 2"):
        read_sample_sheet(twice, cfg)
    climb = write_sheet(tmp_path, [["S1", "P1", "blood", "baseline", "scrna", "../../../etc/passwd"]])
    with pytest.raises(BelimapError, match="outside the study.s allowed roots"):
        read_sample_sheet(climb, cfg, base_dir=tmp_path)


def test_missing_columns(tmp_path, cfg):
    sheet = write_sheet(tmp_path, [["S1", "P1"]], header="sample_id\tpatient_id\n")
    with pytest.raises(BelimapError, match="missing column"):
        read_sample_sheet(sheet, cfg)


def test_readers_agree_across_formats(scrna_study):
    sheet = scrna_study["sheet"]
    shapes = {}
    for path in sheet["path"][:3]:  # 10x h5, 10x MTX folder, h5ad (counts layer)
        a = read_counts(path)
        assert sp.issparse(a.X) and np.allclose(a.X.data, np.round(a.X.data))
        shapes[path] = a.shape
        assert "CD19" in a.var_names and "MT-CO1" in a.var_names
    assert len({s[1] for s in shapes.values()}) == 1


def test_non_count_matrix_is_refused(tmp_path):
    a = ad.AnnData(np.random.default_rng(0).normal(size=(10, 5)).astype(np.float32))
    path = tmp_path / "norm.h5ad"
    a.write_h5ad(path)
    with pytest.raises(BelimapError, match="not raw counts"):
        read_counts(path)


def test_unknown_format_and_corrupt_file(tmp_path):
    with pytest.raises(BelimapError, match="unknown single-cell format"):
        (tmp_path / "x.csv").write_text("a,b\n")
        read_counts(tmp_path / "x.csv")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(BelimapError, match="cannot be read as 10x_h5"):
        read_counts(bad)


def test_duplicate_barcodes_are_refused(tmp_path):
    a = ad.AnnData(sp.csr_matrix(np.ones((4, 3), dtype=np.float32)))
    a.obs_names = ["AAAC-1", "AAAG-1", "AAAC-1", "AAAT-1"]
    path = tmp_path / "dup.h5ad"
    a.write_h5ad(path)
    with pytest.raises(BelimapError, match="1 cell barcode\\(s\\) appear more than once \\(e.g. 'AAAC-1'\\)"):
        read_counts(path)


def test_mtx_folder_with_short_features_file_names_it(tmp_path):
    import gzip

    import scipy.io

    folder = tmp_path / "mtx"
    folder.mkdir()
    with gzip.open(folder / "matrix.mtx.gz", "wb") as fh:
        scipy.io.mmwrite(fh, sp.coo_matrix(np.ones((5, 3))))  # 5 genes × 3 cells
    with gzip.open(folder / "features.tsv.gz", "wt") as fh:
        fh.write("".join(f"ENSG{i}\tG{i}\tGene Expression\n" for i in range(4)))
    with gzip.open(folder / "barcodes.tsv.gz", "wt") as fh:
        fh.write("".join(f"B{i}-1\n" for i in range(3)))
    with pytest.raises(BelimapError, match="features.tsv.gz: 4 lines, but matrix.mtx.gz declares 5 genes") as err:
        read_counts(folder)
    assert "\n" not in str(err.value)


def test_write_tsv_is_atomic(tmp_path):
    from belimap.tables import write_tsv

    class Boom(pd.DataFrame):
        def to_csv(self, *a, **k):
            super().to_csv(*a, **k)
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_tsv(Boom({"a": [1]}), tmp_path / "out.tsv")
    assert list(tmp_path.iterdir()) == []
