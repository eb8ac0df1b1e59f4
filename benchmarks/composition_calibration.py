"""Calibration and power of the composition tests (belimap.compare.stats), every method side by side.

Counts are drawn from the cohort model (belimap.compare.simulate), as the scRNA branch would
count them, for the demo design of config/config.yaml (6 patients; blood at three timepoints, lymph
node and synovium at two; ~1500 cells per specimen, so ~40 B-lineage cells in synovium and ~550 in
lymph node). Overdispersion between specimens of one patient is the simulator's Dirichlet
``variation.specimen_concentration``: the profile's 300 and the lower 50 and 20 (more biological
spread, as real tissue biopsies show). Each simulated study is tested by every method, so the
methods see the same counts. BH families as ``compare.composition.bh_scope`` says (printed).

Calibration: studies with no tissue and no treatment effect on B subsets. Every call is false, so a
study's false-discovery proportion is 1 if it has any call with q < 0.05, else 0; we report the
mean over studies (target <= 0.05 at every concentration) and the per-test rate of p < 0.05
(nominal 0.05).

Power: the BLISS-sized blood effects at week 12 (naive -50 %, transitional -70 %, memory +60 %,
plasmablasts -40 %), other tissues as in the demo profile; power = share of studies in which the
blood week-12 vs baseline test of the subset has q < 0.05 in the true direction. Power is only
comparable between methods where both are calibrated.

Pipeline labels (``--table results/scrna/composition.tsv``, a table the pipeline wrote): null
studies by permuting, within each patient, the timepoint labels of one tissue's specimens (treatment
rows) and, in a second copy, the tissue labels of the baseline specimens (tissue rows); real effects
are destroyed, the table's own overdispersion is kept (BH per comparison).

Measured 2026-12-03 (defaults: 100 null and 50 power studies per concentration, seed 1000, 1500
cells per specimen, BH family modality=scrna; 456-597 s on 2 cores shared with other work):
  conc. method         mean FDP  p<0.05 | power: transitional  naive  unsw. mem.  sw. mem.  plasmablast
  20    quasibinomial  0.090     0.078  |        0.00          0.24   0.14        0.16      0.04
  20    paired_logit   0.020     0.043  |        0.04          0.10   0.12        0.10      0.00
  50    quasibinomial  0.040     0.057  |        0.06          0.46   0.32        0.52      0.00
  50    paired_logit   0.030     0.044  |        0.12          0.42   0.20        0.46      0.02
  300   quasibinomial  0.000     0.037  |        0.30          0.98   0.68        0.98      0.00
  300   paired_logit   0.000     0.038  |        0.30          0.90   0.62        0.94      0.02
paired_logit holds mean FDP <= 0.05 at every concentration (the default); quasibinomial does not at 20.
--table on one simulated demo-effects study (concentration 50, 100 shuffles, 167 s): mean FDP
0.050 quasibinomial, 0.040 paired_logit; p<0.05 rate 0.048, 0.037.

    .venv/bin/python benchmarks/composition_calibration.py [--null-sims 100] [--power-sims 50] [--seed 1000]
        [--concentrations 20 50 300] [--methods quasibinomial paired_logit] [--table composition.tsv]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import pandas as pd

from belimap.compare.simulate import null_overrides, simulated_study
from belimap.compare.stats import METHODS, CompositionParams, check_composition, study_tests
from belimap.config import ROOT, deep_merge, load_config, validate_config
from belimap.simulate.cohort import simulation_params
from belimap.tables import read_tsv
from belimap.vocab import Vocabulary, load_vocabulary

BLISS_WEEK12 = {"transitional": 0.3, "naive": 0.5, "unswitched_memory": 1.6, "switched_memory": 1.6, "plasmablast": 0.6}


def tests_of(comp: pd.DataFrame, cfg: dict, vocab: Vocabulary, method: str) -> pd.DataFrame:
    """The composition tests rule compare_composition runs on one scRNA composition table, with ``method``."""
    params = dataclasses.replace(CompositionParams.from_config(cfg), method=method)
    return study_tests({"scrna": comp}, vocab, tissues=cfg["tissues"], timepoints=cfg["timepoints"], params=params)


def null_summary(results: list[pd.DataFrame]) -> dict:
    """Mean false-discovery proportion and per-test rate of p < 0.05 over null studies' test tables."""
    ok = [r[r["testable"]] for r in results]
    p = pd.concat([r["p_value"] for r in ok])
    return {"studies": len(ok), "tests": len(p), "mean_fdp": float(np.mean([(r["q_value"] < 0.05).any() for r in ok])),
            "p05": float((p < 0.05).mean())}


def power_hits(res: pd.DataFrame) -> dict[str, bool]:
    """Per BLISS subset: blood week 12 vs baseline has q < 0.05 in the true direction."""
    blood = res[(res["comparison"] == "treatment") & (res["tissue"] == "blood") & (res["timepoint"] == "week12")]
    blood = blood.set_index("subset")
    return {s: bool(blood.loc[s, "testable"] and blood.loc[s, "q_value"] < 0.05
                    and np.sign(blood.loc[s, "log_odds_ratio"]) == np.sign(np.log(fold)))
            for s, fold in BLISS_WEEK12.items()}


def scenario(cfg: dict, vocab: Vocabulary, methods: list[str], *, concentration: float, null_sims: int,
             power_sims: int, seed: int) -> list[dict]:
    """One row per method: calibration and power at one specimen concentration."""
    var = {"variation": {"specimen_concentration": concentration}}
    null_over = deep_merge(null_overrides(simulation_params(cfg)), var)
    nulls: dict[str, list[pd.DataFrame]] = {m: [] for m in methods}
    for i in range(null_sims):
        comp = simulated_study(cfg, overrides=null_over, seed=seed + i)
        for m in methods:
            nulls[m].append(tests_of(comp, cfg, vocab, m))
    hits = {m: dict.fromkeys(BLISS_WEEK12, 0) for m in methods}
    power_over = deep_merge({"effects": {"blood": {"week12": BLISS_WEEK12}}}, var)
    for i in range(power_sims):
        comp = simulated_study(cfg, overrides=power_over, seed=seed + 100_000 + i)
        for m in methods:
            for s, hit in power_hits(tests_of(comp, cfg, vocab, m)).items():
                hits[m][s] += int(hit)
    rows = []
    for m in methods:
        scope = nulls[m][0]["bh_scope"].iloc[0] if len(nulls[m][0]) else ""
        rows.append({"scenario": f"concentration {concentration:g}", "method": m, "bh_scope": scope, **null_summary(nulls[m]),
                     **{f"power_{s}": h / max(power_sims, 1) for s, h in hits[m].items()}})
    return rows


def permuted(comp: pd.DataFrame, rng: np.random.Generator, baseline: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two null copies of ``comp`` carrying its own overdispersion: timepoint labels shuffled within
    patient × tissue (null for the treatment rows), and the baseline specimens with tissue labels
    shuffled within patient (null for the tissue rows). One shuffle cannot serve both: shuffled
    baseline tissues would make every later timepoint a comparison with another tissue."""
    spec = comp.drop_duplicates("sample_id")[["sample_id", "patient_id", "tissue", "timepoint"]].set_index("sample_id")
    times, tissues = spec["timepoint"].copy(), spec["tissue"].copy()
    for _, idx in spec.groupby(["patient_id", "tissue"]).groups.items():
        times[idx] = rng.permutation(times[idx].to_numpy())
    at_base = spec[spec["timepoint"] == baseline]
    for _, idx in at_base.groupby("patient_id").groups.items():
        tissues[idx] = rng.permutation(tissues[idx].to_numpy())
    treatment = comp.assign(timepoint=comp["sample_id"].map(times))
    tissue = comp[comp["timepoint"] == baseline].assign(tissue=lambda d: d["sample_id"].map(tissues))
    return treatment, tissue


def table_null(path: str, cfg: dict, vocab: Vocabulary, methods: list[str], *, sims: int, seed: int) -> list[dict]:
    """Calibration of every method on label-permuted copies of a composition table the pipeline wrote.

    BH per modality × comparison (``bh_scope: comparison``): the treatment rows of the
    timepoint-shuffled copy and the tissue rows of the tissue-shuffled copy are each a null family;
    a study's FDP is 1 if either family has a call."""
    comp = check_composition(read_tsv(path), where=path)
    cfg = deep_merge(cfg, {"compare": {"composition": {"bh_scope": "comparison"}}})
    rng = np.random.default_rng(seed)
    nulls: dict[str, list[pd.DataFrame]] = {m: [] for m in methods}
    for _ in range(sims):
        treatment, tissue = permuted(comp, rng, cfg["timepoints"][0])
        for m in methods:
            a, b = tests_of(treatment, cfg, vocab, m), tests_of(tissue, cfg, vocab, m)
            nulls[m].append(pd.concat([a[a["comparison"] == "treatment"], b[b["comparison"] == "tissue"]]))
    return [{"scenario": f"permuted {path}", "method": m, "bh_scope": "modality,comparison", **null_summary(nulls[m])}
            for m in methods]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    ap.add_argument("--null-sims", type=int, default=100, help="null studies per concentration (>= 50)")
    ap.add_argument("--power-sims", type=int, default=50, help="power studies per concentration")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--concentrations", type=float, nargs="*", default=[20, 50, 300],
                    help="simulate.variation.specimen_concentration values (profile: 300)")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--cells", type=int, default=None, help="cells per specimen before QC (default: the config's)")
    ap.add_argument("--table", default=None, help="a composition table the pipeline wrote: permutation null on it too")
    args = ap.parse_args()
    base = load_config(args.config)
    cfg = validate_config(deep_merge(base, {"simulate": {"cells_per_sample": args.cells}}) if args.cells else base)
    vocab = load_vocabulary(cfg)
    t0 = time.time()
    rows = []
    for conc in args.concentrations:
        rows += scenario(cfg, vocab, args.methods, concentration=conc, null_sims=args.null_sims,
                         power_sims=args.power_sims, seed=args.seed)
        print(pd.DataFrame(rows[-len(args.methods):]).to_string(index=False, float_format=lambda v: f"{v:.3f}"), flush=True)
    if args.table:
        rows += table_null(args.table, cfg, vocab, args.methods, sims=args.null_sims, seed=args.seed)
    out = pd.DataFrame(rows)
    print(f"\n== {cfg['simulate']['cells_per_sample']} cells per specimen; mean FDP target <= 0.05; "
          f"power: blood week 12 vs baseline, q < 0.05, true direction ({args.power_sims} studies)")
    print(out.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
