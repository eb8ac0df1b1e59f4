"""Rule bcr_tables: clone sharing between tissues, clonal expansion and isotype use per subset × tissue."""

from belimap.workflow import run


def main(smk):
    from belimap.bcr.pipeline import BcrParams, table_files
    from belimap.vocab import load_vocabulary

    cfg, o = smk.params.cfg, smk.output
    table_files(smk.input.cells, smk.params.specimens, load_vocabulary(cfg), params=BcrParams.from_config(cfg),
                tissues=cfg["tissues"], sharing=o.sharing, expansion=o.expansion, isotypes=o.isotypes)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
