"""All figures of belimap (scanpy's ``pl``): functions take ``ax=`` where they draw one panel,
return the axes or figure, and take every colour from :mod:`belimap.pl.palette`."""

from belimap.pl.palette import lineage_colours, save_figure, subset_colours, timepoint_colours, tissue_colours

__all__ = ["lineage_colours", "save_figure", "subset_colours", "timepoint_colours", "tissue_colours"]
