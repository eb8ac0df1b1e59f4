"""Time and memory of the scRNA-seq branch by stage, with accuracy against the simulator's truth.

    .venv/bin/python benchmarks/scrna_scale.py --patients 6 --cells 1500   # the demo's size

Runs the library in-process (no Snakemake overhead) on a simulated study in a temporary folder and
prints one line per stage (seconds, peak RSS) and the accuracy figures of issue 2's targets.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from belimap import scrna
from belimap.config import ROOT, load_config
from belimap.sheet import read_sample_sheet, specimens
from belimap.simulate.study import simulate_study
from belimap.vocab import load_vocabulary


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=6)
    ap.add_argument("--cells", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="belimap-bench-"))
    mods = {"scrna": True, "bcr": False, "flow": False, "clinical": False}
    cfg = load_config(ROOT / "config" / "config.yaml", {"samples": str(tmp / "samples.tsv"), "simulate": {
        "outdir": str(tmp / "sim"), "n_patients": args.patients, "cells_per_sample": args.cells,
        "seed": args.seed, "modalities": mods}})
    timings = []

    def stage(name, func, *a):
        t0 = time.perf_counter()
        out = func(*a)
        timings.append((name, time.perf_counter() - t0, peak_mb()))
        print(f"{name:<12} {timings[-1][1]:8.1f} s   peak RSS {timings[-1][2]:8.0f} MB", flush=True)
        return out

    stage("simulate", simulate_study, cfg, cfg["simulate"]["outdir"], cfg["samples"])
    sheet = read_sample_sheet(cfg["samples"], cfg)
    vocab = load_vocabulary(cfg)
    params = scrna.ScrnaParams.from_config(cfg)
    kept = stage("qc", lambda: [scrna.preprocess_sample(r["path"], r, params=params)[0]
                                for r in sheet.to_dict("records")])
    adata = stage("concat", lambda: scrna.concat_samples(kept, tissues=cfg["tissues"], timepoints=cfg["timepoints"]))
    stage("integrate", lambda: scrna.integrate(adata, params=params))
    stage("annotate", lambda: scrna.annotate(adata, vocab, params=params))
    comp, _ = stage("composition", scrna.compositions, adata, specimens(sheet), vocab)
    truth = Path(cfg["simulate"]["outdir"]) / "truth"
    acc = scrna.accuracy_against_truth(adata, pd.read_csv(truth / "cells.tsv", sep="\t"), vocab)
    acc["fraction_mae"] = scrna.composition_error(comp, pd.read_csv(truth / "composition.tsv", sep="\t"))
    total = sum(t for _, t, _ in timings)
    print(f"{'total':<12} {total:8.1f} s   {adata.n_obs} cells after QC of {len(sheet) * args.cells} "
          f"({len(sheet)} samples); {len(sheet) * args.cells / total:.0f} cells/s")
    for k, v in acc.items():
        print(f"{k:<24} {v:.4f}" if isinstance(v, float) else f"{k:<24} {v}")


if __name__ == "__main__":
    main()
