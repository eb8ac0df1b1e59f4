"""Rule simulate_bcr: BCR contigs (10x CSV or AIRR TSV, by the sheet's path) for the demo's scRNA cells, and truth."""

from belimap.workflow import run


def main(smk):
    from pathlib import Path

    from belimap.sheet import read_sample_sheet
    from belimap.simulate.cohort import simulate_cohort
    from belimap.simulate.study import write_modality

    cfg = smk.params.cfg
    sheet = read_sample_sheet(smk.input.sheet, cfg, check_files=False).astype({"tissue": str, "timepoint": str})
    write_modality("bcr", simulate_cohort(cfg), sheet, Path(smk.input.cells).parent.parent)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
