# The demo cohort: simulated raw files for every row of the sample sheet, plus the truth.
if SIMULATE:

    rule simulate_scrna:
        input:
            sheet=config["samples"],
        output:
            files=[directory(p) if not Path(p).suffix else p for p in paths_of("scrna")],
            cells=f"{SIM_DIR}/truth/cells.tsv",
            composition=f"{SIM_DIR}/truth/composition.tsv",
            lineages=f"{SIM_DIR}/truth/lineages.tsv",
        log:
            "logs/simulate/scrna.log",
        params:
            cfg=cfg_sections("simulate", "tissues", "timepoints", "resources"),
        conda:
            env("scrna")
        script:
            "../scripts/simulate_scrna.py"
