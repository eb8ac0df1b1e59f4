"""Comparisons across tissues and timepoints: composition statistics, pseudobulk DE, gene-set scores.

One module per verb: ``stats`` (paired composition tests: paired logit or quasi-binomial),
``absolute`` (paired NB tests of flow cells/µL), ``pseudobulk`` (counts summed per specimen ×
subset, DESeq2 per subset × tissue), ``scores`` (per-cell gene-set scores), ``concordance`` (flow vs
scRNA fractions per tissue × subset: Spearman, repeated-measures Bland–Altman) and ``simulate``
(composition counts drawn from the cohort model for calibration and power studies); ``pipeline``
holds the one call per workflow rule. Figures are in :mod:`belimap.pl.compare`.
"""

from belimap.compare.absolute import absolute_tests, specimen_volumes
from belimap.compare.concordance import concordance_table, pair_modalities, repeated_measures_ba, subset_status
from belimap.compare.pipeline import CompareParams
from belimap.compare.pseudobulk import PseudobulkParams, differential_expression, pseudobulk
from belimap.compare.scores import (GeneSet, ScoresParams, read_gene_sets, score_cells, summarise_groups,
                                    summarise_scores)
from belimap.compare.simulate import counts_from_cohort, null_overrides, simulated_study
from belimap.compare.stats import (CompositionParams, bh_qvalues, check_composition, composition_tests,
                                   paired_contrasts, study_tests)

__all__ = [
    "CompareParams", "CompositionParams", "GeneSet", "PseudobulkParams", "ScoresParams", "absolute_tests",
    "bh_qvalues", "check_composition", "composition_tests", "concordance_table", "counts_from_cohort",
    "differential_expression", "null_overrides", "pair_modalities", "paired_contrasts", "pseudobulk",
    "read_gene_sets", "repeated_measures_ba", "score_cells", "simulated_study", "specimen_volumes", "study_tests",
    "subset_status",
    "summarise_groups", "summarise_scores",
]
