"""Rule report_summary: every table and figure of the study on one HTML page."""

from belimap.workflow import run


def main(smk):
    from belimap.sheet import read_sample_sheet
    from belimap.tables import atomic_path
    from belimap.report import summary_html

    cfg = smk.params.cfg
    sheet = read_sample_sheet(cfg["samples"], cfg, check_files=False)
    page = summary_html(list(smk.input), cfg, sheet, smk.output[0])
    with atomic_path(smk.output[0]) as tmp:
        tmp.write_text(page)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
