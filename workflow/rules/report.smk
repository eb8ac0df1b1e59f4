# Reports: results/summary.html gathers every table and figure the study owes (final_outputs() in common.smk);
# `snakemake --report results/report.html` builds the archival report with captions.


rule report_summary:
    input:
        final_outputs(),
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

