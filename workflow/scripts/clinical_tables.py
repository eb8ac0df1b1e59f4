"""Rule clinical_tables: clinical table + sample sheet → eligibility, classification, activity, response, CONSORT."""

from belimap.workflow import run


def main(smk):
    from belimap.clinical.params import ClinicalParams
    from belimap.clinical.pipeline import tables_file

    cfg, out = smk.params.cfg, smk.output
    tables_file(smk.input.table, smk.params.files, params=ClinicalParams.from_config(cfg), tissues=cfg["tissues"],
                timepoints=cfg["timepoints"], eligibility=out.eligibility, classification=out.classification,
                activity=out.activity, response=out.response, consort=out.consort)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
