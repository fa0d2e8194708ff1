"""Release history (issue 13, item 7): three releases built with the CLI from trees that differ
(tests/plugins/history.py), their RDF Patches, changelogs and histories, and how the server answers them."""
from __future__ import annotations

import json
import re

import pyoxigraph as ox
import pytest
from rdflib import Dataset

from haven import buildfolder

pytestmark = pytest.mark.slow


# -- the RDF Patch ------------------------------------------------------------------------------------------

def _quads(text: str, blank_nodes: dict) -> set:
    """The quads of N-Quads text as rdflib reads them; one label is one blank node across calls."""
    dataset = Dataset()
    dataset.parse(data=text, format="nquads", bnode_context=blank_nodes)
    return {quad for quad in dataset.quads((None, None, None, None))}


def _apply(patch: str, quads: set, blank_nodes: dict) -> set:
    """RDF Patch applied to a set of quads, row by row: D removes the quad, A adds it."""
    result = set(quads)
    for row in patch.splitlines():
        code, _, rest = row.partition(" ")
        if code in ("A", "D"):
            (quad,) = _quads(rest + "\n", blank_nodes)
            if code == "A":
                result.add(quad)
            else:
                assert quad in result, f"the patch deletes a quad release N does not hold: {row}"
                result.discard(quad)
    return result


def test_patch_applied_to_each_release_gives_the_next(history_builds):
    for older, newer in zip(history_builds.ids, history_builds.ids[1:]):
        blank_nodes: dict = {}  # the canonical labels name the same node in both releases and the patch
        before = _quads((history_builds.folder(older) / buildfolder.NQUADS).read_text(), blank_nodes)
        after = _quads((history_builds.folder(newer) / buildfolder.NQUADS).read_text(), blank_nodes)
        patch = (history_builds.folder(newer) / buildfolder.PATCH).read_text()
        assert before != after
        assert _apply(patch, before, blank_nodes) == after


def test_first_release_has_a_history_and_no_patch(history_builds):
    first = history_builds.folder(history_builds.ids[0])
    assert not (first / buildfolder.PATCH).exists() and not (first / buildfolder.CHANGES).exists()
    document = json.loads((first / buildfolder.HISTORY).read_text())
    assert document["previous"] is None and document["earlier"] == []
    assert document["entities"]["al-qaeda"] == [history_builds.ids[0]] * 2


#: RDF Patch's rows (https://afs.github.io/rdf-patch/ §Structure): a header `H word term .`, the transaction
#: markers, and changes `A`/`D` followed by a triple or quad in N-Triples/N-Quads syntax. No PyPI package
#: parses RDF Patch (rdf-delta 0.2.5 is a client of the RDF Delta server's HTTP API only), so the rows are
#: checked here: the codes by the grammar, the terms by pyoxigraph's N-Quads parser.
_HEADER = re.compile(r"H ([A-Za-z][A-Za-z0-9_-]*) (<[^<>\"{}|^`\\\s]*>) \.")


def test_patch_rows_follow_the_rdf_patch_grammar(history_builds):
    for newer in history_builds.ids[1:]:
        rows = (history_builds.folder(newer) / buildfolder.PATCH).read_text().splitlines()
        headers = dict(_HEADER.fullmatch(row).groups() for row in rows if row.startswith("H "))
        assert len(headers) == len([row for row in rows if row.startswith("H ")])
        older = history_builds.ids[history_builds.ids.index(newer) - 1]
        assert headers == {"id": f"<https://w3id.org/haven/releases/{newer}>",
                           "prev": f"<https://w3id.org/haven/releases/{older}>"}
        body = rows[len(headers):]
        assert body[0] == "TX ." and body[-1] == "TC ."
        changes = body[1:-1]
        assert changes and all(row[:2] in ("A ", "D ") for row in changes)
        # deletions before additions, so that a quad both removed and added (none here) would end present
        codes = [row[0] for row in changes]
        assert codes == sorted(codes, key="DA".index)
        for row in changes:
            (quad,) = list(ox.parse(row[2:] + "\n", format=ox.RdfFormat.N_QUADS))
            assert isinstance(quad.graph_name, ox.NamedNode)


# -- the changelog and the first and last release of each IRI ------------------------------------------------

def _slugs(changes: dict, kind: str, what: str) -> set[str]:
    return {item["slug"] for item in changes[kind][what]}


def test_changelog_of_release_2_adds_and_changes(history_builds):
    changes = json.loads((history_builds.folder(history_builds.ids[1]) / buildfolder.CHANGES).read_text())
    assert changes["release"] == history_builds.ids[1] and changes["previous"] == history_builds.ids[0]
    assert _slugs(changes, "entities", "added") == {"jason-burke", "tony-blair"}
    # the Taliban's definition; al-qaeda and the Taliban through the alliance statement; bin Laden through
    # the statement added about him
    assert _slugs(changes, "entities", "changed") == {"taliban", "al-qaeda", "osama-bin-laden"}
    assert _slugs(changes, "statements", "added") == {"statement/leadership-osama-bin-laden-taliban"}
    assert _slugs(changes, "statements", "changed") == {"statement/alliance-al-qaeda-taliban"}
    assert not any(changes[kind][what] for kind in ("entities", "statements") for what in ("deprecated", "removed"))
    labels = {item["slug"]: item["label"] for item in changes["entities"]["added"]}
    assert labels["jason-burke"] == "Jason Burke"
    assert changes["graphs"]["ontology"] == {"added": 0, "removed": 0}
    assert changes["quads"]["added"] == sum(graph["added"] for graph in changes["graphs"].values())


def test_changelog_of_release_3_deprecates_and_moves(history_builds):
    changes = json.loads((history_builds.folder(history_builds.ids[2]) / buildfolder.CHANGES).read_text())
    deprecated = {item["slug"]: item["moved"] for item in changes["entities"]["deprecated"]}
    assert deprecated == {"al-qaeda": {"sameAs": "al-qaida"}, "tony-blair": {"deprecated": True}}
    assert _slugs(changes, "entities", "added") == {"al-qaida"}
    assert _slugs(changes, "statements", "deprecated") == {
        "statement/leadership-osama-bin-laden-taliban", "statement/alliance-al-qaeda-taliban",
        "statement/leadership-osama-bin-laden-al-qaeda"}
    summaries = {item["slug"]: item["label"] for item in changes["statements"]["added"]}
    assert summaries["statement/alliance-al-qaida-taliban"] == "The two groups were allied (test fixture)."


def test_history_gives_each_iri_its_first_and_last_release(history_builds):
    one, two, three = history_builds.ids
    document = json.loads((history_builds.folder(three) / buildfolder.HISTORY).read_text())
    assert document["previous"] == two
    assert [release["id"] for release in document["earlier"]] == [two, one]
    assert document["earlier"][0]["previous"] == one and document["earlier"][1]["previous"] is None
    manifest = json.loads((history_builds.folder(two) / buildfolder.MANIFEST).read_text())
    assert document["earlier"][0]["sha256"] == manifest["sha256"]
    assert document["earlier"][0]["triples"] == manifest["triples"]
    entities = document["entities"]
    assert entities["farhan-zahid"] == [one, one]  # never changed
    assert entities["jason-burke"] == [two, two]
    assert entities["tony-blair"] == [two, three]
    assert entities["al-qaida"] == [three, three]
    assert entities["al-qaeda"] == [one, three]
    assert entities["taliban"] == [one, three]


def test_rebuilding_the_same_sources_keeps_the_release_and_its_history(history_builds, tmp_path):
    from plugins.builds import build
    current = history_builds.folder(history_builds.ids[2])
    before = {name: (current / name).read_bytes() for name in (buildfolder.HISTORY, buildfolder.CHANGES)}
    result = build(history_builds.root, history_builds.build_dir, "--skip-reasoner")
    assert result.exit_code == 0, result.output
    assert (history_builds.build_dir / "current").readlink().name == history_builds.ids[2]
    assert {name: (current / name).read_bytes() for name in before} == before
