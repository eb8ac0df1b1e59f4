"""belimap.bcr.clonotypes: the config's thresholds decide what is one clone, across a patient's tissues."""

from __future__ import annotations

import dataclasses
import warnings

import pandas as pd
import pytest

from belimap import bcr
from tests.bcr_data import BLIN, specimens

warnings.filterwarnings("ignore")


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
    spec = specimens(["LN", "BL"], ["lymph_node", "blood"])
    params = bcr.BcrParams()
    cells = bcr.clonotype_cells(airr, gex, spec, bcell_lineages=BLIN, params=params).set_index("cell_id")
    clone = cells["clone_id"]
    assert clone["LN:LN1-1"] == clone["LN:LN2-1"] == clone["BL:BL1-1"] == "P1_c1"
    assert len({clone["LN:LN1-1"], clone["BL:BL2-1"], clone["BL:BL3-1"]}) == 3
    assert cells.loc["LN:LN1-1", "clone_size"] == 3 and cells.loc["LN:LN1-1", "clone_size_sample"] == 2
    assert cells.loc["LN:LN1-1", "clonal_expansion"] == "<= 2" and cells.loc["BL:BL2-1", "clonal_expansion"] == "<= 1"
    share = bcr.sharing_table(cells.reset_index(), spec, tissues=["blood", "lymph_node"],
                              params=bcr.SharingParams(min_cells=1))
    assert share.loc[0, ["n_clones_a", "n_clones_b", "n_shared_clones"]].tolist() == [3, 1, 1]
    assert share.loc[0, "jaccard"] == pytest.approx(1 / 3)
    strict = bcr.BcrParams.from_config({"bcr": {"clonotypes": {"cutoff": 4}}})  # 5 % apart now too far
    assert strict.clonotypes == dataclasses.replace(params.clonotypes, cutoff=4)
    airr2 = bcr.read_airr_tables({"LN": tmp_path / "LN.tsv", "BL": tmp_path / "BL.tsv"})
    cells2 = bcr.clonotype_cells(airr2, gex, spec, bcell_lineages=BLIN, params=strict).set_index("cell_id")
    assert cells2.loc["LN:LN1-1", "clone_id"] != cells2.loc["LN:LN2-1", "clone_id"]


def test_params_from_config_take_schema_defaults_and_study_seed():
    from belimap.config import validate

    cfg_bcr = validate({}, "bcr", "test")
    params = bcr.BcrParams.from_config({"seed": 11, "bcr": cfg_bcr})
    assert params == bcr.BcrParams.from_config({"seed": 11}) and params.seed == 11
    assert dataclasses.asdict(params.clonotypes) == cfg_bcr["clonotypes"]
    assert params.chain_qc.exclude_chain_pairing == cfg_bcr["chain_qc"]["exclude_chain_pairing"]
    assert params.expansion.breakpoints == [1, 2] and params.sharing.min_cells == 10
