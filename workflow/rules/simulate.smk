# The demo cohort: simulated raw files for every row of the sample sheet, plus the truth. Every
# simulator rule lives here; a real study (simulate.enabled: false) has none of them.
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
            rows=sheet_rows("scrna"),
            cfg=cfg_sections("simulate", "tissues", "timepoints", "resources"),
        conda:
            env("scrna")
        script:
            "../scripts/simulate_scrna.py"

    rule simulate_flow:
        input:
            sheet=config["samples"],
            vocab=VOCAB,
        output:
            files=paths_of("flow"),
            composition=f"{SIM_DIR}/truth/flow_composition.tsv",
            events=expand(f"{SIM_DIR}/truth/flow_events/{{sample}}.tsv.gz", sample=samples_of("flow")),
        log:
            "logs/simulate/flow.log",
        params:
            rows=sheet_rows("flow"),
            cfg=cfg_sections("simulate", "tissues", "timepoints", "resources"),
        conda:
            env("flow")
        script:
            "../scripts/simulate_flow.py"


if SIMULATE and samples_of("bcr"):

    rule simulate_bcr:
        input:
            sheet=config["samples"],
            cells=f"{SIM_DIR}/truth/cells.tsv",
        output:
            files=paths_of("bcr"),
            cells=f"{SIM_DIR}/truth/bcr/cells.tsv",
            sharing=f"{SIM_DIR}/truth/bcr/sharing.tsv",
        log:
            "logs/simulate/bcr.log",
        params:
            rows=sheet_rows("bcr"),
            cfg=cfg_sections("simulate", "tissues", "timepoints", "resources"),
        conda:
            env("bcr")
        script:
            "../scripts/simulate_bcr.py"


if CLINICAL_SIMULATED:

    rule simulate_clinical:
        input:
            sheet=config["samples"],
            profile=str(SIM_PROFILE),
            facts=[str(repo_path(p)) for p in CLINICAL_FACTS.values()],
        output:
            table=SIM_CLINICAL["table"],
            patients=SIM_CLINICAL["patients"],
            eligibility=SIM_CLINICAL["eligibility"],
        log:
            "logs/simulate/clinical.log",
        params:
            rows=sheet_rows(None),
            cfg=cfg_sections("simulate", "tissues", "timepoints", "resources"),
        conda:
            env("clinical")
        script:
            "../scripts/simulate_clinical.py"
