"""Rule flow_sample_figures: the gating hierarchy (2-D densities with gates and %) and the QC figure of one file."""

from belimap.workflow import run


def main(smk):
    from belimap.flow.pipeline import FlowParams, sample_figure_files

    sample_figure_files(smk.input.fcs, smk.input.keep, smk.input.qc, smk.input.bins, smk.wildcards.sample,
                        params=FlowParams.from_config(smk.params.cfg), gating=smk.output.gating_pdf,
                        qc_figure=smk.output.qc_pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
