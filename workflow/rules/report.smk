# Reports: results/summary.html gathers every table and figure the study owes (FINAL_OUTPUTS);
# `snakemake --report results/report.html` builds the archival report with captions.


rule report_summary:
    input:
        FINAL_OUTPUTS,
    output:
        "results/summary.html",
    log:
        "logs/report/summary.log",
    params:
        files=sheet_rows(None),
        cfg=cfg_sections("study", "drug", "tissues", "timepoints", "simulate"),
    conda:
        env("report")
    script:
        "../scripts/report_summary.py"


FINAL_OUTPUTS = FINAL_OUTPUTS + ["results/summary.html"]
