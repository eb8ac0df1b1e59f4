"""B-cell receptor repertoire: contigs, chain QC, clonotypes across a patient's tissues, and the
tables that answer "are the same clones in lymph node, synovium and blood?".

One module per verb, as scirpy splits ``io``/``pp``/``tl``: ``io`` (10x contigs and AIRR in, AIRR
tables and MuData out), ``chains`` (chain QC, attachment to the scRNA cells), ``clonotypes``
(clonotype clusters per patient), ``repertoire`` (cell table, sharing, expansion, isotypes,
accuracy), ``rarefaction`` (sharing indices at equal depth); ``pipeline`` holds the one call per
workflow rule. scirpy does the field-standard parts; written here is only what it lacks.
"""

from belimap.bcr.chains import ChainQcParams, annotate_cells, chain_qc_table
from belimap.bcr.clonotypes import ClonotypeParams, define_clonotypes
from belimap.bcr.io import (AIRR_COLUMNS, TENX_COLUMNS, build_mudata, detect_bcr_format, gene_call, read_airr_tables,
                            read_bcr, read_gex_cells, write_airr_table, write_mudata)
from belimap.bcr.pipeline import (BcrParams, accuracy_file, clonotype_cells, clonotype_files, figure_files, read_file,
                                  repertoire_tables, table_files)
from belimap.bcr.rarefaction import index_rows, rarefied_indices, rarefy
from belimap.bcr.repertoire import (CELL_COLUMNS, CLONE_SETS, SHARING_COLUMNS, ExpansionParams, SharingParams,
                                    cell_table, expansion_table,
                                    isotype_class, isotype_table, jaccard, morisita_horn, sharing_accuracy,
                                    sharing_table)

__all__ = [
    # io
    "AIRR_COLUMNS", "TENX_COLUMNS", "build_mudata", "detect_bcr_format", "gene_call", "read_airr_tables", "read_bcr",
    "read_gex_cells", "write_airr_table", "write_mudata",
    # chains, clonotypes
    "ChainQcParams", "annotate_cells", "chain_qc_table", "ClonotypeParams", "define_clonotypes",
    # repertoire
    "CELL_COLUMNS", "ExpansionParams", "SharingParams", "cell_table", "expansion_table", "isotype_class",
    "isotype_table", "jaccard", "morisita_horn", "sharing_accuracy", "sharing_table", "CLONE_SETS", "SHARING_COLUMNS",
    # rarefaction
    "index_rows", "rarefied_indices", "rarefy",
    # pipeline
    "BcrParams", "accuracy_file", "clonotype_cells", "clonotype_files", "figure_files", "read_file",
    "repertoire_tables", "table_files",
]
