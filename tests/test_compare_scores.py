"""Gene-set scores (belimap.compare.scores): the resource, its validation, the signature found in the right cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from belimap.compare.scores import (GeneSet, ScoresParams, read_gene_sets, score_cells, summarise_groups,
                                    summarise_scores)
from belimap.config import ROOT, load_config, repo_path
from belimap.errors import BelimapError
from tests.test_compare_pseudobulk import toy


def test_gene_sets_resource_has_the_baff_axis():
    params = ScoresParams.from_config(load_config(ROOT / "config" / "config.yaml"))
    sets = {g.id: g for g in read_gene_sets(repo_path(params.gene_sets))}
    assert set(sets["baff_axis"].genes) == {"TNFRSF13C", "TNFRSF13B", "TNFRSF17"}
    assert {"interferon", "activation"} <= set(sets)


def test_gene_set_yaml_validated(tmp_path):
    bad = tmp_path / "sets.yaml"
    bad.write_text("gene_sets:\n  ifn:\n    label: IFN\n    genes: []\n")
    with pytest.raises(BelimapError, match="genes"):
        read_gene_sets(bad)


def test_scores_find_the_cells_with_the_signature():
    import scanpy as sc

    adata = toy(n_pat=2, n_genes=200, cells=40, fold=1.0)
    ifn = [f"G{i}" for i in range(50, 60)]
    hot = (adata.obs["timepoint"] == "week12").to_numpy() & (adata.obs["bcell_subset"] == "naive").to_numpy()
    X = adata.X.toarray()
    X[np.ix_(hot, [adata.var_names.get_loc(g) for g in ifn])] += 20
    adata.X = sp.csr_matrix(X)
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    sets = [GeneSet("ifn", "IFN", tuple(ifn + ["NOT_A_GENE"])), GeneSet("none", "None", ("NOPE1", "NOPE2"))]
    scores, notes = score_cells(adata, sets, params=ScoresParams(ctrl_size=20, n_bins=10), seed=1)
    assert "none" not in scores.columns and notes.set_index("gene_set").loc["none", "status"] == "skipped"
    assert notes.set_index("gene_set").loc["ifn", "missing"] == "NOT_A_GENE"
    assert len(scores) == int((adata.obs["bcell_subset"] != "").sum())  # B-lineage cells only
    per = summarise_scores(adata.obs, scores)
    naive = per[per["subset"] == "naive"].set_index("timepoint")["mean_score"]
    assert naive["week12"].min() > naive["baseline"].max() + 0.5
    groups = summarise_groups(per)
    assert set(groups["n_samples"]) == {2}
    again, _ = score_cells(adata, sets, params=ScoresParams(ctrl_size=20, n_bins=10), seed=1)
    pd.testing.assert_frame_equal(scores, again)
