"""Rule flow_qc: one FCS file → margin events and flow-rate anomalies removed → keep-mask, QC table, rate bins."""

from belimap.workflow import run


def main(smk):
    import numpy as np

    from belimap.flow.qc import run_qc
    from belimap.tables import atomic_path, write_tsv

    keep, summary, bins = run_qc(smk.input[0], smk.wildcards.sample, smk.params.cfg["flow"])
    write_tsv(summary, smk.output.table)
    write_tsv(bins, smk.output.bins)
    with atomic_path(smk.output.keep) as tmp, open(tmp, "wb") as fh:
        np.save(fh, keep)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
