"""Rule model_response: the week-48 response model (or, with too few patients, the descriptive
comparison), its tables and its figures."""

from belimap.workflow import run


def main(smk):
    from belimap.clinical.params import ClinicalParams, ModelParams
    from belimap.clinical.pipeline import response_model_files

    cfg, out = smk.params.cfg, smk.output
    response_model_files(
        smk.input.table, smk.input.activity, smk.input.response,
        dict(zip(smk.params.modalities, smk.input.compositions, strict=True)),
        clinical=ClinicalParams.from_config(cfg), params=ModelParams.from_config(cfg), timepoint=cfg["timepoints"][0],
        n_jobs=smk.threads, summary=out.summary, text=out.text, features=out.features,
        cv_predictions=out.cv_predictions, roc=out.roc, calibration=out.calibration, coefficients=out.coefficients,
        predictions=out.predictions, descriptive=out.descriptive, model_figure=out.model_pdf,
        responders_figure=out.responders_pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
