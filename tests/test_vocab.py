"""The B-cell vocabulary (belimap.vocab): the concordance fields that say which subsets the flow ↔
scRNA comparison leaves out, and why."""

from __future__ import annotations

import pytest
import yaml

from belimap.errors import BelimapError
from belimap.vocab import DEFAULT_SUBSETS, load_vocabulary, read_subsets


def _one_subset(tmp_path, **extra):
    s = {"id": "naive", "label": "Naive", "colour": "#88CCEE", "lineage": "B", "markers": {"up": ["IGHD"]}, **extra}
    path = tmp_path / "subsets.yaml"
    path.write_text(yaml.safe_dump({"subsets": [s]}))
    return path


def test_left_out_subsets_say_why():
    vocab = load_vocabulary()
    left_out = {s.id: s.concordance_note for s in vocab.subsets if not s.concordance}
    assert set(left_out) == {"double_negative", "germinal_centre"}
    assert all(note.startswith("different definitions") for note in left_out.values())
    assert vocab.subset("naive").concordance and vocab.subset("naive").concordance_note == ""


def test_concordance_defaults_to_true_and_a_left_out_subset_needs_a_note(tmp_path):
    (s,) = read_subsets(_one_subset(tmp_path))
    assert s.concordance and s.concordance_note == ""
    (s,) = read_subsets(_one_subset(tmp_path, concordance=False, concordance_note="gates differ"))
    assert not s.concordance and s.concordance_note == "gates differ"
    with pytest.raises(BelimapError, match="concordance_note"):
        read_subsets(_one_subset(tmp_path, concordance=False))
    with pytest.raises(BelimapError, match="subsets.yaml"):
        read_subsets(_one_subset(tmp_path, concordance="no"))


def test_default_vocabulary_file_validates():
    assert [s.id for s in read_subsets(DEFAULT_SUBSETS)] == load_vocabulary().subset_ids
