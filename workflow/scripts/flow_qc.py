"""Rule flow_qc: one FCS file → margin events and flow-rate anomalies removed → keep-mask, QC table, rate bins."""

from belimap.workflow import run


def main(smk):
    from belimap.flow.pipeline import FlowParams, qc_file

    qc_file(smk.input[0], smk.wildcards.sample, params=FlowParams.from_config(smk.params.cfg), table=smk.output.table,
            bins=smk.output.bins, keep=smk.output.keep)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
