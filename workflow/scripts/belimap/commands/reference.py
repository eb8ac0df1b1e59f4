"""``belimap reference train --labels COLUMN ATLAS.h5ad -o MODEL.pkl``: a CellTypist reference model.

Trains on any labelled h5ad (counts in ``layers['counts']`` or ``X``, or ``X`` as log1p counts per
10,000) with CellTypist's own trainer, seeded, with the settings of ``scrna.annotate.celltypist.train``.
``--subset-labels`` joins a second column into ``lineage|subset`` labels (belimap's own ``lineage`` +
``bcell_subset``, which the default label map translates); ``--obs TSV`` takes the label columns from
a per-cell table matched on ``sample_id`` + ``barcode`` (e.g. a simulated cohort's
``truth/cells.tsv`` beside its processed h5ad); ``--label-map-template`` writes a label map of the
model's labels for you to complete. Use the model with ``scrna.annotate.method: celltypist``;
``belimap reference check MODEL.pkl`` shows how a label map translates its labels.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reference", help="reference models for scrna.annotate.method: celltypist", description=__doc__)
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    t = verbs.add_parser("train", help="train a CellTypist model from a labelled h5ad", description=__doc__)
    t.add_argument("atlas", help="labelled h5ad (cells x genes, gene symbols as var_names)")
    t.add_argument("--labels", required=True, metavar="COLUMN", help="obs column with each cell's reference label")
    t.add_argument("--subset-labels", metavar="COLUMN",
                   help="obs column joined to --labels as LABEL|SUBSET where not empty (e.g. bcell_subset)")
    t.add_argument("--obs", metavar="TSV", help="take the label columns from this per-cell table instead of the "
                   "h5ad's obs, matched on sample_id and barcode (e.g. a simulated cohort's truth/cells.tsv)")
    t.add_argument("-o", "--out", required=True, help="model file to write (.pkl)")
    t.add_argument("--config", default="config/config.yaml",
                   help="study config (celltypist.train, seed; belimap's own if absent here)")
    t.add_argument("--seed", type=int, help="override the config's seed")
    t.add_argument("--label-map-template", metavar="YAML", help="also write a label map of the model's labels")
    t.set_defaults(func=run_train)
    c = verbs.add_parser("check", help="check a label map against a model and the vocabulary",
                         description="Print how each label of MODEL translates (lineage, subset); a label map naming "
                                     "an id outside the vocabulary is an error.")
    c.add_argument("model", help="CellTypist model file (.pkl)")
    c.add_argument("--label-map", help="label map (default: scrna.annotate.celltypist.label_map of the config)")
    c.add_argument("--config", default="config/config.yaml", help="study config (vocabulary, label map)")
    c.set_defaults(func=run_check)


def run_train(args: argparse.Namespace) -> int:
    import anndata as ad
    import yaml

    from belimap.config import load_config, repo_path
    from belimap.errors import BelimapError
    from belimap.scrna.celltypist import (
        TrainParams, attach_labels, label_map_template, reference_labels, train_reference, write_model,
    )
    from belimap.scrna.embed import HvgParams
    from belimap.tables import read_table, write_text
    from belimap.vocab import load_vocabulary

    cfg = load_config(repo_path(args.config))
    params = TrainParams.from_config(cfg)
    if args.seed is not None:
        params = dataclasses.replace(params, seed=args.seed)
    if Path(args.out).suffix != ".pkl":
        raise BelimapError(f"-o {args.out}: a CellTypist model file must end in .pkl")
    atlas = Path(args.atlas)
    if not atlas.is_file():
        raise BelimapError(f"{atlas}: atlas h5ad not found")
    try:
        adata = ad.read_h5ad(atlas)
    except Exception as err:  # noqa: BLE001 - h5py/anndata raise many types for a file that is not an h5ad
        raise BelimapError(f"{atlas}: cannot be read as an h5ad ({type(err).__name__}: {err})") from None
    if args.obs:
        cols = [c for c in (args.labels, args.subset_labels) if c]
        table = read_table(args.obs, required=["sample_id", "barcode", *cols], what="label table")
        attach_labels(adata, table, cols, where=args.obs)
    labels = reference_labels(adata, args.labels, args.subset_labels, where=str(atlas))
    hvg = HvgParams.from_config(cfg)
    details = f"belimap reference train --labels {args.labels} {atlas.name}"
    model = train_reference(adata, labels, params=params, exclude=hvg.exclude, details=details)
    write_model(model, args.out)
    if args.label_map_template:
        vocab = load_vocabulary(cfg)
        text = yaml.safe_dump(label_map_template(model.cell_types, vocab), sort_keys=False, allow_unicode=True)
        write_text(text, args.label_map_template)
    n = int(labels.notna().sum())
    print(f"belimap: trained a CellTypist model on {n:,} cells, {len(model.cell_types)} labels, "
          f"{len(model.features):,} genes (seed {params.seed}) -> {args.out}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from belimap.config import load_config, repo_path
    from belimap.scrna.celltypist import CelltypistParams, load_model, read_label_map
    from belimap.vocab import load_vocabulary

    cfg = load_config(repo_path(args.config))
    path = args.label_map or CelltypistParams.from_config(cfg).label_map
    labels = read_label_map(path, load_vocabulary(cfg))
    model = load_model(args.model)
    missing = 0
    for label in map(str, model.cell_types):
        lin, sub = labels.get(label, (None, None))
        missing += lin is None
        print(f"{label}\t{lin or '(no lineage)'}\t{sub or ''}")
    print(f"belimap: {len(model.cell_types) - missing} of {len(model.cell_types)} model labels translate through {path}"
          + (f"; {missing} have no lineage (their cells take their best translated label's)" if missing else ""))
    return 0
