# scRNA-seq: per-file QC and doublets, then one study-level embedding, annotation and composition.
SCRNA = samples_of("scrna")


rule scrna_qc:
    input:
        input_path("scrna"),
    output:
        h5ad="results/scrna/samples/{sample}.h5ad",
        table="results/scrna/qc/{sample}.tsv",
        pdf="results/scrna/figures/qc/{sample}.pdf",
        png=report(
            "results/scrna/figures/qc/{sample}.png",
            caption="../report/scrna_qc.rst",
            category="QC",
            subcategory="scRNA-seq per sample",
            labels={"sample": "{sample}"},
        ),
    log:
        "logs/scrna/qc/{sample}.log",
    params:
        meta=sample_meta("scrna"),
        cfg=cfg_sections("seed", "scrna"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        env("scrna")
    script:
        "../scripts/scrna_qc.py"


rule scrna_qc_summary:
    input:
        expand("results/scrna/qc/{sample}.tsv", sample=SCRNA),
    output:
        "results/scrna/qc_summary.tsv",
    log:
        "logs/scrna/qc_summary.log",
    conda:
        env("scrna")
    script:
        "../scripts/scrna_qc_summary.py"


rule scrna_integrate:
    input:
        expand("results/scrna/samples/{sample}.h5ad", sample=SCRNA),
    output:
        "results/scrna/clustered.h5ad",
    log:
        "logs/scrna/integrate.log",
    params:
        cfg=cfg_sections("seed", "scrna", "tissues", "timepoints"),
    threads: 2
    resources:
        mem_mb=16000,
        runtime=120,
    conda:
        env("scrna")
    script:
        "../scripts/scrna_integrate.py"


rule scrna_annotate:
    input:
        h5ad="results/scrna/clustered.h5ad",
        vocab=VOCAB,
        bcr=vdj_tables,
    output:
        integrated="results/scrna/integrated.h5ad",
        bcells="results/scrna/bcells.h5ad",
    log:
        "logs/scrna/annotate.log",
    params:
        cfg=cfg_sections("seed", "scrna", "resources"),
    threads: 2
    resources:
        mem_mb=16000,
        runtime=60,
    conda:
        env("scrna")
    script:
        "../scripts/scrna_annotate.py"


rule scrna_composition:
    input:
        h5ad="results/scrna/integrated.h5ad",
        vocab=VOCAB,
    output:
        subsets="results/scrna/composition.tsv",
        lineages="results/scrna/lineages.tsv",
        notes="results/scrna/notes.tsv",
    log:
        "logs/scrna/composition.log",
    params:
        specimens=specimens_of("scrna"),
        cfg=cfg_sections("resources"),
    conda:
        env("scrna")
    script:
        "../scripts/scrna_composition.py"


rule scrna_figures:
    input:
        figure_settings=FIGURE_SETTINGS,
        h5ad="results/scrna/integrated.h5ad",
        bcells="results/scrna/bcells.h5ad",
        composition="results/scrna/composition.tsv",
        vocab=VOCAB,
    output:
        pdf=multiext("results/scrna/figures/", "umap.pdf", "markers.pdf", "composition_bars.pdf", "patient_lines.pdf"),
        umap=report("results/scrna/figures/umap.png", caption="../report/scrna_umap.rst", category="scRNA-seq"),
        markers=report("results/scrna/figures/markers.png", caption="../report/scrna_markers.rst", category="scRNA-seq"),
        bars=report(
            "results/scrna/figures/composition_bars.png",
            caption="../report/scrna_composition_bars.rst",
            category="Composition",
        ),
        lines=report(
            "results/scrna/figures/patient_lines.png",
            caption="../report/scrna_patient_lines.rst",
            category="Composition",
        ),
    log:
        "logs/scrna/figures.log",
    params:
        cfg=cfg_sections("tissues", "timepoints", "resources"),
    conda:
        env("report")
    script:
        "../scripts/scrna_figures.py"


rule scrna_accuracy:
    input:
        h5ad="results/scrna/integrated.h5ad",
        composition="results/scrna/composition.tsv",
        truth_cells=f"{SIM_DIR}/truth/cells.tsv",
        truth_composition=f"{SIM_DIR}/truth/composition.tsv",
        qc=expand("results/scrna/qc/{sample}.tsv", sample=SCRNA),
        vocab=VOCAB,
        figure_settings=FIGURE_SETTINGS,
    output:
        table=report("results/scrna/accuracy.tsv", caption="../report/scrna_accuracy.rst", category="scRNA-seq"),
        confusion="results/scrna/confusion.tsv",
        pdf="results/scrna/figures/confusion.pdf",
        png=report(
            "results/scrna/figures/confusion.png",
            caption="../report/scrna_confusion.rst",
            category="scRNA-seq",
        ),
    log:
        "logs/scrna/accuracy.log",
    params:
        cfg=cfg_sections("resources"),
    conda:
        env("scrna")
    script:
        "../scripts/scrna_accuracy.py"
