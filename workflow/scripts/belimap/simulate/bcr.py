"""Simulated BCR contigs for the demo's scRNA cells, with clonal families that span tissues.

Every B-lineage cell of ``truth/cells.tsv`` gets a receptor. A patient has a pool of *systemic*
families (met in every tissue and timepoint: recirculating memory and plasma-cell clones) and, per
tissue, a pool of *local* families; a cell joins a family with its subset's ``clonal_fraction`` (a
systemic one with its tissue's ``systemic_fraction``, family chosen with Zipf weights) and is
otherwise a clone of its own. Family members share V/D/J genes and junction length and differ by
somatic mutations at their subset's ``shm_rate``; the heavy constant gene follows the cell's subset.
Contig recovery is imperfect as in 10x data: cells without contigs, orphan chains, a second light
chain, non-productive contigs, doublets with two receptors and ambient light chains in other
lineages. Files are 10x ``filtered_contig_annotations.csv`` or AIRR TSV by the sheet's path; the
true clones and the true between-tissue sharing go to ``truth/bcr/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from belimap.bcr.repertoire import SharingParams, sharing_table
from belimap.errors import BelimapError
from belimap.tables import atomic_path, read_table, write_tsv
from belimap.simulate.cohort import Cohort, sample_sheet

BASES = np.array(list("ACGT"))
CODON_TABLE = {
    a + b + c: aa
    for (a, b, c), aa in zip(
        [(x, y, z) for x in "TCAG" for y in "TCAG" for z in "TCAG"],
        "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
        strict=True,
    )
}
SENSE = [c for c, aa in CODON_TABLE.items() if aa != "*"]
TENX_HEADER = ["barcode", "is_cell", "contig_id", "high_confidence", "length", "chain", "v_gene", "d_gene", "j_gene",
               "c_gene", "full_length", "productive", "cdr3", "cdr3_nt", "reads", "umis", "raw_clonotype_id",
               "raw_consensus_id"]
AIRR_HEADER = ["cell_id", "sequence_id", "sequence", "rev_comp", "productive", "v_call", "d_call", "j_call", "c_call",
               "locus", "junction", "junction_aa", "junction_length", "sequence_alignment", "germline_alignment",
               "v_cigar", "d_cigar", "j_cigar", "umi_count", "consensus_count"]
TRUTH_COLUMNS = ["sample_id", "barcode", "patient_id", "tissue", "timepoint", "lineage", "bcell_subset", "clone_id",
                 "family", "c_call", "n_contigs", "observable"]


def translate(nt: str) -> str:
    return "".join(CODON_TABLE.get(nt[i:i + 3], "X") for i in range(0, len(nt) - 2, 3))


@dataclass
class Chain:
    """A germline (family) chain: locus, genes and junction."""

    locus: str
    v: str
    d: str
    j: str
    junction: str


def _junction(rng: np.random.Generator, n_aa: int, heavy: bool) -> str:
    """C…W (heavy) or C…F (light) junction of ``n_aa`` codons without stop codons."""
    start = ["TGT", "GCG", "AGA"] if heavy else ["TGT", "CAG", "CAG"]
    end = "TGG" if heavy else "TTC"
    mid = [SENSE[i] for i in rng.integers(0, len(SENSE), n_aa - len(start) - 1)]
    return "".join(start + mid) + end


def _chain(rng: np.random.Generator, p: dict, locus: str) -> Chain:
    g = p["genes"]
    lo, hi = p["junction_aa_length"]["heavy" if locus == "IGH" else "light"]
    n_aa = int(rng.integers(lo, hi + 1))
    pick = lambda key: str(rng.choice(g[key]))  # noqa: E731
    if locus == "IGH":
        return Chain("IGH", pick("IGHV"), pick("IGHD"), pick("IGHJ"), _junction(rng, n_aa, True))
    return Chain(locus, pick(f"{locus}V"), "", pick(f"{locus}J"), _junction(rng, n_aa, False))


def _family(rng: np.random.Generator, p: dict) -> tuple[Chain, Chain]:
    light = "IGK" if rng.random() < p["kappa_fraction"] else "IGL"
    return _chain(rng, p, "IGH"), _chain(rng, p, light)


def _mutate(rng: np.random.Generator, nt: str, rate: float) -> str:
    """Point mutations away from the conserved first and last codon; codons that turn into stops revert."""
    if rate <= 0:
        return nt
    seq = np.array(list(nt))
    pos = np.flatnonzero(rng.random(len(seq)) < rate)
    pos = pos[(pos >= 3) & (pos < len(seq) - 3)]
    for i in pos:
        seq[i] = rng.choice(BASES[BASES != seq[i]])
    out = "".join(seq)
    codons = [out[i:i + 3] if CODON_TABLE[out[i:i + 3]] != "*" else nt[i:i + 3] for i in range(0, len(out), 3)]
    return "".join(codons)


def _weights(n: int, s: float) -> np.ndarray:
    w = np.arange(1, n + 1, dtype=float) ** -s
    return w / w.sum()


def simulate_receptors(cohort: Cohort, cells: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contigs (one row per contig, 10x-like fields) and per-cell truth for the cells of ``truth/cells.tsv``."""
    p = cohort.params["bcr"]
    blin = set(cohort.vocab.bcell_lineages)
    spec = cohort.specimens.set_index("sample_id")
    cells = cells[cells["sample_id"].isin(spec.index)].copy()
    for col in ("is_doublet", "is_low_quality"):
        cells[col] = cells[col].astype(str).str.lower().isin(["true", "1"]) if col in cells.columns else False
    contigs, truth = [], []
    for patient, pc in cells.groupby(cells["sample_id"].map(spec["patient_id"]), sort=True):
        prng = np.random.default_rng(cohort.specimen_seed(str(patient), "bcr_families"))
        systemic = [_family(prng, p) for _ in range(int(p["n_systemic_families"]))]
        local: dict[str, list] = {}
        for sid, sc in pc.groupby("sample_id", sort=False):
            tissue, tp = spec.loc[sid, "tissue"], spec.loc[sid, "timepoint"]
            if tissue not in local:
                lrng = np.random.default_rng(cohort.specimen_seed(f"{patient}_{tissue}", "bcr_local"))
                local[tissue] = [_family(lrng, p) for _ in range(int(p["n_local_families"]))]
            rng = np.random.default_rng(cohort.specimen_seed(sid, "bcr"))
            for k, cell in enumerate(sc.to_dict("records")):
                rows, rec = _cell_receptor(rng, p, cell, patient, tissue, systemic, local[tissue], blin, f"{sid}_{k}")
                contigs.extend(rows)
                truth.append({**rec, "sample_id": sid, "barcode": cell["barcode"], "patient_id": patient,
                              "tissue": tissue, "timepoint": tp, "lineage": cell["lineage"],
                              "bcell_subset": cell["bcell_subset"] if isinstance(cell["bcell_subset"], str) else ""})
    return pd.DataFrame(contigs), pd.DataFrame(truth)[TRUTH_COLUMNS]


def _cell_receptor(rng, p, cell, patient, tissue, systemic, local, blin, uid) -> tuple[list[dict], dict]:
    """The contigs of one cell and its truth record."""
    bc, subset = cell["barcode"], cell["bcell_subset"] if isinstance(cell["bcell_subset"], str) else ""
    is_b = cell["lineage"] in blin and not cell["is_doublet"]
    rec = {"clone_id": "", "family": "", "c_call": "", "n_contigs": 0, "observable": False}
    chains: list[tuple[str, str, str, str, str, str, bool, int]] = []  # locus, v, d, j, c, junction, productive, umis

    def add(ch: Chain, c: str, rate: float, umi_scale: float) -> None:
        chains.append((ch.locus, ch.v, ch.d, ch.j, c, _mutate(rng, ch.junction, rate), True,
                       int(1 + rng.poisson(6 * umi_scale))))

    if is_b:
        if rng.random() < p["clonal_fraction"].get(subset, 0.0):
            if rng.random() < p["systemic_fraction"].get(tissue, 0.5):
                i = int(rng.choice(len(systemic), p=_weights(len(systemic), p["family_zipf"])))
                (heavy, light), rec["clone_id"], rec["family"] = systemic[i], f"{patient}_s{i + 1}", "systemic"
            else:
                i = int(rng.choice(len(local), p=_weights(len(local), p["family_zipf"])))
                (heavy, light), rec["clone_id"], rec["family"] = local[i], f"{patient}_{tissue}_l{i + 1}", "local"
        else:
            (heavy, light), rec["clone_id"], rec["family"] = _family(rng, p), f"{patient}_p{uid}", "private"
        iso = p["isotypes"].get(subset) or {"IGHM": 1.0}
        c_heavy = str(rng.choice(list(iso), p=np.array(list(iso.values())) / sum(iso.values())))
        c_light = "IGKC" if light.locus == "IGK" else str(rng.choice(p["genes"]["IGLC"]))
        rate = p["shm_rate"].get(subset, 0.0)
        scale = 10.0 if cell["lineage"] == "plasma" or subset in ("plasmablast", "plasma_cell") else 1.0
        u = rng.random()
        has_heavy = u >= p["no_contig"] and not (p["no_contig"] + p["heavy_only"] <= u < p["no_contig"]
                                                  + p["heavy_only"] + p["light_only"])
        has_light = u >= p["no_contig"] + p["heavy_only"]
        if has_heavy:
            add(heavy, c_heavy, rate, scale)
            rec["c_call"] = c_heavy
        if has_light:
            add(light, c_light, rate, scale)
        if (has_heavy or has_light) and rng.random() < p["extra_light"]:
            extra = _chain(rng, p, "IGK" if rng.random() < p["kappa_fraction"] else "IGL")
            add(extra, "IGKC" if extra.locus == "IGK" else str(rng.choice(p["genes"]["IGLC"])), rate, 0.3 * scale)
        if (has_heavy or has_light) and rng.random() < p["nonproductive"]:
            bad = _chain(rng, p, "IGH")
            chains.append(("IGH", bad.v, bad.d, bad.j, c_heavy, bad.junction[:-4] + bad.junction[-3:], False, 1))
        rec["observable"] = bool(has_heavy and not cell.get("is_low_quality", False))
    elif cell["is_doublet"] and rng.random() < p["doublet_bcr"]:
        for _ in range(1 + int(rng.random() < 0.5)):
            heavy, light = _family(rng, p)
            add(heavy, "IGHM", 0.0, 1.0)
            add(light, "IGKC" if light.locus == "IGK" else "IGLC2", 0.0, 1.0)
    elif not cell["is_doublet"] and rng.random() < p["ambient"]:
        light = systemic[int(rng.integers(len(systemic)))][1]
        chains.append((light.locus, light.v, "", light.j, "IGKC" if light.locus == "IGK" else "IGLC2",
                       light.junction, True, 1))
    rows = []
    for k, (locus, v, d, j, c, junction, productive, umis) in enumerate(chains, start=1):
        rows.append({"barcode": bc, "sample_id": cell["sample_id"], "contig_id": f"{bc}_contig_{k}", "chain": locus,
                     "v_gene": v, "d_gene": d or "None", "j_gene": j, "c_gene": c, "productive": productive,
                     "cdr3": translate(junction) if productive else "None",
                     "cdr3_nt": junction if productive else "None",
                     "umis": umis, "reads": umis * int(rng.integers(40, 400)), "length": int(rng.integers(480, 660))})
    rec["n_contigs"] = len(rows)
    return rows, rec


def write_10x_contigs(contigs: pd.DataFrame, path: str | Path) -> None:
    """Cell Ranger ``filtered_contig_annotations.csv`` (one row per contig)."""
    df = contigs.copy()
    df["is_cell"], df["high_confidence"], df["full_length"] = True, True, True
    df["raw_clonotype_id"], df["raw_consensus_id"] = "None", "None"
    with atomic_path(path) as tmp:
        df.reindex(columns=TENX_HEADER).to_csv(tmp, index=False)


def write_airr_contigs(contigs: pd.DataFrame, path: str | Path) -> None:
    """AIRR rearrangement TSV as an IgBLAST/Cell Ranger AIRR export has it (allele-level gene calls)."""
    allele = lambda s: s.map(lambda g: f"{g}*01" if isinstance(g, str) and g not in ("", "None") else "")  # noqa: E731
    df = pd.DataFrame({
        "cell_id": contigs["barcode"], "sequence_id": contigs["contig_id"], "sequence": "", "rev_comp": "F",
        "productive": contigs["productive"].map({True: "T", False: "F"}), "v_call": allele(contigs["v_gene"]),
        "d_call": allele(contigs["d_gene"]), "j_call": allele(contigs["j_gene"]), "c_call": contigs["c_gene"],
        "locus": contigs["chain"], "junction": contigs["cdr3_nt"].replace("None", ""),
        "junction_aa": contigs["cdr3"].replace("None", ""), "sequence_alignment": "", "germline_alignment": "",
        "v_cigar": "", "d_cigar": "", "j_cigar": "", "umi_count": contigs["umis"], "consensus_count": contigs["reads"],
    })
    df["junction_length"] = df["junction"].str.len()
    with atomic_path(path) as tmp:
        df.reindex(columns=AIRR_HEADER).to_csv(tmp, sep="\t", index=False)


def draw_cells(cohort: Cohort, doublet_rate: float = 0.05) -> pd.DataFrame:
    """Cell labels drawn from the cohort's true proportions, in the layout of ``truth/cells.tsv``.

    A stand-in for the scRNA simulator when only the BCR layer is studied (tests, benchmarks): no
    count matrices are written, so a study is drawn in milliseconds.
    """
    vocab, n = cohort.vocab, int(cohort.params["cells_per_sample"])
    sub_lineage = {s.id: s.lineage for s in vocab.subsets}
    out = []
    for sid in cohort.specimens["sample_id"]:
        rng = np.random.default_rng(cohort.specimen_seed(sid, "bcr_cells"))
        lp, sp_ = cohort.lineage_probs.loc[sid], cohort.subset_probs.loc[sid]
        lin = rng.choice(lp.index.to_numpy(), size=n, p=(lp / lp.sum()).to_numpy())
        sub = rng.choice(sp_.index.to_numpy(), size=n, p=(sp_ / sp_.sum()).to_numpy())
        is_b = lin == "B_lineage"
        lineage = np.where(is_b, [sub_lineage[s] for s in sub], lin)
        doublet = rng.random(n) < doublet_rate
        out.append(pd.DataFrame({
            "sample_id": sid, "barcode": [f"{''.join(rng.choice(BASES, 16))}-1" for _ in range(n)],
            "lineage": np.where(doublet, "doublet", lineage), "bcell_subset": np.where(is_b & ~doublet, sub, ""),
            "is_doublet": doublet, "is_low_quality": False}))
    cells = pd.concat(out, ignore_index=True)
    return cells.drop_duplicates(["sample_id", "barcode"]).reset_index(drop=True)


def write_bcr_study(cohort: Cohort, outdir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A BCR-only study for tests and benchmarks: the sheet, cells from :func:`draw_cells` (saved as
    ``truth/cells.tsv``) and every BCR file with its truth; returns (sheet, cells)."""
    outdir = Path(outdir)
    sheet = sample_sheet(cohort, outdir)
    cells = draw_cells(cohort)
    write_tsv(cells, outdir / "truth" / "cells.tsv")
    write_all(cohort, sheet, outdir)
    return sheet, cells


def write_all(cohort: Cohort, sheet: pd.DataFrame, outdir: str | Path) -> None:
    """Write the BCR file of every ``bcr`` row of ``sheet`` and the truth under ``outdir/truth/bcr``."""
    outdir = Path(outdir)
    cells = read_table(outdir / "truth" / "cells.tsv", ["sample_id", "barcode", "lineage", "bcell_subset"],
                       "scRNA truth (run the scRNA simulator first)")
    rows = sheet[sheet["modality"] == "bcr"]
    missing = sorted(set(rows["sample_id"]) - set(cells["sample_id"]))
    if missing:
        raise BelimapError(f"{outdir / 'truth' / 'cells.tsv'}: no cells for BCR sample '{missing[0]}'; "
                           "expected the scRNA truth of every BCR specimen")
    contigs, truth = simulate_receptors(cohort, cells[cells["sample_id"].isin(rows["sample_id"])])
    by_sample = dict(tuple(contigs.groupby("sample_id", sort=False))) if len(contigs) else {}
    for row in rows.to_dict("records"):
        c = by_sample.get(row["sample_id"], pd.DataFrame(columns=contigs.columns))
        if str(row["path"]).endswith("_airr.tsv"):
            write_airr_contigs(c, row["path"])
        else:
            write_10x_contigs(c, row["path"])
    truth_dir = outdir / "truth" / "bcr"
    write_tsv(truth, truth_dir / "cells.tsv")
    write_tsv(true_sharing(truth, cohort), truth_dir / "sharing.tsv")


def true_sharing(truth: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Jaccard and Morisita–Horn between tissues per patient × timepoint over the observable cells' true clones.

    Observable: a B-lineage singlet of good quality whose heavy chain is in the file, i.e. a cell the
    pipeline can place in a clone.
    """
    obs = truth[truth["observable"].astype(bool)]
    spec = cohort.specimens[cohort.specimens["sample_id"].isin(truth["sample_id"])]
    params = SharingParams.from_config({"seed": cohort.params["seed"], "bcr": {"sharing": {"min_cells": 1}}})
    return sharing_table(obs, spec, tissues=list(cohort.params["design"]), params=params)
