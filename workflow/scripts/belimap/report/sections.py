"""The summary page's sections in reading order: warnings, design and CONSORT, QC, results, methods."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from belimap.report import text
from belimap.report.html import esc, figure_block, page, read_table, rel, table_block
from belimap.report.methods import methods_paragraph

#: Result sections: (anchor, title, results sub-folder, key figure stem).
SECTIONS = [("scrna", "scRNA-seq: B-cell subsets", "scrna", "umap"),
            ("flow", "Flow cytometry", "flow", "composition"),
            ("bcr", "BCR repertoire", "bcr", "sharing"),
            ("compare", "Tissues and timepoints compared", "compare", "composition_forest_scrna"),
            ("clinical", "Clinical course", "clinical", "activity"),
            ("model", "Response model", "model", "model")]
QC_TABLES = ("scrna/qc_summary.tsv", "flow/qc_summary.tsv", "bcr/chain_qc.tsv")


def _by_folder(paths: list[Path], root: Path) -> dict[str, list[Path]]:
    """Outputs by their ``results/`` sub-folder (``scrna``, ``flow`` ...)."""
    out: dict[str, list[Path]] = {}
    for p in paths:
        parts = Path(os.path.relpath(p.resolve(), root.resolve())).parts
        key = parts[0] if len(parts) > 1 and parts[0] != ".." else "other"
        out.setdefault(key, []).append(p)
    return out


def _warnings(root: Path, paths: list[Path]) -> list[str]:
    """Rows of ``results/warnings.tsv`` when the run wrote one (it gathers every notes table), else of
    every ``notes.tsv``."""
    rows = []
    collected = root / "warnings.tsv"
    sources = [collected] if collected.exists() else [q for q in paths if q.name.endswith("notes.tsv")]
    for p in sources:
        df = read_table(p) if p.exists() else None
        if df is None or df.empty:
            continue
        col = next((c for c in ("warning", "message", "note") if c in df.columns), df.columns[-1])
        if "source" in df.columns:
            rows += [f"{src}: {v}" for src, v in zip(df["source"].astype(str), df[col].astype(str), strict=True)]
            continue
        where = p.parent.name if p.parent != root else "run"
        rows += [f"{where}: {v}" for v in df[col].dropna().astype(str)]
    return rows


def _section(anchor: str, title: str, files: list[Path], key: str, lead: list[str], out: Path) -> list[str]:
    pngs = sorted(p for p in files if p.suffix == ".png" and "/qc/" not in p.as_posix()
                  and p.parent.name != "gating")
    first = [p for p in pngs if p.stem == key] or pngs[:1]
    body = [f"<h2 id='{esc(anchor)}'>{esc(title)}</h2>"]
    body += [figure_block(p, out) for p in first]
    body += [f"<p class='lead'>{esc(' '.join(lead))}</p>"] if lead else []
    body += [table_block(p, out) for p in sorted(files) if p.suffix == ".tsv" and "notes" not in p.name]
    body += [figure_block(p, out) for p in pngs if p not in first]
    other = [p for p in sorted(files) if p.suffix not in (".tsv", ".png") and p.name != "summary.html"]
    if other:
        body.append("<p>Data files: " + ", ".join(f"<a href='{rel(p, out)}'>{esc(p.name)}</a>" for p in other)
                    + "</p>")
    return body


def summary_html(paths: list[str], cfg: dict, sheet: pd.DataFrame, out: str | Path) -> str:
    """Render the summary page for the study's outputs ``paths`` (tables, figures, notes)."""
    out = Path(out)
    root = out.parent
    folders = _by_folder([Path(p) for p in paths], root)
    tab = lambda rel_path: read_table(root / rel_path) if (root / rel_path).exists() else None  # noqa: E731
    study = str(cfg.get("study") or "belimap study")
    nav, body = [], [f"<h1>{esc(study)}</h1>"]
    if cfg.get("drug"):
        body.append(f"<p>Treatment: {esc(cfg['drug'])}.</p>")

    warnings = _warnings(root, [p for v in folders.values() for p in v])
    if warnings:
        items = "".join(f"<li>{esc(w)}</li>" for w in warnings[:30])
        more = f"<li>… and {len(warnings) - 30} more</li>" if len(warnings) > 30 else ""
        body.append(f"<div class='warn' id='warnings'><h2>Warnings ({len(warnings)})</h2><ul>{items}{more}</ul></div>")
        nav.append(("warnings", "Warnings"))

    nav.append(("design", "Design"))
    consort = tab("clinical/consort.tsv")
    design = (sheet.astype({"tissue": str, "timepoint": str})
              .groupby(["modality", "tissue", "timepoint"]).size().unstack("timepoint", fill_value=0))
    body.append("<h2 id='design'>Study design and CONSORT</h2>")
    body.append(f"<p class='lead'>{esc(' '.join(text.design_text(sheet, consort)))}</p>")
    if (root / "clinical/figures/consort.png").exists():
        body.append(figure_block(root / "clinical/figures/consort.png", out, "CONSORT flow of patients"))
    body.append("<h3>Input files per modality, tissue and timepoint</h3>" + design.to_html(border=0, classes="tab"))

    qc = [root / q for q in QC_TABLES if (root / q).exists()]
    if qc:
        nav.append(("qc", "QC"))
        body.append("<h2 id='qc'>Quality control</h2>")
        body.append(f"<p class='lead'>{esc(' '.join(text.qc_text(tab('scrna/qc_summary.tsv'))))}</p>")
        body += [table_block(p, out, title=f"{p.parent.name} QC per file") for p in qc]
        per_file = sorted(p for v in folders.values() for p in v if p.suffix == ".png" and "/qc/" in p.as_posix())
        if per_file:
            body.append("<p>Per-file QC figures: " + ", ".join(
                f"<a href='{rel(p, out)}'>{esc(p.stem)}</a>" for p in per_file) + "</p>")

    fdr = float(((cfg.get("compare") or {}).get("composition") or {}).get("fdr", 0.05))
    leads = {"scrna": text.scrna_text(tab("scrna/composition.tsv"), tab("scrna/accuracy.tsv")),
             "compare": text.composition_text(tab("compare/composition_tests.tsv"), fdr)
             + text.de_text(tab("compare/de_summary.tsv")),
             "model": text.model_text(tab("model/summary.tsv"))}
    for anchor, title, folder, key in SECTIONS:
        fs = [p for p in folders.get(folder, []) if p.resolve() not in {(root / q).resolve() for q in QC_TABLES}
              and p.name != "consort.png"]
        if fs:
            nav.append((anchor, title.split(":")[0]))
            body += _section(anchor, title, fs, key, leads.get(anchor, []), out)

    nav.append(("methods", "Methods"))
    body.append(f"<h2 id='methods'>Methods</h2><p class='methods'>{esc(methods_paragraph(cfg, modalities=set(sheet['modality'])))}</p>")
    return page(f"{study}: summary", nav, body)


def summary_file(paths: list[str], cfg: dict, files: list[dict[str, str]], *, out: str | Path) -> None:
    """Rule ``report_summary``: write the page for ``paths``; ``files`` are the sheet's rows."""
    from belimap.tables import write_text

    write_text(summary_html(paths, cfg, pd.DataFrame(files), out), out)
