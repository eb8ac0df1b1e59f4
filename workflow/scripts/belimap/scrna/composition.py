"""Per-specimen compositions of the labelled scRNA object: B-cell subsets and lineages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from belimap.composition import composition_table, lineage_table
from belimap.vocab import Vocabulary

if TYPE_CHECKING:
    import anndata as ad


def compositions(adata: ad.AnnData, specimens: pd.DataFrame, vocab: Vocabulary) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(B-subset composition, lineage composition) of every scRNA specimen, zeros included."""
    obs = adata.obs[["sample_id", "lineage", "bcell_subset"]].astype(str)
    b = obs[obs["lineage"].isin(vocab.bcell_lineages)]
    specimens = specimens.astype({"tissue": str, "timepoint": str})
    return (composition_table(b, specimens, vocab.subset_ids),
            lineage_table(obs, specimens, vocab.lineage_ids))
