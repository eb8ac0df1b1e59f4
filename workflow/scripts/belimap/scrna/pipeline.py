"""The scRNA-seq branch as one call per workflow rule.

``preprocess_sample`` (per file) → ``concat_samples`` → ``integrate`` → ``annotate`` →
``compositions``; the ``*_file(s)`` functions wrap them with their reads and writes so that a rule's
script is one call. Nothing here touches Snakemake; outputs are passed by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from belimap.errors import BelimapError
from belimap.params import parameters
from belimap.scrna.celltypist import annotate_celltypist
from belimap.scrna.ambient import CONTAMINATION, AmbientParams, decontaminate
from belimap.scrna.annotate import AnnotateParams, BcellParams, label_bcell_subsets, label_lineages, read_vdj_isotypes
from belimap.scrna.doublets import DoubletParams, call_doublets
from belimap.scrna.embed import HvgParams, IntegrateParams, LeidenParams, NeighborsParams, PcaParams, embed, normalise
from belimap.scrna.qc import QC_COLUMNS, QcParams, flag_outliers, qc_metrics, qc_summary
from belimap.tables import read_tsv, write_h5ad, write_tsv
from belimap.vocab import UNASSIGNED, Vocabulary

if TYPE_CHECKING:
    import anndata as ad

OBS_META = ["sample_id", "barcode", "patient_id", "tissue", "timepoint", "batch"]


@parameters("scrna")
class ScrnaParams:
    """The ``scrna`` section of the config, every sub-section typed."""

    qc: QcParams
    ambient: AmbientParams
    doublets: DoubletParams
    hvg: HvgParams
    pca: PcaParams
    integrate: IntegrateParams
    neighbors: NeighborsParams
    leiden: LeidenParams
    bcells: BcellParams
    annotate: AnnotateParams
    min_cells_for_integration: int
    seed: int


def filter_sample(adata: ad.AnnData, *, params: ScrnaParams) -> tuple[ad.AnnData, pd.DataFrame]:
    """QC one sample: ambient RNA (optional), metrics, adaptive filters, doublets. Returns (kept cells,
    per-cell QC table).

    Ambient RNA is removed first (``scrna.ambient``, :func:`belimap.scrna.ambient.decontaminate`) so that
    every metric, filter and doublet score sees the corrected counts. The per-cell table keeps every
    barcode with its metrics, its estimated ambient share (``ambient_contamination``, NaN with method
    ``none``), flags and the reason it was removed (``""`` when kept), so the QC figure and summary can
    show what each step did. The kept object carries ``uns['qc']`` (thresholds), ``uns['ambient']`` and
    ``obs['ambient_contamination'|'doublet_score'|'predicted_doublet']``.
    """
    import numpy as np

    adata, _ = decontaminate(adata, params=params.ambient, seed=params.seed)
    qc_metrics(adata)
    flags = flag_outliers(adata, params=params.qc)
    kept = adata[~flags["low_quality"].to_numpy()].copy()
    kept.uns["qc"] = adata.uns["qc"]
    kept.uns["ambient"] = adata.uns["ambient"]
    call_doublets(kept, params=params.doublets, seed=params.seed)
    table = adata.obs[QC_COLUMNS + [CONTAMINATION]].copy()
    table = table.join(flags)
    table["doublet_score"] = kept.obs["doublet_score"].reindex(table.index)
    table["predicted_doublet"] = kept.obs["predicted_doublet"].reindex(table.index).eq(True)
    reason = np.where(flags["low_quality"], "low_quality", np.where(table["predicted_doublet"], "doublet", ""))
    table["removed"] = reason
    table.insert(0, "barcode", table.index)
    out = kept[~kept.obs["predicted_doublet"].to_numpy()].copy()
    return out, table.reset_index(drop=True)


def preprocess_sample(path: str | Path, meta: dict, *, params: ScrnaParams) -> tuple[ad.AnnData, pd.DataFrame, dict]:
    """Read one raw file, QC it, call doublets; returns (kept cells, per-cell QC table, summary row).

    ``meta`` is the sample's sheet row. ``obs_names`` become ``"{sample_id}:{barcode}"``; ``obs``
    gains the columns of :data:`OBS_META` first.
    """
    from belimap.scrna.io import read_counts

    raw = read_counts(path)
    raw.obs["barcode"] = raw.obs_names.astype(str)
    raw.obs_names = [f"{meta['sample_id']}:{bc}" for bc in raw.obs["barcode"]]
    kept, table = filter_sample(raw, params=params)
    for key in OBS_META:
        if key != "barcode":
            kept.obs[key] = str(meta.get(key, "") or "")
    kept.obs = kept.obs[OBS_META + [c for c in kept.obs.columns if c not in OBS_META]]
    table.insert(0, "sample_id", meta["sample_id"])
    summary = qc_summary(table, meta["sample_id"])
    if kept.n_obs == 0:
        kept.uns.setdefault("notes", []).append(f"{meta['sample_id']}: no cells passed QC")
    return kept, table, summary


def concat_samples(samples: list[ad.AnnData], *, tissues: list[str], timepoints: list[str]) -> ad.AnnData:
    """Concatenate per-sample objects on their shared genes with ordered tissue/timepoint categories.

    The result's ``uns`` holds only ``notes`` (every sample's notes, in order).
    """
    import anndata as ad

    samples = [s for s in samples if s.n_obs > 0]
    if not samples:
        raise BelimapError("scRNA-seq: no cells passed QC in any sample; check the QC thresholds in config scrna.qc")
    notes = [n for s in samples for n in s.uns.get("notes", [])]
    adata = ad.concat(samples, join="inner", merge="same")
    adata.obs["tissue"] = pd.Categorical(adata.obs["tissue"], categories=tissues, ordered=True)
    adata.obs["timepoint"] = pd.Categorical(adata.obs["timepoint"], categories=timepoints, ordered=True)
    for key in ("sample_id", "patient_id", "batch"):
        adata.obs[key] = adata.obs[key].astype("category")
    adata.uns = {"notes": notes}
    return adata


def integrate(adata: ad.AnnData, *, params: ScrnaParams) -> ad.AnnData:
    """Normalise, embed (HVG, PCA, Harmony, neighbours, UMAP) and cluster the whole study, in place
    (see :func:`belimap.scrna.embed.embed` for the keys written)."""
    normalise(adata, min_cells_per_gene=params.qc.min_cells_per_gene)
    if adata.n_obs < params.min_cells_for_integration:
        raise BelimapError(
            f"scRNA-seq: only {adata.n_obs} cells passed QC, fewer than scrna.min_cells_for_integration "
            f"({params.min_cells_for_integration}); lower it or add samples")
    embed(adata, n_top_genes=params.hvg.n_top_genes, hvg_exclude=params.hvg.exclude, n_comps=params.pca.n_comps,
          integrate=params.integrate, n_neighbors=params.neighbors.n_neighbors, resolution=params.leiden.resolution,
          seed=params.seed)
    return adata


def annotate(adata: ad.AnnData, vocab: Vocabulary, *, params: ScrnaParams,
             isotypes: pd.Series | None = None) -> ad.AnnData:
    """Lineage labels for all cells, then B-subset labels for the B lineage; returns the B-cell object.

    Writes ``obs['lineage']``, ``obs['bcell_subset']`` (str: a subset id, ``unassigned``, or ``""``
    outside the B lineage), ``obs['bcell_sublabel']`` and ``obs['annotation_margin']`` (see
    :func:`belimap.scrna.annotate.label_bcell_subsets`) and the palette's colours as
    ``uns['<key>_colors']`` for tissue, timepoint and lineage (and bcell_subset on the B-cell
    object), so scanpy and cellxgene draw belimap's colours. ``isotypes`` (cell → switched /
    unswitched, from the cells' VDJ heavy chains) is used when ``scrna.annotate.isotype_from_vdj``.
    """
    reference = params.annotate.method == "celltypist"
    if reference:  # lineage and subset from the user's CellTypist model, translated by the label map
        annotate_celltypist(adata, vocab, params=params.annotate.celltypist, seed=params.seed)
        labels = adata.obs["bcell_subset"].astype(str).copy()
    else:
        label_lineages(adata, vocab, seed=params.seed, min_score=params.annotate.lineage_min_score)
    # markers: the subsets; celltypist: the B-lineage embedding, marker margins and the dn2 sub-label only
    bcells = label_bcell_subsets(adata, vocab, params=params.bcells, integrate=params.integrate,
                                 n_neighbors=params.neighbors.n_neighbors, n_top_genes=params.hvg.n_top_genes,
                                 hvg_exclude=params.hvg.exclude, seed=params.seed, annotate=params.annotate,
                                 isotypes=None if reference else isotypes)
    if reference:
        adata.obs["bcell_subset"] = labels
        dn = {s.id for s in vocab.subsets if s.sublabels}
        keep = labels.isin(dn) & adata.obs["bcell_sublabel"].astype(str).ne("")
        adata.obs["bcell_sublabel"] = adata.obs["bcell_sublabel"].astype(str).where(keep, "")
        if bcells.n_obs:
            bcells.obs["bcell_subset"] = labels.reindex(bcells.obs_names).to_numpy()
            bcells.obs["bcell_sublabel"] = adata.obs["bcell_sublabel"].reindex(bcells.obs_names).to_numpy()
    adata.obs["bcell_subset"] = adata.obs["bcell_subset"].astype(str)
    adata.obs["bcell_sublabel"] = adata.obs["bcell_sublabel"].astype(str)
    store_colours(adata, vocab)
    if bcells.n_obs:
        bcells.obs["bcell_subset"] = pd.Categorical(bcells.obs["bcell_subset"].astype(str),
                                                    categories=[*vocab.subset_ids, UNASSIGNED])
        store_colours(bcells, vocab)
    return bcells


def store_colours(adata: ad.AnnData, vocab: Vocabulary) -> None:
    """Write ``uns['<key>_colors']`` for every categorical key belimap colours (scanpy's convention:
    one colour per category, in category order)."""
    from belimap.pl.palette import timepoint_colours, tissue_colours

    palettes = {"lineage": vocab.lineage_colours(), "bcell_subset": vocab.subset_colours()}
    for key, cols in (("tissue", tissue_colours), ("timepoint", timepoint_colours)):
        if key in adata.obs and isinstance(adata.obs[key].dtype, pd.CategoricalDtype):
            palettes[key] = cols(list(adata.obs[key].cat.categories))
    for key, colours in palettes.items():
        if key in adata.obs and isinstance(adata.obs[key].dtype, pd.CategoricalDtype):
            adata.uns[f"{key}_colors"] = [colours.get(str(c), "#BBBBBB") for c in adata.obs[key].cat.categories]


# --------------------------------------------------------------------------------------------
# one call per rule
# --------------------------------------------------------------------------------------------
def qc_file(path: str | Path, meta: dict, *, params: ScrnaParams, h5ad: str | Path, table: str | Path,
            figure: str | Path) -> None:
    """Rule ``scrna_qc``: one raw file → kept cells (h5ad), per-cell QC table and QC figure."""
    from belimap.pl import save_figure
    from belimap.pl.scrna import qc_sample

    kept, cells, _ = preprocess_sample(path, meta, params=params)
    write_tsv(cells, table)
    save_figure(qc_sample(cells, dict(kept.uns.get("qc", {})), meta["sample_id"]), figure)
    write_h5ad(kept, h5ad)


def qc_summary_file(tables: list[str], *, out: str | Path) -> None:
    """Rule ``scrna_qc_summary``: the per-cell QC tables → one summary row per sample."""
    rows = []
    for path in tables:
        cells = read_tsv(path)
        cells["removed"] = cells["removed"].fillna("")
        rows.append(qc_summary(cells, str(cells["sample_id"].iloc[0]) if len(cells) else path))
    write_tsv(pd.DataFrame(rows), out)


def integrate_files(paths: list[str], *, params: ScrnaParams, tissues: list[str], timepoints: list[str],
                    out: str | Path) -> None:
    """Rule ``scrna_integrate``: per-sample h5ads → one normalised, embedded, clustered h5ad."""
    import anndata as ad

    adata = concat_samples([ad.read_h5ad(p) for p in paths], tissues=tissues, timepoints=timepoints)
    integrate(adata, params=params)
    write_h5ad(adata, out)


def annotate_file(path: str | Path, vocab: Vocabulary, *, params: ScrnaParams, integrated: str | Path,
                  bcells: str | Path, bcr: list[str] | tuple[str, ...] = ()) -> None:
    """Rule ``scrna_annotate``: clustered h5ad → labelled study object and the B-lineage object.

    ``bcr`` are the per-sample AIRR tables (``results/bcr/samples/{sample}.tsv``) of the specimens
    with BCR data; their heavy-chain ``c_call`` decides switched vs unswitched memory.
    """
    import anndata as ad

    adata = ad.read_h5ad(path)
    isotypes = read_vdj_isotypes(list(bcr)) if bcr and params.annotate.isotype_from_vdj else None
    b = annotate(adata, vocab, params=params, isotypes=isotypes)
    write_h5ad(b, bcells)
    write_h5ad(adata, integrated)


def composition_files(path: str | Path, specimens: pd.DataFrame | dict, vocab: Vocabulary, *, subsets: str | Path,
                      lineages: str | Path, notes: str | Path) -> None:
    """Rule ``scrna_composition``: labelled h5ad → subset and lineage compositions and the notes.

    ``specimens`` is the specimen table (or its columns as lists, as a rule's params carry it).
    """
    import anndata as ad

    from belimap.scrna.composition import compositions

    adata = ad.read_h5ad(path, backed="r")
    sub, lin = compositions(adata, pd.DataFrame(specimens), vocab)
    write_tsv(sub, subsets)
    write_tsv(lin, lineages)
    texts = [str(n) for n in adata.uns.get("notes", [])]
    write_tsv(pd.DataFrame({"step": "scrna", "note": texts}, columns=["step", "note"]), notes)


def accuracy_file(path: str | Path, composition: str | Path, truth_cells: str | Path, truth_composition: str | Path,
                  vocab: Vocabulary, *, out: str | Path, qc_tables: list[str] | tuple[str, ...] = (),
                  confusion: str | Path | None = None, figure: str | Path | None = None) -> None:
    """Rule ``scrna_accuracy``: every truth cell scored (:mod:`belimap.scrna.accuracy`) → accuracy table,
    the truth × predicted confusion table and its figure (PDF + PNG)."""
    import anndata as ad

    from belimap.scrna import accuracy as acc

    adata = ad.read_h5ad(path, backed="r")
    qc = pd.concat([read_tsv(p) for p in qc_tables], ignore_index=True) if qc_tables else None
    scored = acc.score_cells(adata.obs, read_tsv(truth_cells), vocab, qc)
    write_tsv(acc.accuracy_table(scored, vocab, read_tsv(composition), read_tsv(truth_composition)), out)
    conf = acc.confusion(scored, vocab)
    if confusion is not None:
        write_tsv(conf.reset_index(), confusion)
    if figure is not None:
        from belimap.pl import save_figure
        from belimap.pl.accuracy import confusion_matrix

        save_figure(confusion_matrix(conf, vocab), figure)


def figure_files(path: str | Path, bcells_path: str | Path, composition: str | Path, vocab: Vocabulary, *,
                 tissues: list[str], timepoints: list[str], umap: str | Path, markers: str | Path, bars: str | Path,
                 lines: str | Path) -> None:
    """Rule ``scrna_figures``: UMAPs, marker dot plot, composition bars and patient lines."""
    import anndata as ad

    from belimap.pl import save_figure
    from belimap.pl import scrna as pl

    adata, bcells, comp = ad.read_h5ad(path), ad.read_h5ad(bcells_path), read_tsv(composition)
    save_figure(pl.umaps(adata, vocab, tissues=tissues, timepoints=timepoints, bcells=bcells), umap)
    save_figure(pl.marker_dotplot(adata, vocab), markers)
    save_figure(pl.composition_bars(comp, vocab, tissues=tissues, timepoints=timepoints), bars)
    save_figure(pl.patient_lines(comp, vocab, tissues=tissues, timepoints=timepoints), lines)

