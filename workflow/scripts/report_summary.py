"""Rule report_summary: every table and figure of the study on one HTML page."""

from belimap.workflow import run


def main(smk):
    from belimap.io import atomic_path, read_sample_sheet
    from belimap.report import summary_html

    sheet = read_sample_sheet(smk.config["samples"], smk.config, check_files=False)
    page = summary_html(list(smk.input), smk.config, sheet, smk.output[0])
    with atomic_path(smk.output[0]) as tmp:
        tmp.write_text(page)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
