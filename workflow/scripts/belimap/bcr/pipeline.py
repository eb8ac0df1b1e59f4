"""The BCR branch as one call per workflow rule.

``read_file`` (per file: contigs → AIRR table) → ``clonotype_files`` (chain QC, attachment to the
scRNA cells, clonotypes, MuData) → ``table_files`` (sharing, expansion, isotypes) → ``figure_files``
and, on a simulated study, ``accuracy_file``. :func:`clonotype_cells` and :func:`repertoire_tables`
are the same steps without files, for the tests and ``benchmarks/bcr_sharing.py``. Nothing here
touches Snakemake; outputs are passed by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from belimap.bcr.chains import ChainQcParams, annotate_cells, chain_qc_table
from belimap.bcr.clonotypes import ClonotypeParams, define_clonotypes
from belimap.bcr.io import build_mudata, read_airr_tables, read_bcr, read_gex_cells, write_airr_table, write_mudata
from belimap.bcr.repertoire import (ExpansionParams, SharingParams, cell_table, expansion_table, isotype_table,
                                    sharing_accuracy, sharing_table)
from belimap.params import parameters
from belimap.tables import read_tsv, write_tsv

if TYPE_CHECKING:
    import anndata as ad

    from belimap.vocab import Vocabulary

#: Specimens as a rule's params carry them (columns as lists) or as a table.
Specimens = pd.DataFrame | Mapping[str, Sequence[str]]


@parameters("bcr")
class BcrParams:
    """The ``bcr`` section of the config, every sub-section typed; ``seed`` is the study's seed
    (the ``bcr`` section sets none of its own)."""

    chain_qc: ChainQcParams
    clonotypes: ClonotypeParams
    expansion: ExpansionParams
    sharing: SharingParams
    seed: int


def clonotype_cells(airr: ad.AnnData, gex_obs: pd.DataFrame, specimens: pd.DataFrame, *,
                    bcell_lineages: Sequence[str], params: BcrParams, n_jobs: int = 1) -> pd.DataFrame:
    """Chain QC, attachment to the scRNA cells and clonotypes; returns the cell table.

    ``airr`` is annotated in place: the ``obs`` columns and ``obsm['chain_indices']`` of
    :func:`belimap.bcr.chains.annotate_cells`, then ``clone_id``, ``clone_size``,
    ``clone_size_sample`` and ``clonal_expansion`` of :func:`belimap.bcr.clonotypes.define_clonotypes`.
    """
    annotate_cells(airr, gex_obs, specimens, bcell_lineages=bcell_lineages, params=params.chain_qc)
    define_clonotypes(airr, params=params.clonotypes, breakpoints=params.expansion.breakpoints, n_jobs=n_jobs,
                      seed=params.seed)
    return cell_table(airr)


def repertoire_tables(cells: pd.DataFrame, specimens: pd.DataFrame, *, tissues: Sequence[str],
                      subsets: Sequence[str], params: BcrParams) -> dict[str, pd.DataFrame]:
    """Sharing, expansion and isotype tables of the analysed cells of ``cells`` (``results/bcr/cells.tsv``)."""
    analysed = cells[cells["analysed"].astype(str).str.lower().isin(["true", "1"])]
    return {
        "sharing": sharing_table(analysed, specimens, tissues=tissues, params=params.sharing),
        "expansion": expansion_table(analysed, specimens, subsets=subsets, breakpoints=params.expansion.breakpoints),
        "isotypes": isotype_table(analysed, specimens, subsets=subsets),
    }


# --------------------------------------------------------------------------------------------
# one call per rule
# --------------------------------------------------------------------------------------------
def read_file(path: str | Path, sample_id: str, *, out: str | Path) -> None:
    """Rule ``bcr_read``: one BCR file (10x contigs or AIRR) → an AIRR table, cells ``"{sample_id}:{barcode}"``."""
    write_airr_table(read_bcr(path, sample_id), out)


def clonotype_files(tables: Sequence[str | Path], integrated: str | Path, specimens: Specimens, vocab: Vocabulary, *,
                    samples: Sequence[str], params: BcrParams, n_jobs: int = 1, mudata: str | Path,
                    cells: str | Path, chain_qc: str | Path) -> None:
    """Rule ``bcr_clonotypes``: per-sample AIRR tables (``tables[i]`` of ``samples[i]``) and the scRNA
    cells of ``integrated`` → cell table, chain-QC table and the study MuData (``gex`` + ``airr``)."""
    airr = read_airr_tables(dict(zip(samples, tables, strict=True)))
    obs, obsm = read_gex_cells(integrated)
    found = clonotype_cells(airr, obs, pd.DataFrame(specimens), bcell_lineages=list(vocab.bcell_lineages),
                            params=params, n_jobs=n_jobs)
    write_tsv(found, cells)
    write_tsv(chain_qc_table(airr), chain_qc)
    write_mudata(build_mudata(obs, obsm, airr), mudata)


def table_files(cells_path: str | Path, specimens: Specimens, vocab: Vocabulary, *, params: BcrParams,
                tissues: Sequence[str], sharing: str | Path, expansion: str | Path, isotypes: str | Path) -> None:
    """Rule ``bcr_tables``: ``cells.tsv`` → clone sharing between tissues, clonal expansion and isotype use.

    ``cells.tsv`` is read with :func:`belimap.tables.read_tsv`: only blank cells are missing, so a
    ``chain_pairing`` of ``"no IR"`` stays a string; the columns the tables use (``sample_id``,
    ``analysed``, ``clone_id``, ``clonal_expansion``, ``c_call``, ``bcell_subset``) are blank where unknown.
    """
    tables = repertoire_tables(read_tsv(cells_path), pd.DataFrame(specimens), tissues=list(tissues),
                               subsets=vocab.subset_ids, params=params)
    for table, out in ((tables["sharing"], sharing), (tables["expansion"], expansion),
                       (tables["isotypes"], isotypes)):
        write_tsv(table, out)


def figure_files(sharing_path: str | Path, expansion_path: str | Path, isotypes_path: str | Path,
                 chain_qc_path: str | Path, vocab: Vocabulary, *, tissues: Sequence[str], timepoints: Sequence[str],
                 sharing: str | Path, expansion: str | Path, isotypes: str | Path, chain_qc: str | Path) -> None:
    """Rule ``bcr_figures``: sharing heatmaps, expansion and isotype bars, chain-pairing QC (PDF + PNG each)."""
    from belimap.pl import bcr as pl
    from belimap.pl import save_figure

    tissues, timepoints = list(tissues), list(timepoints)
    save_figure(pl.sharing_heatmaps(read_tsv(sharing_path), tissues=tissues, timepoints=timepoints), sharing)
    save_figure(pl.expansion_bars(read_tsv(expansion_path), vocab, tissues=tissues, timepoints=timepoints), expansion)
    save_figure(pl.isotype_bars(read_tsv(isotypes_path), vocab, tissues=tissues, timepoints=timepoints), isotypes)
    save_figure(pl.chain_qc_bars(read_tsv(chain_qc_path)), chain_qc)


def accuracy_file(sharing_path: str | Path, truth_path: str | Path, *, out: str | Path) -> None:
    """Rule ``bcr_accuracy``: estimated vs. simulated clone sharing between tissues (simulated studies)."""
    acc = sharing_accuracy(read_tsv(sharing_path), read_tsv(truth_path))
    write_tsv(acc, out)
    for clones, g in acc.groupby("clones", sort=False):  # one line per clone set: the demo's headline numbers
        print(f"{clones} clones: max |Jaccard error| = {g['abs_error_jaccard'].max():.4f} over {len(g)} tissue pairs",
              flush=True)
