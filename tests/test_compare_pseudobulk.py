"""Pseudobulk DE (belimap.compare.pseudobulk): counts summed per specimen × subset, planted genes recovered."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from belimap.compare.pseudobulk import DE_COLUMNS, SUMMARY_COLUMNS, PseudobulkParams, differential_expression, pseudobulk
from belimap.errors import BelimapError

TIMES = ["baseline", "week12"]
N_DE = 20


def toy(n_pat: int = 4, n_genes: int = 300, cells: int = 30, fold: float = 4.0, seed: int = 0) -> ad.AnnData:
    """B cells (naive, switched_memory) plus T cells of ``n_pat`` patients at two timepoints.

    Genes G0..G19 rise ``fold``-times in naive B cells at week 12; nothing else changes.
    """
    rng = np.random.default_rng(seed)
    base = rng.lognormal(0, 1.2, n_genes) * 0.3
    mats, rows = [], []
    for p in range(n_pat):
        patient = rng.lognormal(0, 0.2, n_genes)
        for tp in TIMES:
            for label in ["naive", "switched_memory", ""]:
                up = np.where(np.arange(n_genes) < N_DE, fold, 1.0) if (tp == "week12" and label == "naive") else 1.0
                mu = np.outer(rng.lognormal(0, 0.2, cells), base * patient * up)
                mats.append(rng.negative_binomial(5, 5 / (5 + mu)))
                rows += [{"sample_id": f"P{p}_blood_{tp}", "patient_id": f"P{p}", "tissue": "blood", "timepoint": tp,
                          "lineage": "B" if label else "CD4_T", "bcell_subset": label} for _ in range(cells)]
    X = sp.csr_matrix(np.vstack(mats).astype(np.float32))
    obs = pd.DataFrame(rows)
    obs.index = [f"{s}:c{i}" for i, s in enumerate(obs["sample_id"])]
    adata = ad.AnnData(X=X.copy(), obs=obs, var=pd.DataFrame(index=[f"G{i}" for i in range(n_genes)]))
    adata.layers["counts"] = X
    return adata


@pytest.fixture(scope="module")
def toy_pb():
    adata = toy()
    return adata, pseudobulk(adata)


def test_pseudobulk_sums_counts_of_b_cells(toy_pb):
    adata, pb = toy_pb
    assert pb.n_obs == 4 * 2 * 2  # patients × timepoints × B subsets; T cells left out
    assert set(pb.obs["subset"]) == {"naive", "switched_memory"}
    sel = (adata.obs["sample_id"] == "P1_blood_week12") & (adata.obs["bcell_subset"] == "naive")
    expected = np.asarray(adata.layers["counts"][sel.to_numpy()].sum(axis=0)).ravel()
    np.testing.assert_array_equal(pb["P1_blood_week12:naive"].X.ravel(), expected)
    assert (pb.obs["n_cells"] == 30).all()
    assert pb.obs.loc["P1_blood_week12:naive", "patient_id"] == "P1"


def test_de_recovers_planted_genes(toy_pb):
    _, pb = toy_pb
    table, summary = differential_expression(pb, subset="naive", tissue="blood", timepoints=TIMES, params=PseudobulkParams())
    assert list(table.columns) == DE_COLUMNS and list(summary.columns) == SUMMARY_COLUMNS
    sig = table[table["padj"] < 0.05]
    planted = {f"G{i}" for i in range(N_DE)}
    assert len(planted & set(sig["gene"])) >= 0.75 * N_DE
    assert len(set(sig["gene"]) - planted) <= 2
    assert (sig.loc[sig["gene"].isin(planted), "log2_fold_change"] > 1).all()
    assert summary.iloc[0]["status"] == "tested" and summary.iloc[0]["n_patients"] == 4
    # The unchanged subset: no planted signal, (almost) nothing called.
    other, _ = differential_expression(pb, subset="switched_memory", tissue="blood", timepoints=TIMES,
                                  params=PseudobulkParams())
    assert (other["padj"] < 0.05).sum() <= 2


def test_small_groups_skipped_with_note(toy_pb):
    _, pb = toy_pb
    table, summary = differential_expression(pb, subset="naive", tissue="blood", timepoints=TIMES,
                                           params=PseudobulkParams(min_cells=31))
    assert table.empty and list(table.columns) == DE_COLUMNS
    assert summary.iloc[0]["status"] == "skipped" and "min_patients" in summary.iloc[0]["note"]
    assert "< 31 cells" in summary.iloc[0]["note"]
    absent, s2 = differential_expression(pb, subset="plasma_cell", tissue="blood", timepoints=TIMES,
                                         params=PseudobulkParams())
    assert absent.empty and s2.iloc[0]["status"] == "skipped"
    # A timepoint never sampled in the tissue is not a row at all.
    _, s3 = differential_expression(pb, subset="naive", tissue="blood", timepoints=[*TIMES, "week48"],
                                    params=PseudobulkParams())
    assert list(s3["timepoint"]) == ["week12"]


def test_pseudobulk_refuses_missing_counts():
    adata = toy(n_pat=2, n_genes=20, cells=3)
    del adata.layers["counts"]
    with pytest.raises(BelimapError, match=r"layers\['counts'\]"):
        pseudobulk(adata)
    adata = toy(n_pat=2, n_genes=20, cells=3)
    adata.layers["counts"] = adata.layers["counts"] * 0.5
    with pytest.raises(BelimapError, match="not raw counts"):
        pseudobulk(adata)


def test_de_on_real_pbmc_b_cells_with_random_labels():
    """scanpy's pbmc68k_reduced: real B cells given random patients/timepoints — DE runs, calls ~nothing."""
    import scanpy as sc

    pbmc = sc.datasets.pbmc68k_reduced()
    counts = np.rint(np.expm1(pbmc.raw.X.toarray()) * pbmc.obs["n_counts"].to_numpy()[:, None] / 1e4)
    b = (pbmc.obs["bulk_labels"] == "CD19+ B").to_numpy()
    rng = np.random.default_rng(0)
    n = int(b.sum())
    patient = rng.integers(0, 3, n)
    tp = np.array(TIMES)[rng.integers(0, 2, n)]
    obs = pd.DataFrame({"patient_id": [f"P{p}" for p in patient], "tissue": "blood", "timepoint": tp,
                        "bcell_subset": "naive"}, index=pbmc.obs_names[b])
    obs["sample_id"] = obs["patient_id"] + "_blood_" + obs["timepoint"]
    adata = ad.AnnData(X=sp.csr_matrix(counts[b]), obs=obs, var=pd.DataFrame(index=pbmc.raw.var_names))
    adata.layers["counts"] = adata.X.copy()
    pb = pseudobulk(adata)
    table, summary = differential_expression(pb, subset="naive", tissue="blood", timepoints=TIMES,
                                             params=PseudobulkParams(min_cells=5))
    assert summary.iloc[0]["status"] == "tested" and summary.iloc[0]["n_patients"] == 3
    assert len(table) > 100 and table["p_value"].dropna().between(0, 1).all()
    assert (table["padj"] < 0.05).sum() <= 3
