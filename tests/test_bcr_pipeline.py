"""belimap.bcr.pipeline on a simulated study: the simulator's files, recovery of its clones and sharing,
the per-rule calls' reads and writes, and the figures (fast version of benchmarks/bcr_sharing.py)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from belimap import bcr
from belimap.errors import BelimapError
from belimap.tables import read_tsv, write_tsv

warnings.filterwarnings("ignore")


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
        bcr.read_file(r.path, r.sample_id, out=paths[r.sample_id])
    airr = bcr.read_airr_tables(paths)
    singlets = cells[~cells["is_doublet"]]
    gex = singlets.set_index(singlets["sample_id"] + ":" + singlets["barcode"])[["lineage", "bcell_subset"]]
    params = bcr.BcrParams.from_config(cfg)
    found = bcr.clonotype_cells(airr, gex, rows, bcell_lineages=cohort.vocab.bcell_lineages, params=params)
    tables = bcr.repertoire_tables(found, rows, tissues=cfg["tissues"], subsets=cohort.vocab.subset_ids,
                                   params=params)
    return {"cfg": cfg, "cohort": cohort, "sheet": sheet, "out": out, "rows": rows, "cells": found, "tables": tables,
            "params": params, "tmp": tmp, "truth": read_tsv(out / "truth" / "bcr" / "cells.tsv"),
            "true_sharing": read_tsv(out / "truth" / "bcr" / "sharing.tsv")}


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


def test_table_files_read_cells_tsv_back_to_the_same_tables(bcr_study, tmp_path):
    """cells.tsv through write_tsv → read_tsv ("no IR", blank clone IDs) gives the in-memory tables' bytes."""
    cells = bcr_study["cells"]
    assert (cells["chain_pairing"] == "no IR").any() or cells["clone_id"].isna().any()
    write_tsv(cells, tmp_path / "cells.tsv")
    out = {name: tmp_path / f"{name}.tsv" for name in ("sharing", "expansion", "isotypes")}
    bcr.table_files(tmp_path / "cells.tsv", bcr_study["rows"], bcr_study["cohort"].vocab,
                    params=bcr_study["params"], tissues=bcr_study["cfg"]["tissues"], **out)
    for name, path in out.items():
        write_tsv(bcr_study["tables"][name], tmp_path / f"mem_{name}.tsv")
        assert path.read_bytes() == (tmp_path / f"mem_{name}.tsv").read_bytes(), name
    write_tsv(bcr_study["true_sharing"], tmp_path / "truth.tsv")
    bcr.accuracy_file(out["sharing"], tmp_path / "truth.tsv", out=tmp_path / "accuracy.tsv")
    acc = read_tsv(tmp_path / "accuracy.tsv")
    assert len(acc) >= 4 and acc["abs_error_jaccard"].max() <= 0.05


def test_figures(bcr_study, tmp_path):
    import matplotlib.pyplot as plt

    from belimap.pl import bcr as pl
    from belimap.pl import save_figure

    cfg, vocab, tabs = bcr_study["cfg"], bcr_study["cohort"].vocab, bcr_study["tables"]
    kw = {"tissues": cfg["tissues"], "timepoints": cfg["timepoints"]}
    figs = {
        "sharing": pl.sharing_heatmaps(tabs["sharing"], **kw),
        "expansion": pl.expansion_bars(tabs["expansion"], vocab, **kw),
        "isotypes": pl.isotype_bars(tabs["isotypes"], vocab, **kw),
    }
    for name, fig in figs.items():
        assert isinstance(fig, plt.Figure)
        for p in save_figure(fig, tmp_path / name):
            assert p.stat().st_size > 5000
    airr = bcr.read_airr_tables({r.sample_id: bcr_study["tmp"] / f"{r.sample_id}.tsv"
                                 for r in bcr_study["rows"].itertuples()})
    bcr.annotate_cells(airr, pd.DataFrame(columns=["lineage"]), bcr_study["rows"],
                       bcell_lineages=["B"], params=bcr_study["params"].chain_qc)
    fig, ax = plt.subplots()
    assert pl.chain_qc_bars(bcr.chain_qc_table(airr), ax=ax) is fig and len(ax.patches) > 0
    plt.close(fig)
