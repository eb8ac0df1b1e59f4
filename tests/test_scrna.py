"""The scRNA-seq branch recovers the simulator's truth (issue targets, on a small study)."""

import numpy as np
import pandas as pd
import pytest

from belimap import scrna
from belimap.composition import COMPOSITION_COLUMNS, LINEAGE_COLUMNS


ISSUE_11 = ("issue 11 open: on the simulator that does not share the annotator's markers, the marker annotator "
            "misses the targets (2-patient study, min_margin 0.05: lineage macro-F1 0.73 (QC removes 12 % of healthy "
            "singlets), B-subset macro-F1 0.53, unassigned 11 %; a logistic regression trained on another cohort's "
            "truth over the same marker genes reaches 0.68)")


@pytest.fixture(scope="module")
def scores(annotated_study) -> dict:
    return scrna.accuracy_against_truth(annotated_study["adata"], annotated_study["cells"], annotated_study["vocab"])


def test_annotation_beats_chance_over_every_truth_cell(scores):
    """Scored over all truth cells (QC removals and unassigned count as misses): floors of the honest simulator,
    so a broken annotator (random or all-one labels) fails; 8 subsets give a chance macro-F1 near 0.12."""
    assert scores["lineage_macro_f1"] >= 0.65
    assert scores["bcell_subset_macro_f1"] >= 0.40 and scores["bcell_subset_macro_f1_conditioned"] >= 0.50
    assert 0 < scores["unassigned_share"] < 0.25
    assert scores["doublets_removed"] > 0.15


@pytest.mark.xfail(reason=ISSUE_11, strict=False)
def test_issue_11_targets_over_every_truth_cell(scores, annotated_study):
    """Issue 11's done-means on the demo simulator."""
    assert scores["lineage_macro_f1"] >= 0.90
    assert scores["bcell_subset_macro_f1"] >= 0.75
    assert scores["unassigned_share"] <= 0.10
    assert scrna.composition_error(annotated_study["comp"], annotated_study["composition"]) <= 0.05


def test_composition_table_contract(annotated_study):
    comp, lin, vocab = annotated_study["comp"], annotated_study["lineages"], annotated_study["vocab"]
    assert list(comp.columns) == COMPOSITION_COLUMNS
    assert list(lin.columns) == LINEAGE_COLUMNS
    n_samples = annotated_study["sheet"]["sample_id"].nunique()
    assert len(comp) == n_samples * len(vocab.subset_ids)  # zeros included
    sums = comp.groupby("sample_id")["fraction"].sum()
    np.testing.assert_allclose(sums[sums > 0], 1.0)  # over assigned B-lineage cells
    b = annotated_study["adata"].obs.query("lineage in ['B', 'plasma']").groupby("sample_id", observed=True).size()
    per = comp.groupby("sample_id")[["n_bcells", "n_unassigned"]].first().sum(axis=1)
    assert (per.reindex(b.index) == b).all()  # every B-lineage cell is assigned or counted unassigned
    # germinal-centre B cells are only allowed (and simulated) in lymph node
    gc = comp[(comp["subset"] == "germinal_centre") & (comp["tissue"] != "lymph_node")]
    assert gc["n_cells"].sum() == 0


def test_integrated_obs_columns(annotated_study):
    adata = annotated_study["adata"]
    for col in ["sample_id", "barcode", "patient_id", "tissue", "timepoint", "lineage", "bcell_subset"]:
        assert col in adata.obs
    assert "counts" in adata.layers and "X_umap" in adata.obsm
    b = adata.obs["lineage"].isin(["B", "plasma"])
    assert (adata.obs.loc[~b, "bcell_subset"] == "").all()
    assert (adata.obs.loc[b, "bcell_subset"] != "").all()
    assert adata.obs.loc[b, "annotation_margin"].notna().all() and adata.obs.loc[~b, "annotation_margin"].isna().all()
    dn2 = adata.obs["bcell_sublabel"] == "dn2"
    assert (adata.obs.loc[dn2, "bcell_subset"] == "double_negative").all()
    assert adata.obs_names[0] == f"{adata.obs['sample_id'].iloc[0]}:{adata.obs['barcode'].iloc[0]}"
    counts = adata.layers["counts"]
    assert np.allclose(counts.data, np.round(counts.data))


def test_sample_with_almost_no_bcells_is_kept_with_empty_fractions(tmp_path):
    from belimap.composition import composition_table

    specimens = pd.DataFrame({"sample_id": ["a", "b"], "patient_id": ["P1", "P1"], "tissue": ["blood", "synovium"],
                              "timepoint": ["baseline", "baseline"]})
    labels = pd.DataFrame({"sample_id": ["a", "a", "a"], "bcell_subset": ["naive", "naive", "transitional"]})
    tab = composition_table(labels, specimens, ["naive", "transitional", "plasmablast"])
    b = tab[tab["sample_id"] == "b"]
    assert len(b) == 3 and (b["n_bcells"] == 0).all() and b["fraction"].isna().all()
    a = tab[tab["sample_id"] == "a"].set_index("subset")
    assert a.loc["naive", "fraction"] == 2 / 3 and a.loc["plasmablast", "n_cells"] == 0


def test_deleting_a_subsets_markers_warns_and_never_reports_zero(annotated_study):
    """A subset whose markers are all missing is named in the notes and absent from the table, not 0 %."""
    from dataclasses import replace

    from belimap.scrna.annotate import warn_absent_markers

    vocab = annotated_study["vocab"]
    gone = replace(vocab, subsets=tuple(replace(s, up=("NOT_A_GENE1",), down=("NOT_A_GENE2",))
                                        if s.id == "transitional" else s for s in vocab.subsets))
    adata = annotated_study["adata"].copy()
    adata.uns["notes"] = []
    assert warn_absent_markers(adata, gone) == ["transitional"]
    notes = " ".join(adata.uns["notes"])
    assert "transitional: NOT_A_GENE1, NOT_A_GENE2" in notes and "subset(s) transitional cannot be called" in notes
    from belimap.sheet import specimens

    comp, _ = scrna.compositions(adata, specimens(annotated_study["sheet"]), gone)
    assert "transitional" not in set(comp["subset"]) and len(comp) > 0
    # the real vocabulary on the same data: every subset callable, nothing left out
    assert warn_absent_markers(adata, vocab) == []


def test_ig_and_tr_v_genes_never_become_highly_variable():
    """An expanded clone's V gene is the most variable gene of all, yet must not drive the embedding."""
    import anndata as ad
    import scipy.sparse as sp

    from belimap.scrna.embed import IntegrateParams, embed, normalise

    rng = np.random.default_rng(0)
    X = rng.poisson(2, (120, 60)).astype(np.float32)
    X[:20, 0] = 300  # one expanded clone's IGHV
    X[20:30, 1] = 300  # and a T-cell clone's TRBV
    adata = ad.AnnData(sp.csr_matrix(X))
    adata.var_names = ["IGHV3-23", "TRBV20-1", *[f"G{i}" for i in range(58)]]
    adata.obs["sample_id"] = "S1"
    normalise(adata)
    kw = dict(n_top_genes=20, n_comps=5, integrate=IntegrateParams(method="none", key="sample_id"), n_neighbors=10,
              resolution=0.5, seed=0)
    # without exclusion the two V genes are among the HVGs ...
    plain = adata.copy()
    embed(plain, **kw)
    assert plain.var.loc[["IGHV3-23", "TRBV20-1"], "highly_variable"].all()
    embed(adata, **kw, hvg_exclude="^(IG[HKL]V|TR[ABDG]V)")  # ... with it, never
    assert not adata.var.loc[["IGHV3-23", "TRBV20-1"], "highly_variable"].any()
    assert adata.var["highly_variable"].sum() >= 15
