"""Rule flow_gate: one FCS file + QC mask → compensate, transform, gate → counts, per-event membership, metadata."""

from belimap.workflow import run


def main(smk):
    import numpy as np

    from belimap.flow.counts import metadata_table, sample_counts
    from belimap.flow.gating import membership_table
    from belimap.flow.pipeline import gate_file
    from belimap.tables import write_tsv

    cfg = smk.params.cfg["flow"]
    fs = gate_file(smk.input.fcs, cfg, keep=np.load(smk.input.keep))
    cpu = smk.params.meta.get("cells_per_ul", "")
    ab = cfg["absolute"]
    counts = sample_counts(fs.result, smk.wildcards.sample, float(cpu) if cpu not in ("", "nan") else None,
                           ab["reference_gate"], ab.get("bead_gate"), ab.get("beads_per_ul"))
    write_tsv(counts, smk.output.counts)
    write_tsv(membership_table(fs.result), smk.output.events)
    write_tsv(metadata_table(fs.fcs, smk.wildcards.sample, fs.strategy, fs.spill, fs.result), smk.output.metadata)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
