"""Checks of a study's inputs that report every problem at once (``belimap validate``).

Each module checks one kind of input and returns a list of :class:`Problem` (one line each: file,
row or field, what was found, what was expected) instead of raising at the first: ``sheet`` (the
sample sheet's text), ``scrna`` (10x HDF5, MTX folders, h5ad), ``flow`` (FCS headers against the
gating strategy), ``bcr`` (10x contigs, AIRR) and ``study`` (config, sheet, every file, clinical
table). Contents are read cheaply: headers, barcodes and a sample of the stored counts, never a
whole matrix.
"""

from belimap.checks.problems import ERROR, WARNING, Problem, problem

__all__ = ["ERROR", "WARNING", "Problem", "problem"]
