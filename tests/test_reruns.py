"""Core-facility runs: byte-identical reruns from scratch, figures redrawn from tables only."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from tests.conftest import SCRNA_ONLY
from tests.test_workflow import belimap, smk, write_config

pytestmark = pytest.mark.slow
#: Rules that only draw (inputs: saved tables/h5ad + resources/figures.yaml; outputs: figures).
FIGURE_RULES = {"scrna_figures", "flow_sample_figures", "flow_composition_figure", "bcr_figures",
                "compare_composition_figures", "compare_volcano", "clinical_figures"}


def tiny_study(wd: Path) -> Path:
    config = write_config(wd, n_patients=2, cells_per_sample=120, modalities=SCRNA_ONLY,
                          design={"blood": ["baseline", "week12"]})
    assert belimap("simulate", "--config", str(config), "--sheet-only", "--out", str(wd / "samples.tsv")).returncode == 0
    smk(wd, config)
    return config


def digests(wd: Path) -> dict[str, str]:
    return {str(p.relative_to(wd)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((wd / "results").rglob("*.tsv"))}


def scheduled(wd: Path, config: Path, *targets: str) -> dict[str, int]:
    out = smk(wd, config, *targets, "-n", "--quiet", "rules").stdout
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
            if len(line.split()) == 2 and line.split()[1].isdigit() and line.split()[0] != "total"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("run_a"), tmp_path_factory.mktemp("run_b")
    return (a, tiny_study(a)), (b, tiny_study(b))


def test_rerun_from_scratch_gives_identical_tables(runs):
    import anndata as ad
    import numpy as np

    (a, _), (b, _) = runs
    da, db = digests(a), digests(b)
    assert len(da) > 20 and set(da) == set(db)
    assert {k for k in da if da[k] != db[k]} == set()
    x, y = (ad.read_h5ad(w / "results/scrna/integrated.h5ad") for w in (a, b))
    assert x.obs.equals(y.obs) and list(x.var_names) == list(y.var_names)
    assert (x.X != y.X).nnz == 0 if hasattr(x.X, "nnz") else np.array_equal(x.X, y.X)
    for key in x.obsm:
        assert np.array_equal(x.obsm[key], y.obsm[key]), key


@pytest.mark.xfail(reason="not yet proven: naming another figures file in the config changes the params of "
                          "rules that take the whole resources section, so everything reruns; an in-place edit "
                          "of resources/figures.yaml is the intended path and still needs its own test",
                   strict=False)
def test_restyling_reruns_only_figure_jobs(runs, tmp_path):
    """A journal asks for other colours: a copy of resources/figures.yaml with a new palette is
    named in the config; only figure jobs are scheduled, and `figures` redraws all of them."""
    (wd, config), _ = runs
    from belimap.config import ROOT

    settings = yaml.safe_load((ROOT / "resources/figures.yaml").read_text())
    settings["palette"]["qualitative"] = settings["palette"]["qualitative"][::-1]
    settings["rc"]["font.size"] = 10
    (tmp_path / "journal.yaml").write_text(yaml.safe_dump(settings))
    cfg = yaml.safe_load(config.read_text())
    cfg["resources"]["figures"] = str(tmp_path / "journal.yaml")
    restyled = tmp_path / "config.yaml"
    restyled.write_text(yaml.safe_dump(cfg, sort_keys=False))

    jobs = scheduled(wd, restyled, "figures")
    assert set(jobs) and set(jobs) <= FIGURE_RULES, jobs
    assert {"scrna_figures", "compare_composition_figures", "compare_volcano"} <= set(jobs)
    everything = scheduled(wd, restyled)
    assert set(everything) <= FIGURE_RULES | {"report_summary", "all"}, everything
    before = (wd / "results/scrna/figures/umap.png").read_bytes()
    smk(wd, restyled, "figures")
    assert (wd / "results/scrna/figures/umap.png").read_bytes() != before
    assert scheduled(wd, restyled, "figures") == {}
