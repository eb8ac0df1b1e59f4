"""A methods paragraph generated from the config and the tool versions, ready to paste into a paper."""

from __future__ import annotations

from importlib import metadata

#: ``compare.composition.method`` in the methods' words.
COMPOSITION_MODELS = {
    "paired_logit": "a linear model of each specimen's empirical logit of the subset's share of B-lineage cells, "
                    "logit ~ patient + group, every specimen weighted equally as in propeller",
    "quasibinomial": "a quasi-binomial GLM of each subset's count out of the specimen's B-lineage cells, "
                     "logit(p) ~ patient + group",
}
TOOLS = ("snakemake", "scanpy", "anndata", "harmonypy", "leidenalg", "scirpy", "flowkit", "statsmodels", "pydeseq2",
         "scikit-learn", "matplotlib")


def tool_versions(tools: tuple[str, ...] = TOOLS) -> dict[str, str]:
    out = {}
    for name in tools:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def methods_paragraph(cfg: dict, versions: dict[str, str] | None = None, *, modalities: set[str] | None = None) -> str:
    """Methods text from the config sections the summary rule receives, for the study's ``modalities``
    (default: every section the config has)."""
    has = (lambda m: bool(cfg.get(m))) if modalities is None else (lambda m: m in modalities and bool(cfg.get(m)))  # noqa: E731
    v = tool_versions() if versions is None else versions
    ver = lambda name: f" {v[name]}" if name in v else ""  # noqa: E731
    parts = [f"The study was processed with belimap{ver('belimap')} (Snakemake{ver('snakemake')})"
             f" with random seed {cfg.get('seed', 'from the config')}."]
    sc = cfg.get("scrna") or {}
    if has("scrna"):
        qc, hvg, pca = sc.get("qc", {}), sc.get("hvg", {}), sc.get("pca", {})
        integ, leiden = sc.get("integrate", {}), sc.get("leiden", {})
        parts.append(
            f"Single-cell RNA-seq files were filtered per file (cells outside the median ± "
            f"{qc.get('nmads_counts')} MADs of log counts or ± {qc.get('nmads_genes')} MADs of log genes, "
            f"above {qc.get('nmads_mito')} MADs or {qc.get('max_pct_mito')}% mitochondrial reads, or with fewer "
            f"than {qc.get('min_genes')} genes were removed; doublets by {sc.get('doublets', {}).get('method')}), "
            f"then pooled, normalised and reduced to {hvg.get('n_top_genes')} highly variable genes and "
            f"{pca.get('n_comps')} principal components with scanpy{ver('scanpy')} (anndata{ver('anndata')}); "
            f"integration: {integ.get('method')} on {integ.get('key')} (harmonypy{ver('harmonypy')}), "
            f"Leiden clustering at resolution {leiden.get('resolution')}.")
    comp = (cfg.get("compare") or {}).get("composition") or {}
    if comp and (modalities is None or modalities & {"scrna", "flow"}):
        model = COMPOSITION_MODELS.get(comp.get("method"), "a paired test of each subset's share of B-lineage cells")
        family = "modality and comparison" if comp.get("bh_scope") == "comparison" else "modality"
        parts.append(
            f"Subset composition was compared within patients (patient as the pairing unit) with {model} "
            f"(statsmodels{ver('statsmodels')}; pseudocount {comp.get('pseudocount')}, at least "
            f"{comp.get('min_pairs')} paired patients, {100 * float(comp.get('ci', 0.95)):.0f}% confidence intervals); "
            f"p-values were adjusted by Benjamini–Hochberg within each {family} and called at q < {comp.get('fdr')}.")
    pb = (cfg.get("compare") or {}).get("pseudobulk") or {}
    if pb and has("scrna"):
        parts.append(f"Pseudobulk differential expression (pydeseq2{ver('pydeseq2')}, ~ patient + timepoint) used "
                     f"subsets with at least {pb.get('min_cells')} cells per specimen and {pb.get('min_patients')} "
                     f"patients, at adjusted p < {pb.get('alpha')}.")
    if has("flow"):
        parts.append(f"Flow cytometry files were quality-controlled, compensated, transformed and gated with "
                     f"FlowKit{ver('flowkit')} against the template {cfg['flow'].get('strategy')}.")
    if has("bcr"):
        parts.append(f"BCR contigs were grouped into clonotypes with scirpy{ver('scirpy')}.")
    parts.append(f"Figures were drawn with matplotlib{ver('matplotlib')}.")
    return " ".join(parts)
