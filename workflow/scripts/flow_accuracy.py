"""Rule flow_accuracy (demo): per-event agreement of every subset gate with the simulator's truth, and fraction errors."""

from belimap.workflow import run


def main(smk):
    from belimap.flow.pipeline import FlowParams, accuracy_files
    from belimap.vocab import load_vocabulary

    accuracy_files(smk.input.events, smk.input.truth, smk.input.keep, smk.params.samples,
                   load_vocabulary(smk.params.cfg), params=FlowParams.from_config(smk.params.cfg),
                   out=smk.output.table)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
