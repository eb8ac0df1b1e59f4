"""Response-model benchmark: nested-CV AUC vs the oracle, its interval's coverage, and the null (no leakage).

On simulated 120-patient cohorts (belimap.simulate.clinical) whose response follows known
baseline predictors (oracle AUC ≈ 0.75), the nested-CV AUC should lie within 0.07 of the oracle
AUC and the 95 % interval (``auc_interval``: every resample reruns the whole nested CV) should
contain the oracle AUC in ≥ 90 % of ≥ 20 cohorts; on cohorts where nothing predicts response the
mean AUC over ≥ 20 cohorts should be 0.50 ± 0.05. Calibration slope and intercept of the
out-of-fold probabilities are printed per cohort. Prints one line per cohort and the summary figures.

    .venv/bin/python benchmarks/response_model.py                 # full: 20 signal + 20 null cohorts
    .venv/bin/python benchmarks/response_model.py --prior none    # one penalty for every feature
    .venv/bin/python benchmarks/response_model.py --prior wrong   # the prior on features with no effect
    .venv/bin/python benchmarks/response_model.py --signal 3 --null 5 --repeats 3 --bootstrap 20  # quick look

``--prior`` measures what the config's published-predictor prior (``model.prior_features``) buys
when it is right, and what it costs when the literature points at the wrong features.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold

from belimap.clinical.activity import activity_table, response_table
from belimap.clinical.facts import load_facts
from belimap.clinical.features import prepare
from belimap.clinical.model import fit_response_model, make_pipeline
from belimap.clinical.params import ClinicalParams, ModelParams
from belimap.clinical.table import read_clinical_table
from belimap.config import load_config, validate
from belimap.simulate.clinical import format_table, simulate_large_cohort
from belimap.tables import write_tsv

ROOT = Path(__file__).resolve().parents[1]
# Features the simulator's response mechanism does not use: a prior that points the wrong way.
WRONG_PRIOR = ["clinical:c3", "clinical:prednisone_mg", "clinical:pga", "*:lymph_node:naive", "*:synovium:naive"]


def run_cohort(seed: int, signal: bool, mcfg: ModelParams, n_patients: int = 120, missing: dict | None = None
               ) -> dict:
    """Simulate one cohort, run the clinical layer and the model (seeded by the cohort); return the AUCs."""
    sim = simulate_large_cohort(n_patients, seed=seed, signal=signal, missing=missing)
    cfg = sim["cfg"]
    clinical = ClinicalParams.from_config(cfg)
    facts = load_facts(clinical)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clinical.tsv"
        write_tsv(format_table(sim["table"]), path)
        table = read_clinical_table(path, params=clinical, facts=facts)
    act = activity_table(table, facts)
    enrolled = sim["patients"].loc[sim["patients"]["role"] == "enrolled", "patient_id"].tolist()
    resp = response_table(table, act, enrolled, facts, params=clinical)
    X, y, pending, _ = prepare(table, act, resp, {"scrna": sim["composition"]}, clinical=clinical, params=mcfg,
                               timepoint=cfg["timepoints"][0])
    res = fit_response_model(X, y, pending, params=replace(mcfg, seed=seed))
    truth = sim["patients"].set_index("patient_id").loc[y.index]
    oracle = roc_auc_score(y, truth["oracle_probability"]) if signal else 0.5
    # Reference: an analyst who knew the mechanism's form (4 features, plain logistic, same CV splits).
    known = X[["clinical:sledai2k>=10", "clinical:log1p_anti_dsdna", "clinical:low_complement"]].assign(
        nt=X.filter(like="blood:naive").sum(axis=1) + X.filter(like="blood:transitional").sum(axis=1))
    cv = RepeatedStratifiedKFold(n_splits=mcfg.outer_folds, n_repeats=mcfg.repeats, random_state=seed)
    ref = []
    for k, (tr, te) in enumerate(cv.split(known, y)):
        if k % mcfg.outer_folds == 0:
            ref.append(np.full(len(y), np.nan))
        fit = make_pipeline(C=1e4, l1_ratio=0.0).fit(known.iloc[tr], y.iloc[tr])
        ref[-1][te] = fit.predict_proba(known.iloc[te])[:, 1]
    reference = float(np.mean([roc_auc_score(y, r) for r in ref]))
    agree = float((truth["sri4"].astype(int) == y).mean())
    return {"seed": seed, "n": len(y), "responders": int(y.sum()), "features": X.shape[1], "oracle_auc": oracle,
            "cv_auc": res.summary.get("auc", np.nan), "reference_auc": reference, "ci": (res.summary.get("auc_ci_low"), res.summary.get("auc_ci_high")),
            "slope": res.summary.get("calibration_slope"), "intercept": res.summary.get("calibration_intercept"),
            "p": res.summary.get("permutation_p"), "sri4_agreement": agree}


def model_config(repeats: int, n_permutations: int, n_bootstrap: int, **changes) -> ModelParams:
    """The config's model section with the benchmark's resampling counts (and ``changes``)."""
    cfg = load_config(ROOT / "config" / "config.yaml")
    m = copy.deepcopy(cfg["model"])
    m.update({"repeats": repeats, "n_permutations": n_permutations, "n_bootstrap": n_bootstrap,
              "n_selection_bootstrap": 20})
    return replace(ModelParams.from_config({**cfg, "model": validate(m, "model", "benchmark model config")}),
                   **changes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signal", type=int, default=20, help="cohorts with signal")
    ap.add_argument("--null", type=int, default=20, help="cohorts without signal")
    ap.add_argument("--patients", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=5, help="CV repeats of the signal cohorts")
    ap.add_argument("--null-repeats", type=int, default=2, help="CV repeats of the null cohorts")
    ap.add_argument("--permutations", type=int, default=0, help="permutations per signal cohort (slow)")
    ap.add_argument("--bootstrap", type=int, default=100,
                    help="resamples of the AUC interval per signal cohort (each a whole nested CV)")
    ap.add_argument("--prespecified", action="store_true",
                    help="pre-specified features (published predictors + naive/transitional B per tissue) "
                         "instead of the config's full set")
    ap.add_argument("--prior", choices=["config", "none", "wrong"], default="config",
                    help="published-predictor prior: the config's, none, or on features with no effect")
    ap.add_argument("--jobs", type=int, default=2, help="cohorts run in parallel")
    ap.add_argument("--missing-synovium", type=float, default=0.3, help="fraction of patients without synovium")
    args = ap.parse_args()
    missing = {"synovium": args.missing_synovium}
    t0 = time.time()
    diffs, refs = [], []
    changes = {}
    if args.prespecified:
        base = model_config(1, 0, 0)
        changes = {"clinical_features": ["sledai2k", "anti_dsdna", "c3", "c4", "low_complement"],
                   "immune": replace(base.immune, subsets=["naive", "transitional"])}
    if args.prior != "config":
        changes["prior_features"] = {"none": [], "wrong": WRONG_PRIOR}[args.prior]
    m = model_config(args.repeats, args.permutations, args.bootstrap, **changes)
    m0 = model_config(args.null_repeats, 0, 0, **changes)
    print(f"prior features (weight {m.prior_weight:g}): {m.prior_features or 'none'}")
    pool = Parallel(n_jobs=args.jobs)
    print("signal cohorts: seed n responders features oracle_AUC cv_AUC (95% CI) covered diff perm_p "
          "sri4_agreement known_form_AUC calibration_slope calibration_intercept")
    covered, slopes = [], []
    signal = pool(delayed(partial(run_cohort, 100 + s, True, m, args.patients, missing))() for s in range(args.signal))
    for r in signal:
        diffs.append(r["cv_auc"] - r["oracle_auc"])
        covered.append(r["ci"][0] <= r["oracle_auc"] <= r["ci"][1])
        slopes.append(r["slope"])
        print(f"  {r['seed']} {r['n']} {r['responders']} {r['features']} {r['oracle_auc']:.3f} {r['cv_auc']:.3f} "
              f"({r['ci'][0]:.2f}-{r['ci'][1]:.2f}) {'yes' if covered[-1] else 'NO'} {diffs[-1]:+.3f} {r['p']} "
              f"{r['sri4_agreement']:.2f} {r['reference_auc']:.3f} {r['slope']:.2f} {r['intercept']:+.2f}")
        refs.append(r["reference_auc"] - r["oracle_auc"])
    nulls = []
    print("null cohorts: seed n responders cv_AUC")
    for r in pool(delayed(partial(run_cohort, 500 + s, False, m0, args.patients, missing))() for s in range(args.null)):
        nulls.append(r["cv_auc"])
        print(f"  {r['seed']} {r['n']} {r['responders']} {r['cv_auc']:.3f}")
    if diffs:
        d = np.array(diffs)
        print(f"SIGNAL: mean(cv - oracle) = {d.mean():+.3f}, max |cv - oracle| = {np.abs(d).max():.3f}, "
              f"within 0.07 in {(np.abs(d) <= 0.07).sum()}/{len(d)} cohorts; known-form 4-feature model: "
              f"mean(cv - oracle) = {np.mean(refs):+.3f}")
        print(f"COVERAGE: the 95 % interval contains the oracle AUC in {sum(covered)}/{len(covered)} cohorts "
              f"({np.mean(covered):.2f}; target >= 0.90), {m.n_bootstrap} resamples each; "
              f"calibration slope median {np.median(slopes):.2f} (range {min(slopes):.2f}-{max(slopes):.2f})")
    if nulls:
        a = np.array(nulls)
        print(f"NULL: mean AUC = {a.mean():.3f} (SD {a.std(ddof=1) if len(a) > 1 else 0:.3f}, "
              f"SE {a.std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else 0:.3f}) over {len(a)} cohorts")
    print(f"elapsed {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
