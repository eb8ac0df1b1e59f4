"""Chain QC and attachment to the scRNA cells: which BCR cells enter the clonal analysis.

scirpy classifies each cell's chains (``pp.index_chains``, ``tl.chain_qc``); belimap adds the
specimen keys from the sample sheet and the scRNA labels, and decides which cells are analysed:
a BCR in a T cell is ambient RNA or a doublet, a multichain cell is mostly a doublet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from belimap.errors import BelimapError
from belimap.params import parameters

if TYPE_CHECKING:
    import anndata as ad


@parameters("bcr", "chain_qc")
class ChainQcParams:
    """``bcr.chain_qc``: scirpy ``chain_pairing`` classes left out, and whether only B-lineage cells count."""

    exclude_chain_pairing: list[str]
    b_lineage_only: bool


def annotate_cells(airr: ad.AnnData, gex_obs: pd.DataFrame, specimens: pd.DataFrame, *,
                   bcell_lineages: Sequence[str], params: ChainQcParams) -> ad.AnnData:
    """Add specimen keys, the scRNA labels and scirpy's chain QC to ``airr``; mark the analysed cells.

    Parameters
    ----------
    airr
        scirpy's AnnData (``obs_names`` ``"{sample_id}:{barcode}"``), annotated in place and returned.
    gex_obs
        ``integrated.h5ad``'s ``obs`` (same index); its ``lineage`` and ``bcell_subset`` are copied.
    specimens
        The BCR specimens (``sample_id, patient_id, tissue, timepoint``); an unknown sample is an error.
    bcell_lineages
        Lineage labels that count as B lineage (the vocabulary's ``bcell_lineages``).
    params
        A cell is analysed when it passed the scRNA steps (``in_gex``), is a BCR cell whose chain
        pairing is not in ``exclude_chain_pairing`` and, with ``b_lineage_only``, sits in the B lineage.

    Writes
    ------
    ``obs``: ``sample_id``, ``barcode``, ``patient_id``, ``tissue``, ``timepoint`` (str), ``in_gex``
    (bool), ``lineage``, ``bcell_subset`` (str, ``""`` when not among the scRNA cells), scirpy's
    ``receptor_type``, ``receptor_subtype``, ``chain_pairing`` and ``analysed`` (bool);
    ``obsm['chain_indices']`` (scirpy's ``index_chains``).
    """
    import scirpy as ir

    obs = airr.obs
    parts = obs.index.to_series().str.split(":", n=1, expand=True)
    obs["sample_id"], obs["barcode"] = parts[0].to_numpy(), parts[1].to_numpy()
    spec = specimens.drop_duplicates("sample_id").set_index("sample_id")
    unknown = sorted(set(obs["sample_id"]) - set(spec.index))
    if unknown:
        raise BelimapError(f"BCR sample '{unknown[0]}' is not in the sample sheet")
    for col in ("patient_id", "tissue", "timepoint"):
        obs[col] = obs["sample_id"].map(spec[col].astype(str)).to_numpy()
    obs["in_gex"] = obs.index.isin(gex_obs.index)
    for col in ("lineage", "bcell_subset"):
        src = gex_obs[col].astype(str) if col in gex_obs.columns else pd.Series(dtype=str)
        obs[col] = obs.index.map(src).fillna("").astype(str)
    ir.pp.index_chains(airr)
    ir.tl.chain_qc(airr)
    ok = obs["in_gex"] & (obs["receptor_type"].astype(str) == "BCR")
    ok &= ~obs["chain_pairing"].astype(str).isin(params.exclude_chain_pairing)
    if params.b_lineage_only:
        ok &= obs["lineage"].isin(bcell_lineages)
    obs["analysed"] = ok.to_numpy()
    return airr


def chain_qc_table(airr: ad.AnnData) -> pd.DataFrame:
    """Per sample: cells with contigs, their chain pairing classes, how many reached the scRNA cells and analysis.

    ``airr`` is the output of :func:`annotate_cells`; one ``n_<pairing>`` column per class present.
    """
    obs = airr.obs
    pairing = pd.crosstab(obs["sample_id"], obs["chain_pairing"].astype(str))
    pairing.columns = [f"n_{c.replace(' ', '_')}" for c in pairing.columns]
    base = obs.groupby("sample_id", observed=True).agg(
        patient_id=("patient_id", "first"), tissue=("tissue", "first"), timepoint=("timepoint", "first"),
        n_cells=("analysed", "size"), n_in_gex=("in_gex", "sum"), n_analysed=("analysed", "sum"))
    out = base.join(pairing).reset_index()
    out["fraction_analysed"] = out["n_analysed"] / out["n_cells"]
    return out
