"""HTML pieces of the summary page: embedded figures, summarised sortable tables, the page shell."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

import pandas as pd

#: Rows shown per table on the page; the full TSV is linked.
MAX_ROWS = 12
#: Columns that rank rows (smallest first: significant rows lead).
RANK_COLUMNS = ("q_value", "padj", "p_value")

STYLE = (
    "body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.45}"
    "table.tab{border-collapse:collapse;font-size:12px;margin:.5em 0}"
    ".tab td,.tab th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}"
    ".tab th{cursor:pointer;background:#f4f4f4} .tab th:after{content:' \\2195';color:#aaa}"
    "img{max-width:100%} figure{margin:1em 0} figcaption,.more{font-size:11px;color:#666}"
    ".warn{background:#fff4e5;border-left:4px solid #EE6677;padding:.5em 1em} .lead{font-size:15px}"
    ".methods{background:#f7f7f7;padding:.5em 1em} nav a{margin-right:1em}"
)

#: Click a header to sort its table (numbers numerically, the rest as text); click again to reverse.
SORT_JS = """
document.querySelectorAll('table.tab').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th, i){
    th.addEventListener('click', function(){
      var body = t.tBodies[0], rows = Array.from(body.rows), asc = th.dataset.asc !== '1';
      rows.sort(function(a, b){
        var x = a.cells[i].textContent, y = b.cells[i].textContent, nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
      th.dataset.asc = asc ? '1' : '0';
    });
  });
});
"""


def esc(value: object) -> str:
    return html.escape(str(value))


def rel(path: Path, out: Path) -> str:
    return esc(os.path.relpath(path, out.parent))


def read_table(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path, sep="\t")
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
        return None


def ranked(df: pd.DataFrame) -> pd.DataFrame:
    """Significant rows first: by the first ranking column the table has (missing values last)."""
    for col in RANK_COLUMNS:
        if col in df.columns:
            return df.sort_values(col, na_position="last", kind="stable")
    return df


def table_block(path: Path, out: Path, *, title: str | None = None) -> str:
    """A table summarised: its first rows (significant first), sortable, the full TSV linked."""
    df = read_table(path)
    link = f"<a href='{rel(path, out)}'>{esc(path.name)}</a>"
    head = f"<h3>{esc(title or path.stem.replace('_', ' '))} ({link})</h3>"
    if df is None:
        return head + "<p><em>(not a readable table)</em></p>"
    if df.empty:
        return head + "<p><em>(no rows)</em></p>"
    shown = ranked(df).head(MAX_ROWS)
    more = (f"<p class='more'>Showing {len(shown)} of {len(df)} rows"
            f"{' (smallest q first)' if any(c in df.columns for c in RANK_COLUMNS) else ''}; "
            f"the full table: {link}. Click a column to sort.</p>")
    table = shown.to_html(index=False, border=0, classes="tab", na_rep="", float_format=lambda v: f"{v:.3g}")
    return head + table + more


def figure_block(png: Path, out: Path, caption: str = "") -> str:
    """A figure embedded in the page (base64 PNG, so the page travels alone), its PDF linked."""
    try:
        data = base64.b64encode(png.read_bytes()).decode("ascii")
    except OSError:
        return f"<p><em>(figure {esc(png.name)} missing)</em></p>"
    pdf = png.with_suffix(".pdf")
    link = f" <a href='{rel(pdf, out)}'>PDF</a>" if pdf.exists() else ""
    return (f"<figure><img src='data:image/png;base64,{data}' alt='{esc(png.name)}'>"
            f"<figcaption>{esc(caption or png.stem.replace('_', ' '))} ({esc(png.name)}){link}</figcaption></figure>")


def page(title: str, nav: list[tuple[str, str]], body: list[str]) -> str:
    links = "".join(f"<a href='#{esc(a)}'>{esc(t)}</a>" for a, t in nav)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{STYLE}</style>"
            f"</head><body><nav>{links}</nav>{''.join(body)}<script>{SORT_JS}</script></body></html>")
