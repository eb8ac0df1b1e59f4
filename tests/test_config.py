"""Config validation: defaults filled, one-line errors naming the field."""

import pytest

from belimap.config import ROOT, load_config, validate_config
from belimap.errors import BelimapError


def test_demo_config_is_valid_and_defaults_are_filled():
    cfg = load_config(ROOT / "config" / "config.yaml")
    assert cfg["tissues"] == ["blood", "lymph_node", "synovium"]
    assert cfg["timepoints"][0] == "baseline"
    assert cfg["scrna"]["qc"]["nmads_mito"] == 3
    assert cfg["scrna"]["integrate"]["method"] == "harmony"


def test_missing_section_gets_schema_defaults():
    cfg = validate_config({"samples": "s.tsv", "tissues": ["blood"], "timepoints": ["baseline"]})
    assert cfg["scrna"]["hvg"]["n_top_genes"] == 2000
    assert cfg["simulate"]["enabled"] is False


@pytest.mark.parametrize(
    "change, field",
    [
        ({"scrna": {"qc": {"nmads_mito": "three"}}}, "scrna.qc.nmads_mito"),
        ({"tissues": ["blood", "blood"]}, "tissues"),
        ({"scrna": {"integrate": {"method": "bbknn"}}}, "scrna.integrate.method"),
    ],
)
def test_bad_values_are_refused_naming_the_field(change, field):
    with pytest.raises(BelimapError, match=f"field '{field}'"):
        load_config(ROOT / "config" / "config.yaml", change)


def test_design_must_use_declared_tissues():
    with pytest.raises(BelimapError, match="tissue 'spleen' is not in tissues"):
        load_config(ROOT / "config" / "config.yaml", {"simulate": {"design": {"spleen": ["baseline"]}}})


def test_broken_yaml_is_one_line(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("tissues: [blood\n")
    with pytest.raises(BelimapError, match="not valid YAML") as err:
        load_config(bad)
    assert "\n" not in str(err.value)
