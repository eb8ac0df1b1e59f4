"""Rule flow_gate: one FCS file + QC mask → compensate, transform, gate → counts, per-event membership, metadata."""

from belimap.workflow import run


def main(smk):
    from belimap.flow.pipeline import FlowParams, gate_file

    gate_file(smk.input.fcs, smk.input.keep, smk.params.meta, params=FlowParams.from_config(smk.params.cfg),
              counts=smk.output.counts, events=smk.output.events, metadata=smk.output.metadata)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
