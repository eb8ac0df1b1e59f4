"""belimap: B-cell compartments across tissues and timepoints in B-cell-targeted SLE therapy.

The library behind the Snakemake workflow. Modules are split by domain, each a set of verbs over
AnnData objects or DataFrames (scanpy style): ``io``, ``qc``, ``annotate``, ``composition``,
``flow``, ``bcr``, ``compare``, ``clinical``, ``model``, ``report``, ``pl`` and ``simulate``.
"""

from belimap.errors import BelimapError

__version__ = "0.1.0"
__all__ = ["BelimapError", "__version__"]
