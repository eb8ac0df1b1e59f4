"""Per-specimen compositions of the labelled scRNA object: B-cell subsets and lineages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from belimap.composition import composition_table, lineage_table
from belimap.vocab import Vocabulary

if TYPE_CHECKING:
    import anndata as ad


def compositions(adata: ad.AnnData, specimens: pd.DataFrame, vocab: Vocabulary) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(B-subset composition, lineage composition) of every scRNA specimen, zeros included.

    Subsets the annotator could not call (``uns['uncallable_subsets']``: markers absent from the
    data) are left out, with the annotator's note saying so, so a missing gene never reads as 0 %
    (nor is tested as a loss downstream). ``unassigned`` B-lineage cells are counted in
    ``n_unassigned``, outside the fractions' denominator ``n_bcells`` (see :mod:`belimap.composition`).
    """
    obs = adata.obs[["sample_id", "lineage", "bcell_subset"]].astype(str)
    b = obs[obs["lineage"].isin(vocab.bcell_lineages)]
    specimens = specimens.astype({"tissue": str, "timepoint": str})
    comp = composition_table(b, specimens, vocab.subset_ids)
    uncallable = [str(s) for s in adata.uns.get("uncallable_subsets", [])]
    comp = comp[~comp["subset"].isin(uncallable)].reset_index(drop=True)
    return comp, lineage_table(obs, specimens, vocab.lineage_ids)
