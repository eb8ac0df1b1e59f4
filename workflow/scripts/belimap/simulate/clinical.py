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
from belimap.simulate.patients import SCREENING_FACTS, baseline_patient, patient_courses, patient_visits, sigmoid

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
    base = {pid: baseline_patient(rng, p, facts, arm) for pid in patients}
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
    prob = pd.Series(sigmoid(lin.to_numpy()), index=patients)
    outcome = pd.Series((rng.random(len(patients)) < prob.to_numpy()).astype(int), index=patients)
    courses = patient_courses(rng, patients, p)
    rows, truth, elig = [], [], []
    trials = sorted({t for f in p["screen_failures"] for t in f["fails"]})
    for pid in patients:
        c = courses[pid]
        rows += patient_visits(rng, pid, base[pid], bool(outcome[pid]), c, p, facts)
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
        rec = baseline_patient(rng, p, facts, arm)
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
