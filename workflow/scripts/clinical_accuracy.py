"""Rule clinical_accuracy (simulated studies): eligibility and SRI-4 scored against the simulator's truth."""

from belimap.workflow import run


def main(smk):
    import logging

    from belimap.clinical.accuracy import clinical_accuracy
    from belimap.tables import read_tsv, write_tsv

    acc = clinical_accuracy(*(read_tsv(smk.input[k]) for k in ("eligibility", "response", "truth_eligibility",
                                                                 "truth_patients")))
    write_tsv(acc, smk.output[0])
    logging.getLogger("belimap").info("clinical accuracy:\n%s", acc.to_string(index=False))


run(snakemake, main)  # noqa: F821 - injected by Snakemake
