# belimap — B-cell compartments across tissues and timepoints in B-cell-targeted SLE therapy.
# Stages, in the order data flows (docs/design.md §1): simulate → per-file steps → study-level steps → report.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/scrna.smk"
include: "workflow/rules/flow.smk"
include: "workflow/rules/bcr.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/clinical.smk"
include: "workflow/rules/report.smk"


onstart:
    check_inputs()  # every file's contents, once, before the first job (belimap validate's checks)


rule all:
    input:
        final_outputs(),
        "results/summary.html",
    default_target: True
