"""Clone sharing between tissues: recovered vs. the BCR simulator's truth.

Targets: (issue 4) Jaccard sharing per patient × timepoint × tissue pair within 0.05 of the truth;
(issue 14) depth fairness — one two-tissue clonal structure sampled at depth n and 10·n: the raw
indices differ, the rarefied means lie within each other's rarefaction intervals.

Three modes:

* depth fairness (always run first; alone with ``--depth-only``) — a synovium-like and a blood-like
  clone frequency vector with shared clones (Pareto clone sizes), sampled as cells at two depths,
  ``--replicates`` independent structures; sharing via ``belimap.bcr.sharing_table`` with the
  config's ``bcr.sharing``. Scenario ``blood_x10``: synovium n cells, blood 2n vs 20n (blood depth
  varies across patients and drops after belimumab), per-pair depth; ``both_x10``: both specimens
  10× deeper, a fixed ``depth`` of n/2 for every pair. Reported: mean raw and rarefied indices at
  either depth and the share of structures whose two rarefied means lie in each other's intervals
  (target >= 0.9 for every index and clone set).

* default — simulate studies at demo size (cell labels drawn from the cohort, BCR files in both formats),
  run the BCR library exactly as the rules do (read → AIRR table → chain QC → clonotypes across the
  patient's specimens → sharing) with the true cell labels standing in for the scRNA annotation, and
  compare with ``truth/bcr/sharing.tsv``. Scenarios: the demo profile (low, realistic sharing), a
  high-sharing profile (most cells in families, mostly systemic) and heavy somatic hypermutation
  (family members near the clonotype cutoff), each over ``--studies`` seeds.
* ``--results DIR`` — a finished workflow run (scRNA QC + annotation included): compare
  ``DIR/results/bcr/sharing.tsv`` with ``DIR/<simulate.outdir>/truth/bcr/sharing.tsv``.

    .venv/bin/python benchmarks/bcr_sharing.py --studies 5
    .venv/bin/python benchmarks/bcr_sharing.py --depth-only --replicates 100
    .venv/bin/python benchmarks/bcr_sharing.py --results /path/to/workdir --config /path/to/config.yaml
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")

SCENARIOS = {
    "demo": {},
    "high_sharing": {"bcr": {
        "clonal_fraction": {"transitional": 0.3, "naive": 0.3, "unswitched_memory": 0.7, "switched_memory": 0.8,
                            "double_negative": 0.8, "germinal_centre": 0.9, "plasmablast": 0.9, "plasma_cell": 0.9},
        "systemic_fraction": {"blood": 0.9, "lymph_node": 0.8, "synovium": 0.9},
        "n_systemic_families": 60}},
    # Heavy somatic hypermutation (2-2.5x the demo's): family members approach the 15 % cutoff.
    "high_shm": {"bcr": {"shm_rate": {"transitional": 0.0, "naive": 0.005, "unswitched_memory": 0.04,
                                      "switched_memory": 0.07, "double_negative": 0.06, "germinal_centre": 0.07,
                                      "plasmablast": 0.07, "plasma_cell": 0.08}}},
}


def run_study(cfg: dict, workdir: Path) -> tuple[pd.DataFrame, float]:
    """Simulate one study into ``workdir``, run the BCR library; (accuracy table, adjusted Rand index)."""
    from sklearn.metrics import adjusted_rand_score

    from belimap import bcr
    from belimap.simulate import bcr as sim
    from belimap.simulate.cohort import simulate_cohort
    from belimap.tables import read_tsv

    cohort = simulate_cohort(cfg)
    out = workdir / "sim"
    sheet, cells = sim.write_bcr_study(cohort, out)
    rows = sheet[sheet["modality"] == "bcr"]
    paths = {}
    for r in rows.itertuples():
        paths[r.sample_id] = workdir / "samples" / f"{r.sample_id}.tsv"
        bcr.write_airr_table(bcr.read_bcr(r.path, r.sample_id), paths[r.sample_id])
    airr = bcr.read_airr_tables(paths)
    singlets = cells[~cells["is_doublet"]]
    gex = singlets.set_index(singlets["sample_id"] + ":" + singlets["barcode"])[["lineage", "bcell_subset"]]
    params = bcr.BcrParams.from_config(cfg)
    found = bcr.clonotype_cells(airr, gex, rows, bcell_lineages=cohort.vocab.bcell_lineages, params=params, n_jobs=2)
    tables = bcr.repertoire_tables(found, rows, tissues=cfg["tissues"], subsets=cohort.vocab.subset_ids, params=params)
    truth = read_tsv(out / "truth" / "bcr" / "sharing.tsv")
    tc = read_tsv(out / "truth" / "bcr" / "cells.tsv")
    tc.index = tc["sample_id"] + ":" + tc["barcode"]
    f = found.set_index("cell_id")
    f = f[f["clone_id"].notna()]
    ari = adjusted_rand_score(tc.loc[f.index, "clone_id"], f["clone_id"]) if len(f) else float("nan")
    return bcr.sharing_accuracy(tables["sharing"], truth), ari


MEASURES = ("jaccard", "morisita_horn")
DEPTH_SCENARIOS = {"blood_x10": {"scale_a": False, "fixed_depth": False},
                   "both_x10": {"scale_a": True, "fixed_depth": True}}


def clone_structure(rng: np.random.Generator, *, n_shared: int = 150, n_own_a: int = 150, n_own_b: int = 1500,
                    shared_a: float = 0.5, shared_b: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Clone frequencies of two tissues over one clone axis: shared clones (sizes correlated between the
    tissues) then each tissue's own; tissue b (blood) is the more diverse."""
    def pareto(k: int) -> np.ndarray:
        v = rng.pareto(1.5, k) + 1
        return v / v.sum()

    s = pareto(n_shared)
    sb = s * rng.lognormal(0, 0.5, n_shared)
    pa = np.r_[shared_a * s, (1 - shared_a) * pareto(n_own_a), np.zeros(n_own_b)]
    pb = np.r_[shared_b * sb / sb.sum(), np.zeros(n_own_a), (1 - shared_b) * pareto(n_own_b)]
    return pa, pb


def pair_cells(rng: np.random.Generator, pa: np.ndarray, pb: np.ndarray, n_a: int, n_b: int) -> pd.DataFrame:
    """Cells (``sample_id``, ``clone_id``) of specimen A (synovium, ``n_a``) and B (blood, ``n_b``)."""
    ids = np.array([f"c{i}" for i in range(pa.size)])
    a, b = np.repeat(ids, rng.multinomial(n_a, pa)), np.repeat(ids, rng.multinomial(n_b, pb))
    return pd.DataFrame({"sample_id": ["A"] * a.size + ["B"] * b.size, "clone_id": np.r_[a, b]})


def depth_pair(seed: int, n: int, scenario: str, params) -> pd.DataFrame:  # noqa: ANN001 - SharingParams
    """Sharing rows (``all``, ``expanded``) of one structure at depth n and 10·n, column ``fold`` = 1 | 10."""
    from belimap.bcr import sharing_table

    sc = DEPTH_SCENARIOS[scenario]
    rng = np.random.default_rng(seed)
    pa, pb = clone_structure(rng)
    spec = pd.DataFrame({"sample_id": ["A", "B"], "patient_id": "P", "tissue": ["synovium", "blood"],
                         "timepoint": "baseline"})
    out = []
    for fold in (1, 10):
        cells = pair_cells(rng, pa, pb, n * (fold if sc["scale_a"] else 1), 2 * n * fold)
        tab = sharing_table(cells, spec, tissues=["blood", "synovium"], params=params)
        out.append(tab.assign(fold=fold, replicate=seed))
    return pd.concat(out, ignore_index=True)


def mutual_containment(tab: pd.DataFrame) -> pd.DataFrame:
    """Per replicate × clone set × index: do the rarefied means at 1× and 10× lie in each other's interval?"""
    rows = []
    for (rep, clones), g in tab.groupby(["replicate", "clones"], sort=False):
        one, ten = g.set_index("fold").loc[1], g.set_index("fold").loc[10]
        for m in MEASURES:
            r = f"{m}_rarefied"
            ok = (one[f"{r}_lo"] <= ten[r] <= one[f"{r}_hi"]) and (ten[f"{r}_lo"] <= one[r] <= ten[f"{r}_hi"])
            rows.append({"replicate": rep, "clones": clones, "index": m, "raw_1x": one[m], "raw_10x": ten[m],
                         "rarefied_1x": one[r], "rarefied_10x": ten[r], "within": bool(ok)})
    return pd.DataFrame(rows)


def depth_fairness(cfg: dict, *, replicates: int, n: int = 200) -> float:
    """Print the depth-fairness table per scenario; return the worst containment rate (all indices, clone sets)."""
    import dataclasses

    from belimap.bcr import SharingParams

    base = SharingParams.from_config(cfg)
    worst = 1.0
    for scenario, sc in DEPTH_SCENARIOS.items():
        variants = {"config": base}
        if sc["fixed_depth"]:
            variants = {f"depth={n // 2}": dataclasses.replace(base, depth=n // 2)}
        elif base.depth_fraction != 1.0:
            variants["depth_fraction=1"] = dataclasses.replace(base, depth_fraction=1.0)
        for label, params in variants.items():
            t0 = time.time()
            tab = pd.concat([depth_pair(r, n, scenario, params) for r in range(replicates)], ignore_index=True)
            res = mutual_containment(tab)
            for (clones, m), g in res.groupby(["clones", "index"], sort=False):
                rate = g["within"].mean()
                if label == "config" or sc["fixed_depth"]:
                    worst = min(worst, rate)
                print(f"{scenario:9s} {label:16s} {clones:8s} {m:13s} raw 1x {g['raw_1x'].mean():.3f} "
                      f"10x {g['raw_10x'].mean():.3f} ({(g['raw_10x'] < g['raw_1x']).mean():.2f} of structures "
                      f"lower at 10x)  rarefied 1x {g['rarefied_1x'].mean():.3f} 10x {g['rarefied_10x'].mean():.3f}"
                      f"  within each other's {base.ci:.0%} intervals: {rate:.2f}", flush=True)
            print(f"{scenario:9s} {label:16s} ({replicates} structures, n = {n}, {time.time() - t0:.0f} s)")
    print(f"target depth fairness (within each other's intervals in >= 90 % of structures): "
          f"{'met' if worst >= 0.9 else 'NOT met'} (worst {worst:.2f})", flush=True)
    return worst


def summarise(acc: pd.DataFrame) -> str:
    return (f"pairs {len(acc):4d}  true J mean {acc['jaccard_true'].mean():.3f} (max {acc['jaccard_true'].max():.3f})  "
            f"|ΔJ| mean {acc['abs_error_jaccard'].mean():.4f} max {acc['abs_error_jaccard'].max():.4f}  "
            f"within 0.05: {(acc['abs_error_jaccard'] <= 0.05).mean():.3f}  "
            f"|ΔMH| mean {acc['abs_error_morisita_horn'].mean():.4f} max {acc['abs_error_morisita_horn'].max():.4f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=None, help="study config (default: the demo config)")
    ap.add_argument("--studies", type=int, default=5, help="simulated studies per scenario")
    ap.add_argument("--patients", type=int, default=None, help="override simulate.n_patients")
    ap.add_argument("--cells", type=int, default=None, help="override simulate.cells_per_sample")
    ap.add_argument("--results", type=Path, help="compare a finished workflow run in this working directory")
    ap.add_argument("--replicates", type=int, default=100, help="clonal structures in the depth-fairness check")
    ap.add_argument("--depth-only", action="store_true", help="run only the depth-fairness check")
    args = ap.parse_args()

    from belimap.bcr import sharing_accuracy
    from belimap.config import ROOT, load_config
    from belimap.tables import read_tsv

    config = args.config or ROOT / "config" / "config.yaml"
    if args.results:
        cfg = load_config(config)
        est = read_tsv(args.results / "results" / "bcr" / "sharing.tsv")
        truth = read_tsv(args.results / cfg["simulate"]["outdir"] / "truth" / "bcr" / "sharing.tsv")
        acc = sharing_accuracy(est, truth)
        for clones, g in acc.groupby("clones", sort=False):
            print(f"workflow run {args.results} {clones} clones: {summarise(g)}")
        return 0 if len(acc) and acc["abs_error_jaccard"].max() <= 0.05 else 1
    fair = depth_fairness(load_config(config), replicates=args.replicates)
    if args.depth_only:
        return 0 if fair >= 0.9 else 1
    worst = 0.0
    for name, extra in SCENARIOS.items():
        accs, aris, t0 = [], [], time.time()
        for i in range(args.studies):
            sim = {"enabled": True, "seed": 1000 + i, **extra}
            for key, val in (("n_patients", args.patients), ("cells_per_sample", args.cells)):
                if val is not None:
                    sim[key] = val
            with tempfile.TemporaryDirectory(prefix="bcr_bench_") as tmp:
                cfg = load_config(config, {"simulate": {**sim, "outdir": str(Path(tmp) / "sim"),
                                                        "modalities": {"scrna": True, "bcr": True}}})
                acc, ari = run_study(cfg, Path(tmp))
            accs.append(acc.assign(study=i))
            aris.append(ari)
        acc = pd.concat(accs, ignore_index=True)
        worst = max(worst, float(acc["abs_error_jaccard"].max()))
        for clones, g in acc.groupby("clones", sort=False):
            print(f"{name:13s} {clones:8s} studies {args.studies}  {summarise(g)}  clone ARI mean "
                  f"{pd.Series(aris).mean():.4f} min {min(aris):.4f}  ({time.time() - t0:.0f} s)", flush=True)
    print(f"target |ΔJaccard| <= 0.05: {'met' if worst <= 0.05 else 'NOT met'} (worst {worst:.4f})")
    return 0 if worst <= 0.05 and fair >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
