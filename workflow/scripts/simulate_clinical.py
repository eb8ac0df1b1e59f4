"""Rule simulate_clinical: the demo cohort's clinical table (its patients, screening failures) and truth."""

from belimap.workflow import run


def main(smk):
    from pathlib import Path

    from belimap.sheet import read_sample_sheet
    from belimap.simulate.cohort import simulate_cohort
    from belimap.simulate.study import write_modality

    sheet = read_sample_sheet(smk.input.sheet, smk.params.cfg, check_files=False)
    write_modality("clinical", simulate_cohort(smk.params.cfg), sheet, Path(smk.output.patients).parent.parent)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
