"""Marker-mode annotation (issue 11): margins and `unassigned`, VDJ isotypes, missing markers, real data."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from belimap.composition import composition_table
from belimap.scrna.annotate import assign_subsets, vdj_isotypes
from belimap.vocab import UNASSIGNED, load_vocabulary


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def _scores(vocab, rows: dict[str, float] | list[dict[str, float]]) -> np.ndarray:
    rows = rows if isinstance(rows, list) else [rows]
    return np.array([[r.get(s, -np.inf) for s in vocab.subset_ids] for r in rows])


def test_small_margin_is_unassigned_and_margin_is_the_confidence(vocab):
    s = _scores(vocab, [{"naive": 1.2, "transitional": 1.0, "switched_memory": -0.5},   # margin 0.2
                        {"naive": 1.2, "transitional": 0.4, "switched_memory": -0.5},   # margin 0.8
                        {"plasmablast": 0.3}])                                          # the only allowed subset
    labels, margin = assign_subsets(s, vocab, min_margin=0.5)
    assert list(labels) == [UNASSIGNED, "naive", "plasmablast"]
    np.testing.assert_allclose(margin[:2], [0.2, 0.8])
    assert np.isinf(margin[2])
    # the same scores with no margin required: every cell gets its best subset
    assert list(assign_subsets(s, vocab, min_margin=0.0)[0]) == ["naive", "naive", "plasmablast"]


def test_vdj_c_call_overrides_expression_isotype(vocab):
    s = _scores(vocab, [{"unswitched_memory": 2.0, "switched_memory": 0.5},   # GEX says unswitched, clearly
                        {"switched_memory": 2.0, "unswitched_memory": 0.0},   # GEX says switched
                        {"switched_memory": 1.0, "unswitched_memory": 0.9},   # undecided between the two
                        {"naive": 2.0, "unswitched_memory": 0.0},             # naive: not an isotype subset
                        {"switched_memory": 1.0, "unswitched_memory": 0.9}])  # undecided, no VDJ
    iso = np.array(["switched", "unswitched", "unswitched", "switched", ""])
    labels, _ = assign_subsets(s, vocab, min_margin=0.5, isotypes=iso)
    assert list(labels) == ["switched_memory", "unswitched_memory", "unswitched_memory", "naive", UNASSIGNED]
    # without VDJ the expression decides
    assert list(assign_subsets(s, vocab, min_margin=0.5)[0][:2]) == ["unswitched_memory", "switched_memory"]


def test_vdj_isotypes_from_airr_heavy_chains():
    airr = pd.DataFrame({
        "cell_id": ["S:a", "S:a", "S:b", "S:b", "S:c", "S:d", "S:e"],
        "locus": ["IGH", "IGK", "IGH", "IGH", "IGH", "IGH", "IGL"],
        "c_call": ["IGHG1", "IGKC", "IGHM", "IGHA1", "IGHD", "IGHE", "IGLC2"],
        "productive": ["T", "T", "T", "T", "F", "TRUE", "T"],
        "umi_count": [5, 9, 2, 7, 9, 1, 3],
    })
    iso = vdj_isotypes(airr)
    assert iso.to_dict() == {"S:a": "switched", "S:b": "switched", "S:d": "switched"}  # c: non-productive
    airr.loc[2, "umi_count"] = 20  # b's IgM chain now has the most UMIs
    assert vdj_isotypes(airr)["S:b"] == "unswitched"


def test_composition_reports_unassigned_outside_the_fractions():
    specimens = pd.DataFrame({"sample_id": ["a", "b"], "patient_id": ["P1", "P1"], "tissue": ["blood", "blood"],
                              "timepoint": ["baseline", "week12"]})
    labels = pd.DataFrame({"sample_id": ["a"] * 5 + ["b"], "bcell_subset": ["naive", "naive", "plasmablast",
                                                                            UNASSIGNED, UNASSIGNED, UNASSIGNED]})
    tab = composition_table(labels, specimens, ["naive", "plasmablast"]).set_index(["sample_id", "subset"])
    assert tab.loc[("a", "naive"), "fraction"] == pytest.approx(2 / 3)  # of assigned B-lineage cells
    assert (tab.loc["a", "n_bcells"] == 3).all() and (tab.loc["a", "n_unassigned"] == 2).all()
    assert (tab.loc["b", "n_bcells"] == 0).all() and tab.loc["b", "fraction"].isna().all()
    assert UNASSIGNED not in tab.index.get_level_values("subset")


def test_accuracy_counts_removed_and_unassigned_cells_as_not_recovered(vocab, tmp_path):
    from belimap.scrna.accuracy import accuracy_table, confusion, score_cells

    truth = pd.DataFrame({"sample_id": "S", "barcode": list("abcdefg"),
                          "lineage": ["B", "B", "B", "B", "CD4_T", "CD4_T", "B"],
                          "bcell_subset": ["naive", "naive", "naive", "switched_memory", "", "", "naive"],
                          "is_doublet": [False] * 6 + [True], "is_low_quality": [False] * 7})
    obs = pd.DataFrame({"sample_id": "S", "barcode": list("acdeg"), "lineage": ["B", "B", "B", "CD4_T", "B"],
                        "bcell_subset": ["naive", UNASSIGNED, "switched_memory", "", "naive"]})
    qc = pd.DataFrame({"sample_id": "S", "barcode": ["S:b", "S:f"], "removed": ["low_quality", "doublet"]})
    scored = score_cells(obs, truth, vocab, qc)
    assert scored.set_index("barcode").loc[["b", "c", "f"], "subset_pred"].tolist() == [
        "removed_low_quality", UNASSIGNED, "removed_doublet"]
    tab = accuracy_table(scored, vocab).set_index(["metric", "label"])["value"]
    assert tab[("recall", "naive")] == pytest.approx(1 / 3)          # a of a, b (removed), c (unassigned)
    assert tab[("precision", "naive")] == pytest.approx(1 / 2)       # the kept doublet g is a false positive
    assert tab[("lineage_accuracy", "")] == pytest.approx(4 / 6)     # b and f removed
    assert tab[("unassigned_share", "")] == pytest.approx(1 / 4)
    conf = confusion(scored, vocab)
    assert conf.loc["naive", "removed_low_quality"] == 1 and conf.loc["naive", UNASSIGNED] == 1
    assert conf.loc["other_lineage", "removed_doublet"] == 1
    from belimap.pl import save_figure
    from belimap.pl.accuracy import confusion_matrix

    fig = confusion_matrix(conf, vocab)
    assert fig.axes[0].get_xlabel() == "Predicted label" and "Unassigned" in [t.get_text() for t in
                                                                              fig.axes[0].get_xticklabels()]
    pdf, png = save_figure(fig, tmp_path / "confusion.png")
    assert pdf.read_bytes()[:4] == b"%PDF" and png.read_bytes()[:4] == b"\x89PNG"


# --------------------------------------------------------------------------------------------
# real data: scanpy's bundled pbmc68k_reduced as a one-sample study
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pbmc68k():
    """pbmc68k_reduced with integer counts recovered from its log-normalised ``.raw``, integrated as one sample."""
    import anndata as ad
    import scanpy as sc
    import scipy.sparse as sp

    from belimap import scrna
    from belimap.config import ROOT, load_config

    ref = sc.datasets.pbmc68k_reduced()
    raw = ref.raw.X.toarray() if sp.issparse(ref.raw.X) else np.asarray(ref.raw.X)
    counts = np.round(np.expm1(raw) * ref.obs["n_counts"].to_numpy()[:, None] / 1e4)
    adata = ad.AnnData(sp.csr_matrix(counts.astype(np.float32)), obs=pd.DataFrame(index=ref.obs_names.astype(str)),
                       var=pd.DataFrame(index=ref.raw.var_names.astype(str)))
    meta = {"sample_id": "pbmc68k", "patient_id": "D1", "tissue": "blood", "timepoint": "baseline", "batch": "b1"}
    for key, value in meta.items():
        adata.obs[key] = value
    adata.obs["barcode"] = adata.obs_names
    adata.obs_names = "pbmc68k:" + adata.obs_names
    cfg = load_config(ROOT / "config" / "config.yaml")
    params = scrna.ScrnaParams.from_config(cfg)
    adata = scrna.concat_samples([adata], tissues=cfg["tissues"], timepoints=cfg["timepoints"])
    scrna.integrate(adata, params=params)
    truth = ref.obs["bulk_labels"].astype(str).eq("CD19+ B").to_numpy()
    return {"adata": adata, "params": params, "cfg": cfg, "truth": truth}


def test_pbmc68k_b_lineage_f1_against_published_labels(pbmc68k, vocab):
    from belimap import scrna

    adata = pbmc68k["adata"].copy()
    scrna.annotate(adata, vocab, params=pbmc68k["params"])
    truth, pred = pbmc68k["truth"], adata.obs["lineage"].isin(vocab.bcell_lineages).to_numpy()
    assert truth.sum() == 95
    tp, fp, fn = int((truth & pred).sum()), int((~truth & pred).sum()), int((truth & ~pred).sum())
    assert Fraction(2 * tp, 2 * tp + fp + fn) >= Fraction(95, 100), (tp, fp, fn)
    b = adata.obs["bcell_subset"].astype(str)
    assert (b[pred] != "").all() and (b[~pred] == "").all()
    assert adata.obs.loc[pred, "annotation_margin"].notna().all()


def test_deleting_one_subsets_markers_warns_and_is_no_silent_zero(pbmc68k, vocab, tmp_path):
    """A copy of the vocabulary file without plasma-cell markers: named in the notes, absent from the table."""
    import yaml

    from belimap import scrna
    from belimap.config import ROOT
    from belimap.vocab import read_subsets

    data = yaml.safe_load((ROOT / "resources" / "bcell_subsets.yaml").read_text())
    for s in data["subsets"]:
        if s["id"] == "plasma_cell":
            s["markers"] = {"up": ["NOT_A_GENE"], "down": []}
    path = tmp_path / "bcell_subsets.yaml"
    path.write_text(yaml.safe_dump(data))
    gone = replace(vocab, subsets=read_subsets(path))
    specimens = pd.DataFrame({"sample_id": ["pbmc68k"], "patient_id": ["D1"], "tissue": ["blood"],
                              "timepoint": ["baseline"]})
    results = {}
    for name, v in (("real", vocab), ("gone", gone)):
        adata = pbmc68k["adata"].copy()
        adata.uns["notes"] = []
        scrna.annotate(adata, v, params=replace(pbmc68k["params"], annotate=replace(pbmc68k["params"].annotate,
                                                                                      min_margin=0.0)))
        comp, _ = scrna.compositions(adata, specimens, v)
        results[name] = (adata, comp)
    real, comp_real = results["real"]
    adata, comp = results["gone"]
    notes = " ".join(adata.uns["notes"])
    assert "plasma_cell: NOT_A_GENE" in notes
    assert "plasma_cell" in adata.uns["uncallable_subsets"]
    assert any("plasma_cell" in n and "cannot be called" in n for n in adata.uns["notes"])
    assert "plasma_cell" not in set(comp["subset"]) and "plasma_cell" not in set(adata.obs["bcell_subset"])
    # with the real vocabulary plasma_cell is callable here (MZB1 is measured) and reported
    assert "plasma_cell" in set(comp_real["subset"])
    assert "plasma_cell" not in real.uns["uncallable_subsets"]
