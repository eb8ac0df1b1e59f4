"""BCR branch: reading real 10x / AIRR files, chain QC, clonotypes across tissues, sharing vs. simulator truth."""

from __future__ import annotations

import importlib.resources
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from belimap import bcr
from belimap.config import validate
from belimap.errors import BelimapError

warnings.filterwarnings("ignore")
SCIRPY_DATA = Path(str(importlib.resources.files("scirpy"))) / "tests" / "data"
MELANOMA = SCIRPY_DATA / "10x" / "sc5p_v2_hs_melanoma_10k_b_filtered_contig_annotations.csv.gz"
AIRR_IG = SCIRPY_DATA / "airr" / "rearrangement_ig.tsv"
CFG_BCR = validate({}, "bcr", "test")
BLIN = ["B", "plasma"]


def _specimens(ids: list[str], tissues: list[str] | None = None) -> pd.DataFrame:
    tissues = tissues or ["blood"] * len(ids)
    return pd.DataFrame({"sample_id": ids, "patient_id": "P1", "tissue": tissues, "timepoint": "baseline"})


# ---------------------------------------------------------------------------------------------
# reading what users have
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def melanoma():
    """The real 10x BCR contigs shipped in the scirpy wheel (5' v2, 10k melanoma B cells)."""
    assert MELANOMA.exists(), f"scirpy no longer ships {MELANOMA}"
    return bcr.read_bcr(MELANOMA, "MEL")


def test_real_10x_bcr_contigs_read(melanoma):
    a = melanoma
    assert a.n_obs == 5644
    assert a.obs_names[0] == "MEL:AAACCTGAGGAGTCTG-1"
    annotated = bcr.annotate_cells(a.copy(), pd.DataFrame(index=a.obs_names[:0]).assign(lineage="", bcell_subset=""),
                                   _specimens(["MEL"]), BLIN, CFG_BCR["chain_qc"])
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


def test_airr_round_trip_keeps_every_cell(melanoma, tmp_path):
    sub = melanoma[:300].copy()
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
                           _specimens(["S1"]), BLIN, CFG_BCR["chain_qc"])
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


# ---------------------------------------------------------------------------------------------
# clonotypes: the config's thresholds decide
# ---------------------------------------------------------------------------------------------
def _mutate(seq: str, positions: list[int]) -> str:
    s = list(seq)
    for p in positions:
        s[p] = {"A": "C", "C": "G", "G": "T", "T": "A"}[s[p]]
    return "".join(s)


def _airr_cell(cell: str, v: str, j: str, junction: str, c: str = "IGHG1") -> list[dict]:
    light = "TGTCAGCAGTATGGTAGCTCACTTACGTGGACGTTC"
    return [
        {"cell_id": cell, "sequence_id": f"{cell}_1", "productive": "T", "v_call": v, "j_call": j, "c_call": c,
         "locus": "IGH", "junction": junction, "junction_aa": "CARX", "umi_count": 5},
        {"cell_id": cell, "sequence_id": f"{cell}_2", "productive": "T", "v_call": "IGKV3-20", "j_call": "IGKJ1",
         "c_call": "IGKC", "locus": "IGK", "junction": light, "junction_aa": "CQQYGSSLTWTF", "umi_count": 9},
    ]


def test_clonotypes_follow_cutoff_v_and_j(tmp_path):
    germ = "TGTGCGAGAGATCGGGGATACAGCTATGGTTACTACTACTACGGTATGGACGTCTGG"  # 57 nt
    rows = []
    rows += _airr_cell("LN1", "IGHV3-23", "IGHJ6", germ)
    rows += _airr_cell("LN2", "IGHV3-23", "IGHJ6", _mutate(germ, [10, 20, 30]))  # 5 % apart: same clone
    rows += _airr_cell("BL1", "IGHV3-23", "IGHJ6", _mutate(germ, [12, 25]))  # other tissue, same clone
    rows += _airr_cell("BL2", "IGHV3-23", "IGHJ4", germ)  # other J gene: other clone
    rows += _airr_cell("BL3", "IGHV3-23", "IGHJ6", _mutate(germ, list(range(5, 50, 4))))  # 21 % apart: other clone
    df = pd.DataFrame(rows)
    for sid, cells in {"LN": ["LN1", "LN2"], "BL": ["BL1", "BL2", "BL3"]}.items():
        part = df[df["cell_id"].isin(cells)].assign(cell_id=lambda d: d["cell_id"] + "-1")
        part.to_csv(tmp_path / f"{sid}_airr.tsv", sep="\t", index=False)
        bcr.write_airr_table(bcr.read_bcr(tmp_path / f"{sid}_airr.tsv", sid), tmp_path / f"{sid}.tsv")
    airr = bcr.read_airr_tables({"LN": tmp_path / "LN.tsv", "BL": tmp_path / "BL.tsv"})
    gex = pd.DataFrame({"lineage": "B", "bcell_subset": "switched_memory"}, index=airr.obs_names)
    spec = _specimens(["LN", "BL"], ["lymph_node", "blood"])
    cells = bcr.clonotype_cells(airr, gex, spec, BLIN, CFG_BCR).set_index("cell_id")
    clone = cells["clone_id"]
    assert clone["LN:LN1-1"] == clone["LN:LN2-1"] == clone["BL:BL1-1"] == "P1_c1"
    assert len({clone["LN:LN1-1"], clone["BL:BL2-1"], clone["BL:BL3-1"]}) == 3
    assert cells.loc["LN:LN1-1", "clone_size"] == 3 and cells.loc["LN:LN1-1", "clone_size_sample"] == 2
    share = bcr.sharing_table(cells.reset_index(), spec, ["blood", "lymph_node"], min_cells=1)
    assert share.loc[0, ["n_clones_a", "n_clones_b", "n_shared_clones"]].tolist() == [3, 1, 1]
    assert share.loc[0, "jaccard"] == pytest.approx(1 / 3)
    strict = {**CFG_BCR, "clonotypes": {**CFG_BCR["clonotypes"], "cutoff": 4}}  # 5 % apart now too far
    airr2 = bcr.read_airr_tables({"LN": tmp_path / "LN.tsv", "BL": tmp_path / "BL.tsv"})
    cells2 = bcr.clonotype_cells(airr2, gex, spec, BLIN, strict).set_index("cell_id")
    assert cells2.loc["LN:LN1-1", "clone_id"] != cells2.loc["LN:LN2-1", "clone_id"]


def test_chain_qc_leaves_out_non_b_and_excluded_pairings(melanoma):
    a = melanoma[:400].copy()
    gex = pd.DataFrame({"lineage": "B", "bcell_subset": "naive"}, index=a.obs_names[:300])
    gex.iloc[:50, 0] = "CD4_T"
    annotated = bcr.annotate_cells(a, gex, _specimens(["MEL"]), BLIN, CFG_BCR["chain_qc"])
    out = annotated.obs
    assert not out["analysed"].iloc[:50].any()  # non-B lineage
    assert not out["analysed"].iloc[300:].any()  # not among the scRNA cells
    kept = out.iloc[50:300]
    assert kept.loc[kept["analysed"], "chain_pairing"].isin(["single pair", "two full chains", "extra VJ", "extra VDJ",
                                                             "orphan VDJ"]).all()
    assert (~kept["analysed"] == kept["chain_pairing"].isin(CFG_BCR["chain_qc"]["exclude_chain_pairing"])).all()
    qc = bcr.chain_qc_table(annotated)
    assert qc.loc[0, ["n_cells", "n_in_gex", "n_analysed"]].tolist() == [400, 300, int(out["analysed"].sum())]


# ---------------------------------------------------------------------------------------------
# sharing indices
# ---------------------------------------------------------------------------------------------
def test_jaccard_and_morisita_horn_values():
    a, b = pd.Series({"x": 2, "y": 1}), pd.Series({"x": 1, "z": 3})
    assert bcr.jaccard(a, b) == pytest.approx(1 / 3)
    # Horn (1966): 2 Σ xy / ((Σx²/X² + Σy²/Y²) X Y) = 2·2 / ((5/9 + 10/16)·3·4)
    assert bcr.morisita_horn(a, b) == pytest.approx(4 / ((5 / 9 + 10 / 16) * 12))
    assert bcr.morisita_horn(a, a * 3) == pytest.approx(1.0)
    assert bcr.morisita_horn(a, pd.Series({"q": 4})) == 0.0
    assert np.isnan(bcr.jaccard(pd.Series(dtype=int), pd.Series(dtype=int)))


def test_sparse_specimen_is_not_estimable_but_kept():
    clones = [f"c{i}" for i in range(12)] + ["c0", "c1", "x"]
    cells = pd.DataFrame({"sample_id": ["B"] * 12 + ["S"] * 3, "clone_id": clones})
    spec = _specimens(["B", "S", "L"], ["blood", "synovium", "lymph_node"])
    out = bcr.sharing_table(cells, spec, ["blood", "lymph_node", "synovium"], min_cells=10)
    assert out[["tissue_a", "tissue_b"]].values.tolist() == [["blood", "lymph_node"], ["blood", "synovium"],
                                                             ["lymph_node", "synovium"]]
    bs = out.iloc[1]
    assert not bs["estimable"] and np.isnan(bs["jaccard"]) and bs["n_shared_clones"] == 2
    assert out.iloc[0]["n_cells_b"] == 0 and not out.iloc[0]["estimable"]


# ---------------------------------------------------------------------------------------------
# the simulator, and recovery of its truth (fast version of benchmarks/bcr_sharing.py)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bcr_study(tmp_path_factory):
    from belimap.simulate import bcr as sim
    from belimap.simulate.cohort import simulate_cohort
    from tests.conftest import small_config

    tmp = tmp_path_factory.mktemp("bcr_study")
    cfg = small_config(tmp, n_patients=2, cells=400, modalities={"scrna": True, "bcr": True})
    cohort = simulate_cohort(cfg)
    out = Path(cfg["simulate"]["outdir"])
    sheet, cells = sim.write_bcr_study(cohort, out)
    rows = sheet[sheet["modality"] == "bcr"]
    paths = {}
    for r in rows.itertuples():
        paths[r.sample_id] = tmp / f"{r.sample_id}.tsv"
        bcr.write_airr_table(bcr.read_bcr(r.path, r.sample_id), paths[r.sample_id])
    airr = bcr.read_airr_tables(paths)
    singlets = cells[~cells["is_doublet"]]
    gex = singlets.set_index(singlets["sample_id"] + ":" + singlets["barcode"])[["lineage", "bcell_subset"]]
    found = bcr.clonotype_cells(airr, gex, rows, BLIN, cfg["bcr"])
    tables = bcr.repertoire_tables(found, rows, cfg["tissues"], cohort.vocab.subset_ids, cfg["bcr"])
    truth = pd.read_csv(out / "truth" / "bcr" / "cells.tsv", sep="\t", keep_default_na=False)
    return {"cfg": cfg, "cohort": cohort, "sheet": sheet, "out": out, "rows": rows, "cells": found, "tables": tables,
            "truth": truth, "true_sharing": pd.read_csv(out / "truth" / "bcr" / "sharing.tsv", sep="\t")}


def test_simulated_files_in_both_formats(bcr_study):
    paths = bcr_study["rows"]["path"].tolist()
    assert any(p.endswith("_contigs.csv") for p in paths) and any(p.endswith("_airr.tsv") for p in paths)
    assert all(Path(p).exists() for p in paths)
    airr = pd.read_csv(next(p for p in paths if p.endswith("_airr.tsv")), sep="\t")
    assert airr["v_call"].str.match(r"^IG[HKL]V[0-9-]+\*01$").all()
    tenx = pd.read_csv(next(p for p in paths if p.endswith("_contigs.csv")))
    assert set(tenx["chain"]) == {"IGH", "IGK", "IGL"} and set(tenx["productive"]) == {True, False}


def test_simulator_is_deterministic(bcr_study, tmp_path):
    from belimap.simulate import bcr as sim

    out = bcr_study["out"]
    tmp_sheet = bcr_study["sheet"].copy()
    tmp_sheet["path"] = [str(tmp_path / Path(p).name) for p in tmp_sheet["path"]]
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "cells.tsv").write_bytes((out / "truth" / "cells.tsv").read_bytes())
    sim.write_all(bcr_study["cohort"], tmp_sheet, tmp_path)
    for p in bcr_study["rows"]["path"]:
        assert (tmp_path / Path(p).name).read_bytes() == Path(p).read_bytes()
    assert (tmp_path / "truth/bcr/sharing.tsv").read_bytes() == (out / "truth/bcr/sharing.tsv").read_bytes()


def test_simulator_needs_scrna_truth(bcr_study, tmp_path):
    from belimap.simulate import bcr as sim

    with pytest.raises(BelimapError, match="scRNA truth"):
        sim.write_all(bcr_study["cohort"], bcr_study["sheet"], tmp_path)


def test_clones_recovered_exactly(bcr_study):
    from sklearn.metrics import adjusted_rand_score

    t = bcr_study["truth"]
    t = t.assign(cell_id=t["sample_id"] + ":" + t["barcode"]).set_index("cell_id")
    found = bcr_study["cells"].set_index("cell_id")
    found = found[found["clone_id"].notna()]
    assert set(found.index) == set(t.index[t["observable"].astype(str) == "True"])
    assert adjusted_rand_score(t.loc[found.index, "clone_id"], found["clone_id"]) > 0.99
    # clones span tissues: some found clone has cells in two tissues of one patient
    assert (found.groupby("clone_id")["tissue"].nunique() > 1).sum() >= 3


def test_sharing_within_005_of_truth(bcr_study):
    acc = bcr.sharing_accuracy(bcr_study["tables"]["sharing"], bcr_study["true_sharing"])
    assert len(acc) >= 4
    assert acc["abs_error_jaccard"].max() <= 0.05
    assert acc["abs_error_morisita_horn"].max() <= 0.05


def test_isotypes_and_expansion_follow_subsets(bcr_study):
    iso = bcr_study["tables"]["isotypes"]
    by = iso.groupby(["subset", "isotype"])["n_cells"].sum().unstack(fill_value=0)
    assert set(by.columns[by.loc["naive"] > 0]) <= {"IgM", "IgD"}
    assert by.loc["switched_memory", ["IgM", "IgD"]].sum() == 0
    assert by.loc["switched_memory", ["IgG", "IgA"]].sum() > 0
    exp = bcr_study["tables"]["expansion"]
    pooled = exp.groupby("subset")[["n_cells", "n_size_le1"]].sum()
    frac = 1 - pooled["n_size_le1"] / pooled["n_cells"]
    assert frac["germinal_centre"] > frac["naive"] and frac["switched_memory"] > frac["naive"]
    assert (exp.groupby("sample_id").size() == len(bcr_study["cohort"].vocab.subset_ids)).all()


def test_figures(bcr_study, tmp_path):
    from belimap.pl import bcr as pl
    from belimap.pl.palette import save_figure

    cfg, vocab, tabs = bcr_study["cfg"], bcr_study["cohort"].vocab, bcr_study["tables"]
    figs = {
        "sharing": pl.sharing_heatmaps(tabs["sharing"], cfg["tissues"], cfg["timepoints"]),
        "expansion": pl.expansion_bars(tabs["expansion"], cfg["tissues"], cfg["timepoints"], vocab.subset_ids),
        "isotypes": pl.isotype_bars(tabs["isotypes"], cfg["tissues"], cfg["timepoints"], vocab.subset_ids),
    }
    for name, fig in figs.items():
        for p in save_figure(fig, tmp_path / name):
            assert p.stat().st_size > 5000
