"""Rule clinical_accuracy (simulated studies): eligibility and SRI-4 scored against the simulator's truth."""

from belimap.workflow import run


def main(smk):
    from belimap.clinical.pipeline import accuracy_file

    accuracy_file(smk.input.eligibility, smk.input.response, smk.input.truth_eligibility, smk.input.truth_patients,
                  out=smk.output.accuracy)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
