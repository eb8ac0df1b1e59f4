# Reports: results/summary.html gathers every table and figure the study owes (final_outputs() in common.smk);
# `snakemake --report results/report.html` builds the archival report with captions.


rule report_warnings:
    input:
        [p for p in final_outputs() if p.endswith("notes.tsv") or p == "results/flow/qc_summary.tsv"]
        + (["results/compare/scores_notes.tsv"] if samples_of("scrna") else []),
    output:
        "results/warnings.tsv",
    log:
        "logs/report/warnings.log",
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        env("report")
    script:
        "../scripts/report_warnings.py"


rule report_summary:
    input:
        final_outputs(),
        "results/warnings.tsv",
    output:
        "results/summary.html",
    log:
        "logs/report/summary.log",
    params:
        files=sheet_rows(None),
        cfg=cfg_sections("study", "drug", "tissues", "timepoints", "simulate", "seed", "scrna", "compare", "flow", "bcr"),
    conda:
        env("report")
    script:
        "../scripts/report_summary.py"



# `snakemake figures`: every figure of the study, redrawn from the saved tables and h5ad. Figure
# rules take resources/figures.yaml (palette, style) as input, so editing it reruns them and nothing
# upstream.
rule figures:
    input:
        [p for p in final_outputs() if "/figures/" in p],
