# BCR repertoire: per-file contig reading (10x or AIRR), then clonotypes across each patient's
# specimens, attached to the scRNA cells, and the sharing / expansion / isotype tables and figures.
BCR = samples_of("bcr")

rule bcr_read:
    input:
        input_path("bcr"),
    output:
        "results/bcr/samples/{sample}.tsv",
    log:
        "logs/bcr/read/{sample}.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        env("bcr")
    script:
        "../scripts/bcr_read.py"


rule bcr_clonotypes:
    input:
        tables=expand("results/bcr/samples/{sample}.tsv", sample=BCR),
        integrated="results/scrna/integrated.h5ad",
        vocab=VOCAB,
    output:
        mudata="results/bcr/bcr.h5mu",
        cells="results/bcr/cells.tsv",
        chain_qc="results/bcr/chain_qc.tsv",
    log:
        "logs/bcr/clonotypes.log",
    params:
        samples=BCR,
        specimens=specimens_of("bcr"),
        cfg=cfg_sections("seed", "bcr", "resources"),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        env("bcr")
    script:
        "../scripts/bcr_clonotypes.py"


rule bcr_tables:
    input:
        cells="results/bcr/cells.tsv",
        vocab=VOCAB,
    output:
        sharing="results/bcr/sharing.tsv",
        expansion="results/bcr/expansion.tsv",
        isotypes="results/bcr/isotypes.tsv",
    log:
        "logs/bcr/tables.log",
    params:
        specimens=specimens_of("bcr"),
        cfg=cfg_sections("seed", "bcr", "tissues", "resources"),
    conda:
        env("bcr")
    script:
        "../scripts/bcr_tables.py"


rule bcr_figures:
    input:
        figure_settings=FIGURE_SETTINGS,
        sharing="results/bcr/sharing.tsv",
        expansion="results/bcr/expansion.tsv",
        isotypes="results/bcr/isotypes.tsv",
        chain_qc="results/bcr/chain_qc.tsv",
        vocab=VOCAB,
    output:
        pdf=multiext("results/bcr/figures/", "sharing.pdf", "expansion.pdf", "isotypes.pdf", "chain_qc.pdf"),
        sharing=report("results/bcr/figures/sharing.png", caption="../report/bcr_sharing.rst", category="BCR"),
        expansion=report("results/bcr/figures/expansion.png", caption="../report/bcr_expansion.rst", category="BCR"),
        isotypes=report("results/bcr/figures/isotypes.png", caption="../report/bcr_isotypes.rst", category="BCR"),
        chain_qc=report(
            "results/bcr/figures/chain_qc.png",
            caption="../report/bcr_chain_qc.rst",
            category="QC",
            subcategory="BCR",
        ),
    log:
        "logs/bcr/figures.log",
    params:
        cfg=cfg_sections("tissues", "timepoints", "resources"),
    conda:
        env("bcr")
    script:
        "../scripts/bcr_figures.py"


rule bcr_accuracy:
    input:
        sharing="results/bcr/sharing.tsv",
        truth=f"{SIM_DIR}/truth/bcr/sharing.tsv",
    output:
        report("results/bcr/accuracy.tsv", caption="../report/bcr_accuracy.rst", category="BCR"),
    log:
        "logs/bcr/accuracy.log",
    conda:
        env("bcr")
    script:
        "../scripts/bcr_accuracy.py"
