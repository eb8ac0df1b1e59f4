"""Simulate the clinical table: screening, visits, SLEDAI-2K items, labs and a known response.

The enrolled patients are the cohort's patients (``P01``…, the ones with specimens); screening
failures (``S01``…) get a screening visit only, each with one known reason. Response (SRI-4 at the
response visit) is drawn from a logistic model of published baseline predictors — SLEDAI-2K ≥ 10,
anti-dsDNA, low complement — and the patient's baseline naive + transitional B-cell fraction in
blood (from ``cohort.subset_probs``), so the immune data carry part of the signal. The visits are then
built to realise that outcome, and the truth (eligibility per trial, oracle probability, outcome)
is written beside the table. Descriptor names and weights come from ``resources/clinical``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd

from belimap.clinical.facts import load_facts
from belimap.config import ROOT, deep_merge
from belimap.tables import write_tsv
from belimap.simulate.cohort import Cohort, draw_composition, simulate_cohort

SERO = ("low_complement", "increased_dna_binding")
SCREENING_FACTS = ("hiv", "hbsag", "hbcab", "hcv", "malignancy_5y", "suicide_risk", "primary_immunodeficiency",
                   "prior_rituximab", "prior_cyclophosphamide", "prior_other_cell_depleting", "iv_cyclophosphamide_90d",
                   "chronic_infection_suppressive", "infection_hospitalisation_60d", "iv_antibiotics_60d",
                   "investigational_30d", "live_vaccine_30d", "substance_abuse_365d", "mab_anaphylaxis", "pregnancy",
                   "active_nephritis", "other_immunosuppressive_disease", "contrast_anaphylaxis",
                   "protein_anaphylaxis", "starting_other_immunosuppressive", "prior_investigational_agent",
                   "investigational_within_washout", "other_immunodeficiency", "investigator_abnormal_laboratory",
                   "investigator_intercurrent_illness", "renal_disease")


def _sigmoid(x: np.ndarray) -> np.ndarray:
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


def _baseline_patient(rng: np.random.Generator, p: dict, facts, arm: str) -> dict:
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


def _visits(rng: np.random.Generator, pid: str, base: dict, responder: bool, course: dict, p: dict,
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


def _courses(rng: np.random.Generator, patients: list[str], p: dict) -> dict[str, dict]:
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


def naive_transitional(cohort: Cohort, tissue: str, subsets: list[str]) -> pd.Series:
    """Each patient's true baseline fraction of ``subsets`` among B cells in ``tissue``."""
    # specimens are sorted by patient, tissue and timepoint order: the first per patient is baseline
    spec = cohort.specimens[cohort.specimens["tissue"] == tissue].drop_duplicates("patient_id", keep="first")
    frac = cohort.subset_probs.loc[spec["sample_id"], subsets].sum(axis=1)
    return pd.Series(frac.to_numpy(), index=spec["patient_id"].to_numpy())


def simulate_clinical(cohort: Cohort, n_screen_failures: int | None = None, seed: int | None = None,
                      arm: str = "belimumab") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The clinical table of ``cohort`` and its truth.

    Returns ``(table, patients, eligibility)``: the table (one row per patient × visit, blanks as
    NaN), per-patient truth (``role, failure, oracle_probability, sri4, pending,
    naive_transitional``) and per-trial eligibility truth (``patient_id, trial, eligible,
    excluded_by``).
    """
    p = dict(cohort.params["clinical"])
    p["cutoff"] = pd.Timestamp(str(p["data_cutoff"]))
    facts = load_facts()
    rng = np.random.default_rng(cohort.specimen_seed("clinical", "clinical") if seed is None else seed)
    patients = sorted(cohort.specimens["patient_id"].unique())
    resp = p["response"]
    base = {pid: _baseline_patient(rng, p, facts, arm) for pid in patients}
    # Response mechanism (the oracle): published baseline predictors + the blood naive/transitional fraction.
    nt = naive_transitional(cohort, resp["immune"]["tissue"], resp["immune"]["subsets"]).reindex(patients)
    nt_z = ((nt - nt.mean()) / (nt.std(ddof=0) or 1.0)).fillna(0.0)
    lab = p["labs"]["anti_dsdna"]
    weights = facts.sledai_weights
    score = pd.Series({pid: sum(weights[d] * base[pid][d] for d in weights) for pid in patients})
    lin = (resp["intercept"] + resp["sledai_ge_10"] * (score >= 10).astype(float)
           + resp["log_anti_dsdna_z"] * pd.Series({pid: (np.log(base[pid]["anti_dsdna"]) - np.log(lab["median"]))
                                                    / lab["sdlog"] for pid in patients})
           + resp["low_complement"] * pd.Series({pid: float(base[pid]["low_complement"]) for pid in patients})
           + resp["naive_transitional_z"] * nt_z)
    prob = pd.Series(_sigmoid(lin.to_numpy()), index=patients)
    outcome = pd.Series((rng.random(len(patients)) < prob.to_numpy()).astype(int), index=patients)
    courses = _courses(rng, patients, p)
    rows, truth, elig = [], [], []
    trials = sorted({t for f in p["screen_failures"] for t in f["fails"]})
    for pid in patients:
        c = courses[pid]
        rows += _visits(rng, pid, base[pid], bool(outcome[pid]), c, p, facts)
        status = ("pending" if c["pending"] else "non_responder" if c["event"] else
                  "responder" if outcome[pid] else "non_responder")
        truth.append({"patient_id": pid, "role": "enrolled", "failure": "", "baseline_sledai2k": score[pid],
                      "naive_transitional": nt[pid], "oracle_probability": prob[pid], "sri4": outcome[pid],
                      "pending": int(c["pending"]), "status": status, "imputed": c["event"]})
        elig += [{"patient_id": pid, "trial": t, "eligible": "yes", "excluded_by": ""} for t in trials]
    n_fail = p["n_screen_failures"] if n_screen_failures is None else n_screen_failures
    for i in range(n_fail):
        mode = p["screen_failures"][i % len(p["screen_failures"])]
        pid = f"S{i + 1:02d}" if n_fail < 100 else f"S{i + 1:03d}"
        rec = _baseline_patient(rng, p, facts, arm)
        if "sledai_items" in mode:
            rec.update(dict.fromkeys(facts.sledai_weights, 0))
            rec.update(dict.fromkeys(mode["sledai_items"], 1))
        rec.update({k: (np.nan if v is None else v) for k, v in mode.get("set", {}).items()})
        screened = p["cutoff"] - pd.Timedelta(days=int(rng.integers(30, p["enrolment_days"])))
        rows.append({"patient_id": pid, "visit": p["visits"][0], "visit_date": screened, **rec})
        what = ", ".join(f"{k}={'missing' if v is None else v}" for k, v in mode.get("set", {}).items())
        if "sledai_items" in mode:
            what = f"SLEDAI-2K items {'+'.join(mode['sledai_items'])}" + (f", {what}" if what else "")
        truth.append({"patient_id": pid, "role": "screen_failure", "failure": what, "baseline_sledai2k": np.nan,
                      "naive_transitional": np.nan, "oracle_probability": np.nan, "sri4": np.nan, "pending": 0,
                      "status": "", "imputed": ""})
        for t in trials:
            fails = sorted(mode["fails"].get(t, []))
            elig.append({"patient_id": pid, "trial": t, "eligible": "no" if fails else "yes",
                         "excluded_by": ";".join(fails)})
    columns = (["patient_id", "visit", "visit_date", "discontinued", "rescue", "arm", "age", "sex"]
               + list(facts.sledai_weights)
               + ["anti_dsdna", "c3", "c4", "igg", "iga", "egfr", "proteinuria_g24h", "prednisone_mg", "pga",
                  "bilag_new_a", "bilag_new_b", "active_arthritis_sites", "haemolytic_anaemia", "gi_activity",
                  "consent", "refractory", "starting_belimumab", *SCREENING_FACTS] + facts.classification_columns())
    table = pd.DataFrame(rows).reindex(columns=columns)
    table["visit_date"] = pd.to_datetime(table["visit_date"]).dt.strftime("%Y-%m-%d")
    order = {v: i for i, v in enumerate(p["visits"])}
    table = table.sort_values(["patient_id", "visit"], key=lambda s: s.map(order) if s.name == "visit" else s,
                              kind="stable").reset_index(drop=True)
    return table, pd.DataFrame(truth), pd.DataFrame(elig)


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """Integers without decimals and blanks for missing, as a person would type the table."""
    out = table.copy().astype(object)
    for col in out.columns:
        vals = table[col]
        if pd.api.types.is_numeric_dtype(vals):
            out[col] = [("" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else f"{v:g}")) for v in vals]
        else:
            out[col] = vals.fillna("")
    return out


def study_paths(outdir: str | Path) -> dict[str, Path]:
    """Where the simulated study keeps its clinical table and truth (the workflow asks for these)."""
    outdir = Path(outdir)
    return {"table": outdir / "raw" / "clinical" / "clinical.tsv",
            "patients": outdir / "truth" / "clinical_patients.tsv",
            "eligibility": outdir / "truth" / "clinical_eligibility.tsv"}


def simulates_table(cfg: dict) -> bool:
    """Whether the study's ``clinical.table`` is the one the simulator writes (a simulated study's demo table)."""
    table = cfg.get("clinical", {}).get("table")
    sim = cfg.get("simulate", {})
    if not (table and sim.get("enabled")):
        return False
    return Path(table).absolute() == study_paths(sim.get("outdir", "results/demo"))["table"].absolute()


def write_all(cohort: Cohort, sheet: pd.DataFrame, outdir: str | Path) -> None:  # noqa: ARG001 - modality API
    """Write the clinical table of the cohort's patients and its truth (:func:`study_paths`) under ``outdir``."""
    paths = study_paths(outdir)
    table, patients, elig = simulate_clinical(cohort)
    write_tsv(format_table(table), paths["table"])
    write_tsv(patients, paths["patients"])
    write_tsv(elig, paths["eligibility"])


# ----------------------------------------------------------------------------------------------
# larger cohorts (benchmarks, tests)
# ----------------------------------------------------------------------------------------------
def measured_composition(cohort: Cohort, cells_per_sample: int, seed: int, missing: dict[str, float] | None = None
                         ) -> pd.DataFrame:
    """The composition table a modality would measure: multinomial B cells per specimen.

    ``missing`` drops a random fraction of specimens per tissue (e.g. ``{"synovium": 0.3}``: no
    synovial biopsy for 30 % of patients), as real studies lose specimens. Drawn by
    :func:`belimap.simulate.cohort.draw_composition` (no QC loss).
    """
    return draw_composition(cohort, cells_per_sample=cells_per_sample, seed=seed, missing=missing)


def simulate_large_cohort(n_patients: int = 120, seed: int = 1, signal: bool = True, cells_per_sample: int = 3000,
                          missing: dict[str, float] | None = None, base_cfg: dict | None = None,
                          clinical: dict | None = None) -> dict:
    """A cohort of ``n_patients`` for benchmarks: clinical table, truth and measured composition.

    Only baseline specimens are drawn (what the response model uses). ``signal=False`` sets every
    response coefficient to 0 (the null: no feature predicts response).
    """
    from belimap.config import load_config

    cfg = copy.deepcopy(base_cfg) if base_cfg else load_config(ROOT / "config" / "config.yaml")
    first = cfg["timepoints"][0]
    sim = {"seed": seed, "n_patients": n_patients, "design": {t: [first] for t in cfg["tissues"]}}
    clin = copy.deepcopy(clinical or {})
    if not signal:
        clin = deep_merge(clin, {"response": {"intercept": 0.0, "sledai_ge_10": 0.0, "log_anti_dsdna_z": 0.0,
                                              "low_complement": 0.0, "naive_transitional_z": 0.0}})
    clin = deep_merge({"pending_fraction": 0.0, "discontinued_fraction": 0.0, "rescue_fraction": 0.0,
                       "missed_visit_fraction": 0.0}, clin)
    sim["clinical"] = clin
    cfg["simulate"] = deep_merge(cfg["simulate"], sim)
    cohort = simulate_cohort(cfg)
    table, patients, elig = simulate_clinical(cohort, n_screen_failures=n_patients // 5, seed=seed)
    comp = measured_composition(cohort, cells_per_sample, seed + 1, missing)
    return {"cfg": cfg, "cohort": cohort, "table": table, "patients": patients, "eligibility": elig,
            "composition": comp}
