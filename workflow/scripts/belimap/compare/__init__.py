"""Comparisons across tissues and timepoints: composition statistics, pseudobulk DE, gene-set scores.

``stats`` (paired quasi-binomial composition tests), ``pseudobulk`` (DESeq2 per subset × tissue),
``scores`` (per-cell gene-set scores) and ``simulate`` (composition counts drawn from the cohort
model for calibration and power studies). Figures are in :mod:`belimap.pl.compare`.
"""
