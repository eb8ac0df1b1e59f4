"""Generated sentences: each section's result stated with its numbers, from the saved tables."""

from __future__ import annotations

import pandas as pd


def _f(v: float, digits: int = 2) -> str:
    return f"{v:.{digits}g}" if abs(v) < 0.01 else f"{v:.{digits}f}"


def design_text(sheet: pd.DataFrame, consort: pd.DataFrame | None) -> list[str]:
    mods = ", ".join(f"{m} ({n} files)" for m, n in sheet["modality"].value_counts(sort=False).items())
    out = [f"{sheet['patient_id'].nunique()} patients contributed {sheet['sample_id'].nunique()} specimens "
           f"from {sheet['tissue'].nunique()} tissue(s) ({', '.join(map(str, sheet['tissue'].unique()))}) at "
           f"{sheet['timepoint'].nunique()} timepoint(s) ({', '.join(map(str, sheet['timepoint'].unique()))}): {mods}."]
    if consort is not None and {"stage", "n"} <= set(consort.columns):
        n = consort.drop_duplicates("stage").set_index("stage")["n"]
        if "assessed" in n:
            out.append(f"Of {n['assessed']} patients assessed for eligibility, {n.get('excluded', 0)} were excluded "
                       f"and {n.get('enrolled', 0)} enrolled.")
    return out


def qc_text(qc: pd.DataFrame | None) -> list[str]:
    if qc is None or not {"cells_in", "cells_kept"} <= set(qc.columns):
        return []
    cin, kept = qc["cells_in"].sum(), qc["cells_kept"].sum()
    out = [f"Quality control kept {kept:,} of {cin:,} cells ({100 * kept / max(cin, 1):.1f}%) across "
           f"{len(qc)} scRNA-seq files."]
    if "median_genes" in qc:
        out.append(f"Median genes per cell ranged from {qc['median_genes'].min():.0f} to "
                   f"{qc['median_genes'].max():.0f} per file.")
    return out


def scrna_text(comp: pd.DataFrame | None, accuracy: pd.DataFrame | None) -> list[str]:
    out = []
    if comp is not None and {"subset", "n_cells", "fraction"} <= set(comp.columns) and not comp.empty:
        mean = comp.groupby("subset")["fraction"].mean().sort_values(ascending=False)
        out.append(f"{int(comp['n_cells'].sum()):,} B cells were assigned to {comp['subset'].nunique()} subsets; "
                   f"the most abundant on average was {mean.index[0]} ({100 * mean.iloc[0]:.1f}% of B cells).")
    if accuracy is not None and {"metric", "value"} <= set(accuracy.columns):
        acc = accuracy.set_index("metric")["value"]
        if "lineage_accuracy" in acc:
            out.append(f"Against the simulator's truth, lineage accuracy was {float(acc['lineage_accuracy']):.3f}"
                       + (f" and B-subset macro-F1 {float(acc['bcell_subset_macro_f1']):.3f}."
                          if "bcell_subset_macro_f1" in acc else "."))
    return out


def composition_text(tests: pd.DataFrame | None, fdr: float) -> list[str]:
    need = {"subset", "tissue", "timepoint", "reference", "log_odds_ratio", "ci_low", "ci_high", "q_value"}
    if tests is None or not need <= set(tests.columns):
        return []
    testable = tests[tests["q_value"].notna()]
    sig = testable[testable["q_value"] < fdr].sort_values("q_value")
    out = [f"{len(testable)} of {len(tests)} subset contrasts were testable; {len(sig)} changed at q < {fdr:g}."]
    for _, r in sig.head(3).iterrows():
        out.append(f"{r['subset']} in {r['tissue']} ({r['timepoint']} vs {r['reference']}): log odds ratio "
                   f"{_f(r['log_odds_ratio'])} (CI {_f(r['ci_low'])} to {_f(r['ci_high'])}), q = {_f(r['q_value'])}.")
    if sig.empty and not testable.empty:
        best = testable.sort_values("q_value").iloc[0]
        out.append(f"The smallest q was {_f(best['q_value'])} ({best['subset']} in {best['tissue']}).")
    elif testable.empty and "note" in tests and tests["note"].notna().any():
        out.append(f"Why not: {tests['note'].dropna().iloc[0]}.")
    return out


def de_text(de: pd.DataFrame | None) -> list[str]:
    if de is None or not {"status", "n_significant"} <= set(de.columns):
        return []
    run = de[de["status"] != "skipped"]
    return [f"Pseudobulk differential expression ran for {len(run)} of {len(de)} subset × tissue × timepoint "
            f"contrasts and found {int(de['n_significant'].sum())} significant genes in total."]


def model_text(summary: pd.DataFrame | None) -> list[str]:
    if summary is None or not {"key", "value"} <= set(summary.columns):
        return []
    s = summary.set_index("key")["value"].astype(str)
    if s.get("status") == "not_fitted":
        return [f"The response model ({s.get('outcome', 'outcome')}) was not fitted: "
                f"{s.get('note', s.get('reason', 'too few patients'))} (n = {s.get('n_patients', '?')})."]
    extra = "; ".join(f"{k} {v}" for k, v in s.items() if k not in ("status", "outcome"))
    return [f"Response model for {s.get('outcome', 'the outcome')}: {extra}."]
