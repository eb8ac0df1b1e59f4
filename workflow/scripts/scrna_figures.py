"""Rule scrna_figures: UMAPs, marker dot plots, composition bars and per-patient lines (PDF + PNG)."""

from belimap.workflow import run


def main(smk):
    import anndata as ad
    import matplotlib.pyplot as plt
    import pandas as pd

    from belimap.pl import save_figure
    from belimap.pl import scrna as pl
    from belimap.vocab import load_vocabulary

    cfg, vocab = smk.params.cfg, load_vocabulary(smk.params.cfg)
    adata = ad.read_h5ad(smk.input.h5ad)
    bcells = ad.read_h5ad(smk.input.bcells)
    comp = pd.read_csv(smk.input.composition, sep="\t")
    save_figure(pl.umaps(adata, vocab, cfg, bcells), smk.output.umap)
    save_figure(pl.marker_dotplot(adata, vocab), smk.output.markers)
    save_figure(pl.composition_bars(comp, vocab, cfg).figure, smk.output.bars)
    save_figure(pl.patient_lines(comp, vocab, cfg), smk.output.lines)
    plt.close("all")


run(snakemake, main)  # noqa: F821 - injected by Snakemake
