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


def test_summary_lists_tables_and_figures(tmp_path):
    res = tmp_path / "results" / "scrna"
    res.mkdir(parents=True)
    pd.DataFrame({"sample_id": ["S1"], "fraction": [0.25]}).to_csv(res / "composition.tsv", sep="\t", index=False)
    (res / "umap.png").write_bytes(b"\x89PNG")
    sheet = pd.DataFrame({"sample_id": ["S1"], "patient_id": ["P1"], "tissue": ["blood"], "timepoint": ["baseline"],
                          "modality": ["scrna"], "path": ["x"]})
    paths = [str(res / "composition.tsv"), str(res / "umap.png")]
    page = summary_html(paths, {"study": "T"}, sheet, tmp_path / "results" / "summary.html")
    assert "<h2>scRNA-seq</h2>" in page and "0.25" in page and "src='scrna/umap.png'" in page
