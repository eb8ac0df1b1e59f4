"""SLEDAI-2K, classification criteria, SRI-4 and LLDAS against hand-worked cases."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from belimap.clinical.activity import (acr_1997, activity_table, eular_acr_2019, lldas_row, sledai2k, slicc_2012,
                                       sri4)
from belimap.clinical.facts import load_facts

FACTS = load_facts()
# Hand-typed from Gladman et al. 2002 (SLEDAI-2K), independent of criteria.json, to check it.
HAND_WEIGHTS = {
    "seizure": 8, "psychosis": 8, "organic_brain_syndrome": 8, "visual_disturbance": 8, "cranial_nerve_disorder": 8,
    "lupus_headache": 8, "cva": 8, "vasculitis": 8, "arthritis": 4, "myositis": 4, "urinary_casts": 4,
    "hematuria": 4, "proteinuria": 4, "pyuria": 4, "rash": 2, "alopecia": 2, "mucosal_ulcers": 2, "pleurisy": 2,
    "pericarditis": 2, "low_complement": 2, "increased_dna_binding": 2, "fever": 1, "thrombocytopenia": 1,
    "leukopenia": 1,
}


def _row(**on: int) -> dict:
    return {**dict.fromkeys(HAND_WEIGHTS, 0), **on}


@pytest.mark.parametrize("descriptor", list(HAND_WEIGHTS))
def test_sledai_each_descriptor_alone(descriptor):
    score = sledai2k(pd.DataFrame([_row(**{descriptor: 1})]), FACTS)
    assert score["sledai2k"].iloc[0] == HAND_WEIGHTS[descriptor]
    assert score["sledai2k_source"].iloc[0] == "descriptors"


def test_sledai_all_and_combined_and_missing():
    rows = pd.DataFrame([
        _row(**dict.fromkeys(HAND_WEIGHTS, 1)),                       # every descriptor: the published maximum
        _row(arthritis=1, rash=1, low_complement=1, increased_dna_binding=1, leukopenia=1),  # 4+2+2+2+1
        {**_row(), "seizure": math.nan},                              # one descriptor missing, no total
        {**_row(), "seizure": math.nan, "sledai2k_total": 12.0},      # ... with a total: the total is used
    ])
    s = sledai2k(rows, FACTS)
    assert s["sledai2k"].iloc[0] == 105 == FACTS.criteria["SLEDAI_2K"]["max"]
    assert s["sledai2k"].iloc[1] == 11
    assert math.isnan(s["sledai2k"].iloc[2])
    assert s["sledai2k"].iloc[3] == 12 and s["sledai2k_source"].iloc[3] == "total"


def test_weights_match_hand_typed_table():
    assert FACTS.sledai_weights == HAND_WEIGHTS


# ---------------------------------------------------------------- SRI-4
BASE = {"sledai2k": 10.0, "pga": 1.5}


@pytest.mark.parametrize("resp, expected", [
    ({"sledai2k": 6, "pga": 1.5, "bilag_new_a": 0, "bilag_new_b": 1}, 1.0),    # drop 4, one new B: responder
    ({"sledai2k": 7, "pga": 1.0, "bilag_new_a": 0, "bilag_new_b": 0}, 0.0),    # drop 3
    ({"sledai2k": 2, "pga": 1.0, "bilag_new_a": 1, "bilag_new_b": 0}, 0.0),    # new BILAG A
    ({"sledai2k": 2, "pga": 1.0, "bilag_new_a": 0, "bilag_new_b": 2}, 0.0),    # two new BILAG B
    ({"sledai2k": 2, "pga": 1.8, "bilag_new_a": 0, "bilag_new_b": 0}, 0.0),    # PGA +0.3 (not < 0.3)
    ({"sledai2k": 2, "pga": 1.7, "bilag_new_a": 0, "bilag_new_b": 0}, 1.0),    # PGA +0.2
    ({"sledai2k": 2, "pga": 1.0, "bilag_new_a": math.nan, "bilag_new_b": 0}, math.nan),  # BILAG missing
    ({"sledai2k": 2, "pga": 1.0, "bilag_new_a": math.nan, "bilag_new_b": 3}, 0.0),  # missing, but already failed
])
def test_sri4_hand_cases(resp, expected):
    got = sri4(BASE, resp, FACTS)["sri4"]
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_sri4_pga_float_boundary():
    # 1.2 - 0.9 is 0.29999999999999993 in floating point: it is a rise of 0.3 and must fail.
    assert sri4({"sledai2k": 10, "pga": 0.9}, {"sledai2k": 2, "pga": 1.2, "bilag_new_a": 0, "bilag_new_b": 0},
                FACTS)["sri4"] == 0.0


# ---------------------------------------------------------------- LLDAS
def _lldas_row(**kw) -> dict:
    return {**_row(), "haemolytic_anaemia": 0, "gi_activity": 0, "pga": 0.8, "prednisone_mg": 5.0, **kw}


@pytest.mark.parametrize("kw, prev, expected", [
    ({"rash": 1, "low_complement": 1}, {"rash": 1, "low_complement": 1}, 1.0),   # SLEDAI 4, nothing new
    ({"rash": 1, "alopecia": 1, "fever": 1}, {"rash": 1, "alopecia": 1, "fever": 1}, 0.0),  # fever = organ activity
    ({"proteinuria": 1}, {"proteinuria": 1}, 0.0),                               # renal activity
    ({"arthritis": 1}, {"arthritis": 1}, 1.0),                                   # arthritis (4) is not an LLDAS organ
    ({"rash": 1}, {}, 0.0),                                                      # new activity vs previous
    ({"pga": 1.2}, {}, 0.0),                                                     # PGA > 1
    ({"prednisone_mg": 7.5}, {}, 1.0),                                           # 7.5 mg allowed
    ({"prednisone_mg": 10}, {}, 0.0),
    ({"haemolytic_anaemia": 1}, {}, 0.0),
    ({"gi_activity": math.nan}, {}, math.nan),                                   # unknown GI activity
    ({"rash": 1, "alopecia": 1, "mucosal_ulcers": 1}, {"rash": 1, "alopecia": 1, "mucosal_ulcers": 1}, 0.0),  # 6 > 4
])
def test_lldas_hand_cases(kw, prev, expected):
    row = _lldas_row(**kw)
    score = sum(HAND_WEIGHTS[d] * row[d] for d in HAND_WEIGHTS)
    got = lldas_row(row, _lldas_row(**prev), score, FACTS)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_lldas_needs_a_previous_visit_and_activity_table_orders_visits():
    assert math.isnan(lldas_row(_lldas_row(), None, 0.0, FACTS))
    t = pd.DataFrame([{"patient_id": "P1", "visit": v, **_lldas_row()} for v in ("baseline", "week48")])
    act = activity_table(t, FACTS)
    assert math.isnan(act["lldas"].iloc[0]) and act["lldas"].iloc[1] == 1.0


def test_outcome_numbers_are_those_of_criteria_json():
    text = " ".join(FACTS.criteria["LLDAS"])
    lld = FACTS.lldas
    assert f"SLEDAI-2K<={lld['sledai2k_max']}" in text
    assert f"PGA (0-3) <={lld['pga_max']}" in text
    assert f"<={lld['prednisone_max_mg']} mg/day" in text
    for organ in lld["no_activity_in"]:
        assert organ.lower() in text.lower()
    rule = FACTS.criteria["ACR_1997"]["rule"]
    assert f">={FACTS.classification['acr_1997']['min_items']} of 11" in rule
    s = FACTS.classification["slicc_2012"]
    assert f">={s['min_criteria']} criteria incl >={s['min_clinical']} clinical and >={s['min_immunologic']} immunologic" \
        in FACTS.criteria["SLICC_2012"]["rule"]


# ---------------------------------------------------------------- classification
def _items(on: list[str], known: list[str] | None = None) -> dict:
    cols = FACTS.classification_columns() if known is None else known
    return {**dict.fromkeys(cols, 0), **dict.fromkeys(on, 1)}


def test_acr_1997_four_of_eleven_and_unknowns():
    four = ["acr97_malar_rash", "acr97_arthritis", "acr97_ana", "acr97_immunologic"]
    assert acr_1997(_items(four), FACTS) == (1.0, 4.0)
    assert acr_1997(_items(four[:3]), FACTS)[0] == 0.0
    # three present and one item unknown: could be four -> not assessable
    row = _items(four[:3])
    row["acr97_renal"] = math.nan
    assert math.isnan(acr_1997(row, FACTS)[0])
    assert math.isnan(acr_1997({}, FACTS)[0])  # no item data at all


def test_slicc_2012_needs_clinical_and_immunologic_or_biopsy():
    assert slicc_2012(_items(["slicc_ana", "slicc_anti_dsdna", "slicc_synovitis", "slicc_acute_cutaneous"]), FACTS)[0] == 1.0
    assert slicc_2012(_items(["slicc_ana", "slicc_anti_dsdna", "slicc_anti_sm", "slicc_low_complement"]), FACTS)[0] == 0.0
    assert slicc_2012(_items(["slicc_biopsy_lupus_nephritis", "slicc_ana"]), FACTS)[0] == 1.0
    assert slicc_2012(_items(["slicc_biopsy_lupus_nephritis"]), FACTS)[0] == 0.0


def test_eular_acr_2019_entry_domain_maximum_and_clinical_item():
    e = "eular_"
    # joint involvement 6 + anti-dsDNA 6 = 12 >= 10 with ANA entry
    assert eular_acr_2019(_items([e + "ana_ge_1_80", e + "joint_involvement", e + "anti_dsDNA_or_anti_Sm"]), FACTS) == (1.0, 12.0)
    # no ANA: never classified
    assert eular_acr_2019(_items([e + "joint_involvement", e + "anti_dsDNA_or_anti_Sm"]), FACTS)[0] == 0.0
    # only the highest item of a domain counts: oral ulcers 2 + ACLE 6 in mucocutaneous = 6, + complement 4 = 10
    got = eular_acr_2019(_items([e + "ana_ge_1_80", e + "oral_ulcers", e + "ACLE", e + "low_C3_and_low_C4", e + "low_C3_or_low_C4"]), FACTS)
    assert got == (1.0, 10.0)
    # immunological items only (score 10) without a clinical item: not classified
    got = eular_acr_2019(_items([e + "ana_ge_1_80", e + "anti_dsDNA_or_anti_Sm", e + "low_C3_and_low_C4"]), FACTS)
    assert got == (0.0, 10.0)


# ----------------------------------------------------------------------------------------------
# SRI-4 under non-responder imputation (discontinued / rescue / missed visit / data cut-off)
# ----------------------------------------------------------------------------------------------
def _course(pid: str, baseline: str, visits: dict[str, dict], drop: int = 6) -> list[dict]:
    """Rows of one patient: baseline SLEDAI-2K 12 (arthritis, rash, proteinuria, alopecia), PGA 2."""
    base = _row(arthritis=1, rash=1, proteinuria=1, alopecia=1)
    rows = [{"patient_id": pid, "visit": "baseline", "visit_date": baseline, **base, "pga": 2.0,
             "bilag_new_a": 0, "bilag_new_b": 0}]
    for visit, extra in visits.items():
        after = _row(arthritis=0 if drop >= 4 else 1, rash=0 if drop >= 6 else 1, proteinuria=1, alopecia=1)
        rows.append({"patient_id": pid, "visit": visit, **after, "pga": 1.5, "bilag_new_a": 0, "bilag_new_b": 0,
                     **extra})
    return rows


def _response(rows: list[dict], **clinical) -> pd.DataFrame:
    from belimap.clinical.activity import response_table
    from belimap.clinical.params import ClinicalParams

    table = pd.DataFrame(rows)
    params = ClinicalParams.from_config({"clinical": {"data_cutoff": "2026-06-30", **clinical}})
    resp = response_table(table, activity_table(table, FACTS), list(dict.fromkeys(table["patient_id"])), FACTS,
                          params=params)
    return resp.set_index("patient_id")


def test_nri_discontinued_rescue_missed_and_future_visits():
    rows = (_course("R1", "2025-01-10", {"week12": {}, "week48": {}})                       # SRI-4 responder
            + _course("D1", "2025-01-10", {"week12": {"discontinued": 1}})                # withdrew at week 12
            + _course("X1", "2025-01-10", {"week24": {"rescue": 1}, "week48": {}})          # responds, but rescued
            + _course("M1", "2025-01-10", {"week12": {}})                                 # week 48 due, missing
            + _course("P1", "2026-01-05", {"week12": {}}))                                # week 48 after cut-off
    resp = _response(rows)
    assert resp.loc["R1", "status"] == "responder" and resp.loc["R1", "imputed"] == ""
    for pid, why in (("D1", "discontinued"), ("X1", "rescue"), ("M1", "missed_visit")):
        assert resp.loc[pid, "status"] == "non_responder", pid
        assert resp.loc[pid, "imputed"] == why and "non-responder imputation" in resp.loc[pid, "status_reason"]
    assert resp.loc["X1", "sri4"] == 1.0  # the visit itself met SRI-4: the estimand, not the data, says no
    assert resp.loc["P1", "status"] == "pending" and "after the data cut-off 2026-06-30" in resp.loc["P1", "status_reason"]


def test_nri_window_and_no_cutoff():
    # week 48 planned at day 336 (2026-06-01 for this baseline) + 28-day window = 2026-06-29: due by the cut-off
    rows = _course("M2", "2025-06-30", {"week12": {}})
    assert _response(rows).loc["M2", "status"] == "non_responder"
    assert _response(rows, visit_window_days=60).loc["M2", "status"] == "pending"
    no_cutoff = _response(rows, data_cutoff=None).loc["M2"]
    assert no_cutoff["status"] == "pending" and "data_cutoff" in no_cutoff["status_reason"]
    # an event after the response visit does not change the outcome
    late = _course("L1", "2025-01-10", {"week48": {}}) + [{"patient_id": "L1", "visit": "week52", "discontinued": 1}]
    assert _response(late, visits=["screening", "baseline", "week12", "week24", "week48", "week52"]
                     ).loc["L1", "status"] == "responder"


def test_nri_bad_date_is_one_line_error():
    from belimap.errors import BelimapError

    with pytest.raises(BelimapError, match=r"patient B1, baseline visit_date: '2025-13-40' is not a date"):
        _response(_course("B1", "2025-13-40", {"week12": {}}))
