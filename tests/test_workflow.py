"""End-to-end: the Snakemake workflow on small simulated studies, lint, reruns and bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from belimap.composition import COMPOSITION_COLUMNS
from belimap.config import ROOT

SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile")]
pytestmark = pytest.mark.slow
#: Every tissue, blood before and after: the demo's modalities on 4 specimens per patient.
CI_DESIGN = {"blood": ["baseline", "week12"], "lymph_node": ["baseline"], "synovium": ["baseline"]}


def write_config(wd: Path, clinical_table: str | None = None, allowed_roots: list[Path] | None = None,
                 **simulate) -> Path:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["samples"] = str(wd / "samples.tsv")
    if allowed_roots:  # files of another study folder (the demo's) must be declared
        cfg["validate"] = {"allowed_roots": [str(wd), *map(str, allowed_roots)]}
    cfg["simulate"].update(simulate)
    if clinical_table is not None:
        cfg["clinical"]["table"] = clinical_table
    path = wd / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def smk(wd: Path, config: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, "--directory", str(wd), "--configfile", str(config), "--cores", "2", *args]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}")
    return res


def belimap(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "belimap.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The whole workflow on a 2-patient × 200-cell study with the demo's modalities and tissues (4
    specimens per patient instead of the demo's 7, to keep CI short)."""
    wd = tmp_path_factory.mktemp("wf")
    config = write_config(wd, n_patients=2, cells_per_sample=200, flow={"n_events": 10000}, design=CI_DESIGN)
    assert belimap("simulate", "--config", str(config), "--sheet-only", "--out", str(wd / "samples.tsv")).returncode == 0
    smk(wd, config)
    return wd, config


def test_lint_is_clean():
    res = subprocess.run([*SNAKEMAKE, "--lint"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


def test_workflow_outputs(demo_run):
    wd, _ = demo_run
    comp = pd.read_csv(wd / "results/scrna/composition.tsv", sep="\t")
    assert list(comp.columns) == COMPOSITION_COLUMNS
    acc = pd.read_csv(wd / "results/scrna/accuracy.tsv", sep="\t")
    acc = acc[acc["label"].isna()].set_index("metric")["value"]  # study-wide rows (per subset/sample rows have a label)
    # every truth cell scored (issue 11: targets not met on the honest simulator, see tests/test_scrna.py);
    # the rows exist and lie in range, and lineages beat chance
    assert {"lineage_macro_f1", "bcell_subset_macro_f1", "fraction_mae", "unassigned_share"} <= set(acc.index)
    assert acc["lineage_macro_f1"] >= 0.5 and 0 <= acc["bcell_subset_macro_f1"] <= 1 and acc["fraction_mae"] < 0.5
    for fig in ("umap", "markers", "composition_bars", "patient_lines", "confusion"):
        assert (wd / f"results/scrna/figures/{fig}.pdf").read_bytes()[:4] == b"%PDF"
        assert (wd / f"results/scrna/figures/{fig}.png").read_bytes()[:4] == b"\x89PNG"
    warn = pd.read_csv(wd / "results/warnings.tsv", sep="\t", dtype=str, keep_default_na=False)
    notes = pd.read_csv(wd / "results/scrna/notes.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert list(warn.columns) == ["source", "sample_id", "warning"] and set(notes["note"]) <= set(warn["warning"])
    html = (wd / "results/summary.html").read_text()
    assert "composition.tsv" in html and "umap.png" in html
    assert "consort.png" in html and "response.tsv" in html and "model.png" in html


def test_clinical_layer_follows_the_simulated_cohort(demo_run):
    """The clinical table is simulated for the sheet's patients: CONSORT enrols exactly them, every
    eligibility decision and SRI-4 outcome equals the simulator's truth, and 2 patients get no model."""
    wd, _ = demo_run
    acc = pd.read_csv(wd / "results/clinical/accuracy.tsv", sep="\t").set_index("metric")["value"]
    assert acc["n_assessed"] == 2 + 8 and acc["n_enrolled"] == 2
    assert acc["eligibility_agreement"] == acc["exclusion_reason_agreement"] == acc["sri4_agreement"] == 1.0
    consort = pd.read_csv(wd / "results/clinical/consort.tsv", sep="\t").set_index("stage")["n"]
    assert consort["enrolled"] == 2 and consort["excluded"] == 8 and "specimens_not_enrolled" not in consort
    for ext in ("pdf", "png", "svg"):
        assert (wd / f"results/clinical/figures/consort.{ext}").stat().st_size > 0
    summary = pd.read_csv(wd / "results/model/summary.tsv", sep="\t").set_index("key")["value"]
    assert summary["status"] == "not_fitted" and summary["n_patients"] == "2"


def test_rerun_is_a_no_op_and_report_builds(demo_run):
    wd, config = demo_run
    dry = smk(wd, config, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr
    smk(wd, config, "--report", str(wd / "results/report.html"))
    assert (wd / "results/report.html").stat().st_size > 10_000


def test_new_samples_rerun_only_their_jobs(demo_run, tmp_path):
    """A trial recruits: a third patient's files are added to the sheet; only their per-file jobs
    (and the study-level steps) are scheduled."""
    wd, config = demo_run
    more = tmp_path / "more"
    res = belimap("simulate", "--config", str(config), "--patients", "3", "--outdir", str(more),
                  "--out", str(more / "samples.tsv"))
    assert res.returncode == 0, res.stderr
    sheet = pd.read_csv(more / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    new = sheet[(sheet["patient_id"] == "P03") & (sheet["modality"] == "scrna")].copy()
    new["path"] = [str(Path(p).resolve()) for p in new["path"]]
    old = pd.read_csv(wd / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    old = old[old["modality"] == "scrna"]
    pd.concat([old, new]).to_csv(wd / "samples_more.tsv", sep="\t", index=False)
    cfg = yaml.safe_load(config.read_text())
    cfg["samples"], cfg["simulate"]["enabled"] = str(wd / "samples_more.tsv"), False
    cfg["validate"] = {"allowed_roots": [str(wd), str(more)]}  # the new files live outside the study folder
    config2 = wd / "config_more.yaml"
    config2.write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = smk(wd, config2, "-n", "--quiet", "rules").stdout
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert counts["scrna_qc"] == len(new) == 4
    assert counts["scrna_integrate"] == 1


def test_slurm_profile_bundles_per_file_flow_jobs(demo_run):
    """profiles/slurm submits the short per-file flow jobs (QC, gating, figures) 8 files per sbatch job:
    the 8 files of the study in one."""
    wd, config = demo_run
    n_files = len(list((wd / "results/demo/raw/flow").glob("*.fcs")))
    res = smk(wd, config, "-n", "--profile", str(ROOT / "profiles" / "slurm"), "--forcerun", "flow_qc")
    out = res.stdout + res.stderr
    assert n_files == 8 and out.count("Group job flow_file") == 1, out[-3000:]


def test_one_sample_pilot_runs(tmp_path, demo_run):
    wd0, _ = demo_run
    raw = sorted((wd0 / "results/demo/raw/scrna").glob("*_lymph_node_baseline*"))[0]
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample_id\tpatient_id\ttissue\ttimepoint\tmodality\tpath\n"
                     f"PILOT1\tP01\tlymph_node\tbaseline\tscrna\t{raw}\n")
    clinical = str(wd0 / "results/demo/raw/clinical/clinical.tsv")
    config = write_config(tmp_path, clinical_table=clinical, allowed_roots=[wd0], enabled=False)
    smk(tmp_path, config)  # the whole workflow, not only the scRNA branch
    assert (tmp_path / "results/summary.html").exists()
    comp = pd.read_csv(tmp_path / "results/scrna/composition.tsv", sep="\t")
    assert set(comp["sample_id"]) == {"PILOT1"} and comp["n_cells"].sum() > 0
    notes = pd.read_csv(tmp_path / "results/scrna/notes.tsv", sep="\t")
    assert notes["note"].str.contains("integration skipped").any()


def test_bad_sheet_gives_one_line_error_and_no_traceback(tmp_path):
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample_id\tpatient_id\ttissue\ttimepoint\tmodality\tpath\n"
                     "S1\tP1\tspleen\tbaseline\tscrna\tx.h5\n")
    config = write_config(tmp_path, enabled=False)
    res = smk(tmp_path, config, "-n", check=False)
    assert res.returncode != 0
    err = res.stdout + res.stderr
    assert "samples.tsv row 1: column 'tissue': 'spleen' is not one of" in err
    assert "Traceback" not in err


def test_missing_clinical_table_is_one_line(tmp_path, demo_run):
    raw = sorted((demo_run[0] / "results/demo/raw/scrna").glob("*.h5"))[0]
    (tmp_path / "samples.tsv").write_text("sample_id\tpatient_id\ttissue\ttimepoint\tmodality\tpath\n"
                                          f"S1\tP01\tblood\tbaseline\tscrna\t{raw}\n")
    config = write_config(tmp_path, clinical_table="my_clinical.tsv", allowed_roots=[demo_run[0]], enabled=False)
    res = smk(tmp_path, config, "-n", check=False)
    err = res.stdout + res.stderr
    assert res.returncode != 0 and "Traceback" not in err
    assert "belimap: error: clinical.table: 'my_clinical.tsv' is not a file" in err


def test_bad_file_is_refused_before_any_job_with_one_line_and_no_output(tmp_path):
    """The start-up check reads every input's content: a corrupt file stops the run before its first job."""
    bad = tmp_path / "bad.h5ad"
    bad.write_bytes(b"garbage")
    (tmp_path / "samples.tsv").write_text("sample_id\tpatient_id\ttissue\ttimepoint\tmodality\tpath\n"
                                          f"S1\tP1\tblood\tbaseline\tscrna\t{bad}\n")
    config = write_config(tmp_path, clinical_table="", enabled=False)
    res = smk(tmp_path, config, "results/scrna/samples/S1.h5ad", check=False)
    err = res.stdout + res.stderr
    assert res.returncode != 0 and "Traceback" not in err
    assert f"belimap: error: {bad}" in err and "nothing was run" in err
    assert not (tmp_path / "results/scrna/samples/S1.h5ad").exists()
    assert not list((tmp_path / "results").rglob("*.tsv"))


def test_cli_validate_and_inspect(tmp_path, demo_run):
    wd, config = demo_run
    res = belimap("validate", "--config", str(config))
    assert res.returncode == 0 and "is valid" in res.stdout
    h5 = sorted((wd / "results/demo/raw/scrna").glob("*.h5"))[0]
    res = belimap("inspect", str(h5))
    assert "cells: 200" in res.stdout and "looks_like_counts: yes" in res.stdout
    res = belimap("inspect", str(tmp_path / "nope.h5"))
    assert res.returncode == 1 and res.stderr.startswith("belimap: error:") and "Traceback" not in res.stderr
