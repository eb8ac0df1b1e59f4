"""Rule bcr_accuracy: estimated vs. simulated clone sharing between tissues (demo only)."""

from belimap.workflow import run


def main(smk):
    import pandas as pd

    from belimap.bcr import sharing_accuracy
    from belimap.tables import write_tsv

    est, truth = (pd.read_csv(p, sep="\t") for p in (smk.input.sharing, smk.input.truth))
    acc = sharing_accuracy(est, truth)
    write_tsv(acc, smk.output[0])
    if len(acc):
        print(f"max |Jaccard error| = {acc['abs_error_jaccard'].max():.4f} over {len(acc)} tissue pairs", flush=True)


run(snakemake, main)  # noqa: F821 - injected by Snakemake
