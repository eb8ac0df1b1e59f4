"""The comparison branch as one call per workflow rule.

Composition tests (``composition_tests_file``) and their figures (``composition_figure_files``);
pseudobulk counts (``pseudobulk_file``), DESeq2 per subset × tissue (``de_files``) and volcano plots
(``volcano_files``); gene-set scores (``scores_files``). Each reads its inputs, calls the verbs of
:mod:`belimap.compare` and writes every output it is given by name; nothing here touches Snakemake.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from belimap.compare.pseudobulk import PseudobulkParams, differential_expression, pseudobulk
from belimap.compare.scores import ScoresParams, read_gene_sets, score_cells, summarise_groups, summarise_scores
from belimap.compare.stats import CompositionParams, check_composition, study_tests
from belimap.params import parameters
from belimap.tables import read_tsv, write_h5ad, write_tsv
from belimap.vocab import Vocabulary

log = logging.getLogger(__name__)


@parameters("compare")
class CompareParams:
    """The ``compare`` section of the config, every sub-section typed; ``seed`` is the section's
    seed, else the study's (the control genes of gene-set scores are drawn with it)."""

    composition: CompositionParams
    pseudobulk: PseudobulkParams
    scores: ScoresParams
    seed: int


def read_composition(path: str | Path, what: str = "composition table") -> pd.DataFrame:
    """A composition table a branch wrote, checked and typed (counts as integers, labels as strings)."""
    return check_composition(read_tsv(path), where=f"{path}: {what}")


def composition_tests_file(tables: dict[str, str | Path], vocab: Vocabulary, *, params: CompareParams,
                           tissues: list[str], timepoints: list[str], out: str | Path) -> None:
    """Rule ``compare_composition``: each modality's composition table → one table of paired tests."""
    comps = {m: read_composition(p, f"{m} composition table") for m, p in tables.items()}
    write_tsv(study_tests(comps, vocab, tissues=tissues, timepoints=timepoints, params=params.composition), out)


def absolute_tests_file(composition: str | Path, counts: str | Path, tests: str | Path, vocab: Vocabulary, *,
                        params: CompareParams, tissues: list[str], timepoints: list[str], out: str | Path) -> None:
    """Rule ``compare_absolute``: flow composition + gate counts with cells/µL → paired NB tests of
    absolute counts, each beside the share test of the same contrast (``tests``)."""
    from belimap.compare.absolute import absolute_tests

    comp = read_composition(composition, "flow composition table")
    write_tsv(absolute_tests(comp, read_tsv(counts), vocab, tissues=tissues, timepoints=timepoints,
                             params=params.composition, shares=read_tsv(tests)), out)


def composition_figure_files(tests: str | Path, composition: str | Path, vocab: Vocabulary, *, modality: str,
                             params: CompareParams, tissues: list[str], timepoints: list[str], forest: str | Path,
                             heatmap: str | Path, paired: str | Path) -> None:
    """Rule ``compare_composition_figures``: forest plot, effect heatmap and paired per-patient plot of
    one modality (its rows of the study's test table and its composition table)."""
    from belimap.pl import compare as pl
    from belimap.pl import save_figure

    table = read_tsv(tests)
    table = table[table["modality"] == modality].copy()
    table["note"] = table["note"].fillna("")
    comp = read_composition(composition)
    fdr = params.composition.fdr
    save_figure(pl.forest_figure(table, vocab, tissues=tissues, timepoints=timepoints, fdr=fdr), forest)
    save_figure(pl.effect_heatmap(table, vocab, fdr=fdr), heatmap)
    save_figure(pl.paired_figure(comp, vocab, tissues=tissues, timepoints=timepoints,
                                 min_bcells=params.composition.min_bcells), paired)


def pseudobulk_file(path: str | Path, *, out: str | Path) -> None:
    """Rule ``compare_pseudobulk``: the integrated cells → raw counts summed per specimen × B subset."""
    import anndata as ad

    write_h5ad(pseudobulk(ad.read_h5ad(path), where=str(path)), out)


def de_files(path: str | Path, *, pairs: list[tuple[str, str]], timepoints: list[str], params: CompareParams,
             tables: list[str | Path], summary: str | Path, n_cpus: int = 1) -> None:
    """Rule ``compare_de``: DESeq2 of every (subset, tissue) in ``pairs``, each written to its entry of
    ``tables`` (header-only when nothing was testable), and one summary row per later timepoint
    with the path of its table."""
    import anndata as ad

    pb = ad.read_h5ad(path)
    summaries = []
    for (subset, tissue), out in zip(pairs, tables, strict=True):
        table, rows = differential_expression(pb, subset=subset, tissue=tissue, timepoints=list(timepoints),
                                              params=params.pseudobulk, n_cpus=n_cpus)
        for row in rows.itertuples():
            log.info("%s %s %s: %s %s", subset, tissue, row.timepoint, row.status, row.note)
        write_tsv(table, out)
        summaries.append(rows.assign(path=str(out)))
    write_tsv(pd.concat(summaries, ignore_index=True), summary)


def volcano_files(tables: list[str | Path], vocab: Vocabulary, *, pairs: list[tuple[str, str]], tissues: list[str],
                  params: CompareParams, figures: list[str | Path]) -> None:
    """Rule ``compare_volcano``: the DE tables (one per (subset, tissue) of ``pairs``, in that order) →
    one volcano figure per tissue, written to the matching entry of ``figures``."""
    from belimap.pl import save_figure
    from belimap.pl.compare import volcano_figure

    des = {tuple(pair): read_tsv(p) for pair, p in zip(pairs, tables, strict=True)}
    for tissue, out in zip(tissues, figures, strict=True):
        save_figure(volcano_figure(des, vocab, tissue=tissue, alpha=params.pseudobulk.alpha), out)


def scores_files(path: str | Path, gene_sets: str | Path, vocab: Vocabulary, *, params: CompareParams,
                 tissues: list[str], timepoints: list[str], samples: str | Path, groups: str | Path,
                 notes: str | Path, figure: str | Path) -> None:
    """Rule ``compare_scores``: per-cell gene-set scores of the B-lineage cells → per-specimen and
    per-group tables, the notes of every set (genes missing, skipped sets) and the figure."""
    import anndata as ad

    from belimap.pl import save_figure
    from belimap.pl.compare import scores_figure

    sets = read_gene_sets(gene_sets)
    adata = ad.read_h5ad(path)
    cell_scores, set_notes = score_cells(adata, sets, params=params.scores, seed=params.seed)
    per_sample = summarise_scores(adata.obs, cell_scores)
    write_tsv(per_sample, samples)
    write_tsv(summarise_groups(per_sample), groups)
    write_tsv(set_notes, notes)
    save_figure(scores_figure(per_sample, vocab, gene_sets={g.id: g.label for g in sets}, tissues=list(tissues),
                              timepoints=list(timepoints)), figure)
