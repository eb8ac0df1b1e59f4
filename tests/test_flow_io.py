"""Reading real FCS files (four instruments), spillover, corrupt and multi-data-set files, ``belimap inspect``."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from belimap.errors import BelimapError
from belimap.flow.compensate import compensate, spillover_of
from belimap.flow.io import read_fcs

DATA = Path(__file__).parent / "data" / "fcs"
REAL = {  # file: (version, events, channels, instrument note)
    "facs_diva_test.fcs": ("3.0", 83411, 12),
    "FCS_3.0_Fortessa_PBS_Specimen_001_A1_A01.fcs": ("3.0", 11585, 11),
    "HTS_BD_LSR_II_Mixed_Specimen_001_D6_D06.fcs": ("3.0", 14945, 11),
    "EY_2013-07-19_PBS_FCS_3.1_Well_A1.001.fcs": ("3.1", 10000, 19),
}


@pytest.fixture(scope="module")
def real_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fcs")
    for name in REAL:
        with gzip.open(DATA / f"{name}.gz", "rb") as src, open(out / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


@pytest.mark.parametrize("name", list(REAL))
def test_real_files_read_with_right_counts(real_dir, name):
    version, n_events, n_channels = REAL[name]
    fcs = read_fcs(real_dir / name)
    assert fcs.version == version
    assert fcs.events.shape == (n_events, n_channels)
    assert len(fcs.pnn) == n_channels
    assert np.isfinite(fcs.events).all()


def test_markers_from_pns_and_override(real_dir):
    fcs = read_fcs(real_dir / "facs_diva_test.fcs")
    assert fcs.markers[fcs.pnn.index("APC-A")] == "CD19"
    assert fcs.markers[fcs.pnn.index("FITC-A")] == "CD20"
    fcs2 = read_fcs(real_dir / "FCS_3.0_Fortessa_PBS_Specimen_001_A1_A01.fcs", channel_markers={"FITC-A": "IgD"})
    assert fcs2.channel_index("IgD") == fcs2.pnn.index("FITC-A")
    with pytest.raises(BelimapError, match="no channel named 'CD999'"):
        fcs2.channel_index("CD999")


def test_spillover_and_compensation_match_flowkit(real_dir):
    import flowkit as fk

    path = real_dir / "facs_diva_test.fcs"
    fcs = read_fcs(path)
    spill = spillover_of(fcs)
    assert spill is not None and len(spill.detectors) == 8
    ours = compensate(fcs.events, fcs, spill)
    smp = fk.Sample(str(path))
    ref = fk.Matrix(fcs.spill_text, [smp.pnn_labels[i] for i in smp.fluoro_indices]).apply(smp)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9)
    # a $SPILLOVER naming channels without values (MACSQuant) means: uncompensated
    assert spillover_of(read_fcs(real_dir / "EY_2013-07-19_PBS_FCS_3.1_Well_A1.001.fcs")) is None


def test_spillover_from_matrix_file(real_dir, tmp_path):
    fcs = read_fcs(real_dir / "FCS_3.0_Fortessa_PBS_Specimen_001_A1_A01.fcs")
    det = ["FITC-A", "PerCP-Cy5-5-A", "AmCyan-A", "PE-Texas Red-A"]
    m = np.eye(4)
    m[0, 1] = 0.2
    f = tmp_path / "spill.csv"
    f.write_text(",".join(det) + "\n" + "\n".join(",".join(f"{v:g}" for v in row) for row in m) + "\n")
    spill = spillover_of(fcs, f)
    assert spill.detectors == det and spill.matrix[0, 1] == pytest.approx(0.2)
    comp = compensate(fcs.events, fcs, spill)
    i, j = fcs.pnn.index("FITC-A"), fcs.pnn.index("PerCP-Cy5-5-A")
    np.testing.assert_allclose(comp[:, j], fcs.events[:, j] - 0.2 * fcs.events[:, i], rtol=1e-9, atol=1e-6)
    with pytest.raises(BelimapError, match="not found"):
        spillover_of(fcs, tmp_path / "missing.csv")


def test_corrupt_and_missing_files_refused_in_one_line(real_dir, tmp_path):
    bad = tmp_path / "bad.fcs"
    bad.write_bytes(b"FCS3.0    garbage" + bytes(range(256)) * 4)
    with pytest.raises(BelimapError) as err:
        read_fcs(bad)
    assert "bad.fcs" in str(err.value) and "\n" not in str(err.value)
    trunc = tmp_path / "trunc.fcs"
    trunc.write_bytes((real_dir / "FCS_3.0_Fortessa_PBS_Specimen_001_A1_A01.fcs").read_bytes()[:3000])
    with pytest.raises(BelimapError, match="trunc.fcs"):
        read_fcs(trunc)
    with pytest.raises(BelimapError, match="file not found"):
        read_fcs(tmp_path / "nope.fcs")


def _one_dataset(n: int, seed: int, pad: str) -> bytes:
    import io

    import flowio

    x = np.random.default_rng(seed).normal(1000, 100, (n, 3)).astype(np.float32)
    buf = io.BytesIO()
    flowio.create_fcs(buf, x.ravel(), ["FSC-A", "SSC-A", "FL1-A"], metadata_dict={"PADDING": pad})
    return buf.getvalue()


def test_multi_dataset_file(tmp_path):
    # data set 1 points to data set 2 through $NEXTDATA (offset relative to its own start); the
    # PADDING keyword absorbs the extra digits so every byte offset of data set 1 stays valid.
    a = _one_dataset(500, 1, "x" * 12)
    b = _one_dataset(300, 2, "x" * 12)
    k = len(str(len(a)))
    a2 = a.replace(b"NEXTDATA/0/", f"NEXTDATA/{len(a)}/".encode()).replace(b"x" * 12, b"x" * (12 - (k - 1)), 1)
    assert len(a2) == len(a)
    path = tmp_path / "two.fcs"
    path.write_bytes(a2 + b)
    first = read_fcs(path)
    second = read_fcs(path, dataset=1)
    assert first.n_datasets == 2 and first.n_events == 500 and second.n_events == 300
    with pytest.raises(BelimapError, match="2 data sets"):
        read_fcs(path, dataset=2)


def test_fcs2_header_reads(tmp_path):
    data = bytearray(_one_dataset(200, 3, "x"))
    data[:6] = b"FCS2.0"
    path = tmp_path / "old.fcs"
    path.write_bytes(bytes(data))
    fcs = read_fcs(path)
    assert fcs.version == "2.0" and fcs.n_events == 200


def test_inspect_command_on_fcs(real_dir, capsys):
    from belimap.cli import main

    assert main(["inspect", str(real_dir / "facs_diva_test.fcs")]) == 0
    out = capsys.readouterr().out
    assert "format: FCS 3.0" in out and "events: 83411" in out and "channels: 12" in out
    assert "APC-A=CD19" in out and "spillover: 8 x 8" in out


def test_inspect_reads_fcs_by_magic_bytes_not_extension(real_dir, tmp_path, capsys):
    """List-mode files named ``.lmd`` (Beckman Coulter) are FCS: dispatch on the content, not the name."""
    from belimap.cli import main

    lmd = tmp_path / "tube1.LMD"
    lmd.write_bytes((real_dir / "facs_diva_test.fcs").read_bytes())
    assert main(["inspect", str(lmd)]) == 0
    assert "events: 83411" in capsys.readouterr().out


def test_gating_a_real_file_matches_flowkit(real_dir):
    """A FACSDiva file ($SPILL, markers in $PnS) gated by marker name, compensated and logicle-transformed."""
    import flowkit as fk

    from belimap.flow.gating import gate_events
    from belimap.flow.strategy import gate_tree, strategy_from_dict

    s = strategy_from_dict({
        "compensation": "FCS",
        "transforms": {"lin": {"type": "linear"}, "lg": {"type": "logicle", "w": 0.5}},
        "channels": {"FSC-A": "lin", "SSC-A": "lin", "default": "lg"},
        "gates": [
            {"id": "cells", "type": "polygon", "dims": ["FSC-A", "SSC-A"],
             "vertices": [[0.05, 0.0], [1.0, 0.0], [1.0, 0.6], [0.05, 0.6]]},
            {"id": "CD19pos", "parent": "cells", "type": "rectangle", "dims": ["CD19", "CD20"], "min": [0.45, None]},
            {"id": "CD38hi", "parent": "CD19pos", "type": "range", "dims": ["CD38"], "min": [0.5]},
        ]}, "inline")
    path = real_dir / "facs_diva_test.fcs"
    ours = gate_events(s, read_fcs(path))
    ref = s.gs.gate_sample(fk.Sample(str(path)))
    ids, _, keys = gate_tree(s)
    for gid in ids:
        name, gpath = keys[gid]
        assert np.array_equal(ref.get_gate_membership(name, gate_path=gpath), ours.masks[gid]), gid
    assert ours.count("cells") > 1000 and 0 < ours.count("CD19pos") < ours.count("cells")


@pytest.mark.parametrize("keyword, old, new", [(b"$TOT", b"83411", b"93411"), (b"$PAR", b"12", b"11")])
def test_tot_or_par_disagreeing_with_the_data_segment_is_named(real_dir, tmp_path, keyword, old, new):
    """An edited or truncated file: one line naming $TOT/$PAR and the segment size, not a numpy reshape error."""
    raw = (real_dir / "facs_diva_test.fcs").read_bytes()
    delim = raw[raw.find(keyword) + 4:raw.find(keyword) + 5]
    bad = tmp_path / "edited.fcs"
    bad.write_bytes(raw.replace(keyword + delim + old, keyword + delim + new, 1))
    declared = r"TEXT declares \$TOT=\d+ events × \$PAR=\d+ channels .* DATA segment"
    with pytest.raises(BelimapError, match=declared) as err:
        read_fcs(bad)
    assert "reshape" not in str(err.value)


def test_file_without_spillover_is_flagged_and_refused_unless_none(real_dir):
    """A file with no $SPILLOVER/$SPILL (the MACSQuant file) is flagged in QC and not gated uncompensated by
    accident; `flow.compensation.matrix: none` says it is on purpose."""
    from belimap.flow.pipeline import FlowParams, read_configured
    from belimap.flow.qc import QcParams, qc_events

    path = real_dir / "EY_2013-07-19_PBS_FCS_3.1_Well_A1.001.fcs"
    _, summary, _ = qc_events(read_fcs(path), "ey", params=QcParams.from_config({"flow": {}}))
    assert "no_spillover" in summary.iloc[0]["flags"]
    with pytest.raises(BelimapError, match=r"EY_2013-07-19.*no spillover matrix.*flow\.compensation\.matrix"):
        read_configured(path, params=FlowParams.from_config({"flow": {}}))
    fcs, spill = read_configured(path, params=FlowParams.from_config({"flow": {"compensation": {"matrix": "none"}}}))
    assert spill is None and fcs.n_events == 10000
    _, diva, _ = qc_events(read_fcs(real_dir / "facs_diva_test.fcs"), "d", params=QcParams.from_config({"flow": {}}))
    assert "no_spillover" not in diva.iloc[0]["flags"]
