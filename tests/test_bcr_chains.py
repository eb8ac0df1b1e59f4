"""belimap.bcr.chains: chain QC and attachment to the scRNA cells decide which cells are analysed."""

from __future__ import annotations

import warnings

import pandas as pd

from belimap import bcr
from tests.bcr_data import BLIN, melanoma, specimens

warnings.filterwarnings("ignore")


def test_chain_qc_leaves_out_non_b_and_excluded_pairings():
    a = melanoma()[:400].copy()
    gex = pd.DataFrame({"lineage": "B", "bcell_subset": "naive"}, index=a.obs_names[:300])
    gex.iloc[:50, 0] = "CD4_T"
    params = bcr.ChainQcParams()
    annotated = bcr.annotate_cells(a, gex, specimens(["MEL"]), bcell_lineages=BLIN, params=params)
    out = annotated.obs
    assert not out["analysed"].iloc[:50].any()  # non-B lineage
    assert not out["analysed"].iloc[300:].any()  # not among the scRNA cells
    kept = out.iloc[50:300]
    assert kept.loc[kept["analysed"], "chain_pairing"].isin(["single pair", "two full chains", "extra VJ", "extra VDJ",
                                                             "orphan VDJ"]).all()
    assert (~kept["analysed"] == kept["chain_pairing"].isin(params.exclude_chain_pairing)).all()
    assert "chain_indices" in annotated.obsm
    qc = bcr.chain_qc_table(annotated)
    assert qc.loc[0, ["n_cells", "n_in_gex", "n_analysed"]].tolist() == [400, 300, int(out["analysed"].sum())]


def test_b_lineage_only_off_keeps_other_lineages():
    a = melanoma()[:100].copy()
    gex = pd.DataFrame({"lineage": "CD4_T", "bcell_subset": ""}, index=a.obs_names)
    strict = bcr.annotate_cells(a.copy(), gex, specimens(["MEL"]), bcell_lineages=BLIN, params=bcr.ChainQcParams())
    loose = bcr.annotate_cells(a, gex, specimens(["MEL"]), bcell_lineages=BLIN,
                               params=bcr.ChainQcParams(b_lineage_only=False))
    assert not strict.obs["analysed"].any() and loose.obs["analysed"].any()
