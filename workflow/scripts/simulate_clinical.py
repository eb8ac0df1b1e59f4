"""Rule simulate_clinical: the demo cohort's clinical files for the sample sheet's rows, plus their truth."""

from belimap.workflow import run


def main(smk):
    from belimap.simulate.pipeline import simulate_files

    simulate_files("clinical", smk.params.rows, smk.params.cfg)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
