# Owns the config and the sample sheet: validation, wildcard constraints and every input function.
# Rules never parse tables themselves.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from belimap.clinical.facts import DEFAULTS as CLINICAL_FACTS
from belimap.config import repo_path, resource_path, validate_config
from belimap.errors import BelimapError
from belimap.sheet import read_sample_sheet
from belimap.simulate.clinical import simulates_table, study_paths as _sim_clinical
from belimap.simulate.cohort import PROFILE as SIM_PROFILE

try:
    validate_config(config, "config")
    SHEET = read_sample_sheet(config["samples"], config)
except BelimapError as err:
    sys.exit(f"belimap: error: {err}")

SIMULATE = bool(config["simulate"]["enabled"])
SIM_DIR = config["simulate"]["outdir"]

# The clinical table: the study's own file (relative to the working directory, like the sheet), or
# the demo's, which the simulator writes with the cohort (same patients as the sample sheet).
CLINICAL = bool(config["clinical"]["table"])
SIM_CLINICAL = {k: str(v) for k, v in _sim_clinical(SIM_DIR).items()}
CLINICAL_SIMULATED = simulates_table(config)
CLINICAL_TABLE = SIM_CLINICAL["table"] if CLINICAL_SIMULATED else config["clinical"]["table"]
if CLINICAL and not CLINICAL_SIMULATED and not Path(CLINICAL_TABLE).is_file():
    hint = f" (a simulated study's is {SIM_CLINICAL['table']})" if SIMULATE else ""
    sys.exit(f"belimap: error: clinical.table: '{CLINICAL_TABLE}' is not a file; expected the study's "
             f"clinical table (TSV){hint}, or clinical.table: \"\" to run without the clinical layer")


def check_inputs():
    """Before the first job (onstart: real runs only, not -n, not in job processes): every input file's
    contents, as `belimap validate` reads them; all problems are printed and nothing runs."""
    from belimap.checks.study import check_sheet_files

    problems = check_sheet_files(SHEET, config)
    for p in problems:
        print(p.line(), file=sys.stderr)
    if any(p.is_error for p in problems):
        sys.exit(f"belimap: {sum(p.is_error for p in problems)} input error(s); nothing was run")


def samples_of(modality):
    """Sample IDs measured by ``modality`` (scrna, bcr, flow), in sheet order."""
    return SHEET.loc[SHEET["modality"] == modality, "sample_id"].tolist()


def paths_of(modality):
    """Input paths of ``modality``, in sheet order."""
    return SHEET.loc[SHEET["modality"] == modality, "path"].tolist()


def input_path(modality):
    """Input function: the raw file of ``{sample}`` for ``modality``."""

    def _path(wildcards):
        rows = SHEET[(SHEET["modality"] == modality) & (SHEET["sample_id"] == wildcards.sample)]
        return rows["path"].iloc[0]

    return _path


def sample_meta(modality):
    """Params function: the sheet row of ``{sample}`` for ``modality`` as a dict of strings."""

    def _meta(wildcards):
        rows = SHEET[(SHEET["modality"] == modality) & (SHEET["sample_id"] == wildcards.sample)]
        return {k: str(v) for k, v in rows.iloc[0].items()}

    return _meta


def sheet_rows(modality):
    """The sheet's rows of ``modality`` as a list of dicts of strings (a params value: the simulator
    and the summary page get the rows from here, so that only this file reads the sheet)."""
    rows = SHEET[SHEET["modality"] == modality] if modality else SHEET
    return rows.astype(str).to_dict("records")


def tissues_of(modality):
    """The config's tissues that ``modality`` measured, in config order."""
    return [t for t in config["tissues"] if t in set(SHEET.loc[SHEET["modality"] == modality, "tissue"].astype(str))]


def specimens_of(modality):
    """Specimen table (sample_id, patient_id, tissue, timepoint) of ``modality``'s rows."""
    rows = SHEET[SHEET["modality"] == modality]
    return rows[["sample_id", "patient_id", "tissue", "timepoint"]].astype(str).to_dict("list")


def vdj_tables(wildcards):
    """Input function of scrna_annotate: the AIRR tables of the scRNA specimens that also have BCR data
    (their heavy-chain c_call decides switched vs unswitched memory; none when scrna.annotate.isotype_from_vdj
    is false)."""
    if not config["scrna"].get("annotate", {}).get("isotype_from_vdj", True):
        return []
    scrna = set(samples_of("scrna"))
    return [f"results/bcr/samples/{s}.tsv" for s in samples_of("bcr") if s in scrna]


def cfg_sections(*keys):
    """Params helper: the config sections a rule depends on, so that editing one of them (and only
    those) reruns the rule. Scripts read their settings from ``snakemake.params.cfg``."""
    return {k: config.get(k) for k in keys}


#: Vocabulary files, inputs of every rule that labels or plots subsets (editing markers reruns them).
VOCAB = [
    str(resource_path(config, "bcell_subsets")),
    str(resource_path(config, "lineage_markers")),
]


#: Palette and figure style, an input of every figure-only rule (editing it reruns only those; see
#: rule figures in report.smk).
FIGURE_SETTINGS = str(resource_path(config, "figures"))


def env(name):
    """Path of a rule group's conda env (relative to the rules folder)."""
    return f"../../envs/{name}.yaml"


wildcard_constraints:
    sample=r"[A-Za-z0-9_-]+",
    tissue=r"[A-Za-z0-9_-]+",
    subset=r"[A-Za-z0-9_]+",


def final_outputs():
    """Every file the study owes (``rule all`` and the summary page), from the sheet's modalities,
    whether the study is simulated, and whether it has a clinical table."""
    scrna, flow, bcr = samples_of("scrna"), samples_of("flow"), samples_of("bcr")
    out = []
    if scrna:
        out += [f"results/scrna/{t}" for t in ("qc_summary.tsv", "integrated.h5ad", "composition.tsv",
                                               "lineages.tsv", "notes.tsv")]
        out += [f"results/scrna/figures/{f}.png" for f in ("umap", "markers", "composition_bars", "patient_lines")]
        out += expand("results/scrna/figures/qc/{sample}.png", sample=scrna)
        out += ["results/scrna/accuracy.tsv"] if SIMULATE else []
    if flow:
        out += [f"results/flow/{t}.tsv" for t in ("counts", "composition", "qc_summary", "metadata")]
        out += ["results/flow/figures/composition.png"]
        out += expand("results/flow/figures/{kind}/{sample}.png", kind=("gating", "qc"), sample=flow)
        out += ["results/flow/accuracy.tsv"] if SIMULATE else []
        if scrna:
            out += ["results/compare/modality_concordance.tsv", "results/compare/figures/modality_concordance.png"]
    if bcr:
        out += [f"results/bcr/{t}" for t in ("bcr.h5mu", "cells.tsv", "chain_qc.tsv", "sharing.tsv", "expansion.tsv",
                                             "isotypes.tsv")]
        out += [f"results/bcr/figures/{f}.png" for f in ("sharing", "expansion", "isotypes", "chain_qc")]
        out += ["results/bcr/accuracy.tsv"] if SIMULATE else []
    modalities = [m for m in ("scrna", "flow") if samples_of(m)]
    if modalities:
        out += ["results/compare/composition_tests.tsv"]
        out += ["results/compare/absolute_tests.tsv"] if "flow" in modalities else []
        out += expand("results/compare/figures/composition_{fig}_{modality}.png", fig=["forest", "heatmap", "paired"],
                      modality=modalities)
    if scrna:
        out += ["results/compare/de_summary.tsv", "results/compare/scores_summary.tsv",
                "results/compare/figures/scores.png"]
        out += [f"results/compare/figures/volcano_{t}.png" for t in tissues_of("scrna")]
    if CLINICAL:
        out += [f"results/clinical/{t}.tsv" for t in ("eligibility", "classification", "response", "consort")]
        out += ["results/clinical/figures/consort.png", "results/clinical/figures/activity.png"]
        out += [f"results/model/{t}.tsv" for t in ("summary", "coefficients", "predictions", "descriptive")]
        out += ["results/model/figures/model.png", "results/model/figures/responders.png"]
        out += ["results/clinical/accuracy.tsv"] if CLINICAL_SIMULATED else []
    return out
