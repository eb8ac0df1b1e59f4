"""Ambient-RNA tools on a real 10x matrix with known added contamination (issue 11, part 4).

Independent of belimap's simulator: the real PBMC count matrix bundled in the celltypist wheel
(``celltypist/data/samples/sample_cell_by_gene.csv``, 559 cells × 32,786 genes) is resampled to
``--cells`` droplets (cells drawn with replacement, each binomially thinned to 60-100 % of its UMIs so
no two are identical). Each sample then gets per-cell ambient UMIs drawn from a soup profile — the
sample's pooled profile with the immunoglobulin genes up-weighted to ``--ig-share`` of the soup, as in
plasma-cell-rich tissue — at a per-cell share drawn from Beta around the sample's share (2-20 %).

The real matrix has its own unknown ambient share; the 0 % sample measures that baseline, which every
tool adds to the known share. ``mae`` is against the added share; ``mae_net`` subtracts the tool's
0 % estimate first. Runtime is wall time of the tool call (clusters included), on this machine's cores.

Tools: decontx-python 0.2.0 (``decontx``), decontx-scanpy 0.1.1 (``pydecontx``; its own
UMAP+DBSCAN clusters, or belimap's Leiden clusters), soupx-python 0.3.0 with the soup from simulated
empty droplets (what a raw 10x matrix would give) or from the cells' pooled profile (all that a
filtered matrix offers), rho from ``autoEstCont``.

    .venv/bin/python benchmarks/ambient.py --cells 1500 --shares 0 0.02 0.05 0.1 0.2
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

warnings.filterwarnings("ignore")

IG_PREFIXES = ("IGHG", "IGHA", "IGKC", "IGLC", "JCHAIN", "IGHM", "MZB1")


def real_matrix() -> tuple[sp.csr_matrix, pd.Index]:
    """The celltypist wheel's 10x PBMC sample as integer counts (cached as .npz beside this script's tmp)."""
    from belimap.simulate.reference import celltypist_sample_path

    cache = Path("/tmp/belimap_ambient_ct_sample.npz")
    src = celltypist_sample_path()
    if cache.exists():
        z = np.load(cache, allow_pickle=True)
        return sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"])), pd.Index(z["genes"])
    df = pd.read_csv(src, index_col=0)
    X = sp.csr_matrix(np.rint(df.to_numpy()).astype(np.int64))
    np.savez(cache, data=X.data, indices=X.indices, indptr=X.indptr, shape=X.shape, genes=df.columns.to_numpy())
    return X, pd.Index(df.columns)


def contaminated_sample(X: sp.csr_matrix, genes: pd.Index, *, n_cells: int, share: float, ig_share: float,
                        seed: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """(observed counts, true per-cell ambient share, soup profile) for one sample."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, X.shape[0], n_cells)
    native = X[pick].tocsr().astype(np.int64)
    native.data = rng.binomial(native.data, rng.uniform(0.6, 1.0, n_cells).repeat(np.diff(native.indptr)))
    native.eliminate_zeros()
    soup = np.asarray(native.sum(axis=0)).ravel().astype(float)
    ig = genes.str.startswith(IG_PREFIXES)
    soup[ig] *= (ig_share / (1 - ig_share)) * soup[~ig].sum() / max(soup[ig].sum(), 1.0)
    soup /= soup.sum()
    if share > 0:
        per_cell = rng.beta(20 * share, 20 * (1 - share), n_cells)
    else:
        per_cell = np.zeros(n_cells)
    n_native = np.asarray(native.sum(axis=1)).ravel()
    n_amb = rng.poisson(n_native * per_cell / (1 - per_cell))
    amb = sp.csr_matrix(np.stack([rng.multinomial(n, soup) for n in n_amb]) if share > 0 else native.shape)
    observed = (native + amb).tocsr()
    true = n_amb / np.maximum(np.asarray(observed.sum(axis=1)).ravel(), 1)
    return observed, true, soup


def leiden_clusters(X: sp.csr_matrix, seed: int) -> np.ndarray:
    """Quick Leiden clusters (normalise, log, 2000 HVG, 30 PCs, kNN 15, resolution 0.5)."""
    import anndata as ad
    import scanpy as sc

    a = ad.AnnData(X.astype(np.float32))
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    sc.pp.highly_variable_genes(a, n_top_genes=2000, subset=True)
    sc.pp.pca(a, n_comps=30, random_state=seed)
    sc.pp.neighbors(a, n_neighbors=15, random_state=seed)
    sc.tl.leiden(a, resolution=0.5, random_state=seed, flavor="igraph", n_iterations=2, directed=False)
    return a.obs["leiden"].astype(str).to_numpy()


def run_decontx_python(X, genes, soup, seed):
    import anndata as ad
    import decontx

    a = ad.AnnData(X.astype(np.float64))
    a.obs["leiden"] = leiden_clusters(X, seed)
    with contextlib.redirect_stdout(io.StringIO()):
        decontx.decontx(a, cluster_key="leiden", seed=seed, verbose=False)
    return a.obs["decontX_contamination"].to_numpy()


def run_pydecontx(X, genes, soup, seed, *, own_clusters: bool):
    import pydecontx

    z = None if own_clusters else leiden_clusters(X, seed)
    with contextlib.redirect_stdout(io.StringIO()):
        res = pydecontx.decontx(X.astype(np.float64), z=z, seed=seed, verbose=False, compute_umap=own_clusters)
    return np.asarray(res["contamination"])


def run_soupx(X, genes, soup, seed, *, empty_droplets: bool):
    import soupx

    rng = np.random.default_rng(seed + 1)
    toc = X.T.tocsr().astype(np.float64)
    if empty_droplets:  # 5000 empty droplets of 10-90 UMIs drawn from the true soup, as in a raw matrix
        empties = sp.csr_matrix(np.stack([rng.multinomial(n, soup) for n in rng.integers(10, 90, 5000)]))
        tod = sp.hstack([toc, empties.T.astype(np.float64)]).tocsr()
        sc = soupx.SoupChannel(tod, toc, gene_names=list(genes))
    else:
        sc = soupx.SoupChannel(toc, toc, gene_names=list(genes), calcSoupProfile=False)
        counts = np.asarray(X.sum(axis=0)).ravel().astype(float)
        sc.setSoupProfile(pd.DataFrame({"est": counts / counts.sum(), "counts": counts}, index=list(genes)))
    sc.setClusters(leiden_clusters(X, seed))
    with contextlib.redirect_stdout(io.StringIO()):
        soupx.autoEstCont(sc, verbose=False, forceAccept=True)
        out = soupx.adjustCounts(sc, verbose=0)
    kept = np.asarray(out.sum(axis=0)).ravel()
    return 1 - kept / np.maximum(np.asarray(X.sum(axis=1)).ravel(), 1)


def run_belimap(X, genes, soup, seed):
    """belimap.scrna.ambient.decontaminate with the schema defaults (what the pipeline runs)."""
    import anndata as ad

    from belimap.scrna.ambient import AmbientParams, decontaminate

    a = ad.AnnData(X.astype(np.float32), var=pd.DataFrame(index=genes))
    a.var_names_make_unique()
    _, contamination = decontaminate(a, params=AmbientParams.from_config({"scrna": {"ambient": {"method": "decontx"}}}),
                                     seed=seed)
    return contamination.to_numpy()


TOOLS = {
    "decontx-python (leiden)": run_decontx_python,
    "decontx-scanpy (own clusters)": lambda *a: run_pydecontx(*a, own_clusters=True),
    "decontx-scanpy (leiden)": lambda *a: run_pydecontx(*a, own_clusters=False),
    "soupx-python (empty droplets)": lambda *a: run_soupx(*a, empty_droplets=True),
    "soupx-python (cells as soup)": lambda *a: run_soupx(*a, empty_droplets=False),
    "belimap decontaminate": run_belimap,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=1500)
    ap.add_argument("--shares", type=float, nargs="+", default=[0.0, 0.02, 0.05, 0.10, 0.20])
    ap.add_argument("--ig-share", type=float, default=0.2, help="share of the soup's UMIs on Ig/plasma genes")
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    X, genes = real_matrix()
    rows = []
    for i, share in enumerate(args.shares):
        obs, true, soup = contaminated_sample(X, genes, n_cells=args.cells, share=share, ig_share=args.ig_share,
                                              seed=args.seed + i)
        for tool in args.tools:
            t0 = time.perf_counter()
            try:
                est = TOOLS[tool](obs, genes, soup, args.seed)
                err = ""
            except Exception as exc:  # a tool that fails is a result, not a crash of the benchmark
                est, err = np.full(len(true), np.nan), f"{type(exc).__name__}: {str(exc)[:60]}"
            secs = time.perf_counter() - t0
            r = np.corrcoef(est, true)[0, 1] if share > 0 and np.nanstd(est) > 0 else np.nan
            rows.append({"tool": tool, "share": share, "true_mean": true.mean(), "est_mean": np.nanmean(est),
                         "est_median": np.nanmedian(est), "cell_r": r, "seconds": secs, "error": err})
            print(pd.DataFrame([rows[-1]]).round(3).to_string(header=len(rows) == 1, index=False), flush=True)
    df = pd.DataFrame(rows)
    base = df[df["share"] == 0].set_index("tool")["est_mean"]
    df["net_mean"] = df["est_mean"] - df["tool"].map(base).fillna(0)
    added = df[df["share"] > 0]
    summary = added.groupby("tool", sort=False).apply(lambda g: pd.Series({
        "baseline_0pct": base.get(g.name, np.nan),
        "mae": (g["est_mean"] - g["true_mean"]).abs().mean(),
        "mae_net": (g["net_mean"] - g["true_mean"]).abs().mean(),
        "sample_r": np.corrcoef(g["est_mean"], g["true_mean"])[0, 1] if g["est_mean"].notna().all() else np.nan,
        "mean_cell_r": g["cell_r"].mean(),
        "rank_ok": bool(g.sort_values("share")["est_mean"].is_monotonic_increasing),
        "sec_per_sample": df.loc[df["tool"] == g.name, "seconds"].mean(),
    }))
    print("\nper sample\n" + df.round(3).to_string(index=False))
    print(f"\nsummary ({args.cells} cells x {X.shape[1]} genes per sample, Ig share of soup {args.ig_share})\n"
          + summary.round(3).to_string())


if __name__ == "__main__":
    main()
