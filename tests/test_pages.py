"""HTML for people: entity pages, landing page, query page, ontology documentation; links stay on the host."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

HID = "https://w3id.org/haven/id/"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.json_ld, self._in_ld = [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        self._in_ld = tag == "script" and attrs.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld.append(data)

    def handle_endtag(self, tag):
        self._in_ld = False


def parsed(response) -> Links:
    links = Links()
    links.feed(response.data.decode("utf-8"))
    return links


def test_get_page_shows_names_relations_and_sources(client):
    response = client.get("/page/al-qaeda")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.data.decode()
    assert "<h1>al-Qaeda</h1>" in html
    for text in ("Al Qaida", "AQ", "A transnational jihadist network.", "Militant organization"):
        assert text in html
    # both directions, grouped by the property's label as read from this entity
    assert "<h3>received sanctuary from</h3>" in html   # incoming statement, inverse label
    assert "<h3>led by</h3>" in html
    assert "<h3>allied with</h3>" in html                # symmetric: same label either way
    # qualifiers of the sanctuary statement: dates at their precision, place, certainty, attribution, source
    assert "1996 – 2001" in html and "reported" in html and "Gretchen Peters" in html
    assert "bullet 5" in html and "Test discrepancy note." in html
    links = parsed(response).hrefs
    for target in ("page/taliban", "page/kabul", "page/gretchen-peters", "page/osama-bin-laden",
                   "page/the-al-qaeda-afghan-taliban-connections", "page/statement/taliban-sanctuary-al-qaeda"):
        assert f"http://localhost/{target}" in links
    assert "http://www.wikidata.org/entity/Q34490" in links
    assert "http://localhost/data/al-qaeda.ttl" in links and "http://localhost/data/al-qaeda.jsonld" in links


def test_page_links_json_ld_of_the_same_description(client):
    html = client.get("/page/al-qaeda").get_data(as_text=True)
    href = re.search(r'<link rel="alternate" type="application/ld\+json" href="http://localhost(/[^"]+)"', html).group(1)
    doc = json.loads(client.get(href).data)
    doc["@context"] = json.loads(client.get("/context.jsonld").data)["@context"]
    g = Graph().parse(data=json.dumps(doc), format="json-ld")
    assert (URIRef(HID + "al-qaeda"), SKOS.prefLabel, Literal("al-Qaeda", lang="en")) in g
    assert (URIRef(HID + "taliban"), URIRef("https://w3id.org/haven/ontology#providedSanctuaryTo"),
            URIRef(HID + "al-qaeda")) in g


def test_page_headers(client):
    response = client.get("/page/al-qaeda")
    assert response.headers["ETag"]
    assert client.get("/page/al-qaeda", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert 'rel="alternate"; type="text/turtle"' in response.headers["Link"]


def test_statement_page_is_named_by_its_parts(client):
    html = client.get("/page/statement/taliban-sanctuary-al-qaeda").data.decode()
    assert "<h1>Taliban provided sanctuary to al-Qaeda</h1>" in html


def test_landing_page(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.data.decode()
    assert "CC BY 4.0" in html and "Farhan Zahid" in html
    assert "a6ebdf216a047df2e73664bc3e7cf93d7f114767472cf0296bf7e5331e6e105a" in html
    links = parsed(response).hrefs
    for target in ("/.well-known/void", "/ontology", "/dumps/haven.nq", "/dumps/haven.ttl", "/page/al-qaeda",
                   "/page/osama-bin-laden", "/page/kabul"):
        assert any(h.endswith(target) for h in links), target
    # counts from the store: 3 people, 2 militant organisations; one statement per relation
    assert re.search(r"Person</a></td><td class=\"num\">3<", html)
    assert re.search(r"provided sanctuary to</a></td><td class=\"num\">1<", html)
    examples = [h for h in links if "/query?query=" in h]
    assert len(examples) >= 3


def test_query_page(client):
    html = client.get("/query").data.decode()
    assert '<textarea id="query"' in html and 'data-endpoint="http://localhost/sparql"' in html
    assert client.get("/static/query.js").status_code == 200
    # a query in the URL is run by the server (tests/test_query_page.py has the rest)
    prefilled = client.get("/query?query=ASK%20%7B%7D").data.decode()
    assert "ASK {}</textarea>" in prefilled and "the answer is <strong" in prefilled


def test_ontology_html_anchors_every_term_by_local_name(client):
    response = client.get("/ontology", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.data.decode()
    for local in ("MilitantOrganization", "providedSanctuaryTo", "SanctuaryProvision"):
        assert f'id="{local}"' in html
    assert 'href="https://w3id.org/haven/' not in html  # our links browse on this host


def test_static_style(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200 and response.mimetype == "text/css"


def test_hedged_relations_are_marked_and_firm_ones_are_not():
    """A Believed/Alleged/Disputed statement's direct triple lives in hg:hedged, outside the default graph;
    the page says so next to its certainty (docs/architecture.md, "The direct layer")."""
    from haven.config import DEFAULT_BASE
    from haven.iris import UrlMap, iris_for
    from haven.web.entities.page import Namer, Vocabulary, _relations

    haven = iris_for().haven
    hid, hst = iris_for().hid, iris_for().hst
    graph = Graph()
    for slug, certainty in (("firm", haven.Stated), ("reported", haven.Reported), ("alleged", haven.Alleged),
                            ("disputed", haven.Disputed)):
        st = hst[slug]
        graph.add((st, haven.subject, hid.a))
        graph.add((st, haven.relation, haven.cooperatedWith))
        graph.add((st, haven.object, hid[slug]))
        graph.add((st, haven.certainty, certainty))
    vocab = Vocabulary(symmetric={str(haven.cooperatedWith)})
    groups = _relations(graph, hid.a, sorted(graph.subjects(haven.subject, hid.a)),
                        Namer(graph, vocab, UrlMap(DEFAULT_BASE)), vocab, haven)
    hedged = {e["other"]["href"].rsplit("/", 1)[-1]: e["hedged"] for g in groups for e in g["entries"]}
    assert hedged == {"firm": False, "reported": False, "alleged": True, "disputed": True}


def test_a_multiparty_statement_keeps_every_party_on_each_partys_page():
    """"Pakistan mediated between Afghanistan and X": each party's page lists the talks with all three parties
    and their roles (issue 12: a binary mediation lost one side)."""
    from haven.config import DEFAULT_BASE
    from haven.iris import UrlMap, iris_for
    from haven.web.entities.page import Namer, Vocabulary, _relations
    from rdflib import BNode
    from rdflib.namespace import RDFS

    ns = iris_for()
    haven, hid = ns.haven, ns.hid
    graph = Graph()
    st = ns.hst["talks-parties"]
    graph.add((st, haven.subject, hid.talks))
    graph.add((st, haven.certainty, haven.Stated))
    for slug, role, label in (("pakistan", haven.MediatorRole, "Mediator"), ("afghanistan", haven.PartyRole, "Party"),
                              ("x", haven.PartyRole, "Party")):
        involvement = BNode()
        graph.add((st, haven.involves, involvement))
        graph.add((involvement, haven.participant, hid[slug]))
        graph.add((involvement, haven.role, role))
        graph.add((role, RDFS.label, Literal(label, lang="en")))
    vocab = Vocabulary()
    namer = Namer(graph, vocab, UrlMap(DEFAULT_BASE))
    for me, kind in ((hid.afghanistan, "as Party"), (hid.pakistan, "as Mediator"), (hid.talks, "involved parties")):
        groups = _relations(graph, me, [st], namer, vocab, haven)
        assert [g["kind"] for g in groups] == [kind]
        parties = {(p["party"]["iri"].rsplit("/", 1)[-1], p["role"]) for p in groups[0]["entries"][0]["parties"]}
        assert parties == {("pakistan", "Mediator"), ("afghanistan", "Party"), ("x", "Party")}
