"""Rule clinical_figures: the CONSORT diagram (PDF + PNG + SVG) and disease activity over time."""

from belimap.workflow import run


def main(smk):
    from belimap.clinical.params import ClinicalParams
    from belimap.clinical.pipeline import figure_files

    cfg = smk.params.cfg
    figure_files(smk.input.consort, smk.input.activity, smk.input.response, params=ClinicalParams.from_config(cfg),
                 title=cfg.get("study", ""), consort_figure=smk.output.consort_pdf,
                 activity_figure=smk.output.activity_pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
