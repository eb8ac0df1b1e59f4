"""Rule flow_concordance: flow vs scRNA subset fractions of the same specimens, per tissue × subset."""

from belimap.workflow import run


def main(smk):
    from belimap.flow.pipeline import FlowParams, concordance_files
    from belimap.vocab import load_vocabulary

    concordance_files(smk.input.flow, smk.input.scrna, load_vocabulary(smk.params.cfg),
                      params=FlowParams.from_config(smk.params.cfg), table=smk.output.table,
                      pairs=smk.output.pairs, figure=smk.output.pdf, tissues=smk.params.cfg["tissues"])


run(snakemake, main)  # noqa: F821 - injected by Snakemake
