"""Rule flow_sample_figures: the gating hierarchy (2-D densities with gates and %) and the QC figure of one file."""

from belimap.workflow import run


def main(smk):
    import numpy as np

    from belimap.flow.pipeline import gate_file
    from belimap.tables import read_table
    from belimap.pl.flow import gating_figure, qc_figure

    cfg = smk.params.cfg["flow"]
    sid = smk.wildcards.sample
    fs = gate_file(smk.input.fcs, cfg, keep=np.load(smk.input.keep))
    gating_figure(fs.result, sid, smk.output.gating_pdf, max_points=cfg["figures"]["max_points"])
    bins = read_table(smk.input.bins).astype({"start_s": float, "end_s": float, "n_events": int, "flagged": int})
    summary = read_table(smk.input.qc).astype({"n_margin": int, "n_rate_anomaly": int, "n_kept": int})
    qc_figure(bins, summary, sid, smk.output.qc_pdf)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
