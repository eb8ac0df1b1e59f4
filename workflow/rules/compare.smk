# Comparisons across tissues and timepoints: paired composition tests (scRNA and flow, same code),
# pseudobulk DE per B subset × tissue, and gene-set scores. Library: belimap.compare (one call per rule in
# belimap.compare.pipeline), figures in belimap.pl.compare.

from belimap.vocab import load_vocabulary as _load_vocabulary

# Modalities with a composition table, and the subset × tissue pairs of pseudobulk DE (known from
# the vocabulary and the sheet, so every DE file is a plain output; groups too small to test get a
# header-only table and a note in de_summary.tsv). One DE job runs them all: each fit takes seconds,
# while a job per pair would pay Python start-up and imports two dozen times.
COMPARE_MODALITIES = [m for m in ("scrna", "flow") if samples_of(m)]
COMPARE_TISSUES = tissues_of("scrna")
COMPARE_SUBSETS = _load_vocabulary(config).subset_ids
DE_PAIRS = [(s, t) for t in COMPARE_TISSUES for s in COMPARE_SUBSETS]


wildcard_constraints:
    modality=r"scrna|flow",


rule compare_composition:
    input:
        **{m: f"results/{m}/composition.tsv" for m in COMPARE_MODALITIES},
        vocab=VOCAB,
    output:
        report(
            "results/compare/composition_tests.tsv",
            caption="../report/compare_composition_tests.rst",
            category="Comparison",
            subcategory="Composition",
        ),
    log:
        "logs/compare/composition.log",
    params:
        cfg=cfg_sections("seed", "tissues", "timepoints", "resources", "compare"),
    conda:
        env("compare")
    script:
        "../scripts/compare_composition.py"


rule compare_absolute:
    input:
        composition="results/flow/composition.tsv",
        counts="results/flow/counts.tsv",
        tests="results/compare/composition_tests.tsv",
        vocab=VOCAB,
    output:
        report(
            "results/compare/absolute_tests.tsv",
            caption="../report/compare_absolute_tests.rst",
            category="Comparison",
            subcategory="Composition",
        ),
    log:
        "logs/compare/absolute.log",
    params:
        cfg=cfg_sections("seed", "tissues", "timepoints", "resources", "compare"),
    conda:
        env("compare")
    script:
        "../scripts/compare_absolute.py"


rule compare_composition_figures:
    input:
        figure_settings=FIGURE_SETTINGS,
        tests="results/compare/composition_tests.tsv",
        composition="results/{modality}/composition.tsv",
        vocab=VOCAB,
    output:
        pdf=[
            "results/compare/figures/composition_forest_{modality}.pdf",
            "results/compare/figures/composition_heatmap_{modality}.pdf",
            "results/compare/figures/composition_paired_{modality}.pdf",
        ],
        forest=report(
            "results/compare/figures/composition_forest_{modality}.png",
            caption="../report/compare_forest.rst",
            category="Comparison",
            subcategory="Composition",
            labels={"figure": "forest plot", "modality": "{modality}"},
        ),
        heatmap=report(
            "results/compare/figures/composition_heatmap_{modality}.png",
            caption="../report/compare_heatmap.rst",
            category="Comparison",
            subcategory="Composition",
            labels={"figure": "effect heatmap", "modality": "{modality}"},
        ),
        paired=report(
            "results/compare/figures/composition_paired_{modality}.png",
            caption="../report/compare_paired.rst",
            category="Comparison",
            subcategory="Composition",
            labels={"figure": "paired per patient", "modality": "{modality}"},
        ),
    log:
        "logs/compare/composition_figures_{modality}.log",
    params:
        cfg=cfg_sections("seed", "tissues", "timepoints", "resources", "compare"),
    conda:
        env("compare")
    script:
        "../scripts/compare_composition_figures.py"


rule compare_pseudobulk:
    input:
        "results/scrna/integrated.h5ad",
    output:
        "results/compare/pseudobulk.h5ad",
    log:
        "logs/compare/pseudobulk.log",
    resources:
        mem_mb=8000,
    conda:
        env("compare")
    script:
        "../scripts/compare_pseudobulk.py"


rule compare_de:
    input:
        "results/compare/pseudobulk.h5ad",
    output:
        tables=[f"results/compare/de/{s}/{t}.tsv" for s, t in DE_PAIRS],
        index=report(
            "results/compare/de_summary.tsv",
            caption="../report/compare_de_summary.rst",
            category="Comparison",
            subcategory="Pseudobulk DE",
        ),
    log:
        "logs/compare/de.log",
    params:
        pairs=DE_PAIRS,
        cfg=cfg_sections("seed", "tissues", "timepoints", "resources", "compare"),
    threads: 2
    conda:
        env("compare")
    script:
        "../scripts/compare_de.py"


rule compare_volcano:
    input:
        de=[f"results/compare/de/{s}/{t}.tsv" for s, t in DE_PAIRS],
        figure_settings=FIGURE_SETTINGS,
    output:
        volcanos=[
            report(
                f"results/compare/figures/volcano_{t}.png",
                caption="../report/compare_volcano.rst",
                category="Comparison",
                subcategory="Pseudobulk DE",
                labels={"figure": "volcano", "tissue": t},
            )
            for t in COMPARE_TISSUES
        ],
        pdf=[f"results/compare/figures/volcano_{t}.pdf" for t in COMPARE_TISSUES],
    log:
        "logs/compare/volcano.log",
    params:
        pairs=DE_PAIRS,
        cfg=cfg_sections("seed", "tissues", "timepoints", "resources", "compare"),
        tissues=COMPARE_TISSUES,
    conda:
        env("compare")
    script:
        "../scripts/compare_volcano.py"


rule compare_scores:
    input:
        h5ad="results/scrna/integrated.h5ad",
        gene_sets=str(repo_path(config["compare"]["scores"]["gene_sets"])),
        vocab=VOCAB,
    output:
        samples="results/compare/scores.tsv",
        groups=report(
            "results/compare/scores_summary.tsv",
            caption="../report/compare_scores_table.rst",
            category="Comparison",
            subcategory="Gene-set scores",
        ),
        notes="results/compare/scores_notes.tsv",
        pdf="results/compare/figures/scores.pdf",
        figure=report(
            "results/compare/figures/scores.png",
            caption="../report/compare_scores.rst",
            category="Comparison",
            subcategory="Gene-set scores",
        ),
    log:
        "logs/compare/scores.log",
    params:
        cfg=cfg_sections("seed", "tissues", "timepoints", "resources", "compare"),
    resources:
        mem_mb=8000,
    conda:
        env("compare")
    script:
        "../scripts/compare_scores.py"
