"""Rule scrna_integrate: per-sample h5ads → concatenate, normalise, HVG, PCA, Harmony, UMAP, Leiden."""

from belimap.workflow import run


def main(smk):
    from belimap.scrna.pipeline import ScrnaParams, integrate_files

    cfg = smk.params.cfg
    integrate_files(list(smk.input), params=ScrnaParams.from_config(cfg), tissues=cfg["tissues"],
                    timepoints=cfg["timepoints"], out=smk.output[0])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
