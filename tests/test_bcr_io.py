"""belimap.bcr.io: reading real 10x / AIRR files, gene-level calls, AIRR tables, one-line errors, MuData."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from belimap import bcr
from belimap.errors import BelimapError
from tests.bcr_data import AIRR_IG, BLIN, melanoma, specimens

warnings.filterwarnings("ignore")


def test_real_10x_bcr_contigs_read():
    a = melanoma()
    assert a.n_obs == 5644
    assert a.obs_names[0] == "MEL:AAACCTGAGGAGTCTG-1"
    annotated = bcr.annotate_cells(a.copy(), pd.DataFrame(index=a.obs_names[:0]).assign(lineage="", bcell_subset=""),
                                   specimens(["MEL"]), bcell_lineages=BLIN, params=bcr.ChainQcParams())
    obs = annotated.obs
    assert (obs["receptor_type"] == "BCR").all()
    assert obs["receptor_subtype"].value_counts()[["IGH+IGK", "IGH+IGL"]].tolist() == [3214, 2121]
    pairing = obs["chain_pairing"].value_counts()
    assert pairing[["single pair", "two full chains", "ambiguous"]].tolist() == [4597, 381, 3]
    assert not obs["analysed"].any()  # no scRNA cells given: nothing is analysed
    cells = bcr.cell_table(annotated).set_index("cell_id")
    first = cells.loc["MEL:AAACCTGAGGAGTCTG-1"]
    assert first[["v_call", "j_call", "c_call", "isotype"]].tolist() == ["IGHV7-4-1", "IGHJ6", "IGHM", "IgM"]
    assert first["junction_aa"] == "CASLWQDASGYSYGKYYYYYGMDVW"
    assert (first["vj_locus"], first["vj_v_call"], first["vj_junction_aa"]) == ("IGK", "IGKV3-20", "CQQYGSSLTWTF")
    assert set(cells["isotype"]) >= {"IgM", "IgD", "IgG", "IgA"}


def test_airr_round_trip_keeps_every_cell(tmp_path):
    sub = melanoma()[:300].copy()
    bcr.write_airr_table(sub, tmp_path / "MEL.tsv")
    back = bcr.read_airr_tables({"MEL": tmp_path / "MEL.tsv"})
    assert list(back.obs_names) == list(sub.obs_names)
    with pytest.raises(BelimapError, match="does not start with 'OTHER:'"):
        bcr.read_airr_tables({"OTHER": tmp_path / "MEL.tsv"})


def test_real_airr_rearrangement_read_with_gene_level_calls(tmp_path):
    a = bcr.read_bcr(AIRR_IG, "S1")
    assert list(a.obs_names) == ["S1:AAACCTGAGGAGTCTG-1", "S1:AAACCTGCAGCGTAAG-1"]
    df = pd.read_csv(AIRR_IG, sep="\t")
    df["v_call"] = df["v_call"] + "*01," + df["v_call"] + "*02"  # IgBLAST-style allele ties
    df.to_csv(tmp_path / "x_airr.tsv", sep="\t", index=False)
    b = bcr.annotate_cells(bcr.read_bcr(tmp_path / "x_airr.tsv", "S1"), pd.DataFrame(columns=["lineage"]),
                           specimens(["S1"]), bcell_lineages=BLIN, params=bcr.ChainQcParams())
    cells = bcr.cell_table(b)
    assert cells["v_call"].tolist() == ["IGHV7-4-1", "IGHV3-30"]
    assert cells["vj_v_call"].tolist() == ["IGKV3-20", "IGLV3-1"]


@pytest.mark.parametrize("call, gene", [("IGHV3-23*01", "IGHV3-23"), ("IGHV3-23*01,IGHV3-23D*01", "IGHV3-23"),
                                        ("IGKJ4", "IGKJ4"), ("", "")])
def test_gene_call(call, gene):
    assert bcr.gene_call(call) == gene


def test_bad_files_raise_one_line(tmp_path):
    with pytest.raises(BelimapError, match="not found"):
        bcr.read_bcr(tmp_path / "missing_contigs.csv", "S1")
    (tmp_path / "x.fasta").write_text(">a\nACGT\n")
    with pytest.raises(BelimapError, match="unknown BCR format"):
        bcr.read_bcr(tmp_path / "x.fasta", "S1")
    (tmp_path / "x.csv").write_text("barcode,chain\nAAAC-1,IGH\n")
    with pytest.raises(BelimapError, match=r"missing column\(s\) contig_id"):
        bcr.read_bcr(tmp_path / "x.csv", "S1")
    (tmp_path / "y.tsv").write_text("cell_id\tjunction\nAAAC-1\tTGT\n")
    with pytest.raises(BelimapError, match=r"missing column\(s\) sequence_id"):
        bcr.read_bcr(tmp_path / "y.tsv", "S1")
    bulk = pd.read_csv(AIRR_IG, sep="\t")
    bulk.loc[2, "cell_id"] = None
    bulk.to_csv(tmp_path / "bulk.tsv", sep="\t", index=False)
    with pytest.raises(BelimapError, match="row 3: empty cell_id"):
        bcr.read_bcr(tmp_path / "bulk.tsv", "S1")
    (tmp_path / "z.csv.gz").write_bytes(b"\x00\x01 not gzip")
    with pytest.raises(BelimapError, match="cannot be read as 10x_contigs") as err:
        bcr.read_bcr(tmp_path / "z.csv.gz", "S1")
    assert "\n" not in str(err.value)


def test_sample_without_contigs_is_empty_not_an_error(tmp_path):
    (tmp_path / "e.csv").write_text(",".join(bcr.TENX_COLUMNS) + "\n")
    a = bcr.read_bcr(tmp_path / "e.csv", "E")
    assert a.n_obs == 0
    bcr.write_airr_table(a, tmp_path / "E.tsv")
    bcr.write_airr_table(bcr.read_bcr(AIRR_IG, "S1"), tmp_path / "S1.tsv")
    both = bcr.read_airr_tables({"E": tmp_path / "E.tsv", "S1": tmp_path / "S1.tsv"})
    assert both.n_obs == 2


def test_mudata_keeps_gex_cells_and_airr(tmp_path):
    import anndata as ad
    import mudata as md

    airr = bcr.read_bcr(AIRR_IG, "S1")
    obs = pd.DataFrame({"lineage": ["B", "B", "CD4_T"]}, index=[*airr.obs_names, "S1:OTHER-1"])
    gex = ad.AnnData(X=np.zeros((3, 2)), obs=obs, obsm={"X_umap": np.arange(6.0).reshape(3, 2)})
    gex.write_h5ad(tmp_path / "integrated.h5ad")
    gex_obs, gex_obsm = bcr.read_gex_cells(tmp_path / "integrated.h5ad")
    assert list(gex_obs.index) == list(obs.index) and gex_obs["lineage"].astype(str).tolist() == ["B", "B", "CD4_T"]
    assert (gex_obsm["X_umap"] == gex.obsm["X_umap"]).all()
    bcr.write_mudata(bcr.build_mudata(gex_obs, gex_obsm, airr), tmp_path / "bcr.h5mu")
    back = md.read_h5mu(tmp_path / "bcr.h5mu")
    assert back["gex"].n_vars == 0 and list(back["gex"].obs_names) == list(obs.index)
    assert list(back["airr"].obs_names) == list(airr.obs_names) and "airr" in back["airr"].obsm
