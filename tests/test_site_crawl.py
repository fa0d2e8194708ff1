"""Every address Haven serves or mints answers (issue 10, item 6): the named graphs' IRIs, `…/dataset#build` and
the other fragments of the description, `/favicon.ico`, `/robots.txt`, and a crawl of the whole site over the
fixture release that fails on any 4xx/5xx and any fragment without its element (tests/plugins/crawl.py).
tests/test_published_release.py crawls the project's real release the same way."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from haven.iris import GRAPHS
from plugins.crawl import BROWSER, KNOWN, crawl, unexpected

BASE = "https://w3id.org/haven/"
FIXTURE_ONTOLOGY = Path(__file__).parent / "resources" / "release" / "ontology.ttl"
SD_NAME = URIRef("http://www.w3.org/ns/sparql-service-description#name")


@pytest.mark.parametrize("name", GRAPHS)
def test_get_graph_iri_303_to_its_description(client, name):
    """The five graph IRIs were 404 (hg:data, hg:ontology, hg:derived, hg:hedged, hg:metadata)."""
    response = client.get(f"/graph/{name}", headers={"Accept": "text/turtle"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/.well-known/void#graph-{name}")
    # the description a build writes names it (tests/test_published_release.py); the endpoint's always does
    description = Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).data, format="turtle")
    if name != "hedged" or (None, SD_NAME, URIRef(f"{BASE}graph/{name}")) in description:
        assert (None, SD_NAME, URIRef(f"{BASE}graph/{name}")) in description


def test_get_unknown_graph_404(client):
    assert client.get("/graph/nope").status_code == 404


def test_void_page_has_an_element_for_every_node_of_the_description(client):
    void = Graph().parse(data=client.get("/.well-known/void", headers={"Accept": "text/turtle"}).data,
                         format="turtle")
    fragments = {str(s).split("#", 1)[1] for s in void.subjects() if str(s).startswith(f"{BASE}dataset#")}
    assert fragments  # the fixture's hand-written description; a build's has many more (test_published_release)
    page = client.get("/.well-known/void", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert [f for f in sorted(fragments) if f'id="{f}"' not in page] == []


def test_shapes_page_anchors_every_shape_and_part(client):
    page = client.get("/shapes", headers={"Accept": "text/html"}).get_data(as_text=True)
    shapes = Graph().parse(data=client.get("/shapes", headers={"Accept": "text/turtle"}).data, format="turtle")
    named = {str(s)[len(BASE + "shapes") + 1:] for s in shapes.subjects() if str(s).startswith(BASE + "shapes#")}
    assert named and [n for n in sorted(named) if f'id="{n}"' not in page] == []


def test_get_shapes_part_303_or_404(client):
    shapes = Graph().parse(data=client.get("/shapes", headers={"Accept": "text/turtle"}).data, format="turtle")
    parts = {str(s)[len(BASE + "shapes/"):] for s in shapes.subjects() if str(s).startswith(BASE + "shapes/")}
    for part in parts:
        response = client.get(f"/shapes/{part}")
        assert response.status_code == 303 and response.headers["Location"].endswith(f"/shapes#{part}")
    assert client.get("/shapes/no-such-part").status_code == 404


def test_get_favicon_and_robots(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\0\0\1\0"  # an ICO file's header
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and robots.mimetype == "text/plain"
    text = robots.get_data(as_text=True)
    assert "User-agent: *" in text and "Disallow: /sparql?" in text  # pages yes, query links no
    assert "Disallow: /\n" not in text + "\n"


@pytest.mark.slow  # a few hundred requests, each page rendered once
def test_crawl_of_the_whole_site_finds_no_broken_address_or_anchor(client):
    result = crawl(client, BASE)
    # the fixture's ontology graph declares only some of the terms its data uses (tests/resources/release)
    declared = {str(t).split("#", 1)[1] for t in Graph().parse(FIXTURE_ONTOLOGY, format="turtle").subjects()
                if str(t).startswith(f"{BASE}ontology#")}
    problems = [p for p in result.problems
                if not (p.startswith("no element #") and " in /ontology " in p and p.split()[2][1:] not in declared)]
    left, stale = unexpected(problems, KNOWN)
    assert left == [], "\n".join(left[:60])
    assert stale == [], f"fixed meanwhile, remove from KNOWN: {stale}"
    # it did cover the site: pages, RDF documents and the fragments they point at
    assert ("/", BROWSER) in result.visited and ("/ontology", BROWSER) in result.visited
    assert any(path.startswith("/page/") for path, _ in result.visited)
    assert any(path.startswith("/graph/") for path, _ in result.visited)
    assert result.rdf_documents > 10 and result.fragments_checked > 10
