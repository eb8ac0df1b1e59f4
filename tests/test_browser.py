"""The summary page as a reader sees it: opened in headless Chromium, every image loads, every
table renders and no link is broken; a screenshot is saved beside the page."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest

from belimap.report import summary_html

selenium = pytest.importorskip("selenium", reason="selenium not installed (pip install -e '.[test]')")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="chromium/chromedriver not installed and not installable here "
                                       "(make browser-deps: apt-get install chromium chromium-driver)")


@pytest.fixture
def page(tmp_path) -> Path:
    import matplotlib.pyplot as plt

    res = tmp_path / "results"
    (res / "scrna/figures").mkdir(parents=True)
    pd.DataFrame({"sample_id": ["S1", "S2"], "fraction": [0.25, 0.5]}).to_csv(res / "scrna/composition.tsv",
                                                                             sep="\t", index=False)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.savefig(res / "scrna/figures/umap.png")
    fig.savefig(res / "scrna/figures/umap.pdf")
    plt.close(fig)
    sheet = pd.DataFrame({"sample_id": ["S1", "S2"], "patient_id": ["P1", "P1"], "tissue": ["blood", "blood"],
                          "timepoint": ["baseline", "week12"], "modality": ["scrna", "scrna"], "path": ["x", "y"]})
    out = res / "summary.html"
    paths = [str(res / "scrna/composition.tsv"), str(res / "scrna/figures/umap.png")]
    out.write_text(summary_html(paths, {"study": "T"}, sheet, out))
    return out


def open_page(path: Path, screenshot: Path | None = None) -> list[str]:
    """Open ``path`` in headless Chromium; what a reader would find broken (images that do not load,
    tables without rows, links to missing files). Saves a screenshot of the first screen."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1600"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    broken = []
    try:
        driver.get(path.as_uri())
        images = driver.find_elements(By.TAG_NAME, "img")
        for img in images:
            driver.execute_script("arguments[0].scrollIntoView();", img)
            if not driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0;", img):
                broken.append(f"image {img.get_attribute('alt') or img.get_attribute('src')[:60]}")
        for table in driver.find_elements(By.TAG_NAME, "table"):
            if not (table.is_displayed() and table.find_elements(By.CSS_SELECTOR, "tbody tr")):
                broken.append(f"table {table.text[:60]!r}")
        for a in driver.find_elements(By.TAG_NAME, "a"):
            url = urlparse(a.get_attribute("href"))
            if url.scheme == "file" and not Path(unquote(url.path)).exists():
                broken.append(f"link {url.path}")
        if not images:
            broken.append("no images")
        if screenshot is not None:
            driver.execute_script("window.scrollTo(0, 0);")
            driver.save_screenshot(str(screenshot))
    finally:
        driver.quit()
    return broken


def test_summary_page_renders_in_chromium(page):
    shot = page.with_name("summary.png")
    assert open_page(page, shot) == []
    assert shot.read_bytes()[:4] == b"\x89PNG"


def test_the_browser_check_finds_broken_pages(page):
    page.write_text(page.read_text().replace("</body>", "<img src='gone.png' alt='gone'><a href='nope.tsv'>x</a>"
                                             "<table class='tab'><thead><tr><th>a</th></tr></thead></table></body>"))
    broken = open_page(page)
    assert "image gone" in broken and any(b.endswith("nope.tsv") for b in broken)
    assert any(b.startswith("table") for b in broken)
