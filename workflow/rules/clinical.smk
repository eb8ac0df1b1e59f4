# Clinical layer: eligibility → CONSORT, disease activity (SLEDAI-2K, LLDAS), SRI-4 response, and the
# week-48 response model on baseline clinical + immune features. Active when clinical.table is set
# (CLINICAL, CLINICAL_TABLE: common.smk).
#: The trial's rule file and the clinical facts: inputs, so that editing a criterion reruns the tables.
CLINICAL_RULES = [str(repo_path(config["clinical"][k])) for k in ("trial", "criteria", "classification", "outcomes")]
# Composition tables of the modalities in the sheet: the model's immune features.
MODEL_MODALITIES = [m for m in ("scrna", "flow") if samples_of(m)]


if CLINICAL_SIMULATED:

    rule clinical_accuracy:
        input:
            eligibility="results/clinical/eligibility.tsv",
            response="results/clinical/response.tsv",
            truth_eligibility=SIM_CLINICAL["eligibility"],
            truth_patients=SIM_CLINICAL["patients"],
        output:
            accuracy=report("results/clinical/accuracy.tsv", caption="../report/clinical_accuracy.rst",
                            category="Clinical"),
        log:
            "logs/clinical/accuracy.log",
        conda:
            env("clinical")
        script:
            "../scripts/clinical_accuracy.py"


if CLINICAL:

    rule clinical_tables:
        input:
            table=CLINICAL_TABLE,
            rules=CLINICAL_RULES,
        output:
            eligibility="results/clinical/eligibility.tsv",
            classification="results/clinical/classification.tsv",
            activity="results/clinical/activity.tsv",
            response="results/clinical/response.tsv",
            consort="results/clinical/consort.tsv",
        log:
            "logs/clinical/tables.log",
        params:
            files=sheet_rows(None),
            cfg=cfg_sections("clinical", "tissues", "timepoints"),
        conda:
            env("clinical")
        script:
            "../scripts/clinical_tables.py"

    rule clinical_figures:
        input:
            figure_settings=FIGURE_SETTINGS,
            consort="results/clinical/consort.tsv",
            activity="results/clinical/activity.tsv",
            response="results/clinical/response.tsv",
        output:
            consort_pdf=report("results/clinical/figures/consort.pdf", caption="../report/clinical_consort.rst",
                               category="Clinical", subcategory="CONSORT"),
            consort_png="results/clinical/figures/consort.png",
            consort_svg="results/clinical/figures/consort.svg",
            activity_pdf=report("results/clinical/figures/activity.pdf", caption="../report/clinical_activity.rst",
                                category="Clinical", subcategory="Disease activity"),
            activity_png="results/clinical/figures/activity.png",
        log:
            "logs/clinical/figures.log",
        params:
            cfg=cfg_sections("study", "clinical"),
        conda:
            env("clinical")
        script:
            "../scripts/clinical_figures.py"

    rule model_response:
        input:
            table=CLINICAL_TABLE,
            rules=CLINICAL_RULES,
            activity="results/clinical/activity.tsv",
            response="results/clinical/response.tsv",
            compositions=[f"results/{m}/composition.tsv" for m in MODEL_MODALITIES],
        output:
            summary="results/model/summary.tsv",
            text="results/model/summary.txt",
            features="results/model/features.tsv",
            cv_predictions="results/model/cv_predictions.tsv",
            roc="results/model/roc.tsv",
            calibration="results/model/calibration.tsv",
            coefficients="results/model/coefficients.tsv",
            predictions="results/model/predictions.tsv",
            descriptive="results/model/descriptive.tsv",
            model_pdf=report("results/model/figures/model.pdf", caption="../report/model_performance.rst",
                             category="Response model", subcategory="Performance"),
            model_png="results/model/figures/model.png",
            responders_pdf=report("results/model/figures/responders.pdf", caption="../report/model_responders.rst",
                                  category="Response model", subcategory="Responders vs non-responders"),
            responders_png="results/model/figures/responders.png",
        log:
            "logs/model/response.log",
        params:
            cfg=cfg_sections("seed", "clinical", "model", "timepoints"),
            modalities=MODEL_MODALITIES,
        threads: 2
        conda:
            env("clinical")
        script:
            "../scripts/model_response.py"
