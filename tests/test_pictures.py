"""The JSON behind the pictures (haven.web.pictures): an entity's network and timeline, and /network, checked
against what the graph itself says (SPARQL on the same store), on the embedded store. The same over a remote
store: tests/test_pictures_remote.py; drawn in Chromium: tests/test_browser.py."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDFS

from haven.web.pictures.data import NETWORK_KINDS

from plugins.pictures import pictures_json

HAVEN = Namespace("https://w3id.org/haven/ontology#")
HID = "https://w3id.org/haven/id/"
ONTOLOGY = Path(__file__).resolve().parent.parent / "ontology" / "haven.ttl"
FIRM = {"Stated", "Reported"}


def store_of(client):
    return client.application.extensions["haven"]


def graph_edges(client, where: str) -> set[tuple]:
    """(statement, subject, object, statement class's local name, certainty) of the binary statements `where`
    selects (?st ?s ?o bound), read from the store."""
    rows = store_of(client).rows(f"""
PREFIX haven: <{HAVEN}>
SELECT ?st ?s ?o ?class ?c WHERE {{
  ?st haven:relation ?r ; haven:subject ?s ; haven:object ?o ; haven:certainty ?c . ?r haven:qualifiedBy ?class .
  {where}
}}""")
    return {(str(r["st"]), str(r["s"]), str(r["o"]), str(r["class"]).rsplit("#", 1)[1], str(r["c"]).rsplit("#", 1)[1])
            for r in rows}


def json_edges(picture: dict) -> set[tuple]:
    return {(e["id"], e["source"], e["target"], e["kind"], e["certainty"]) for e in picture["edges"]}


@pytest.mark.parametrize("slug", ["al-qaeda", "taliban", "osama-bin-laden"])
def test_entity_network_is_what_the_graph_says(pictures_client, slug):
    iri = HID + slug
    picture = pictures_json(pictures_client.get(f"/page/{slug}"))
    expected = graph_edges(pictures_client, f"FILTER(?s = <{iri}> || ?o = <{iri}>)")
    assert expected and json_edges(picture) == expected
    parties = {e[1] for e in expected} | {e[2] for e in expected}
    assert {n["id"] for n in picture["nodes"]} == parties | {iri}
    assert [n["id"] for n in picture["nodes"] if n["focus"]] == [iri]
    # every node is named as the page names it, and links to its page on this host
    names = {str(r["x"]): str(r["name"]) for r in store_of(pictures_client).rows(
        "SELECT ?x ?name WHERE { ?x <http://www.w3.org/2004/02/skos/core#prefLabel> ?name }")}
    for node in picture["nodes"]:
        assert node["label"] == names[node["id"]]
        assert node["href"] == "http://localhost/page/" + node["id"][len(HID):]


def test_hedged_edges_are_those_whose_direct_triple_is_outside_the_default_graph(pictures_client):
    picture = pictures_json(pictures_client.get("/page/taliban"))
    hedged = {e["id"].rsplit("/", 1)[1]: e["hedged"] for e in picture["edges"]}
    assert hedged == {"osama-bin-laden-pledged-allegiance-to-taliban": True, "taliban-funded-al-qaeda": True,
                      "taliban-sanctuary-al-qaeda": False, "al-qaeda-allied-with-taliban": False}
    store = store_of(pictures_client)
    for edge in picture["edges"]:
        relation = store.rows(f"SELECT ?r WHERE {{ <{edge['id']}> <{HAVEN}relation> ?r }}")[0]["r"]
        in_default = store.ask(f"ASK {{ <{edge['source']}> <{relation}> <{edge['target']}> }}")
        assert edge["hedged"] == (edge["certainty"] not in FIRM) == (not in_default), edge["id"]


def test_kinds_are_the_ontologys_statement_classes_with_their_families(pictures_client):
    picture = pictures_json(pictures_client.get("/page/al-qaeda"))
    kinds = {k["id"]: k for k in picture["kinds"]}
    # FinancialSupport and its family exist only in the test ontology (tests/plugins/pictures.py): nothing in
    # the server names them
    assert kinds["FinancialSupport"] == {"id": "FinancialSupport", "label": "Financial support", "family": "Support",
                                         "family_label": "Support", "depth": 1}
    assert kinds["SanctuaryProvision"]["label"] == "Sanctuary provision"
    assert set(kinds) == {e["kind"] for e in picture["edges"]}
    assert list(kinds) == ["AllegiancePledge", "Alliance", "Leadership", "SanctuaryProvision", "FinancialSupport"]


def test_timeline_gives_dates_with_their_precision(pictures_client):
    items = {i["id"].rsplit("/", 1)[1]: i for i in pictures_json(pictures_client.get("/page/taliban"))["timeline"]}
    assert set(items) == {"taliban-sanctuary-al-qaeda", "osama-bin-laden-pledged-allegiance-to-taliban",
                          "taliban-funded-al-qaeda"}  # the undated alliance is not on it
    dates = lambda i: {k: i[k] for k in ("start", "startPrecision", "startText", "end", "endPrecision", "endText",
                                        "openEnded")}
    assert dates(items["taliban-sanctuary-al-qaeda"]) == {
        "start": "1996-01-01", "startPrecision": "year", "startText": "1996",
        "end": "2001-01-01", "endPrecision": "year", "endText": "2001", "openEnded": False}
    # a start only: the period runs on
    assert dates(items["osama-bin-laden-pledged-allegiance-to-taliban"]) == {
        "start": "1998-05-01", "startPrecision": "month", "startText": "1998-05",
        "end": None, "endPrecision": None, "endText": None, "openEnded": True}
    # an end only: its start is unknown
    assert dates(items["taliban-funded-al-qaeda"]) == {
        "start": None, "startPrecision": None, "startText": None,
        "end": "2001-10-07", "endPrecision": "day", "endText": "2001-10-07", "openEnded": False}
    assert items["taliban-funded-al-qaeda"]["certainty"] == "Alleged" and items["taliban-funded-al-qaeda"]["hedged"]
    # read from the page's entity, as the list of relations reads it
    assert items["taliban-sanctuary-al-qaeda"]["text"] == "provided sanctuary to al-Qaeda"
    assert items["osama-bin-laden-pledged-allegiance-to-taliban"]["text"] == "received allegiance from Osama bin Laden"


def test_an_events_own_date_is_on_its_timeline_and_not_open_ended(pictures_client):
    picture = pictures_json(pictures_client.get("/page/taliban-capture-of-kabul-1996"))
    assert picture["edges"] == []
    [item] = picture["timeline"]
    assert (item["text"], item["start"], item["startPrecision"], item["end"], item["openEnded"]) == \
        ("Taliban capture of Kabul", "1996-09-27", "day", None, False)


def test_a_statements_own_page_shows_its_period_running_on(pictures_client):
    picture = pictures_json(pictures_client.get("/page/statement/osama-bin-laden-pledged-allegiance-to-taliban"))
    [item] = picture["timeline"]
    assert (item["start"], item["startPrecision"], item["end"], item["openEnded"]) == ("1998-05-01", "month", None, True)


def test_network_page_draws_the_allegiance_and_sanctuary_statements(pictures_client):
    response = pictures_client.get("/network")
    assert response.status_code == 200 and response.mimetype == "text/html"
    picture = pictures_json(response)
    kinds = " ".join(f"<{HAVEN}{k}>" for k in NETWORK_KINDS)
    expected = graph_edges(pictures_client, f"VALUES ?class {{ {kinds} }}")
    assert {e[3] for e in expected} == {"AllegiancePledge", "SanctuaryProvision"}
    assert json_edges(picture) == expected and not picture["capped"]
    assert {n["id"] for n in picture["nodes"]} == {e[1] for e in expected} | {e[2] for e in expected}
    # the plain table says the same without JavaScript: one row per statement
    assert response.data.count(b"<tr") == len(expected) + 1
    assert b'<section class="pictures" hidden>' in response.data


def test_network_page_draws_other_kinds_on_request_and_refuses_unknown_ones(pictures_client):
    picture = pictures_json(pictures_client.get("/network?kind=Alliance&kind=FinancialSupport"))
    assert {e["kind"] for e in picture["edges"]} == {"Alliance", "FinancialSupport"}
    refused = pictures_client.get("/network?kind=Friendship")
    assert refused.status_code == 400 and b"Friendship" in refused.data and b"SanctuaryProvision" in refused.data


def test_the_network_kinds_are_statement_classes_of_the_real_ontology():
    ontology = Graph().parse(ONTOLOGY)
    for kind in NETWORK_KINDS:
        cls = HAVEN[kind]
        assert (cls, RDFS.subClassOf, HAVEN.Statement) in ontology or \
            HAVEN.Statement in ontology.transitive_objects(cls, RDFS.subClassOf), kind
        assert any(ontology.subjects(HAVEN.qualifiedBy, cls)), kind


def test_pictures_json_cannot_end_its_script_element(pictures_client):
    body = pictures_client.get("/page/al-qaeda").data
    assert b"</script><script>alert(1)" not in body
    names = {n["label"] for n in pictures_json(pictures_client.get("/page/al-qaeda"))["nodes"]}
    assert "</script><script>alert(1)</script>" in names


def test_without_javascript_the_page_keeps_its_list_of_relations(pictures_client):
    response = pictures_client.get("/page/al-qaeda")
    picture = pictures_json(response)
    body = response.data.decode()
    # the picture section is hidden until pictures.js draws it; the list has one entry per edge
    assert '<section class="pictures" hidden>' in body
    assert body.count('<li class="relation') == len(picture["edges"])
    assert body.index('class="pictures"') < body.index('class="relations"')


def test_a_page_without_relations_or_dates_has_no_pictures(pictures_client):
    response = pictures_client.get("/page/kabul")
    assert response.status_code == 200
    assert pictures_json(response) is None and b"pictures.js" not in response.data


def test_landing_page_and_every_header_link_to_the_network(pictures_client):
    for path in ("/", "/page/al-qaeda", "/network"):
        assert b'href="/network"' in pictures_client.get(path).data, path
