"""Rule simulate_flow: the demo cohort's FCS files (as named in the sheet) and their truth."""

from belimap.workflow import run


def main(smk):
    from pathlib import Path

    from belimap.sheet import read_sample_sheet
    from belimap.simulate.cohort import simulate_cohort
    from belimap.simulate.study import write_modality

    cfg = smk.params.cfg
    sheet = read_sample_sheet(smk.input.sheet, cfg, check_files=False).astype({"tissue": str, "timepoint": str})
    write_modality("flow", simulate_cohort(cfg), sheet, Path(smk.output.composition).parent.parent)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
