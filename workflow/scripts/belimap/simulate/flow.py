"""Simulated FCS 3.1 files of the B-cell panel, from the same specimens as the scRNA cells.

Each flow row of the sheet becomes one file: events drawn from the specimen's lineage and B-subset
probabilities (``Cohort``), marker levels from the profile's ``flow:`` block on the logicle scale of
the gating template, turned into linear intensities (closed-form inverse logicle), mixed by the
spillover matrix (written in ``$SPILLOVER``) plus electronic noise; with debris, doublets, dead
cells, saturated margin events and, in every ``hiccup_every``-th file, a flow-rate drop.

Truth: ``truth/flow_events/{sample}.tsv.gz`` (one row per event in file order) and
``truth/flow_composition.tsv`` (composition columns over the subsets the panel can gate: those
leaf gates of the strategy named by vocabulary subset IDs; a subset the panel cannot resolve is
counted where the strategy's ``absorbs`` puts it — plasma cells inside the plasmablast gate).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from belimap.composition import composition_table
from belimap.config import repo_path
from belimap.simulate.cohort import Cohort
from belimap.tables import atomic_path, write_tsv

EVENT_COLUMNS = ["event", "kind", "live", "lineage", "bcell_subset", "flow_subset", "dn2", "hiccup"]


def _levels(fp: dict, pop: dict, markers: list[str]) -> np.ndarray:
    return np.array([pop.get(m, fp["negative"]) for m in markers], dtype=float)


def simulate_events(cohort: Cohort, sid: str, index: int) -> tuple[np.ndarray, pd.DataFrame, dict]:
    """Events (n × channels, float32, file order) and per-event truth of one specimen."""
    from belimap.flow.transform import logicle_inverse

    fp = cohort.params["flow"]
    rng = np.random.default_rng(cohort.specimen_seed(sid, "flow"))
    chans = fp["channels"]
    pnn = [c[0] for c in chans]
    markers = [c[1] for c in chans]
    fl = [i for i, c in enumerate(chans) if c[1]]
    fl_markers = [markers[i] for i in fl]
    n = int(fp["n_events"])
    T = float(fp["t_max"])
    lin = cohort.lineage_probs.loc[sid]
    sub = cohort.subset_probs.loc[sid]
    vocab = cohort.vocab
    # the cohort keeps the B lineage as one column (split by subset_probs); accept it split too
    b_lin = [*vocab.bcell_lineages, "B_lineage"]
    # what each event is
    n_debris = rng.binomial(n, fp["debris_rate"])
    n_doublet = rng.binomial(n, fp["doublet_rate"])
    n_margin = rng.binomial(n, fp["margin_rate"])
    n_cells = n - n_debris - n_doublet - n_margin
    n_src = n_cells + 2 * n_doublet + n_margin
    lp = lin.copy()
    lp["_B"] = lp[[x for x in b_lin if x in lp.index]].sum()
    lp = lp.drop([x for x in b_lin if x in lp.index])
    lp = lp[lp > 0] / lp[lp > 0].sum()
    lineage = rng.choice(lp.index.to_numpy(), size=n_src, p=lp.to_numpy())
    is_b = lineage == "_B"
    sp = sub[sub > 0] / sub[sub > 0].sum()
    subset = np.full(n_src, "", dtype=object)
    subset[is_b] = rng.choice(sp.index.to_numpy(), size=int(is_b.sum()), p=sp.to_numpy())
    sub_lineage = {s.id: s.lineage for s in vocab.subsets}
    lineage = lineage.astype(object)
    lineage[is_b] = [sub_lineage[s] for s in subset[is_b]]
    dn2 = (subset == "double_negative") & (rng.random(n_src) < fp["dn2_share"])
    dead = rng.random(n_src) < fp["dead_rate"]
    # marker levels on the logicle scale
    lv = np.empty((n_src, len(fl)))
    base_b = {**fp["bcells"]}
    for key in np.unique(np.char.add(lineage.astype(str), np.char.add("|", subset.astype(str)))):
        lin_k, sub_k = key.split("|")
        rows = (lineage == lin_k) & (subset == sub_k)
        pop = {**base_b, **fp["subsets"].get(sub_k, {})} if sub_k else dict(fp["lineages"].get(lin_k, {}))
        lv[rows] = _levels(fp, pop, fl_markers)
    for sel, pop in ((dn2, fp["dn2"]), (dead, fp["dead"]), (~dead, fp["live"])):
        for m, v in pop.items():
            lv[sel, fl_markers.index(m)] = v
    lv += rng.normal(0, fp["marker_sd"], lv.shape)
    fluor = logicle_inverse(lv, T, 0.5, 4.5, 0.0)
    # scatter (fraction of T)
    sc_key = np.where(np.isin(lineage, [*fp["lymphoid"], vocab.bcell_lineages[0]]), "lymphoid", lineage)
    fsc = np.empty(n_src)
    ssc = np.empty(n_src)
    for key in np.unique(sc_key):
        rows = sc_key == key
        f, s = fp["scatter"].get(key, fp["scatter"]["lymphoid"])
        fsc[rows], ssc[rows] = f, s
    fsc = fsc * np.exp(rng.normal(0, fp["scatter_sd"] * 4, n_src))
    ssc = ssc * np.exp(rng.normal(0, fp["scatter_sd"] * 8, n_src))
    fsc[dead] *= 0.8
    fsch = fsc * rng.normal(0.85, 0.025, n_src)
    # assemble events: singles, doublets (two sources), margin events, debris
    i0, i1 = n_cells, n_cells + 2 * n_doublet
    a, b = np.arange(i0, i1, 2), np.arange(i0 + 1, i1, 2)
    single = np.arange(n_cells)
    marg = np.arange(i1, n_src)
    F = np.vstack([fluor[single], fluor[a] + fluor[b], fluor[marg]])
    FSC_A = np.concatenate([fsc[single], fsc[a] + fsc[b], fsc[marg]])
    FSC_H = np.concatenate([fsch[single], np.maximum(fsch[a], fsch[b]) * 1.08, fsch[marg]])
    SSC_A = np.concatenate([ssc[single], ssc[a] + ssc[b], ssc[marg]])
    m0 = len(single) + len(a)
    top = rng.random(len(marg)) < 0.5
    FSC_A[m0:][top] = 1.2
    SSC_A[m0:][~top] = 1.2
    dfl = logicle_inverse(rng.normal(fp["negative"], fp["marker_sd"] * 2, (n_debris, len(fl))), T, 0.5, 4.5, 0.0)
    F = np.vstack([F, dfl])
    ds, dss = fp["scatter"]["debris"]
    FSC_A = np.concatenate([FSC_A, ds * np.exp(rng.normal(0, 0.4, n_debris))])
    FSC_H = np.concatenate([FSC_H, FSC_A[-n_debris:] * rng.normal(0.85, 0.05, n_debris)]) if n_debris else FSC_H
    SSC_A = np.concatenate([SSC_A, dss * np.exp(rng.normal(0, 0.5, n_debris))])
    kind = np.array(["cell"] * len(single) + ["doublet"] * len(a) + ["margin"] * len(marg) + ["debris"] * n_debris,
                    dtype=object)

    def pick(x: np.ndarray, fill: object) -> np.ndarray:
        return np.concatenate([x[single], x[a], x[marg], np.full(n_debris, fill, dtype=x.dtype)])

    truth = pd.DataFrame({"kind": kind, "live": (~pick(dead, True)).astype(int), "lineage": pick(lineage, ""),
                          "bcell_subset": pick(subset, ""), "dn2": pick(dn2, False).astype(int)})
    truth.loc[truth["kind"] != "cell", ["lineage", "bcell_subset"]] = ""
    truth.loc[truth["kind"] != "cell", "dn2"] = 0
    # spillover and noise
    S = np.eye(len(fl))
    for src, dst, v in fp["spillover"]:
        S[fl_markers.index(src), fl_markers.index(dst)] = v
    raw_fl = F @ S + rng.normal(0, fp["noise_sd"], F.shape)
    # acquisition time with an optional flow-rate drop
    dur = float(fp["acquisition_s"])
    hiccup = (index % int(fp["hiccup_every"])) == int(fp["hiccup_every"]) - 1
    w0, w1 = fp["hiccup_window"]
    if hiccup:
        rate = np.array([1.0, fp["hiccup_rate"], 1.0])
        edges = np.array([0.0, w0, w1, 1.0])
        mass = rate * np.diff(edges)
        seg = rng.choice(3, size=n, p=mass / mass.sum())
        u = edges[seg] + rng.random(n) * np.diff(edges)[seg]
    else:
        u = rng.random(n)
    order = np.argsort(u, kind="stable")
    t_s = u * dur
    X = np.zeros((n, len(chans)))
    X[:, pnn.index("FSC-A")] = FSC_A * T
    X[:, pnn.index("FSC-H")] = FSC_H * T
    X[:, pnn.index("SSC-A")] = SSC_A * T
    X[:, fl] = raw_fl
    X = np.clip(X, -1e4, T - 1)  # the ADC saturates at the top of the range
    X[:, pnn.index("Time")] = np.round(t_s / 0.01)
    X = X[order]
    truth = truth.iloc[order].reset_index(drop=True)
    in_window = (u[order] >= w0) & (u[order] < w1)
    truth["hiccup"] = (in_window & hiccup).astype(int)
    truth.insert(0, "event", np.arange(n))
    meta = {"spill": S, "fl_markers": fl_markers, "pnn": pnn, "markers": markers, "fl": fl, "hiccup": hiccup}
    return X.astype(np.float32), truth, meta


def write_fcs(path: str | Path, X: np.ndarray, meta: dict, sid: str, t_max: float) -> None:
    """Write an FCS 3.1 file (float32) with ``$SPILLOVER``, instrument keywords and ``$TIMESTEP``."""
    import flowio

    fl_pnn = [meta["pnn"][i] for i in meta["fl"]]
    spill = ",".join([str(len(fl_pnn)), *fl_pnn, *(f"{v:.6g}" for v in meta["spill"].ravel())])
    md = {"$SPILLOVER": spill, "$CYT": "belimap simulated LSRFortessa", "$SRC": sid, "$TIMESTEP": "0.01",
          "$DATE": "22-NOV-2026", "CREATOR": "belimap.simulate.flow"}
    for i in range(len(meta["pnn"])):
        md[f"$P{i + 1}R"] = str(int(t_max))
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        flowio.create_fcs(fh, X.ravel(), meta["pnn"], opt_channel_names=meta["markers"], metadata_dict=md)


def write_all(cohort: Cohort, sheet: pd.DataFrame, outdir: str | Path) -> None:
    """Write every flow file of ``sheet``, its per-event truth and the true flow composition."""
    from belimap.flow.counts import panel_subsets, subset_gates
    from belimap.flow.strategy import read_strategy

    outdir = Path(outdir)
    fp = cohort.params["flow"]
    strategy = read_strategy(repo_path(fp["strategy"]))  # the one reader: YAML, GatingML or FlowJo .wsp
    gated = panel_subsets(strategy, cohort.vocab.subset_ids)
    where = subset_gates(strategy, cohort.vocab.subset_ids)
    rows = sheet[sheet["modality"] == "flow"]
    labels = []
    for i, r in enumerate(rows.itertuples(index=False)):
        X, truth, meta = simulate_events(cohort, r.sample_id, i)
        write_fcs(r.path, X, meta, r.sample_id, float(fp["t_max"]))
        truth["flow_subset"] = truth["bcell_subset"].map(lambda s: where.get(s, "") if s else "")
        write_tsv(truth[EVENT_COLUMNS], outdir / "truth" / "flow_events" / f"{r.sample_id}.tsv.gz")
        cells = truth[(truth["kind"] == "cell") & (truth["live"] == 1) & (truth["bcell_subset"] != "")]
        labels.append(pd.DataFrame({"sample_id": r.sample_id, "flow_subset": cells["flow_subset"].to_numpy()}))
    specs = cohort.specimens[cohort.specimens["sample_id"].isin(rows["sample_id"])]
    lab = pd.concat(labels, ignore_index=True) if labels else pd.DataFrame(columns=["sample_id", "flow_subset"])
    comp = composition_table(lab, specs[["sample_id", "patient_id", "tissue", "timepoint"]], gated, "flow_subset")
    write_tsv(comp, outdir / "truth" / "flow_composition.tsv")
