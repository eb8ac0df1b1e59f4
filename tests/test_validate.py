"""`belimap validate` reads every file a study names and lists every problem at once, one line each.

The corpus ``tests/data/bad/`` (written by its ``make_corpus.py``; ``expected.tsv`` lists file, kind,
level and the words the line must contain) holds small malformed inputs of every kind; each is
dropped into an otherwise valid tiny study and validated with the command's own entry point.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from belimap.cli import main
from belimap.config import ROOT

BAD = ROOT / "tests" / "data" / "bad"
MANIFEST = pd.read_csv(BAD / "expected.tsv", sep="\t", dtype=str, keep_default_na=False)
BASE = (BAD / "config" / "good.yaml").read_text()
GOOD_H5 = "good/good.h5"
FILE_MODALITY = {"10x_h5": "scrna", "10x_mtx": "scrna", "h5ad": "scrna", "fcs": "flow", "contigs": "bcr",
                 "airr": "bcr"}
HEADER = "sample_id\tpatient_id\ttissue\ttimepoint\tmodality\tpath\n"


def study_for(entry: dict, tmp: Path) -> str:
    """The config of a tiny study whose only bad input is ``entry`` (paths relative to the corpus)."""
    kind, file = entry["kind"], entry["file"]
    if kind == "config":
        return str(BAD / file)
    config = BASE
    if kind == "sheet":
        config = config.replace("samples: sheets/good.tsv", f"samples: {file}")
    elif kind == "clinical":
        config = config.replace('clinical: {table: ""}', f"clinical: {{table: {file}}}")
    else:
        rows = [f"S1\tP1\tblood\tbaseline\t{FILE_MODALITY[kind]}\t{file}\n"]
        if FILE_MODALITY[kind] == "bcr":  # with its specimen's scRNA file: the barcodes are compared
            rows.append(f"S1\tP1\tblood\tbaseline\tscrna\t{GOOD_H5}\n")
        (tmp / "samples.tsv").write_text(HEADER + "".join(rows))
        config = config.replace("samples: sheets/good.tsv", f"samples: {tmp / 'samples.tsv'}")
    (tmp / "config.yaml").write_text(config)
    return str(tmp / "config.yaml")


def validate(config: str, capsys) -> tuple[int, str, str]:  # noqa: ANN001 - pytest fixture
    rc = main(["validate", "--config", config])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def in_corpus(monkeypatch):
    monkeypatch.chdir(BAD)  # the corpus' sheets and configs name files relative to it


@pytest.mark.parametrize("entry", MANIFEST.to_dict("records"), ids=list(MANIFEST["file"]))
def test_corpus_entry_is_reported_in_one_line(entry, tmp_path, capsys, in_corpus):
    rc, out, err = validate(study_for(entry, tmp_path), capsys)
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith(f"belimap: {entry['level']}: ")]
    for word in entry["expected"].split("|"):
        assert any(word in ln for ln in lines), f"{word!r} not in a {entry['level']} line of:\n{err}"
    if entry["level"] == "error":
        assert rc != 0 and "error(s); nothing was run" in err
    else:
        assert rc == 0 and "is valid" in out and "belimap: error" not in err


def test_corpus_counts_and_size():
    """At least 50 entries across every kind of input, and the corpus stays small."""
    assert len(MANIFEST) >= 50
    assert set(MANIFEST["kind"]) == {"sheet", "config", "clinical", *FILE_MODALITY}
    assert sum(f.stat().st_size for f in BAD.rglob("*") if f.is_file()) < 2_000_000
    for file in MANIFEST.loc[MANIFEST["kind"] != "clinical", "file"]:
        assert (BAD / file).exists(), file


def test_good_study_is_valid(tmp_path, capsys, in_corpus):
    rc, out, err = validate(str(BAD / "config" / "good.yaml"), capsys)
    assert rc == 0, err
    assert "5 files (1 bcr, 1 flow, 3 scrna)" in out and "5 files read" in out and err == ""


def test_every_problem_of_every_file_at_once(tmp_path, capsys, in_corpus):
    """One sheet naming several bad files: each file's problems are listed, each on its own line."""
    files = ["h5/negative.h5", "mtx/short_features", "fcs/missing_markers.fcs", "fcs/tot_edited.fcs",
             "bcr/contigs_conflicting_cdr3.csv"]
    rows = [f"S{i}\tP1\tblood\tbaseline\t{FILE_MODALITY[MANIFEST.set_index('file').loc[f, 'kind']]}\t{f}\n"
            for i, f in enumerate(files)]
    (tmp_path / "samples.tsv").write_text(HEADER + "".join(rows))
    (tmp_path / "config.yaml").write_text(BASE.replace("sheets/good.tsv", str(tmp_path / "samples.tsv")))
    rc, _, err = validate(str(tmp_path / "config.yaml"), capsys)
    errors = [ln for ln in err.splitlines() if ln.startswith("belimap: error: ")]
    assert rc == 1
    for f in files:
        assert any(f in ln for ln in errors), f
    assert f"{len(errors)} error(s); nothing was run" in err  # the count line counts them all


def test_read_sample_sheet_raises_the_first_and_counts_the_rest(in_corpus):
    from belimap.config import load_config
    from belimap.errors import BelimapError
    from belimap.sheet import read_sample_sheet

    cfg = load_config(BAD / "config" / "good.yaml")
    with pytest.raises(BelimapError, match=r"whitespace.*and 3 more problem\(s\)"):
        read_sample_sheet("sheets/many_problems.tsv", cfg)


def test_allowed_roots_from_config(tmp_path, capsys, in_corpus):
    """validate.allowed_roots replaces the default roots (sheet folder, working directory)."""
    (tmp_path / "config.yaml").write_text(BASE + "validate: {allowed_roots: [good]}\n")
    rc, _, err = validate(str(tmp_path / "config.yaml"), capsys)
    assert rc == 0, err
    (tmp_path / "config.yaml").write_text(BASE + f"validate: {{allowed_roots: [{tmp_path}]}}\n")
    rc, _, err = validate(str(tmp_path / "config.yaml"), capsys)
    assert rc == 1 and err.count("outside the study's allowed roots") == 5


def test_command_line_prints_lines_not_a_traceback(tmp_path):
    """The installed entry point, in a subprocess: exit 1, one line per problem, no traceback."""
    res = subprocess.run([sys.executable, "-m", "belimap.cli", "validate", "--config", "config/several_errors.yaml"],
                         cwd=BAD, capture_output=True, text=True, check=False,
                         env={"PYTHONPATH": str(ROOT / "workflow" / "scripts"), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert len([ln for ln in res.stderr.splitlines() if ln.startswith("belimap: error: ")]) == 3


def test_counts_are_sampled_not_read_whole():
    """Only the first max_values stored values are read (validate.max_values): cheap on large matrices."""
    from belimap.checks.scrna import check_matrix

    bad = BAD / "h5" / "negative.h5"  # its 4th stored value is -2
    assert any("negative" in p.message for p in check_matrix(bad, max_values=10)[0])
    assert check_matrix(bad, max_values=3)[0] == []
    problems, barcodes = check_matrix(BAD / "good" / "good_mtx", max_values=1000)
    assert problems == [] and len(barcodes) == 20
