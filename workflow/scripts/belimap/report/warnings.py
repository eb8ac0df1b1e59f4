"""``results/warnings.tsv``: every warning of a run in one table, so a reader of 200 jobs' logs does not
have to find them (the summary page shows this table first).

Sources: each branch's ``*notes.tsv`` (why a step was skipped or changed: few cells, markers absent
from the data, a filter switched off by a zero MAD, genes lost at concatenation ...; gene sets with
genes missing from the data), and the flow QC summary's per-file flags (uncompensated files,
flow-rate anomalies, too few events).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from belimap.tables import write_tsv

WARNING_COLUMNS = ["source", "sample_id", "warning"]


def _notes(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    if {"gene_set", "missing"} <= set(df.columns):  # compare/scores_notes.tsv: genes of a set not in the data
        df = df[df["missing"] != ""]
        status = df["status"] if "status" in df.columns else ""
        return pd.DataFrame({"source": path.parent.name, "sample_id": "",
                             "warning": "gene set " + df["gene_set"] + ": " + df["missing"] + " not in the data ("
                                        + status + ")"})
    col = next((c for c in ("note", "warning", "message") if c in df.columns), None)
    if col is None or df.empty:
        return pd.DataFrame(columns=WARNING_COLUMNS)
    source = df["step"] if "step" in df.columns else path.parent.name
    sample = df["sample_id"] if "sample_id" in df.columns else ""
    return pd.DataFrame({"source": source, "sample_id": sample, "warning": df[col]})


def _flow_flags(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    if "flags" not in df.columns:
        return pd.DataFrame(columns=WARNING_COLUMNS)
    rows = [{"source": "flow", "sample_id": r.get("sample_id", ""), "warning": f"flow QC flag: {flag}"}
            for r in df.to_dict("records") for flag in str(r["flags"]).split(";") if flag and flag != "ok"]
    return pd.DataFrame(rows, columns=WARNING_COLUMNS)


def collect_warnings(paths: list[str | Path]) -> pd.DataFrame:
    """``WARNING_COLUMNS`` rows from notes tables and flow QC summaries, in input order, duplicates dropped."""
    parts = []
    for p in map(Path, paths):
        if p.name.endswith("notes.tsv"):
            parts.append(_notes(p))
        elif p.name == "qc_summary.tsv" and p.parent.name == "flow":
            parts.append(_flow_flags(p))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=WARNING_COLUMNS)
    out = out[out["warning"].astype(str).str.strip() != ""]
    return out.drop_duplicates().reset_index(drop=True)[WARNING_COLUMNS]


def warnings_file(paths: list[str | Path], *, out: str | Path) -> None:
    """Write :func:`collect_warnings` of ``paths`` to ``out`` (atomically)."""
    write_tsv(collect_warnings(paths), out)
