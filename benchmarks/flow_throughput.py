"""Throughput of the flow path: read + compensate + transform + gate, against FlowKit's own.

Simulates one file of the demo B-cell panel (1e6 events; 13 measured channels + Time, of which 10
fluorescence channels are compensated and logicle-transformed) with the demo simulator, then times

* belimap: ``read_fcs`` -> ``gate_events`` (compensation, fast logicle, every gate of
  resources/gating/bcell_panel.yaml), best of ``--repeat`` runs after a warm-up;
* FlowKit: ``Sample`` + ``GatingStrategy.gate_sample`` on the same strategy (one run);

and checks that both give identical membership for every gate. Prints events/s and where the
time goes. Run:  .venv/bin/python benchmarks/flow_throughput.py [--events 1000000] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-flowkit", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    import numba
    import numpy as np

    numba.set_num_threads(args.threads)
    from belimap.config import ROOT, load_config
    from belimap.flow.compensate import compensate, spillover_of
    from belimap.flow.gating import gate_events
    from belimap.flow.strategy import gate_tree, read_strategy
    from belimap.flow.io import read_fcs
    from belimap.flow.transform import logicle
    from belimap.simulate.cohort import simulate_cohort
    from belimap.simulate.flow import simulate_events, write_fcs

    cfg = load_config(ROOT / "config" / "config.yaml", {"simulate": {"n_patients": 1, "flow": {"n_events": args.events}}})
    cohort = simulate_cohort(cfg)
    sid = cohort.specimens["sample_id"].iloc[0]
    tmp = Path(tempfile.mkdtemp(prefix=f"belimap-bench-{os.getpid()}-"))
    path = tmp / "bench.fcs"
    X, _, meta = simulate_events(cohort, sid, 2)
    write_fcs(path, X, meta, sid, float(cohort.params["flow"]["t_max"]))
    strat = read_strategy(ROOT / "resources" / "gating" / "bcell_panel.yaml")
    n_ch = X.shape[1]
    print(f"file: {args.events:,} events x {n_ch} channels ({len(meta['fl'])} fluorescence), {path.stat().st_size / 1e6:.0f} MB; "
          f"threads: {args.threads}")

    res = gate_events(strat, read_fcs(path))  # warm-up (numba cache, imports)
    best, parts, cpu = np.inf, {}, np.inf
    for _ in range(args.repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fcs = read_fcs(path)
        t1 = time.perf_counter()
        res = gate_events(strat, fcs)
        t2 = time.perf_counter()
        cpu = min(cpu, time.process_time() - c0)
        if t2 - t0 < best:
            best, parts = t2 - t0, {"read": t1 - t0, "compensate+transform+gate": t2 - t1}
    # where the time goes inside gate_events
    fcs = read_fcs(path)
    spill = spillover_of(fcs)
    t0 = time.perf_counter()
    comp = compensate(fcs.events, fcs, spill)
    t1 = time.perf_counter()
    for i in meta["fl"]:
        logicle(comp[:, i])
    t2 = time.perf_counter()
    print(f"belimap: {best:.3f} s = {args.events / best / 1e6:.2f} M events/s  "
          + ", ".join(f"{k} {v:.3f} s" for k, v in parts.items())
          + f"; CPU time (all threads) {cpu:.3f} s = {args.events / cpu / 1e6:.2f} M events per CPU-second")
    print(f"  for reference, on all events: full compensation {t1 - t0:.3f} s, our logicle of "
          f"{len(meta['fl'])} channels {t2 - t1:.3f} s")

    if args.skip_flowkit:
        return
    import flowkit as fk
    import flowutils

    c0 = time.process_time()
    t0 = time.perf_counter()
    smp = fk.Sample(str(path))
    t1 = time.perf_counter()
    ref = strat.gs.gate_sample(smp)
    t2 = time.perf_counter()
    fk_cpu = time.process_time() - c0
    x = comp[:, meta["fl"][0]].copy()
    t3 = time.perf_counter()
    for _ in meta["fl"]:
        flowutils.transforms.logicle(x, None)
    t4 = time.perf_counter()
    fk_total = t2 - t0
    print(f"FlowKit: {fk_total:.3f} s = {args.events / fk_total / 1e6:.2f} M events/s  (Sample {t1 - t0:.3f} s, "
          f"gate_sample {t2 - t1:.3f} s; flowutils C logicle alone on {len(meta['fl'])} channels {t4 - t3:.3f} s); "
          f"CPU {fk_cpu:.3f} s = {args.events / fk_cpu / 1e6:.2f} M events per CPU-second")
    ids, _, keys = gate_tree(strat)
    diff = 0
    for gid in ids:
        name, path_ = keys[gid]
        theirs = ref.get_gate_membership(name, gate_path=path_)
        diff += int(np.sum(theirs != res.masks[gid]))
    print(f"membership vs FlowKit: {len(ids)} gates, {diff} differing event-gate calls; "
          f"speed-up {fk_total / best:.1f}x wall, {fk_cpu / cpu:.1f}x CPU")


if __name__ == "__main__":
    import shutil
    import sys

    try:
        main()
    finally:
        for d in Path(tempfile.gettempdir()).glob("belimap-bench-*"):
            if d.is_dir() and str(os.getpid()) in d.name:
                shutil.rmtree(d, ignore_errors=True)
        sys.stdout.flush()
