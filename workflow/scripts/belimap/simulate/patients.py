"""One simulated patient's clinical course: baseline labs, SLEDAI-2K items, classification items and the
visits that realise a drawn response (with dropouts, rescue therapy and missed visits). Assembled into the
study's table by :mod:`belimap.simulate.clinical`."""

from __future__ import annotations

import numpy as np
import pandas as pd


SERO = ("low_complement", "increased_dna_binding")
SCREENING_FACTS = ("hiv", "hbsag", "hbcab", "hcv", "malignancy_5y", "suicide_risk", "primary_immunodeficiency",
                   "prior_rituximab", "prior_cyclophosphamide", "prior_other_cell_depleting", "iv_cyclophosphamide_90d",
                   "chronic_infection_suppressive", "infection_hospitalisation_60d", "iv_antibiotics_60d",
                   "investigational_30d", "live_vaccine_30d", "substance_abuse_365d", "mab_anaphylaxis", "pregnancy",
                   "active_nephritis", "other_immunosuppressive_disease", "contrast_anaphylaxis",
                   "protein_anaphylaxis", "starting_other_immunosuppressive", "prior_investigational_agent",
                   "investigational_within_washout", "other_immunodeficiency", "investigator_abnormal_laboratory",
                   "investigator_intercurrent_illness", "renal_disease")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _labs(rng: np.random.Generator, p: dict) -> dict:
    lab = p["labs"]
    dsdna = float(np.round(lab["anti_dsdna"]["median"] * np.exp(rng.normal(0, lab["anti_dsdna"]["sdlog"])), 1))
    c3 = float(np.round(max(20.0, rng.normal(lab["c3"]["mean"], lab["c3"]["sd"])), 1))
    c4 = float(np.round(max(2.0, rng.normal(lab["c4"]["mean"], lab["c4"]["sd"])), 1))
    out = {"anti_dsdna": dsdna, "c3": c3, "c4": c4}
    for key in ("igg", "iga", "egfr"):
        out[key] = float(np.round(max(lab[key]["min"], rng.normal(lab[key]["mean"], lab[key]["sd"])), 0))
    return out


def _flags(labs: dict, p: dict) -> dict:
    lab = p["labs"]
    return {"low_complement": int(labs["c3"] < lab["c3"]["lln"] or labs["c4"] < lab["c4"]["lln"]),
            "increased_dna_binding": int(labs["anti_dsdna"] > lab["anti_dsdna"]["uln"])}


def _classification_items(facts, sledai: dict, labs_flags: dict) -> dict:
    """Item columns of an SLE patient who meets ACR 1997, SLICC 2012 and EULAR/ACR 2019."""
    items = dict.fromkeys(facts.classification_columns(), 0)
    e = facts.classification["eular_acr_2019"]["prefix"]
    on = ["acr97_malar_rash", "acr97_arthritis", "acr97_immunologic", "acr97_ana",
          "slicc_acute_cutaneous", "slicc_synovitis", "slicc_ana", "slicc_anti_dsdna",
          facts.classification["eular_acr_2019"]["entry"], e + "joint_involvement", e + "anti_dsDNA_or_anti_Sm",
          e + "ACLE"]
    if sledai.get("mucosal_ulcers"):
        on += ["acr97_oral_ulcers", "slicc_oral_nasal_ulcers", e + "oral_ulcers"]
    if sledai.get("alopecia"):
        on += ["slicc_nonscarring_alopecia", e + "nonscarring_alopecia"]
    if labs_flags["low_complement"]:
        on += ["slicc_low_complement", e + "low_C3_or_low_C4"]
    for col in on:
        items[col] = 1
    return items


def baseline_patient(rng: np.random.Generator, p: dict, facts, arm: str) -> dict:
    """Screening facts, labs and descriptors of an eligible patient (both trials)."""
    labs = _labs(rng, p)
    flags = _flags(labs, p)
    desc = dict.fromkeys(facts.sledai_weights, 0)
    desc["arthritis"] = 1
    desc.update(flags)
    for name, prob in p["extra_descriptors"].items():
        desc[name] = int(rng.random() < prob)
    # Active enough for both trials: switch on further descriptors, in the profile's order, until the
    # score reaches min_sledai2k (no random draw, so the other patients' streams are unchanged).
    weights = facts.sledai_weights
    for name in p["extra_descriptors"]:
        if sum(weights[d] * desc[d] for d in weights) >= p["min_sledai2k"]:
            break
        desc[name] = 1
    lab = p["labs"]
    rec = {
        "arm": arm, "age": int(rng.integers(p["age"]["low"], p["age"]["high"] + 1)),
        "sex": "F" if rng.random() < p["female_fraction"] else "M",
        **labs,
        "proteinuria_g24h": float(np.round(rng.uniform(0.6, 1.5) if desc["proteinuria"] else rng.uniform(0.05, 0.3),
                                           2)),
        "prednisone_mg": float(np.round(rng.uniform(lab["prednisone_mg"]["low"], lab["prednisone_mg"]["high"]) * 2)
                               / 2),
        "pga": float(np.round(rng.uniform(lab["pga"]["low"], lab["pga"]["high"]), 1)),
        "active_arthritis_sites": str(rng.choice(p["arthritis_sites"])),
        "haemolytic_anaemia": 0, "gi_activity": 0,
        "consent": 1, "refractory": 1, "starting_belimumab": 1,
        **dict.fromkeys(SCREENING_FACTS, 0),
        **desc,
    }
    rec.update(_classification_items(facts, desc, flags))
    return rec


def _follow_labs(rng: np.random.Generator, base: dict, p: dict) -> dict:
    """Labs at a later visit: noisy, but on the same side of ULN/LLN (serology descriptors stay put)."""
    out = {}
    for key in ("anti_dsdna", "c3", "c4", "igg", "iga", "egfr"):
        out[key] = float(np.round(base[key] * np.exp(rng.normal(0, 0.1)), 1))
    if _flags(out, p) != _flags(base, p):
        out.update({k: base[k] for k in ("anti_dsdna", "c3", "c4")})
    return out


def patient_visits(rng: np.random.Generator, pid: str, base: dict, responder: bool, course: dict, p: dict,
            facts) -> list[dict]:
    """Rows of an enrolled patient: screening, baseline, follow-ups realising the drawn outcome.

    ``course``: ``baseline_date``, ``cutoff`` (visits after it are not in the table yet), ``event``
    (``""``, ``discontinued``: no visits after the event visit, ``rescue``: flagged, visits go on;
    ``missed_visit``: the response visit is absent) and ``event_visit``.
    """
    visits = p["visits"]
    weights = facts.sledai_weights
    clinical = [d for d in weights if base[d] and d not in SERO]
    sledai_keys = list(weights)
    visit_keys = sledai_keys + ["anti_dsdna", "c3", "c4", "igg", "iga", "egfr", "proteinuria_g24h", "prednisone_mg",
                                "pga", "active_arthritis_sites", "haemolytic_anaemia", "gi_activity"]
    days = p["visit_days"]

    def date(v: str) -> pd.Timestamp:
        jitter = 0 if v == p["baseline_visit"] else int(rng.integers(-7, 8))
        return course["baseline_date"] + pd.Timedelta(days=days[v] + jitter)

    rows = [{"patient_id": pid, "visit": visits[0], "visit_date": date(visits[0]), **base},
            {"patient_id": pid, "visit": p["baseline_visit"], "visit_date": course["baseline_date"], "arm": base["arm"],
             **{k: base[k] for k in visit_keys}, "bilag_new_a": 0, "bilag_new_b": 0}]
    # The response visit's descriptors: what a responder / non-responder looks like.
    route = "responder"
    if not responder:
        routes = p["nonresponse_routes"]
        route = str(rng.choice(list(routes), p=np.array(list(routes.values())) / sum(routes.values())))
    removed: list[str] = []
    if route in ("responder", "bilag_a", "pga"):
        removed = ["arthritis"] + [d for d in clinical if d != "arthritis" and rng.random() < 0.5]
    else:  # drop < 4: at most one 2-point descriptor resolves, or a new one appears
        two = [d for d in clinical if weights[d] == 2]
        if two and rng.random() < 0.5:
            removed = [str(rng.choice(two))]
    new_a = 1 if route == "bilag_a" else 0
    new_b = int(rng.integers(0, 2))
    base_pga = base["pga"]
    if route == "pga":
        pga_end = float(np.round(min(3.0, base_pga + float(rng.choice([0.3, 0.4, 0.5]))), 1))
        if np.round(pga_end - base_pga, 6) < 0.3:  # capped at 3: raise nothing else, use the BILAG route
            new_a = 1
    elif route == "sledai":
        pga_end = float(np.round(np.clip(base_pga + rng.uniform(-0.3, 0.2), 0, 3), 1))
    else:
        pga_end = float(np.round(max(0.0, base_pga - rng.uniform(0.2, 1.0)), 1))
    taper = rng.uniform(0.6, 0.9) if route == "responder" else rng.uniform(0.2, 0.6)
    follow = [v for v in visits if visits.index(v) > visits.index(p["baseline_visit"])]
    event, at = course["event"], course.get("event_visit", "")
    for v in follow:
        when = date(v)
        if when > course["cutoff"] or (event == "missed_visit" and v == p["response_visit"]):
            continue
        if event == "discontinued" and follow.index(v) > follow.index(at):
            break
        last = v == p["response_visit"]
        frac = 1.0 if last else (follow.index(v) + 1) / len(follow)
        gone = removed if last else [d for d in removed if rng.random() < frac]
        desc = {d: (0 if d in gone else base[d]) for d in sledai_keys}
        row = {"patient_id": pid, "visit": v, "arm": base["arm"], **desc, **_follow_labs(rng, base, p),
               "proteinuria_g24h": (base["proteinuria_g24h"] if desc["proteinuria"]
                                    else float(np.round(rng.uniform(0.05, 0.3), 2))),
               "prednisone_mg": float(max(2.5, np.round(base["prednisone_mg"] * (1 - taper * frac) * 2) / 2)),
               "pga": pga_end if last else float(np.round(base_pga + frac * (pga_end - base_pga), 1)),
               "active_arthritis_sites": "none" if "arthritis" in gone else base["active_arthritis_sites"],
               "haemolytic_anaemia": 0, "gi_activity": 0,
               "bilag_new_a": new_a if last else 0, "bilag_new_b": new_b if last else 0, "visit_date": when,
               "discontinued": 0, "rescue": 0}
        if event in ("discontinued", "rescue") and follow.index(v) >= follow.index(at):
            row[event] = 1
        rows.append(row)
    return rows


def patient_courses(rng: np.random.Generator, patients: list[str], p: dict) -> dict[str, dict]:
    """Each enrolled patient's baseline date and intercurrent event, relative to the data cut-off.

    Pending patients started recently enough that their response visit (plus the visit window) falls after
    the cut-off; the others started long enough before it. Among the latter, ``discontinued_fraction`` drop out
    (after an early follow-up), ``rescue_fraction`` receive rescue therapy and ``missed_visit_fraction`` miss
    the response visit: all three are non-responders under non-responder imputation.
    """
    cutoff = p["cutoff"]
    due = p["visit_days"][p["response_visit"]] + p["visit_window_days"]
    n = len(patients)
    order = list(rng.permutation(patients))
    n_pending = int(round(p["pending_fraction"] * n))
    pending, rest = set(order[:n_pending]), order[n_pending:]
    events: dict[str, str] = {}
    for key in ("discontinued", "rescue", "missed_visit"):
        k = int(round(p[f"{key}_fraction"] * n))
        for pid in rest[:k]:
            events[pid] = key
        rest = rest[k:]
    follow = [v for v in p["visits"] if p["visits"].index(v) > p["visits"].index(p["baseline_visit"])]
    early = [v for v in follow if v != p["response_visit"]] or [p["response_visit"]]
    out = {}
    for pid in patients:
        if pid in pending:  # response visit due after the cut-off, the first follow-up before it
            back = int(rng.integers(p["visit_days"][follow[0]] + 10, due))
        else:
            back = int(rng.integers(due + 10, p["enrolment_days"]))
        out[pid] = {"baseline_date": cutoff - pd.Timedelta(days=back), "cutoff": cutoff, "pending": pid in pending,
                    "event": events.get(pid, ""), "event_visit": str(rng.choice(early))}
    return out
