"""Rule flow_tables: per-file counts, QC and metadata → study counts.tsv, composition.tsv, qc_summary.tsv, metadata.tsv."""

from belimap.workflow import run


def main(smk):
    from belimap.flow.pipeline import FlowParams, study_tables
    from belimap.vocab import load_vocabulary

    study_tables(smk.input.counts, smk.input.qc, smk.input.metadata, smk.params.specimens,
                 load_vocabulary(smk.params.cfg), params=FlowParams.from_config(smk.params.cfg),
                 counts=smk.output.counts, composition=smk.output.composition, qc=smk.output.qc,
                 metadata=smk.output.metadata)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
