"""Composition tables: one row per sample × subset, shared by the scRNA and flow branches.

Both modalities write exactly ``COMPOSITION_COLUMNS`` so that they can be put side by side, tested
with the same code and compared with the simulator's truth.

Cells an annotator leaves ``unassigned`` (:data:`belimap.vocab.UNASSIGNED`) are not a subset: they
are counted per specimen in ``n_unassigned`` and are *not* in ``n_bcells``, so ``fraction`` of a
named subset is its share of the B-lineage cells that have a subset label (``n_cells / n_bcells``).
Under unassigned cells spread over subsets like the assigned ones this estimates the true share
(what the simulator's truth and flow report), and ``n_bcells`` is the denominator the binomial
composition tests need. The unassigned share of a specimen is ``n_unassigned / (n_bcells +
n_unassigned)``; flow and the truth write ``n_unassigned = 0``.
"""

from __future__ import annotations

import pandas as pd

from belimap.vocab import UNASSIGNED

COMPOSITION_COLUMNS = ["sample_id", "patient_id", "tissue", "timepoint", "subset", "n_cells", "n_bcells", "fraction",
                       "n_unassigned"]
LINEAGE_COLUMNS = ["sample_id", "patient_id", "tissue", "timepoint", "lineage", "n_cells", "n_total", "fraction"]


def composition_table(
    labels: pd.DataFrame,
    specimens: pd.DataFrame,
    subsets: list[str],
    label_col: str = "bcell_subset",
) -> pd.DataFrame:
    """Count ``label_col`` per sample over ``subsets`` (zeros included) with fractions of the B lineage.

    ``labels`` has one row per B-lineage cell (columns ``sample_id`` and ``label_col``); cells whose
    label is not in ``subsets`` still count in ``n_bcells``, except ``unassigned`` ones, which count
    in ``n_unassigned`` instead (see the module docstring). ``specimens`` (``sample_id,
    patient_id, tissue, timepoint``) decides which samples appear, so a sample with no B cells gets
    rows with ``n_bcells = 0`` and an empty (NaN) fraction rather than disappearing.
    """
    counts = (
        labels.groupby(["sample_id", label_col], observed=True).size().unstack(fill_value=0)
        if len(labels) else pd.DataFrame()
    )
    counts = counts.reindex(index=specimens["sample_id"], columns=subsets, fill_value=0)
    un = labels[label_col].astype(str).eq(UNASSIGNED) if len(labels) else pd.Series(dtype=bool)
    n_un = labels[un].groupby("sample_id").size().reindex(specimens["sample_id"], fill_value=0)
    n_b = labels[~un].groupby("sample_id").size().reindex(specimens["sample_id"], fill_value=0)
    long = counts.stack().rename("n_cells").reset_index()
    long.columns = ["sample_id", "subset", "n_cells"]
    long["n_bcells"] = long["sample_id"].map(n_b).astype(int)
    long["n_unassigned"] = long["sample_id"].map(n_un).astype(int)
    long["fraction"] = long["n_cells"] / long["n_bcells"].where(long["n_bcells"] > 0)
    return sort_composition(specimens.merge(long, on="sample_id", how="right"), subsets)


def sort_composition(table: pd.DataFrame, subsets: list[str]) -> pd.DataFrame:
    """``COMPOSITION_COLUMNS`` in the row order every composition table has: patient, tissue,
    timepoint, sample, then ``subsets`` in vocabulary order (a table drawn from the simulator's
    cohort, :func:`belimap.compare.simulate.counts_from_cohort`, is laid out as the branches write theirs)."""
    out = table.copy()
    if "n_unassigned" not in out.columns:  # a table from a source that assigns every cell
        out["n_unassigned"] = 0
    out["subset"] = pd.Categorical(out["subset"], categories=subsets, ordered=True)
    out = out.sort_values(["patient_id", "tissue", "timepoint", "sample_id", "subset"], kind="stable")
    out["subset"] = out["subset"].astype(str)
    return out[COMPOSITION_COLUMNS].reset_index(drop=True)


def lineage_table(labels: pd.DataFrame, specimens: pd.DataFrame, lineages: list[str]) -> pd.DataFrame:
    """Like :func:`composition_table` at lineage level: fraction of the sample's cells with a lineage
    (cells of a cluster the lineage pass left ``unassigned`` are outside ``n_total``)."""
    tab = composition_table(labels.rename(columns={"lineage": "_lab"}), specimens, lineages, "_lab")
    return tab.rename(columns={"subset": "lineage", "n_bcells": "n_total"})[LINEAGE_COLUMNS]
