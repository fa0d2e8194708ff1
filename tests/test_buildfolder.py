"""The build folder's one owner (haven.buildfolder): one manifest reader, one error, for every caller."""
from __future__ import annotations

import json

import pytest

from haven import buildfolder
from haven.buildfolder import ReleaseFolderError, read_manifest


def test_a_release_is_read_with_its_manifest(tmp_path):
    (tmp_path / buildfolder.MANIFEST).write_text(json.dumps({"id": "r1", "base": "https://example.org/"}))
    assert buildfolder.is_release(tmp_path)
    assert read_manifest(tmp_path)["id"] == "r1"
    assert buildfolder.built_for(tmp_path) == "https://example.org/"


@pytest.mark.parametrize("content, message", [
    (None, "run `haven build` first"),
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "is not a JSON object"),
    ('{"id": "r1"}', "lacks base"),
])
def test_every_broken_manifest_is_one_error_with_the_reason(tmp_path, content, message):
    if content is not None:
        (tmp_path / buildfolder.MANIFEST).write_text(content)
    with pytest.raises(ReleaseFolderError, match=message):
        read_manifest(tmp_path)
    assert buildfolder.built_for(tmp_path) is None


def test_callers_require_what_they_need(tmp_path):
    (tmp_path / buildfolder.MANIFEST).write_text(json.dumps({"id": "r1", "base": "https://example.org/"}))
    with pytest.raises(ReleaseFolderError, match="lacks graphs"):
        read_manifest(tmp_path, required=(*buildfolder.REQUIRED, "graphs"))


def test_the_layout_names_its_places(tmp_path):
    assert buildfolder.current(tmp_path) == tmp_path / "current"
    assert buildfolder.release_folder(tmp_path, "r1") == tmp_path / "releases" / "r1"
    assert buildfolder.store_folder(buildfolder.cache_root(tmp_path), "r1") == tmp_path / "cache" / "r1" / "oxigraph"



def test_prior_ontology_versions_are_the_kept_files_oldest_first(tmp_path):
    for name in ("ontology-1.10.0.ttl", "ontology-1.2.0.ttl", "ontology-x.ttl", "ontology.ttl", "ontology-2.0.ttl"):
        (tmp_path / name).write_text("")
    assert buildfolder.prior_ontology_versions(tmp_path) == ["1.2.0", "1.10.0"]
