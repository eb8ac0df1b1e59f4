"""scRNA-seq: raw counts to labelled B-cell subsets and their composition per specimen.

One module per verb, as scanpy splits ``pp``/``tl``: ``io`` (count readers), ``qc`` (adaptive
filters), ``doublets`` (scrublet), ``embed`` (normalise, HVG, PCA, Harmony, UMAP, Leiden),
``annotate`` (lineages, then B-cell subsets), ``composition`` and ``accuracy``; ``pipeline`` holds
the one call per workflow rule.
"""

from belimap.scrna.accuracy import accuracy_against_truth, accuracy_table, composition_error, confusion, score_cells
from belimap.scrna.annotate import (
    AnnotateParams,
    BcellParams,
    assign_subsets,
    label_bcell_subsets,
    label_lineages,
    marker_scores,
    vdj_isotypes,
)
from belimap.scrna.composition import compositions
from belimap.scrna.doublets import DoubletParams, call_doublets
from belimap.scrna.embed import IntegrateParams, embed, harmony, normalise
from belimap.scrna.io import check_counts, detect_format, read_counts, summarise_counts
from belimap.scrna.pipeline import ScrnaParams, annotate, concat_samples, filter_sample, integrate, preprocess_sample
from belimap.scrna.qc import QcParams, flag_outliers, is_outlier, qc_metrics, qc_summary

__all__ = [
    "AnnotateParams", "BcellParams", "DoubletParams", "IntegrateParams", "QcParams", "ScrnaParams",
    "accuracy_against_truth", "accuracy_table", "annotate", "assign_subsets", "confusion", "score_cells", "vdj_isotypes",
    "call_doublets", "check_counts", "composition_error", "compositions", "concat_samples", "detect_format",
    "embed", "filter_sample", "flag_outliers", "harmony", "integrate", "is_outlier", "label_bcell_subsets",
    "label_lineages", "marker_scores", "normalise", "preprocess_sample", "qc_metrics", "qc_summary", "read_counts",
    "summarise_counts",
]
