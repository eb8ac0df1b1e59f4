"""Rule simulate_scrna: the demo cohort's scRNA-seq files (as named in the sheet) and their truth."""

from belimap.workflow import run


def main(smk):
    from pathlib import Path

    from belimap.sheet import read_sample_sheet
    from belimap.simulate.cohort import simulate_cohort
    from belimap.simulate.study import write_modality

    sheet = read_sample_sheet(smk.input.sheet, smk.params.cfg, check_files=False).astype({"tissue": str, "timepoint": str})
    write_modality("scrna", simulate_cohort(smk.params.cfg), sheet, Path(smk.output.cells).parent.parent)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
