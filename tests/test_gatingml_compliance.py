"""The GatingML 2.0 compliance cases FlowKit passes (its ``data/gate_ref``, copied into
``tests/data/gatingml/``, BSD licence in ``LICENSE-FlowKit``): belimap's evaluator must give every
event of ``data1.fcs`` the reference membership, gate for gate.

Each of the 51 reference results is checked once in its own one-gate GatingML file (the case list
follows FlowKit's ``tests/gatingml_tests.py``) and the 49 gates of ``gml_all_gates.xml`` once more
together, where boolean gates refer to gates in other branches of the tree.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from belimap.flow.gating import gate_events
from belimap.flow.io import read_fcs
from belimap.flow.strategy import read_strategy

DATA = Path(__file__).parent / "data" / "gatingml"

#: (GatingML file gml_<name>.xml, gate ID in it, reference result Results_<name>.txt)
CASES = [
    ("range_gate", "Range1", "Range1"), ("rect1_gate", "Rectangle1", "Rectangle1"),
    ("rect2_gate", "Rectangle2", "Rectangle2"), ("poly1_gate", "Polygon1", "Polygon1"),
    ("poly2_gate", "Polygon2", "Polygon2"), ("poly3ns_gate", "Polygon3NS", "Polygon3NS"),
    ("ellipse1_gate", "Ellipse1", "Ellipse1"), ("ellipsoid3d_gate", "Ellipsoid3D", "Ellipsoid3D"),
    ("time_range_gate", "Range2", "Range2"),
    ("quadrant1_gate", "FL2N-FL4N", "FL2N-FL4N"), ("quadrant1_gate", "FL2N-FL4P", "FL2N-FL4P"),
    ("quadrant1_gate", "FL2P-FL4N", "FL2P-FL4N"), ("quadrant1_gate", "FL2P-FL4P", "FL2P-FL4P"),
    ("quadrant2_gate", "FSCN-SSCN", "FSCN-SSCN"), ("quadrant2_gate", "FSCD-SSCN-FL1N", "FSCD-SSCN-FL1N"),
    ("quadrant2_gate", "FSCP-SSCN-FL1N", "FSCP-SSCN-FL1N"), ("quadrant2_gate", "FSCD-FL1P", "FSCD-FL1P"),
    ("quadrant2_gate", "FSCN-SSCP-FL1P", "FSCN-SSCP-FL1P"),
    ("ratio_range1_gate", "RatRange1", "RatRange1"), ("ratio_range2_gate", "RatRange2", "RatRange2"),
    ("log_ratio_range1_gate", "RatRange1a", "RatRange1a"),
    ("boolean_and1_gate", "And1", "And1"), ("boolean_and2_gate", "And2", "And2"), ("boolean_or1_gate", "Or1", "Or1"),
    ("boolean_and3_complement_gate", "And3", "And3"), ("boolean_not1_gate", "Not1", "Not1"),
    ("boolean_and4_not_gate", "And4", "And4"), ("boolean_or2_gate", "Or2", "Or2"),
    ("matrix_poly4_gate", "Polygon4", "Polygon4"), ("matrix_rect3_gate", "Rectangle3", "Rectangle3"),
    ("matrix_rect4_gate", "Rectangle4", "Rectangle4"), ("matrix_rect5_gate", "Rectangle5", "Rectangle5"),
    ("transform_asinh_range1_gate", "ScaleRange1", "ScaleRange1"),
    ("transform_hyperlog_range2_gate", "ScaleRange2", "ScaleRange2"),
    ("transform_linear_range3_gate", "ScaleRange3", "ScaleRange3"),
    ("transform_logicle_range4_gate", "ScaleRange4", "ScaleRange4"),
    ("transform_logicle_range5_gate", "ScaleRange5", "ScaleRange5"),
    ("transform_log_range6_gate", "ScaleRange6", "ScaleRange6"),
    ("matrix_transform_asinh_range1c_gate", "ScaleRange1c", "ScaleRange1c"),
    ("matrix_transform_hyperlog_range2c_gate", "ScaleRange2c", "ScaleRange2c"),
    ("matrix_transform_linear_range3c_gate", "ScaleRange3c", "ScaleRange3c"),
    ("matrix_transform_logicle_range4c_gate", "ScaleRange4c", "ScaleRange4c"),
    ("matrix_transform_logicle_range5c_gate", "ScaleRange5c", "ScaleRange5c"),
    ("matrix_transform_asinh_range6c_gate", "ScaleRange6c", "ScaleRange6c"),
    ("matrix_transform_hyperlog_range7c_gate", "ScaleRange7c", "ScaleRange7c"),
    ("matrix_transform_logicle_range8c_gate", "ScaleRange8c", "ScaleRange8c"),
    ("matrix_transform_logicle_rect1_gate", "ScaleRect1", "ScaleRect1"),
    ("parent_poly1_boolean_and2_gate", "ParAnd2", "ParAnd2"),
    ("parent_range1_boolean_and3_gate", "ParAnd3", "ParAnd3"),
    ("parent_rect1_rect_par1_gate", "ScalePar1", "ScalePar1"),
    ("parent_quadrant_rect_gate", "ParRectangle1", "ParQuadRect"),
]


def truth(name: str) -> np.ndarray:
    with gzip.open(DATA / "truth" / f"Results_{name}.txt.gz", "rt") as fh:
        return np.array([line.strip() == "1" for line in fh if line.strip()])


@pytest.fixture(scope="module")
def data1():
    return read_fcs(DATA / "data1.fcs")


def test_every_reference_result_has_a_case():
    names = {p.name.removeprefix("Results_").removesuffix(".txt.gz") for p in (DATA / "truth").iterdir()}
    assert names == {t for _, _, t in CASES}
    assert len(CASES) == 51


@pytest.mark.parametrize(("gml", "gate", "result"), CASES, ids=[c[2] for c in CASES])
def test_compliance_case(data1, gml, gate, result):
    res = gate_events(read_strategy(DATA / "gml" / f"gml_{gml}.xml"), data1)
    expected = truth(result)
    assert res.masks[gate].shape == expected.shape
    assert np.array_equal(res.masks[gate], expected), f"{gate}: {int((res.masks[gate] != expected).sum())} events differ"


def test_all_gates_in_one_strategy(data1):
    """49 gates in one tree, incl. boolean gates referring to gates of other branches (ParAnd3 -> Ellipse1)
    and ratio dimensions: every gate equals its reference."""
    res = gate_events(read_strategy(DATA / "gml" / "gml_all_gates.xml"), data1)
    assert len(res.gate_ids) == 49
    wrong = [g for g in res.gate_ids if not np.array_equal(res.masks[g], truth(g))]
    assert wrong == []
