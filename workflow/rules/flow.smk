# Flow cytometry: per file read → QC → compensate/transform/gate; then study counts, composition,
# metadata, figures and the flow↔scRNA concordance. The strategy is config flow.strategy (YAML,
# GatingML 2.0 or FlowJo .wsp); its path is an input so that editing a gate reruns the gating.
# The per-file rules share the group "flow_file": on a cluster one file's QC, gating and figures are
# one submission (and profiles/slurm bundles several files), not three jobs of a few seconds each.
FLOW = samples_of("flow")
FLOW_STRATEGY = str(repo_path(config["flow"]["strategy"]))


rule flow_qc:
    input:
        input_path("flow"),
    output:
        table="results/flow/samples/{sample}.qc.tsv",
        bins="results/flow/samples/{sample}.qc_bins.tsv",
        keep="results/flow/samples/{sample}.keep.npy",
    group:
        "flow_file"
    log:
        "logs/flow/qc/{sample}.log",
    params:
        # only what QC reads: editing gates or figure settings does not rerun it
        cfg={"flow": {k: config["flow"][k] for k in ("qc", "channel_markers", "dataset")}},
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        env("flow")
    script:
        "../scripts/flow_qc.py"


rule flow_gate:
    input:
        fcs=input_path("flow"),
        keep="results/flow/samples/{sample}.keep.npy",
        strategy=FLOW_STRATEGY,
    output:
        counts="results/flow/samples/{sample}.counts.tsv",
        events="results/flow/samples/{sample}.events.tsv.gz",
        metadata="results/flow/samples/{sample}.metadata.tsv",
    group:
        "flow_file"
    log:
        "logs/flow/gate/{sample}.log",
    params:
        meta=sample_meta("flow"),
        cfg=cfg_sections("flow"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        env("flow")
    script:
        "../scripts/flow_gate.py"


rule flow_sample_figures:
    input:
        figure_settings=FIGURE_SETTINGS,
        fcs=input_path("flow"),
        keep="results/flow/samples/{sample}.keep.npy",
        qc="results/flow/samples/{sample}.qc.tsv",
        bins="results/flow/samples/{sample}.qc_bins.tsv",
        strategy=FLOW_STRATEGY,
    output:
        gating_pdf="results/flow/figures/gating/{sample}.pdf",
        gating_png=report(
            "results/flow/figures/gating/{sample}.png",
            caption="../report/flow_gating.rst",
            category="Flow",
            subcategory="Gating per sample",
            labels={"sample": "{sample}"},
        ),
        qc_pdf="results/flow/figures/qc/{sample}.pdf",
        qc_png=report(
            "results/flow/figures/qc/{sample}.png",
            caption="../report/flow_qc.rst",
            category="Flow",
            subcategory="QC per sample",
            labels={"sample": "{sample}"},
        ),
    group:
        "flow_file"
    log:
        "logs/flow/figures/{sample}.log",
    params:
        cfg=cfg_sections("flow"),
    conda:
        env("flow")
    script:
        "../scripts/flow_sample_figures.py"


rule flow_tables:
    input:
        counts=expand("results/flow/samples/{sample}.counts.tsv", sample=FLOW),
        qc=expand("results/flow/samples/{sample}.qc.tsv", sample=FLOW),
        metadata=expand("results/flow/samples/{sample}.metadata.tsv", sample=FLOW),
        strategy=FLOW_STRATEGY,
        vocab=VOCAB,
    output:
        counts=report("results/flow/counts.tsv", caption="../report/flow_counts.rst", category="Flow"),
        composition=report("results/flow/composition.tsv", caption="../report/flow_composition.rst", category="Flow"),
        qc=report("results/flow/qc_summary.tsv", caption="../report/flow_qc_summary.rst", category="Flow"),
        metadata=report("results/flow/metadata.tsv", caption="../report/flow_metadata.rst", category="Flow"),
    log:
        "logs/flow/tables.log",
    params:
        specimens=specimens_of("flow"),
        cfg=cfg_sections("flow", "resources"),
    conda:
        env("flow")
    script:
        "../scripts/flow_tables.py"


rule flow_composition_figure:
    input:
        figure_settings=FIGURE_SETTINGS,
        composition="results/flow/composition.tsv",
        vocab=VOCAB,
    output:
        pdf="results/flow/figures/composition.pdf",
        png=report(
            "results/flow/figures/composition.png",
            caption="../report/flow_composition_figure.rst",
            category="Flow",
        ),
    log:
        "logs/flow/composition_figure.log",
    params:
        cfg=cfg_sections("tissues", "resources"),
    conda:
        env("flow")
    script:
        "../scripts/flow_composition_figure.py"


rule flow_accuracy:
    input:
        events=expand("results/flow/samples/{sample}.events.tsv.gz", sample=FLOW),
        truth=expand(f"{SIM_DIR}/truth/flow_events/{{sample}}.tsv.gz", sample=FLOW),
        keep=expand("results/flow/samples/{sample}.keep.npy", sample=FLOW),
        strategy=FLOW_STRATEGY,
        vocab=VOCAB,
    output:
        table=report("results/flow/accuracy.tsv", caption="../report/flow_accuracy.rst", category="Flow"),
    log:
        "logs/flow/accuracy.log",
    params:
        samples=FLOW,
        cfg=cfg_sections("flow", "resources"),
    conda:
        env("flow")
    script:
        "../scripts/flow_accuracy.py"


rule flow_concordance:
    input:
        flow="results/flow/composition.tsv",
        scrna="results/scrna/composition.tsv",
        strategy=FLOW_STRATEGY,
        vocab=VOCAB,
    output:
        table=report(
            "results/compare/modality_concordance.tsv",
            caption="../report/flow_concordance.rst",
            category="Flow",
            subcategory="Flow vs scRNA-seq",
        ),
        pairs="results/compare/modality_concordance_pairs.tsv",
        pdf="results/compare/figures/modality_concordance.pdf",
        png=report(
            "results/compare/figures/modality_concordance.png",
            caption="../report/flow_concordance.rst",
            category="Flow",
            subcategory="Flow vs scRNA-seq",
        ),
    log:
        "logs/flow/concordance.log",
    params:
        cfg=cfg_sections("flow", "resources", "tissues"),
    conda:
        env("flow")
    script:
        "../scripts/flow_concordance.py"
