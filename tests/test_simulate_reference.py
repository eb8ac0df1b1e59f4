"""The simulator's gene reference: the full feature space of a real 10x matrix."""
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from belimap.simulate.reference import derive_gene_reference, fit_dispersion_trend, read_gene_reference

REF = Path(__file__).resolve().parents[1] / "resources" / "simulate" / "gene_reference.tsv.gz"


def test_committed_reference_has_full_10x_feature_space():
    ref = read_gene_reference(REF)
    genes = ref["gene"]
    assert len(ref) >= 30_000 and genes.is_unique
    assert genes.str.startswith("MT-").sum() >= 13
    assert genes.str.match(r"^RP[LS]\d").sum() >= 50
    # the celltypist sample lacks IGHM/IGHD/IGHG/IGHA and IG/TR V genes: only these are present
    assert {"IGKC", "TRAC", "CD27", "MS4A1", "CD79A"} <= set(genes)
    assert np.isclose(ref["rel_abundance"].sum(), 1.0, atol=1e-3)
    # a real 10x matrix: most genes rarely detected, a few everywhere
    assert (ref["detection"] > 0).mean() < 0.6 and ref["detection"].max() > 0.95
    assert (ref["dispersion_trend"] > 0).all()


def test_trend_recovers_known_negative_binomial_dispersion():
    rng = np.random.default_rng(0)
    mu = np.exp(rng.uniform(-2, 3, 400))
    phi = 0.2
    counts = rng.negative_binomial(1 / phi, 1 / (1 + mu * phi), size=(3000, 400))
    table = derive_gene_reference(sp.csr_matrix(counts), [f"g{i}" for i in range(400)])
    a, _ = fit_dispersion_trend(table["mean_umis"].to_numpy(),
                                table["dispersion_trend"].to_numpy())
    assert abs(a - phi) < 0.05
