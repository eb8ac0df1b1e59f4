"""Rule clinical_accuracy (simulated studies): eligibility and SRI-4 scored against the simulator's truth."""

import pandas as pd

from belimap.clinical.accuracy import clinical_accuracy
from belimap.io import write_tsv
from belimap.workflow import run


def main(smk):
    read = lambda p: pd.read_csv(p, sep="\t", dtype={"patient_id": str}, keep_default_na=False,  # noqa: E731
                                 na_values=[""])
    acc = clinical_accuracy(read(smk.input.eligibility), read(smk.input.response), read(smk.input.truth_eligibility),
                            read(smk.input.truth_patients))
    write_tsv(acc, smk.output[0])
    print(acc.to_string(index=False), flush=True)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
