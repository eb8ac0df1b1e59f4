"""Rule compare_scores: per-cell gene-set scores of B-lineage cells, summarised per specimen and per group."""

from belimap.workflow import run


def main(smk):
    import anndata as ad

    from belimap.compare import scores as sc_
    from belimap.tables import write_tsv
    from belimap.pl.compare import scores_figure
    from belimap.pl.palette import save_figure
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    sec = cfg["compare"]["scores"]
    seed = cfg["compare"].get("seed")
    gene_sets = sc_.gene_sets_of(cfg)
    adata = ad.read_h5ad(smk.input.h5ad)
    cell_scores, notes = sc_.score_cells(adata, gene_sets, seed=cfg["seed"] if seed is None else seed,
                                         ctrl_size=sec["ctrl_size"], n_bins=sec["n_bins"], min_genes=sec["min_genes"])
    per_sample = sc_.summarise_scores(adata.obs, cell_scores)
    write_tsv(per_sample, smk.output.samples)
    write_tsv(sc_.summarise_groups(per_sample), smk.output.groups)
    write_tsv(notes, smk.output.notes)
    fig = scores_figure(per_sample, {g.id: g.label for g in gene_sets}, list(cfg["tissues"]), list(cfg["timepoints"]),
                        load_vocabulary(cfg))
    save_figure(fig, smk.output.figure)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
