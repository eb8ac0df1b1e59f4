"""The comparison branch's one-call-per-rule functions (belimap.compare.pipeline): reads, writes, typed parameters."""

from __future__ import annotations

import pandas as pd

from belimap.compare.pipeline import CompareParams, composition_figure_files, composition_tests_file, volcano_files
from belimap.compare.simulate import simulated_study
from belimap.compare.stats import CompositionParams, study_tests
from belimap.config import ROOT, load_config
from belimap.tables import read_tsv, write_tsv
from belimap.vocab import load_vocabulary

CFG = load_config(ROOT / "config" / "config.yaml")


def test_params_take_the_schema_defaults_and_the_section_seed():
    p = CompareParams.from_config({"seed": 5, "compare": {"composition": {"min_pairs": 4}}})
    assert p.seed == 5 and p.composition.min_pairs == 4 and p.composition == CompositionParams(min_pairs=4)
    assert p.pseudobulk.alpha == 0.05 and p.scores.gene_sets == "resources/markers/gene_sets.yaml"
    assert CompareParams.from_config({"seed": 5, "compare": {"seed": 9}}).seed == 9


def test_composition_files_match_the_library(tmp_path):
    """The rule's table is the library's on the same counts (the TSV round trip changes nothing);
    the figures of each modality come from its own rows."""
    vocab = load_vocabulary(CFG)
    T, P = CFG["tissues"], CFG["timepoints"]
    comps = {"scrna": simulated_study(CFG, seed=3), "flow": simulated_study(CFG, seed=4)}
    paths = {}
    for m, comp in comps.items():
        paths[m] = tmp_path / f"{m}.tsv"
        write_tsv(comp, paths[m])
    params = CompareParams.from_config(CFG)
    composition_tests_file(paths, vocab, params=params, tissues=T, timepoints=P, out=tmp_path / "tests.tsv")
    write_tsv(study_tests(comps, vocab, tissues=T, timepoints=P, params=params.composition), tmp_path / "direct.tsv")
    assert (tmp_path / "tests.tsv").read_bytes() == (tmp_path / "direct.tsv").read_bytes()
    figs = {k: tmp_path / f"{k}.png" for k in ("forest", "heatmap", "paired")}
    composition_figure_files(tmp_path / "tests.tsv", paths["flow"], vocab, modality="flow", params=params,
                             tissues=T, timepoints=P, **figs)
    for path in figs.values():
        assert path.read_bytes()[:4] == b"\x89PNG" and path.with_suffix(".pdf").read_bytes()[:4] == b"%PDF"


def test_volcano_files_one_figure_per_tissue(tmp_path):
    vocab = load_vocabulary(CFG)
    de = pd.DataFrame({"gene": ["G1", "NA"], "timepoint": "week12", "reference": "baseline",
                       "log2_fold_change": [1.0, -2.0], "p_value": [0.001, 0.01], "padj": [0.01, 0.04]})
    tables = [tmp_path / "naive_blood.tsv", tmp_path / "naive_synovium.tsv"]
    write_tsv(de, tables[0])
    write_tsv(de.iloc[0:0], tables[1])
    assert read_tsv(tables[0])["gene"].tolist() == ["G1", "NA"]  # a gene called NA stays a gene
    figures = [tmp_path / "volcano_blood.png", tmp_path / "volcano_synovium.png"]
    volcano_files(tables, vocab, pairs=[("naive", "blood"), ("naive", "synovium")], tissues=["blood", "synovium"],
                  params=CompareParams.from_config(CFG), figures=figures)
    assert all(f.exists() and f.with_suffix(".pdf").exists() for f in figures)
