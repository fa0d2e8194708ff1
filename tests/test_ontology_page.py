"""The ontology's documentation page as an ontologist reads it (issue 10, item 2): the ontology's own title and
metadata, an anchor for every term (the closed lists' members too: about 790 links `/ontology#Stated` used to
land at the top of the page), no id twice, a table of contents without repeats, the statement class ↔ direct
property pairs with inverses, characteristics and Wikidata matches, the closed lists with their members, and
the site's navigation. Read with an HTML parser, over the real ontology (ontology/haven.ttl) and through the
server over the fixture release."""
from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from haven.iris import UrlMap, iris_for

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/haven/"
HAVEN = iris_for(BASE).haven
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """What the tests read from a page: ids in order, the title, headings, links by where they are, the
    overview's metadata and the pairs table's rows."""

    def __init__(self, html: str):
        super().__init__()
        self.ids: list[str] = []
        self.title = ""
        self.h1: list[str] = []
        self.toc: list[str] = []
        self.site_nav: list[str] = []
        self.about: dict[str, tuple[str, list[str]]] = {}
        self.pairs: list[list[tuple[str, list[str]]]] = []
        self.hrefs: list[str] = []
        self._stack: list[tuple[str, dict]] = []
        self._dt = None
        self.feed(html)

    def _inside(self, tag, **attrs) -> bool:
        return any(t == tag and all(a.get(k) == v for k, v in attrs.items()) for t, a in self._stack)

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
            if self._inside("nav", **{"class": "toc"}):
                self.toc.append(attrs["href"])
            if self._inside("header", **{"class": "site"}):
                self.site_nav.append(attrs["href"])
            if self._inside("dd") and self._inside("dl", **{"class": "about"}):
                self.about[self._dt][1].append(attrs["href"])
            if self._inside("td") and self._inside("table", **{"class": "pairs"}):
                self.pairs[-1][-1][1].append(attrs["href"])
        if tag == "tr" and self._inside("table", **{"class": "pairs"}) and self._inside("tbody"):
            self.pairs.append([])
        if tag == "td" and self._inside("table", **{"class": "pairs"}):
            self.pairs[-1].append(("", []))
        if tag == "dd" and self._inside("dl", **{"class": "about"}):
            self.about[self._dt] = ("", [])
        if tag not in VOID_ELEMENTS:
            self._stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._inside("title"):
            self.title += data
        elif self._inside("h1"):
            self.h1.append(data.strip())
        elif self._inside("dt") and self._inside("dl", **{"class": "about"}):
            self._dt = data.strip()
        elif self._inside("dd") and self._inside("dl", **{"class": "about"}):
            text, hrefs = self.about[self._dt]
            self.about[self._dt] = (text + data, hrefs)
        elif self._inside("td") and self._inside("table", **{"class": "pairs"}) and self.pairs:
            text, hrefs = self.pairs[-1][-1]
            self.pairs[-1][-1] = (text + data, hrefs)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology" / "haven.ttl", format="turtle")


@pytest.fixture(scope="module")
def view(ontology) -> dict:
    """What the page of the real ontology shows, for a client on http://localhost/."""
    from haven.web.dataset.ontology_page import ontology_view

    urls = UrlMap(base=BASE, host_root="http://localhost/")
    return ontology_view(ontology, BASE, urls, [("Turtle", "text/turtle", "http://localhost/ontology.ttl")])


@pytest.fixture(scope="module")
def page(make_app, view) -> Page:
    """That page as the server's template renders it."""
    from flask import render_template

    with make_app().test_request_context("/ontology"):
        return Page(render_template("ontology.html", view=view))


def own_terms(graph: Graph) -> set[str]:
    """Local names of every IRI in the ontology's namespace that the ontology mentions anywhere."""
    return {str(t)[len(str(HAVEN)):] for triple in graph for t in triple
            if isinstance(t, URIRef) and str(t).startswith(str(HAVEN)) and str(t) != str(HAVEN)}


def test_every_term_has_an_anchor_by_its_local_name(page, ontology):
    terms = own_terms(ontology)
    assert {"Stated", "Reported", "Believed", "Alleged", "Disputed", "DayPrecision", "DecadePrecision",
            "FromSourceText", "PartyRole", "CertaintyScheme", "providedSanctuaryTo"} <= terms
    assert terms - set(page.ids) == set()


def test_no_id_twice_and_every_fragment_link_has_its_target(page):
    assert [i for i, n in Counter(page.ids).items() if n > 1] == []
    assert {h[1:] for h in page.hrefs if h.startswith("#")} - set(page.ids) == set()


def test_contents_list_each_target_once(page, ontology):
    assert page.toc and [h for h, n in Counter(page.toc).items() if n > 1] == []
    assert {f"#{t}" for t in own_terms(ontology)} <= set(page.toc)


def test_title_heading_and_metadata_are_the_ontology_s(page):
    assert page.title.strip() == "Haven ontology 2.0.0 · Haven"
    assert page.h1 == ["Haven ontology"]
    about = page.about
    assert about["IRI"][0] == "https://w3id.org/haven/ontology"
    assert about["Version IRI"] == ("https://w3id.org/haven/ontology/2.0.0", ["http://localhost/ontology/2.0.0"])
    assert about["Version"][0] == "2.0.0"
    assert about["Prior version"] == ("https://w3id.org/haven/ontology/1.0.0", ["http://localhost/ontology/1.0.0"])
    assert about["Licence"][1] == ["https://creativecommons.org/licenses/by/4.0/"]
    assert about["Creators"][0] == "Haven project team"
    assert about["Created"][0] == "2026-11-25" and about["Modified"][0] == "2026-12-02"
    assert about["Preferred prefix"][0].split() == ["haven:", "https://w3id.org/haven/ontology#"]
    assert about["As RDF"][1] == ["http://localhost/ontology.ttl"]


def test_site_navigation_as_on_every_page(page):
    assert {"/", "/#browse", "/query", "/ontology", "/.well-known/void"} <= \
        {h.removeprefix("http://localhost") for h in page.site_nav}


def test_each_statement_class_direct_property_pair_is_a_row(page, ontology):
    declared = {(c, p) for c, p in ontology.subject_objects(HAVEN.directProperty)}
    declared |= {(c, p) for p, c in ontology.subject_objects(HAVEN.qualifiedBy)}
    rows = {(cells[0][1][0], cells[1][1][0]): cells for cells in page.pairs}
    assert set(rows) == {(f"#{c[len(HAVEN):]}", f"#{p[len(HAVEN):]}") for c, p in declared}
    sanctuary = rows[("#SanctuaryProvision", "#providedSanctuaryTo")]
    assert sanctuary[1][1] == ["#providedSanctuaryTo", "#receivedSanctuaryFrom"]   # the property, its inverse
    assert sanctuary[2][1] == ["#Actor", "#Actor"]                                 # domain → range
    assert sanctuary[3][1] == ["#supported"]                                       # superproperty
    assert "symmetric" in rows[("#Alliance", "#alliedWith")][1][0]
    assert "symmetric" not in sanctuary[1][0]
    assert rows[("#AllegiancePledge", "#pledgedAllegianceTo")][4][1] == ["http://www.wikidata.org/prop/direct/P945"]


def test_characteristics_inverses_and_matches_are_on_the_entries(view):
    entries = {e["id"]: e for s in view["sections"] for e in s["entries"] + [m for x in s["entries"]
                                                                            for m in x.get("members", [])]}
    assert "functional" in entries["subject"]["badges"]
    assert "transitive" in entries["locatedIn"]["badges"]
    assert "symmetric" in entries["hostileTo"]["badges"]
    rows = {label: [x.text for x in items] for label, items, _ in entries["providedFundingTo"]["rows"]}
    assert rows["Inverse of"] == ["fundedBy"] and rows["Qualified by"] == ["FinancialSupport"]
    assert [x.text for x in dict((r[0], r[1]) for r in entries["basedIn"]["rows"])["Close match"]] == ["wdt:P159"]
    # a restriction reads as Manchester syntax, its terms linked
    statement = dict((r[0], r[1]) for r in entries["Statement"]["rows"])["Subclass of"]
    assert "certainty exactly 1 Certainty" in [x.text for x in statement]


def test_closed_lists_show_their_members_in_the_ontology_s_order(view, ontology):
    lists = {e["id"]: [m["id"] for m in e["members"]] for s in view["sections"] for e in s["entries"]
             if s["id"] == "section-closed-lists"}
    assert lists["CertaintyScheme"] == ["Stated", "Reported", "Believed", "Alleged", "Disputed"]
    assert lists["DatePrecisionScheme"] == ["DayPrecision", "MonthPrecision", "YearPrecision", "DecadePrecision"]
    schemes = set(ontology.subjects(RDF.type, SKOS.ConceptScheme))
    assert {str(s)[len(HAVEN):] for s in schemes} == set(lists)
    for scheme in schemes:
        assert set(lists[str(scheme)[len(HAVEN):]]) == {str(m)[len(HAVEN):] for m in
                                                          ontology.objects(scheme, SKOS.hasTopConcept)}


def test_get_ontology_html_is_the_site_s_page_and_reads_the_graph_only(client, release_dir):
    """Through the server, over the fixture release: the page is Haven's (site header, its stylesheet, no
    inline style needing a policy exception) and anchors the fixture's terms, Stated among them."""
    response = client.get("/ontology", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    page = Page(html)
    assert page.site_nav and page.h1 == ["Haven ontology"]
    assert {"Stated", "Reported", "MilitantOrganization", "providedSanctuaryTo", "SanctuaryProvision"} <= set(page.ids)
    assert "<style" not in html and "style-src 'self';" in response.headers["Content-Security-Policy"]
    assert [i for i, n in Counter(page.ids).items() if n > 1] == []
    fixture = Graph().parse(release_dir / "ontology.ttl", format="turtle")
    declared = {str(s)[len(HAVEN):] for s in fixture.subjects() if str(s).startswith(str(HAVEN))}
    assert declared and declared - set(page.ids) == set()
