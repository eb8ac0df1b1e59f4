"""Rule bcr_clonotypes: chain QC, attachment to the scRNA cells and clonotypes across each patient's specimens."""

from belimap.workflow import run


def main(smk):
    import anndata as ad
    import pandas as pd

    from belimap import bcr
    from belimap.tables import write_tsv
    from belimap.vocab import load_vocabulary

    cfg = smk.params.cfg
    airr = bcr.read_airr_tables(dict(zip(smk.params.samples, smk.input.tables, strict=True)))
    gex = ad.read_h5ad(smk.input.integrated, backed="r")
    obs, obsm = gex.obs.copy(), {k: gex.obsm[k][:] for k in gex.obsm.keys()}
    gex.file.close()
    specimens = pd.DataFrame(smk.params.specimens)
    cells = bcr.clonotype_cells(airr, obs, specimens, list(load_vocabulary(cfg).bcell_lineages), cfg["bcr"],
                                n_jobs=smk.threads, seed=int(cfg["seed"]))
    write_tsv(cells, smk.output.cells)
    write_tsv(bcr.chain_qc_table(airr), smk.output.chain_qc)
    bcr.write_mudata(bcr.build_mudata(obs, obsm, airr), smk.output.mudata)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
