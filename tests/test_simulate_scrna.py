"""The scRNA simulator: real 10x feature space, programmes independent of the annotator, ambient truth."""
import numpy as np
import pandas as pd
import pytest

from belimap.simulate import scrna
from belimap.simulate.cohort import simulate_cohort
from tests.conftest import small_config


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    cfg = small_config(tmp_path_factory.mktemp("simscrna"), n_patients=1, cells=400)
    cohort = simulate_cohort(cfg)
    model = scrna.build_model(cohort)
    ones = np.ones(len(model.dense))
    out = {sid: scrna.simulate_sample(cohort, sid, model, ones, ones) for sid in cohort.specimens["sample_id"]}
    return cohort, model, out


def test_feature_space_is_the_real_10x_one_with_ig_genes(sim):
    _, model, _ = sim
    genes = set(model.genes)
    assert len(model.genes) >= 30_000 and len(genes) == len(model.genes)
    assert {"IGHM", "IGHD", "IGHG1", "IGHA1", "IGKC", "IGLC2", "JCHAIN", "TRAC", "MT-CO1", "RPL3"} <= genes
    assert sum(g.startswith("IGHV") for g in genes) > 30


def test_plasma_cells_spend_a_large_share_of_umis_on_ig(sim):
    _, model, out = sim
    ig = np.array([g.startswith(("IGH", "IGK", "IGL")) or g == "JCHAIN" for g in model.genes])
    shares = []
    for counts, truth, _ in out.values():
        cells = np.flatnonzero((truth["bcell_subset"] == "plasma_cell").to_numpy())
        if len(cells):
            x = counts[cells]
            shares.append(np.asarray(x[:, ig].sum(1)).ravel() / np.asarray(x.sum(1)).ravel())
    assert np.median(np.concatenate(shares)) > 0.2


def test_truth_records_states_ambient_and_doublet_kinds(sim):
    _, _, out = sim
    truth = pd.concat([t for _, t, _ in out.values()])
    b = truth[truth["bcell_subset"] != ""]
    assert (b["state_weight"].between(0, 0.5)).all() and (b["state_weight"] > 0.2).any()
    assert set(truth.loc[truth["is_doublet"], "doublet_kind"]) == {"homotypic", "heterotypic"}
    assert truth["ambient_fraction"].gt(0).all()


def test_ambient_contamination_is_recovered_in_order(sim):
    """Ig share of T cells (pure soup) over the sample's Ig share (the soup's) follows the true contamination
    between samples of a tissue."""
    cohort, model, out = sim
    ig = np.array([g.startswith(("IGK", "IGL", "IGH")) for g in model.genes])
    tissue = cohort.specimens.set_index("sample_id")["tissue"]
    rows = []
    for sid, (counts, truth, cont) in out.items():
        x = counts[np.flatnonzero(truth["lineage"].isin(["CD4_T", "CD8_T"]).to_numpy())]
        soup = counts[:, ig].sum() / counts.sum()
        rows.append((tissue[sid], cont, float(x[:, ig].sum() / x.sum() / soup)))
    df = pd.DataFrame(rows, columns=["tissue", "truth", "estimate"])
    pairs = [(np.sign(a.truth - b.truth) == np.sign(a.estimate - b.estimate))
             for _, g in df.groupby("tissue") for i, a in enumerate(g.itertuples()) for b in list(g.itertuples())[i + 1:]]
    assert len(pairs) >= 3 and np.mean(pairs) >= 0.75


def test_low_quality_is_a_continuum(sim):
    _, model, out = sim
    mt = np.array([g.startswith("MT-") for g in model.genes])
    counts, truth, _ = next(iter(out.values()))
    frac = np.asarray(counts[:, mt].sum(1)).ravel() / np.asarray(counts.sum(1)).ravel()
    lq = truth["is_low_quality"].to_numpy()
    assert frac[lq].mean() > 2 * frac[~lq].mean()
    assert truth.loc[lq, "quality_severity"].nunique() == lq.sum()


def test_deterministic(sim):
    cohort, model, out = sim
    sid = next(iter(out))
    ones = np.ones(len(model.dense))
    again, truth, _ = scrna.simulate_sample(cohort, sid, model, ones, ones)
    assert (again != out[sid][0]).nnz == 0 and truth.equals(out[sid][1])


def test_model_reads_no_marker_list_from_the_vocabulary(sim, monkeypatch):
    cohort, model, _ = sim
    from belimap import vocab as vocab_mod

    def boom(*a, **k):
        raise AssertionError("simulator read the annotator's markers")

    for name in ("marker_genes",):
        monkeypatch.setattr(type(cohort.vocab), name, boom, raising=False)
    for cls in (type(s) for s in cohort.vocab.subsets[:1]):
        for attr in ("up", "down"):
            monkeypatch.setattr(cls, attr, property(boom), raising=False)
    for cls in (type(lin) for lin in cohort.vocab.lineages[:1]):
        monkeypatch.setattr(cls, "markers", property(boom), raising=False)
    scrna._gene_table.cache_clear()
    again = scrna.build_model(cohort)
    assert again.genes == model.genes
    assert vocab_mod  # the module is importable; ids still come from it as truth labels


def test_adding_patients_leaves_existing_patients_cells_unchanged(tmp_path):
    from belimap.simulate.study import simulate_study
    from tests.conftest import SCRNA_ONLY

    cells = {}
    for n in (1, 2):
        cfg = small_config(tmp_path / str(n), n_patients=n, cells=60, modalities=SCRNA_ONLY)
        simulate_study(cfg, cfg["simulate"]["outdir"], cfg["samples"])
        t = pd.read_csv(tmp_path / str(n) / "sim" / "truth" / "cells.tsv", sep="\t", keep_default_na=False)
        cells[n] = t[t["sample_id"].str.startswith("P01_")].reset_index(drop=True)
    pd.testing.assert_frame_equal(cells[1], cells[2])
    assert len(cells[1]) > 0
