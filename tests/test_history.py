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


# -- what the server answers ----------------------------------------------------------------------------------

import hashlib  # noqa: E402

from rdflib import Graph, Literal, Namespace, URIRef  # noqa: E402
from rdflib.namespace import OWL, PROV  # noqa: E402

from haven.config import Settings  # noqa: E402
from haven.web.app import create_app  # noqa: E402

#: open: rdflib's DCAT lists DCAT 2's terms and warns on DCAT 3's versioning ones
DCAT = Namespace("http://www.w3.org/ns/dcat#")

BASE = "https://w3id.org/haven/"
SPDX = Namespace("http://spdx.org/rdf/terms#")


@pytest.fixture(scope="module")
def history_client(history_builds):
    app = create_app(Settings(build_dir=history_builds.build_dir))
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["haven"].close()


def _manifest(history_builds, release_id: str) -> dict:
    return json.loads((history_builds.folder(release_id) / buildfolder.MANIFEST).read_text())


def test_get_releases_json_lists_every_release_with_its_facts(history_builds, history_client):
    response = history_client.get("/releases", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    releases = response.json["releases"]
    assert [r["id"] for r in releases] == history_builds.ids[::-1]
    assert [r["previous"] for r in releases] == [*history_builds.ids[::-1][1:], None]
    assert [r["served"] for r in releases] == [True, False, False]
    for release in releases:
        manifest = _manifest(history_builds, release["id"])
        assert {key: release[key] for key in ("created", "triples", "graphs", "sha256")} == \
               {key: manifest[key] for key in ("created", "triples", "graphs", "sha256")}


def test_every_dump_listed_resolves_to_the_bytes_its_hash_names(history_builds, history_client):
    for release in history_client.get("/releases", headers={"Accept": "application/json"}).json["releases"]:
        assert len(release["dumps"]) == 4
        for dump in release["dumps"]:
            response = history_client.get(dump["url"])
            assert response.status_code == 200 and response.mimetype == dump["media_type"], dump
            name = dump["url"].rsplit("/", 1)[1]
            assert hashlib.sha256(response.data).hexdigest() == release["sha256"][name]
        packed = history_client.get(release["dumps"][0]["url"] + ".gz")
        assert packed.status_code == 200 and packed.mimetype == "application/gzip"


def test_get_releases_turtle_describes_each_version_in_dcat_and_prov(history_builds, history_client):
    response = history_client.get("/releases", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.data, format="turtle")
    dataset = URIRef(BASE + "dataset")
    one, two, three = (URIRef(f"{BASE}releases/{i}") for i in history_builds.ids)
    assert set(graph.objects(dataset, DCAT.hasVersion)) == {one, two, three}
    assert graph.value(dataset, DCAT.hasCurrentVersion) == three
    assert graph.value(three, PROV.wasRevisionOf) == two and graph.value(two, DCAT.previousVersion) == one
    assert graph.value(one, PROV.wasRevisionOf) is None
    manifest = _manifest(history_builds, history_builds.ids[1])
    nq = URIRef(f"{two}/haven.nq")
    assert (two, DCAT.distribution, nq) in graph and graph.value(nq, DCAT.downloadURL) == nq
    checksum = graph.value(nq, SPDX.checksum)
    assert str(graph.value(checksum, SPDX.checksumValue)) == manifest["sha256"]["haven.nq"]
    assert graph.value(two, URIRef("http://rdfs.org/ns/void#triples")) == Literal(manifest["triples"])


def test_get_releases_html_has_an_anchor_per_release(history_builds, history_client):
    page = history_client.get("/releases", headers={"Accept": "text/html"}).get_data(as_text=True)
    for release_id in history_builds.ids:
        assert f'id="{release_id}"' in page
    assert f'href="http://localhost/releases/{history_builds.ids[2]}/changes.rdfp"' in page
    redirect = history_client.get(f"/releases/{history_builds.ids[0]}", headers={"Accept": "text/html"})
    assert redirect.status_code == 303 and redirect.location.endswith(f"/releases#{history_builds.ids[0]}")


def test_get_changes_and_patch_of_a_release(history_builds, history_client):
    two = history_builds.ids[1]
    changes = history_client.get(f"/releases/{two}/changes", headers={"Accept": "application/json"})
    assert changes.status_code == 200 and changes.json["previous"] == history_builds.ids[0]
    assert {item["slug"] for item in changes.json["entities"]["added"]} == {"jason-burke", "tony-blair"}
    page = history_client.get(f"/releases/{two}/changes").get_data(as_text=True)
    assert '<a href="http://localhost/page/jason-burke">Jason Burke</a>' in page
    assert "Changed (3)" in page and "Bin Laden was said to lead the Taliban" in page
    patch = history_client.get(f"/releases/{two}/changes.rdfp")
    assert patch.status_code == 200 and patch.mimetype == "application/rdf-patch"
    assert patch.data == (history_builds.folder(two) / buildfolder.PATCH).read_bytes()
    # the first release has no previous one: no changes to show
    assert history_client.get(f"/releases/{history_builds.ids[0]}/changes").status_code == 404
    assert history_client.get(f"/releases/{history_builds.ids[0]}/changes.rdfp").status_code == 404
    assert history_client.get("/releases/no-such-release/changes").status_code == 404
    assert history_client.get("/releases/..%2f..%2fetc/haven.nq").status_code == 404


def test_entity_pages_say_when_the_entity_appeared_and_last_changed(history_builds, history_client):
    one, two, three = history_builds.ids
    page = history_client.get("/page/jason-burke").get_data(as_text=True)
    assert f'First published in release <a href="http://localhost/releases/{two}"><code>{two}</code></a>' in page
    assert "unchanged since." in page
    page = history_client.get("/page/taliban").get_data(as_text=True)
    assert f'<a href="http://localhost/releases/{one}"><code>{one}</code></a>' in page
    changes = f"http://localhost/releases/{three}/changes"
    assert f'last changed in release <a href="{changes}"><code>{three}</code></a>' in page


def test_moved_iri_answers_301_to_its_new_slug(history_client):
    for path, target in (("/id/al-qaeda", "/id/al-qaida"), ("/page/al-qaeda", "/page/al-qaida"),
                         ("/data/al-qaeda.ttl", "/data/al-qaida.ttl"), ("/data/al-qaeda", "/data/al-qaida"),
                         ("/id/statement/alliance-al-qaeda-taliban", "/id/statement/alliance-al-qaida-taliban")):
        response = history_client.get(path, headers={"Accept": "text/turtle"})
        assert response.status_code == 301 and response.location == "http://localhost" + target, path
        assert history_client.get(response.location, headers={"Accept": "text/turtle"}).status_code in (200, 303)


def test_withdrawn_iri_answers_410_with_its_description(history_client):
    page = history_client.get("/page/tony-blair")
    assert page.status_code == 410 and page.mimetype == "text/html"
    assert "This identifier has been withdrawn" in page.get_data(as_text=True)
    for path, accept in (("/id/tony-blair", "text/turtle"), ("/data/tony-blair.ttl", None)):
        response = history_client.get(path, headers={"Accept": accept} if accept else {})
        assert response.status_code == 410 and response.mimetype == "text/turtle", path
        graph = Graph().parse(data=response.data, format="turtle")
        assert (URIRef(BASE + "id/tony-blair"), OWL.deprecated, Literal(True)) in graph
    statement = history_client.get("/id/statement/leadership-osama-bin-laden-taliban", headers={"Accept": "text/html"})
    assert statement.status_code == 410
    assert history_client.get("/id/tony-blair", headers={"Accept": "image/png"}).status_code == 406
    assert history_client.get("/page/jason-burke").status_code == 200


def test_replaced_iri_answers_410_pointing_to_its_successor(tmp_path):
    from plugins.builds import CORPUS, build, make_tree, overlay
    root, build_dir = make_tree(tmp_path / "src"), tmp_path / "build"
    assert build(root, build_dir, "--skip-reasoner").exit_code == 0
    overlay(root, CORPUS / "_accepted" / "slug-changed-deprecated")
    assert build(root, build_dir, "--skip-reasoner").exit_code == 0
    app = create_app(Settings(build_dir=build_dir))
    try:
        client = app.test_client()
        page = client.get("/page/al-qaeda")
        assert page.status_code == 410
        assert page.headers["Link"] == '<http://localhost/page/al-qaida>; rel="successor-version"'
        assert 'href="http://localhost/page/al-qaida" rel="successor-version"' in page.get_data(as_text=True)
        data = client.get("/data/al-qaeda.ttl")
        assert data.status_code == 410
        assert data.headers["Link"] == f'<{BASE}id/al-qaida>; rel="successor-version"'
        assert client.get("/page/al-qaida").status_code == 200
    finally:
        app.extensions["haven"].close()



def test_rebuilding_older_sources_says_the_history_lacks_the_served_release(tmp_path):
    from plugins.builds import build, make_tree
    root, build_dir = make_tree(tmp_path / "src"), tmp_path / "build"
    entities = root / "data" / "entities.ttl"
    original = entities.read_text()
    assert build(root, build_dir, "--skip-reasoner").exit_code == 0
    first = (build_dir / "current").readlink().name
    entities.write_text(original.replace("Afghan militant movement", "Afghan Islamist movement"))
    assert build(root, build_dir, "--skip-reasoner").exit_code == 0
    second = (build_dir / "current").readlink().name
    entities.write_text(original)  # the edit undone: the same content as the first release, so its folder
    again = build(root, build_dir, "--skip-reasoner")
    assert again.exit_code == 0 and (build_dir / "current").readlink().name == first != second
    assert f"the release served until now ({second}) is not in it" in again.output
