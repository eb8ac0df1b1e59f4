"""Pseudobulk differential expression per B subset × tissue: each later timepoint vs baseline.

Cells are not independent replicates (cells of one specimen share its patient, its day and its
library), so testing cells inflates significance; summing raw counts per specimen × subset and
fitting DESeq2 (pydeseq2) with ``~ patient + timepoint`` makes the specimen the unit and pairs
every timepoint with the same patient's baseline (Squair et al., Nat Commun 2021).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from belimap.errors import BelimapError
from belimap.params import parameters
from belimap.scrna.io import check_counts

if TYPE_CHECKING:  # anndata is imported at call time (a slow import)
    import anndata as ad

log = logging.getLogger(__name__)

OBS_KEYS = ["sample_id", "patient_id", "tissue", "timepoint"]
DE_COLUMNS = ["gene", "timepoint", "reference", "base_mean", "log2_fold_change", "lfc_se", "stat", "p_value",
              "padj", "n_patients", "n_samples"]
SUMMARY_COLUMNS = ["subset", "tissue", "timepoint", "reference", "n_patients", "n_samples", "n_genes_tested",
                   "n_significant", "status", "note"]


@parameters("compare", "pseudobulk")
class PseudobulkParams:
    """Thresholds of pseudobulk DE (``compare.pseudobulk`` in the config)."""

    min_cells: int
    min_patients: int
    min_gene_counts: int
    alpha: float


def pseudobulk(adata: ad.AnnData, *, layer: str = "counts", subset_key: str = "bcell_subset",
               where: str = "integrated object") -> ad.AnnData:
    """Sum raw counts of B-lineage cells per specimen × subset (``adata`` is not changed).

    Parameters
    ----------
    adata
        Cells; reads ``layers[layer]`` (raw integer counts: DESeq2 models counts, not normalised
        values) and ``obs`` ``sample_id, patient_id, tissue, timepoint`` and ``subset_key`` (cells
        with an empty label are not B lineage and are left out).
    where
        Names the object in error messages.

    Returns
    -------
    A new AnnData, one observation per specimen × subset named ``"{sample_id}:{subset}"`` (sorted):
    ``X`` the summed counts (int64, dense), ``obs`` ``OBS_KEYS + ["subset", "n_cells"]`` (cells
    summed), ``var`` the genes of ``adata``; no layers, ``obsm`` or ``uns``.
    """
    import anndata as ad

    missing = [k for k in OBS_KEYS + [subset_key] if k not in adata.obs.columns]
    if missing:
        raise BelimapError(f"{where}: obs lacks column(s) {', '.join(missing)}; expected {', '.join(OBS_KEYS + [subset_key])}")
    if layer not in adata.layers:
        raise BelimapError(f"{where}: no layers['{layer}'] with raw counts; pseudobulk DE needs raw counts")
    counts = adata.layers[layer]
    check_counts(counts, f"{where} layers['{layer}']")
    obs = adata.obs[OBS_KEYS + [subset_key]].astype(str).rename(columns={subset_key: "subset"})
    keep = (obs["subset"] != "") & (obs["subset"] != "nan")
    obs = obs[keep]
    counts = sp.csr_matrix(counts)[np.flatnonzero(keep.to_numpy())]
    key = obs["sample_id"] + "|" + obs["subset"]
    codes, groups = pd.factorize(key, sort=True)
    indicator = sp.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(groups), len(codes)))
    summed = (indicator @ counts).toarray()
    first = obs.groupby(key.to_numpy(), sort=True).first().loc[groups]
    first["n_cells"] = np.bincount(codes, minlength=len(groups))
    first.index = [g.replace("|", ":") for g in groups]
    out = ad.AnnData(X=np.rint(summed).astype(np.int64), obs=first, var=pd.DataFrame(index=adata.var_names.copy()))
    return out


def _empty(subset: str, tissue: str, reference: str, notes: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = pd.DataFrame(notes, columns=SUMMARY_COLUMNS)
    summary["subset"], summary["tissue"], summary["reference"] = subset, tissue, reference
    return pd.DataFrame(columns=DE_COLUMNS), summary


def _note(tp: str, status: str, note: str, n_pat: int = 0, n_samp: int = 0) -> dict:
    return {"timepoint": tp, "n_patients": n_pat, "n_samples": n_samp, "n_genes_tested": 0, "n_significant": 0,
            "status": status, "note": note}


def differential_expression(
    pb: ad.AnnData, *, subset: str, tissue: str, timepoints: list[str], params: PseudobulkParams, n_cpus: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DESeq2 of one subset in one tissue: every later timepoint vs ``timepoints[0]``, paired by patient.

    Returns the DE table (``DE_COLUMNS``, one row per gene × tested timepoint) and a summary with
    one row per later timepoint (``SUMMARY_COLUMNS``): ``status`` is ``tested`` or ``skipped`` with
    the reason (too few cells per sample, too few paired patients, no genes left).
    """
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.default_inference import DefaultInference
    from pydeseq2.ds import DeseqStats

    baseline = timepoints[0]
    in_tissue = pb.obs.loc[pb.obs["tissue"] == tissue, "timepoint"]
    later = [tp for tp in timepoints[1:] if (in_tissue == tp).any()]  # timepoints sampled in this tissue
    sel = pb[(pb.obs["subset"] == subset) & (pb.obs["tissue"] == tissue)]
    enough = sel.obs["n_cells"] >= params.min_cells
    few = f"; {int((~enough).sum())} sample(s) with < {params.min_cells} cells left out" if (~enough).any() else ""
    sel = sel[enough.to_numpy()]
    obs = sel.obs
    base_pat = set(obs.loc[obs["timepoint"] == baseline, "patient_id"])
    notes, tested, patients = [], [], set()
    for tp in later:
        pat = base_pat & set(obs.loc[obs["timepoint"] == tp, "patient_id"])
        if len(pat) < params.min_patients:
            notes.append(_note(tp, "skipped", f"{len(pat)} patient(s) with >= {params.min_cells} cells at {baseline} "
                                              f"and {tp} (< min_patients {params.min_patients}){few}", len(pat), 2 * len(pat)))
        else:
            tested.append(tp)
            patients |= pat
            notes.append(_note(tp, "tested", few.lstrip("; "), len(pat), 2 * len(pat)))
    if not tested:
        return _empty(subset, tissue, baseline, notes)
    use = obs["patient_id"].isin(patients) & obs["timepoint"].isin([baseline, *tested])
    sel = sel[use.to_numpy()]
    counts = pd.DataFrame(np.asarray(sel.X), index=sel.obs_names.astype(str), columns=sel.var_names.astype(str))
    counts = counts.loc[:, counts.sum(axis=0) >= max(params.min_gene_counts, 1)]
    if counts.shape[1] == 0:
        for n in notes:
            if n["status"] == "tested":
                n.update(status="skipped", note=f"no gene with >= {params.min_gene_counts} counts")
        return _empty(subset, tissue, baseline, notes)
    meta = pd.DataFrame({"patient": sel.obs["patient_id"].astype(str).to_numpy(),
                         "timepoint": sel.obs["timepoint"].astype(str).to_numpy()}, index=counts.index)
    inference = DefaultInference(n_cpus=n_cpus)
    dds = DeseqDataSet(counts=counts, metadata=meta, design="~ patient + timepoint", refit_cooks=True,
                       inference=inference, quiet=True)
    dds.deseq2()
    parts = []
    for tp in tested:
        stats = DeseqStats(dds, contrast=["timepoint", tp, baseline], alpha=params.alpha, inference=inference, quiet=True)
        stats.summary()
        res = stats.results_df
        n_pat = int(meta.loc[meta["timepoint"] == tp, "patient"].nunique())
        parts.append(pd.DataFrame({
            "gene": res.index.astype(str), "timepoint": tp, "reference": baseline, "base_mean": res["baseMean"].to_numpy(),
            "log2_fold_change": res["log2FoldChange"].to_numpy(), "lfc_se": res["lfcSE"].to_numpy(),
            "stat": res["stat"].to_numpy(), "p_value": res["pvalue"].to_numpy(), "padj": res["padj"].to_numpy(),
            "n_patients": n_pat, "n_samples": int(((meta["timepoint"] == tp) | (meta["timepoint"] == baseline)).sum()),
        }))
        for n in notes:
            if n["timepoint"] == tp:
                n.update(n_genes_tested=int(res["pvalue"].notna().sum()),
                         n_significant=int((res["padj"] < params.alpha).sum()), n_samples=int(parts[-1]["n_samples"].iloc[0]))
    table = pd.concat(parts, ignore_index=True)[DE_COLUMNS]
    table = table.sort_values(["timepoint", "p_value", "gene"], key=lambda c: c.map(timepoints.index) if c.name == "timepoint" else c,
                              kind="stable", na_position="last").reset_index(drop=True)
    summary = pd.DataFrame(notes, columns=SUMMARY_COLUMNS)
    summary["subset"], summary["tissue"], summary["reference"] = subset, tissue, baseline
    return table, summary
