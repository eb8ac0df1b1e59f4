"""Palette consistency and the summary page."""

import pandas as pd

from belimap.pl.palette import TOL_BRIGHT, save_figure, timepoint_colours, tissue_colours
from belimap.report import summary_html


def test_colours_follow_config_order_and_are_stable():
    a = tissue_colours(["blood", "lymph_node", "synovium"])
    b = tissue_colours(["blood", "lymph_node", "synovium", "skin"])
    assert a == {k: b[k] for k in a}  # adding a tissue keeps the others' colours
    assert a["blood"] == TOL_BRIGHT[0] and len(set(a.values())) == 3
    t = timepoint_colours(["baseline", "week12", "week48"])
    assert len(set(t.values())) == 3


def test_save_figure_writes_pdf_and_png(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    paths = save_figure(fig, tmp_path / "f.png")
    assert [p.suffix for p in paths] == [".pdf", ".png"]
    assert (tmp_path / "f.pdf").read_bytes()[:4] == b"%PDF"


def _png(path):
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.savefig(path)
    plt.close(fig)


def _results(tmp_path, warnings: bool = True):
    res = tmp_path / "results"
    for d in ("compare", "scrna", "clinical"):
        (res / d).mkdir(parents=True)
    tests = pd.DataFrame({"subset": ["naive", "memory", "plasmablast"], "tissue": ["blood", "synovium", "blood"],
                          "timepoint": ["week12"] * 3, "reference": ["baseline"] * 3,
                          "log_odds_ratio": [0.1, -1.25, None], "ci_low": [-0.2, -1.9, None],
                          "ci_high": [0.4, -0.6, None], "q_value": [0.61, 0.0031, None]})
    tests.to_csv(res / "compare/composition_tests.tsv", sep="\t", index=False)
    pd.DataFrame({"stage": ["assessed", "excluded", "enrolled"], "group": ["a", "e", "n"], "n": [10, 4, 6]}).to_csv(
        res / "clinical/consort.tsv", sep="\t", index=False)
    pd.DataFrame({"sample_id": ["S1", "S2"], "cells_in": [100, 300], "cells_kept": [90, 250],
                  "median_genes": [800, 1200]}).to_csv(res / "scrna/qc_summary.tsv", sep="\t", index=False)
    pd.DataFrame({"sample_id": ["S1"], "fraction": [0.25]}).to_csv(res / "scrna/composition.tsv", sep="\t",
                                                                   index=False)
    for fig in ("scrna/figures/umap.png", "compare/figures/composition_forest_scrna.png",
                "clinical/figures/consort.png", "scrna/figures/qc/S1.png"):
        _png(res / fig)
    if warnings:
        pd.DataFrame({"warning": ["S2: 40% of cells failed QC"]}).to_csv(res / "warnings.tsv", sep="\t", index=False)
    sheet = pd.DataFrame({"sample_id": ["S1", "S2"], "patient_id": ["P1", "P1"], "tissue": ["blood"] * 2,
                          "timepoint": ["baseline", "week12"], "modality": ["scrna"] * 2, "path": ["x", "y"]})
    paths = [str(p) for p in res.rglob("*") if p.suffix in (".tsv", ".png") and p.name != "warnings.tsv"]
    return res, sheet, paths


CFG = {"study": "Trial X", "seed": 11, "scrna": {"hvg": {"n_top_genes": 1234}, "integrate": {"method": "harmony"}},
       "compare": {"composition": {"fdr": 0.05, "pseudocount": 0.5, "min_pairs": 3, "ci": 0.95}}}


def test_summary_reads_like_a_study_report(tmp_path):
    res, sheet, paths = _results(tmp_path)
    page = summary_html(paths, CFG, sheet, res / "summary.html")
    order = [page.index(s) for s in ("id='warnings'", "id='design'", "id='qc'", "id='scrna'", "id='compare'",
                                     "id='methods'")]
    assert order == sorted(order)
    assert "S2: 40% of cells failed QC" in page
    assert "Of 10 patients assessed for eligibility, 4 were excluded and 6 enrolled." in page
    assert "kept 340 of 400 cells (85.0%)" in page
    # the section opens with its key figure, then the result in numbers
    compare = page[page.index("id='compare'"):page.index("id='methods'")]
    assert compare.index("<img") < compare.index("2 of 3 subset contrasts were testable; 1 changed at q &lt; 0.05")
    assert "memory in synovium (week12 vs baseline): log odds ratio -1.25 (CI -1.90 to -0.60), q = 0.0031" in compare
    # significant rows first, the full table linked; self-contained figures (no image file links)
    table = compare[compare.index("<table"):]
    assert table.index("memory") < table.index("naive") < table.index("plasmablast")
    assert "href='compare/composition_tests.tsv'" in compare
    assert "src='data:image/png;base64," in page and "src='scrna" not in page
    assert "href='scrna/figures/qc/S1.png'" in page  # per-file QC figures are linked, not embedded
    assert "1234 highly variable genes" in page and "random seed 11" in page and "q &lt; 0.05" in page


def test_summary_without_warnings_file(tmp_path):
    res, sheet, paths = _results(tmp_path, warnings=False)
    page = summary_html(paths, CFG, sheet, res / "summary.html")
    assert "id='warnings'" not in page and "id='design'" in page


def test_methods_paragraph_names_tool_versions():
    from belimap.report import methods_paragraph

    text = methods_paragraph(CFG, {"scanpy": "9.9.9", "snakemake": "1.2.3"}, modalities={"scrna"})
    assert "scanpy 9.9.9" in text and "Snakemake 1.2.3" in text and "Flow cytometry" not in text


def test_warnings_table_gathers_notes_and_flow_flags(tmp_path):
    """results/warnings.tsv: every notes table's rows and every flow QC flag other than ok, once each."""
    from belimap.report.warnings import WARNING_COLUMNS, collect_warnings

    (tmp_path / "scrna").mkdir()
    (tmp_path / "flow").mkdir()
    (tmp_path / "scrna/notes.tsv").write_text("step\tnote\nscrna\tfew cells in S1\nscrna\tfew cells in S1\n"
                                              "scrna\tJCHAIN absent\n")
    (tmp_path / "flow/qc_summary.tsv").write_text("sample_id\tflags\nF1\tok\nF2\tno_spillover;too_few_events\n")
    got = collect_warnings([tmp_path / "scrna/notes.tsv", tmp_path / "flow/qc_summary.tsv"])
    assert list(got.columns) == WARNING_COLUMNS
    assert got["warning"].tolist() == ["few cells in S1", "JCHAIN absent", "flow QC flag: no_spillover",
                                       "flow QC flag: too_few_events"]
    assert got["source"].tolist() == ["scrna", "scrna", "flow", "flow"] and got["sample_id"].tolist()[2:] == ["F2"] * 2
