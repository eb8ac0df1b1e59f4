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


def specimens_of(modality):
    """Specimen table (sample_id, patient_id, tissue, timepoint) of ``modality``'s rows."""
    rows = SHEET[SHEET["modality"] == modality]
    return rows[["sample_id", "patient_id", "tissue", "timepoint"]].astype(str).to_dict("list")


def cfg_sections(*keys):
    """Params helper: the config sections a rule depends on, so that editing one of them (and only
    those) reruns the rule. Scripts read their settings from ``snakemake.params.cfg``."""
    return {k: config.get(k) for k in keys}


#: Vocabulary files, inputs of every rule that labels or plots subsets (editing markers reruns them).
VOCAB = [
    str(resource_path(config, "bcell_subsets")),
    str(resource_path(config, "lineage_markers")),
]


def env(name):
    """Path of a rule group's conda env (relative to the rules folder)."""
    return f"../../envs/{name}.yaml"


wildcard_constraints:
    sample=r"[A-Za-z0-9_-]+",
    tissue=r"[A-Za-z0-9_-]+",
    subset=r"[A-Za-z0-9_]+",


# Each branch's .smk appends the files it owes to the study; `rule all` asks for them all.
FINAL_OUTPUTS = []
