"""Notes: why a step was skipped or changed, kept with the data so the summary can show them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import anndata as ad

log = logging.getLogger("belimap")


def note(adata: ad.AnnData, text: str) -> None:
    """Log ``text`` as a warning and append it to ``adata.uns['notes']`` (shown in the summary)."""
    log.warning(text)
    notes = list(adata.uns.get("notes", []))
    notes.append(text)
    adata.uns["notes"] = notes
