"""``results/summary.html``: one page with the study design, notes, every table and every figure.

Snakemake's own ``--report`` (with the captions in ``workflow/report``) is the archival report; this
page is the quick look a bioinformatician opens after a run: self-contained apart from the figure
PNGs it links, which it references relative to ``results/``.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd

#: Section titles by results sub-folder, in the order data flows.
SECTIONS = {"scrna": "scRNA-seq", "flow": "Flow cytometry", "bcr": "BCR repertoire", "compare": "Comparison",
            "clinical": "Clinical", "model": "Response model"}
MAX_ROWS = 40


def _table_html(path: Path) -> str:
    try:
        df = pd.read_csv(path, sep="\t")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
        return "<p><em>(not a readable table)</em></p>"
    more = f"<p class='more'>{len(df) - MAX_ROWS} more rows in the file.</p>" if len(df) > MAX_ROWS else ""
    return df.head(MAX_ROWS).to_html(index=False, border=0, classes="tab", na_rep="", float_format=lambda v: f"{v:.4g}") + more


def summary_html(paths: list[str], cfg: dict, sheet: pd.DataFrame, out: str | Path) -> str:
    """Render the summary page for the study's outputs ``paths`` (tables, figures, notes)."""
    out = Path(out)
    by_section: dict[str, list[Path]] = {}
    for p in map(Path, paths):
        parts = p.parts
        i = len(parts) - 1 - parts[::-1].index("results") if "results" in parts else -1
        key = parts[i + 1] if 0 <= i < len(parts) - 2 else "other"
        by_section.setdefault(key, []).append(p)
    design = (sheet.astype({"tissue": str, "timepoint": str})
              .groupby(["modality", "tissue", "timepoint"]).size().unstack("timepoint", fill_value=0))
    body = [f"<h1>{html.escape(str(cfg.get('study', 'belimap study')))}</h1>",
            f"<p>Drug: {html.escape(str(cfg.get('drug', '')))}; {sheet['patient_id'].nunique()} patients, "
            f"{sheet['sample_id'].nunique()} specimens, {len(sheet)} input files.</p>",
            "<h2>Design: files per modality, tissue and timepoint</h2>", design.to_html(border=0, classes="tab")]
    notes = [p for p in map(Path, paths) if p.name.endswith("notes.tsv")]
    for section in [*SECTIONS, *sorted(set(by_section) - set(SECTIONS))]:
        files = by_section.get(section)
        if not files:
            continue
        body.append(f"<h2>{html.escape(SECTIONS.get(section, section))}</h2>")
        for p in sorted(files, key=lambda q: (q.suffix != ".tsv", str(q))):
            rel = os.path.relpath(p, out.parent)
            if p.suffix == ".tsv":
                body.append(f"<h3><a href='{html.escape(rel)}'>{html.escape(str(p))}</a></h3>{_table_html(p)}")
            elif p.suffix == ".png":
                pdf = p.with_suffix(".pdf")
                link = f" (<a href='{html.escape(os.path.relpath(pdf, out.parent))}'>PDF</a>)" if pdf.exists() else ""
                body.append(f"<figure><img src='{html.escape(rel)}' loading='lazy'><figcaption>{html.escape(str(p))}"
                            f"{link}</figcaption></figure>")
            elif p not in notes:
                body.append(f"<p><a href='{html.escape(rel)}'>{html.escape(str(p))}</a></p>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222} table.tab{border-collapse:"
             "collapse;font-size:12px} .tab td,.tab th{padding:2px 8px;border-bottom:1px solid #ddd}"
             " img{max-width:100%} figure{margin:1em 0} .more{font-size:11px;color:#666}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>belimap summary</title><style>{style}</style>"
            f"</head><body>{''.join(body)}</body></html>")


def summary_file(paths: list[str], cfg: dict, files: list[dict[str, str]], *, out: str | Path) -> None:
    """Rule ``report_summary``: write the page for ``paths``; ``files`` are the sheet's rows."""
    from belimap.tables import write_text

    write_text(summary_html(paths, cfg, pd.DataFrame(files), out), out)
