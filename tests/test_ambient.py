"""Ambient-RNA removal recovers contamination added at known shares to a real 10x matrix.

Counts: scanpy's bundled pbmc68k_reduced (700 real PBMCs, 765 genes), recovered from ``.raw``. Each
sample adds per-cell ambient UMIs drawn from the pooled profile at a Beta-distributed share around 2 %
or 20 %. The real matrix carries its own unknown ambient share, and on 765 highly variable genes DecontX
reads part of the cell-type overlap as contamination: the 0 % sample is estimated at ~0.08 (measured).
So the tolerance on a sample's mean is 0.10 absolute, and the test that the method sees contamination is
the rank order and the 2 % → 20 % rise (at least half of the true 0.18; measured 0.12).
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from belimap.errors import BelimapError
from belimap.scrna.ambient import CONTAMINATION, AmbientParams, decontaminate


def _counts():
    import scanpy as sc

    p = sc.datasets.pbmc68k_reduced()
    X = np.rint(np.expm1(p.raw.X.toarray()) * p.obs["n_counts"].to_numpy()[:, None] / 1e4)
    return X, list(p.raw.var_names)


def _sample(share: float, seed: int):
    import anndata as ad

    X, genes = _counts()
    rng = np.random.default_rng(seed)
    soup = X.sum(0) / X.sum()
    per_cell = rng.beta(20 * share, 20 * (1 - share), X.shape[0])
    n = rng.poisson(X.sum(1) * per_cell / (1 - per_cell))
    obs = X + np.stack([rng.multinomial(k, soup) for k in n])
    a = ad.AnnData(sp.csr_matrix(obs.astype(np.float32)), var=pd.DataFrame(index=genes))
    a.obs_names = [f"s:{i}" for i in range(a.n_obs)]
    return a, pd.Series(n / obs.sum(1), index=a.obs_names)


DECONTX = AmbientParams.from_config({"scrna": {"ambient": {"method": "decontx"}}})


@pytest.fixture(scope="module")
def runs():
    out = {}
    for share in (0.02, 0.20):
        a, truth = _sample(share, seed=1)
        corrected, est = decontaminate(a, params=DECONTX, seed=0)
        out[share] = (a, truth, corrected, est)
    return out


def test_recovers_known_contamination(runs):
    lo, hi = runs[0.02], runs[0.20]
    for a, truth, corrected, est in (lo, hi):
        assert abs(est.mean() - truth.mean()) <= 0.10
        assert est.between(0, 1).all() and (corrected.obs[CONTAMINATION] == est).all()
        assert corrected.uns["ambient"]["method"] == "decontx"
    assert hi[3].mean() - lo[3].mean() >= 0.5 * (hi[1].mean() - lo[1].mean())
    assert hi[3].median() > lo[3].median()
    assert np.corrcoef(hi[3], hi[1])[0, 1] > 0.2  # per cell, the more contaminated are found so


def test_corrected_counts_are_fewer_integers(runs):
    a, _, corrected, est = runs[0.20]
    X, Y = a.X.toarray(), corrected.X.toarray()
    assert np.array_equal(Y, np.rint(Y)) and (Y >= 0).all() and (Y <= X).all()
    removed = 1 - Y.sum(1) / X.sum(1)
    assert np.corrcoef(removed, est)[0, 1] > 0.9  # the counts removed are the contamination reported
    assert a.X.toarray().sum() == X.sum()  # input untouched


def test_deterministic_with_seed(runs):
    a, _, corrected, est = runs[0.02]
    again, est2 = decontaminate(a, params=DECONTX, seed=0)
    assert np.allclose(est.to_numpy(), est2.to_numpy())
    assert (corrected.X != again.X).nnz == 0


def test_method_none_leaves_counts_unchanged():
    a, _ = _sample(0.2, seed=2)
    out, est = decontaminate(a, params=AmbientParams.from_config({}), seed=0)
    assert (out.X != a.X).nnz == 0 and est.isna().all()
    assert out.obs[CONTAMINATION].isna().all()


def test_small_sample_skipped_with_note():
    a, _ = _sample(0.2, seed=3)
    out, est = decontaminate(a[:50].copy(), params=DECONTX, seed=0)
    assert est.isna().all() and (out.X != a[:50].X).nnz == 0
    assert "ambient RNA not removed" in out.uns["notes"][0]


@pytest.mark.parametrize("change, field", [({"method": "soupx"}, "scrna.ambient.method"),
                                           ({"delta": [10.0]}, "scrna.ambient.delta")])
def test_bad_settings_are_schema_errors(change, field):
    from belimap.config import ROOT, load_config

    with pytest.raises(BelimapError, match=f"field '{field}'"):
        load_config(ROOT / "config" / "config.yaml", {"scrna": {"ambient": change}})


def test_schema_defaults_reach_the_params():
    assert AmbientParams.from_config({}).method == "none"
    assert DECONTX.delta == [10.0, 10.0] and DECONTX.min_cells == 100
    with pytest.raises(BelimapError, match="scrna.ambient.method"):
        decontaminate(_sample(0.02, 0)[0], params=AmbientParams(**{**DECONTX.__dict__, "method": "x"}), seed=0)


def test_qc_summary_and_table_carry_contamination(runs):
    from belimap.scrna.qc import qc_summary

    _, _, _, est = runs[0.20]
    table = pd.DataFrame({"removed": "", "total_counts": 1000, "n_genes_by_counts": 500, "pct_counts_mt": 2.0,
                          CONTAMINATION: est.to_numpy()})
    row = qc_summary(table, "s")
    assert row["mean_ambient"] == pytest.approx(est.mean()) and row["median_ambient"] == pytest.approx(est.median())
    assert np.isnan(qc_summary(table.drop(columns=CONTAMINATION), "s")["mean_ambient"])


def test_pipeline_removes_ambient_before_qc(scrna_study):
    from belimap.pl.scrna import qc_sample
    from belimap.scrna.io import read_counts
    from belimap.scrna.pipeline import ScrnaParams, filter_sample
    from belimap.scrna.qc import qc_summary

    row = scrna_study["sheet"].iloc[0]
    raw = read_counts(row["path"])
    cfg = {**scrna_study["cfg"], "seed": 0}
    params = ScrnaParams.from_config({**cfg, "scrna": {**cfg.get("scrna", {}), "ambient": {"method": "decontx"}}})
    kept, table = filter_sample(raw, params=params)
    assert table[CONTAMINATION].between(0, 1).all() and len(table) == raw.n_obs
    assert kept.obs[CONTAMINATION].notna().all()
    corrected = table.set_index("barcode")["total_counts"]
    assert (corrected <= np.asarray(raw.X.sum(axis=1)).ravel()).all() and (corrected < raw.X.sum(axis=1).A1).any()
    summary = qc_summary(table, row["sample_id"])
    assert 0 < summary["mean_ambient"] < 1
    assert len(qc_sample(table, dict(kept.uns["qc"]), row["sample_id"]).axes) == 4
