"""``belimap gate FCS --strategy FILE --out TSV [--events EVENTS.tsv]``: gate one FCS file.

The strategy may be belimap YAML, GatingML 2.0 (.xml) or a FlowJo workspace (.wsp); all three go
through the same evaluator as the workflow. ``--out`` gets one row per gate (count, % of parent,
% of all events, % of B cells); ``--events`` one row per event in file order with a 0/1 column per
gate ID; ``--export-gatingml`` writes the strategy as GatingML 2.0.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gate", help="gate one FCS file with a YAML, GatingML 2.0 or FlowJo .wsp strategy",
                       description=__doc__)
    p.add_argument("fcs", help="FCS 2.0/3.0/3.1 file")
    p.add_argument("--strategy", required=True, help="gating strategy (.yaml, GatingML .xml or FlowJo .wsp)")
    p.add_argument("--out", required=True, help="counts TSV (one row per gate)")
    p.add_argument("--events", help="per-event membership TSV (one row per event, one 0/1 column per gate)")
    p.add_argument("--export-gatingml", metavar="XML", help="also write the strategy as GatingML 2.0")
    p.add_argument("--qc", action="store_true", help="remove margin events and flow-rate anomalies first (flow.qc defaults)")
    p.add_argument("--matrix", help="spillover matrix file (CSV/TSV) instead of the file's $SPILLOVER")
    p.add_argument("--marker", action="append", default=[], metavar="PNN=MARKER",
                   help="name a channel's marker (repeatable), overriding $PnS")
    p.add_argument("--wsp-sample", help="sample of a FlowJo workspace whose gates are used")
    p.add_argument("--bcell-gate", default="CD19pos", help="B-cell gate of a GatingML/.wsp strategy (for pct_bcells)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from belimap.errors import BelimapError
    from belimap.flow.counts import counts_table, membership_table
    from belimap.flow.gating import gate_events
    from belimap.flow.io import read_fcs
    from belimap.flow.qc import QcParams, qc_events
    from belimap.flow.strategy import read_strategy, write_gatingml
    from belimap.tables import write_tsv

    markers = {}
    for item in args.marker:
        if "=" not in item:
            raise BelimapError(f"--marker '{item}': expected PNN=MARKER, e.g. FITC-A=IgD")
        k, v = item.split("=", 1)
        markers[k] = v
    strat = read_strategy(args.strategy, sample=args.wsp_sample, bcell_gate=args.bcell_gate)
    fcs = read_fcs(args.fcs, channel_markers=markers)
    keep = qc_events(fcs, "cli", params=QcParams())[0] if args.qc else None
    res = gate_events(strat, fcs, keep=keep, matrix_file=args.matrix)
    write_tsv(counts_table(res), args.out)
    if args.events:
        write_tsv(membership_table(res), args.events)
    if args.export_gatingml:
        write_gatingml(strat, args.export_gatingml)
    print(f"belimap: gated {fcs.n_events:,} events of {args.fcs} with {len(res.gate_ids)} gates -> {args.out}")
    return 0
