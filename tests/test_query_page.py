"""The query page without JavaScript (issue 10): the server runs the query as /sparql would and renders the
answer into the page, for every query form, with the count, the time and the cap; failures are the page with
/sparql's status and message; everything a client sent is escaped. (With JavaScript: tests/test_browser.py.)
"""
from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import pytest
import rdflib
from rdflib.compare import isomorphic

from haven.config import Settings
from haven.web.dataset.catalogue import COMPETENCY_QUESTIONS, competency_questions
from haven.web.hardening import content_security_policy
from haven.web.sparql import page as page_module
from haven.web.sparql.page import YASGUI_INLINE_STYLES
from haven.web.sparql.routes import MAX_LINK_LENGTH, query_admission

PERSONS = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
           "SELECT ?s ?name WHERE { ?s a <https://w3id.org/haven/ontology#Person> ; skos:prefLabel ?name } ORDER BY ?name")
PERSON_TYPES = "CONSTRUCT { ?s a ?t } WHERE { ?s a <https://w3id.org/haven/ontology#Person> ; a ?t }"
DESCRIBE = "DESCRIBE <https://w3id.org/haven/id/al-qaeda>"
VENDORED_YASGUI = Path(__file__).resolve().parents[1] / "server/haven/web/static/vendor/yasgui/yasgui.min.js"


def answer_section(html: str) -> str:
    return html[html.index('<section id="answer"'):html.index('<section id="examples"')]


def table(html: str) -> list[list[str]]:
    """The answer's table as text: a header row, then the rows (tags dropped, entities decoded)."""
    section = answer_section(html)
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.DOTALL)
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)]
            for row in rows]


def summary(html: str) -> str:
    text = re.sub(r"<[^>]+>", "", re.search(r'<p class="summary">(.*?)</p>', html, re.DOTALL)[1])
    return unescape(re.sub(r"\s+", " ", text)).strip()


def test_the_posted_form_is_sent_on_to_a_link_when_the_query_fits_one(client):
    """POST, then GET: the address bar holds a link that runs the query again; a query too long for a link
    is answered to the POST itself."""
    response = client.post("/query", data={"query": PERSONS})
    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost/query?" + urlencode({"query": PERSONS})
    long_query = PERSONS + "\n#" + "x" * MAX_LINK_LENGTH
    answered = client.post("/query", data={"query": long_query})
    assert answered.status_code == 200 and summary(answered.get_data(as_text=True)).startswith("SELECT: 3 rows")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_select_is_a_table_with_its_row_count_and_time(client, method):
    response = (client.get("/query", query_string={"query": PERSONS}) if method == "GET"
                else client.post("/query", follow_redirects=True, data={"query": PERSONS}))
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert re.fullmatch(r"SELECT: 3 rows, in \d+\.\d{3} s\.", summary(html))
    header, *rows = table(html)
    assert header == ["s", "name"]
    assert rows == [["hid:farhan-zahid", "Farhan Zahid @en"], ["hid:gretchen-peters", "Gretchen Peters @en"],
                    ["hid:osama-bin-laden", "Osama bin Laden @en"]]
    # Haven's IRIs link to their pages on this host
    assert 'href="http://localhost/page/osama-bin-laden"' in answer_section(html)
    assert "cut at" not in html
    # the query stays in the form, to edit and run again
    assert "ORDER BY ?name</textarea>" in html


@pytest.mark.parametrize("query,expected", [("ASK { ?s a <https://w3id.org/haven/ontology#Person> }", "true"),
                                            ("ASK { ?s a <https://w3id.org/haven/ontology#Nothing> }", "false")])
def test_ask_is_true_or_false(client, query, expected):
    response = client.post("/query", follow_redirects=True, data={"query": query})
    assert response.status_code == 200
    assert re.fullmatch(rf"ASK: the answer is {expected}, in \d+\.\d{{3}} s\.", summary(response.get_data(as_text=True)))


@pytest.mark.parametrize("query", [PERSON_TYPES, DESCRIBE])
def test_construct_and_describe_are_a_table_of_triples_and_turtle(client, query):
    html = client.post("/query", follow_redirects=True, data={"query": query}).get_data(as_text=True)
    # the same graph /sparql answers (blank nodes get fresh labels per answer: compared up to isomorphism)
    expected = rdflib.Graph().parse(data=client.get("/sparql", query_string={"query": query},
                                                    headers={"Accept": "text/turtle"}).data, format="turtle")
    form = query.split()[0]
    assert summary(html).startswith(f"{form}: {len(expected)} triples, in ")
    header, *rows = table(html)
    assert header == ["subject", "predicate", "object"] and len(rows) == len(expected)
    turtle = unescape(re.search(r'<pre class="turtle">(.*?)</pre>', html, re.DOTALL)[1])
    assert isomorphic(rdflib.Graph().parse(data=turtle, format="turtle"), expected)


def test_describe_rows_show_our_terms_compactly(client):
    html = client.post("/query", follow_redirects=True, data={"query": DESCRIBE}).get_data(as_text=True)
    rows = table(html)[1:]
    assert ["hid:al-qaeda", "rdf:type", "haven:MilitantOrganization"] in rows
    assert ["hid:al-qaeda", "skos:prefLabel", "al-Qaeda @en"] in rows


@pytest.mark.parametrize("query,unit", [(PERSONS, "rows"), (PERSON_TYPES, "triples")])
def test_a_capped_answer_says_so(make_app, query, unit):
    client = make_app(result_limit=2).test_client()
    html = client.post("/query", follow_redirects=True, data={"query": query}).get_data(as_text=True)
    assert re.match(rf"(SELECT|CONSTRUCT): 2 {unit}, in ", summary(html))
    note = re.search(r'<p class="notice cap-note" role="status">(.*?)</p>', html, re.DOTALL)
    assert note and "The answer was cut at 2" in note[1] and unit in note[1]
    within = client.post("/query", follow_redirects=True, data={"query": "ASK {}"}).get_data(as_text=True)
    assert "cut at" not in answer_section(within)


def test_a_malformed_query_is_400_with_the_parsers_message(client):
    query = "SELECT ?x WHERE { ?x "
    response = client.post("/query", follow_redirects=True, data={"query": query})
    assert response.status_code == 400 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    shown = unescape(re.search(r'<div class="error" role="alert">(.*?)</div>', html, re.DOTALL)[1])
    assert shown == client.get("/sparql", query_string={"query": query}).get_data(as_text=True).strip()
    assert shown.startswith("The query is not valid SPARQL 1.1:\nerror at 1:")
    assert "SELECT ?x WHERE { ?x </textarea>" in html  # kept for correcting


@pytest.mark.parametrize("query,status", [
    ("INSERT DATA { <http://e/s> <http://e/p> <http://e/o> }", 403),
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", 403),
    ("SELECT * WHERE " + "{" * 200 + "}" * 200, 400),
])
def test_refused_queries_are_refused_as_by_sparql(client, query, status):
    page = client.post("/query", follow_redirects=True, data={"query": query})
    endpoint = client.get("/sparql", query_string={"query": query})
    assert page.status_code == endpoint.status_code == status
    assert unescape(re.search(r'<div class="error" role="alert">(.*?)</div>', page.get_data(as_text=True), re.DOTALL)[1]) \
        == endpoint.get_data(as_text=True).strip()


def test_a_query_over_the_size_limit_is_413(make_app):
    client = make_app(max_query_bytes=100).test_client()
    response = client.get("/query", query_string={"query": "ASK {}" + " " * 200})
    assert response.status_code == 413 and "larger than the 100 bytes" in response.get_data(as_text=True)
    # a POSTed form that large is refused before it is read, as /sparql's is (plain text from the app)
    assert client.post("/query", follow_redirects=True, data={"query": "ASK {}" + " " * 200}).status_code == 413


def test_busy_is_503_with_retry_after(make_app):
    app = make_app(query_queue_timeout=0)
    admission = query_admission(app)
    others = [f"192.0.2.{n}" for n in range(admission.slots)]
    assert all(admission.enter(client).granted for client in others)
    try:
        response = app.test_client().post("/query", follow_redirects=True, data={"query": "ASK {}"})
    finally:
        for client in others:
            admission.release(client)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "retry shortly" in response.get_data(as_text=True)


def test_an_empty_form_is_the_page_without_an_answer(client):
    response = client.post("/query", follow_redirects=True, data={"query": "  "})
    assert response.status_code == 200 and "<h2>Answer</h2>" not in response.get_data(as_text=True)


XSS = "</textarea><script>alert(1)</script>"


def test_what_a_client_sends_is_escaped(client):
    query = f'# {XSS}\nSELECT (IRI("javascript:alert(document.domain)") AS ?x) ("{XSS}" AS ?y) {{}}'
    html = client.get("/query", query_string={"query": query}).get_data(as_text=True)
    assert "<script>alert" not in html and "</textarea><script>" not in html
    header, row = table(html)
    assert row[0] == "<javascript:alert(document.domain)>" and row[1] == XSS
    assert 'href="javascript:' not in html.lower()
    failed = client.get("/query", query_string={"query": XSS}).get_data(as_text=True)
    assert "<script>alert" not in failed


@pytest.mark.parametrize("path", ["/query", "/query?query=ASK%20%7B%7D", "/query?query=nonsense"])
def test_the_page_allows_only_yasguis_own_inline_styles(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == content_security_policy(YASGUI_INLINE_STYLES)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_the_hashed_styles_are_yasguis_own(client):
    """The hashes allow exactly the texts YASGUI inserts; after an upgrade that changes them this fails
    (and so would the browser tests, with a CSP violation)."""
    assert VENDORED_YASGUI.is_file(), "the vendored YASGUI is missing: `make install` copies it (assets/package.json)"
    script = VENDORED_YASGUI.read_text(encoding="utf-8")
    resizer, drag_cursor = YASGUI_INLINE_STYLES
    assert f"`{resizer}`" in script
    assert "`*{cursor:`+n.opt.dragCursor+`!important}`" in script and "dragCursor:`col-resize`" in script
    assert drag_cursor == "*{cursor:col-resize!important}"
    for name in ("yasgui.min.js", "yasgui.min.css"):
        assert client.get(f"/static/vendor/yasgui/{name}").status_code == 200


def test_the_examples_are_the_competency_questions(client):
    html = client.get("/query").get_data(as_text=True)
    files = sorted((Settings().root / COMPETENCY_QUESTIONS).glob("*.rq"))
    assert len(files) >= 12
    links = re.findall(r'<a class="example-query" href="([^"]+)" data-example="\d+">(.*?)</a>', html)
    assert [unescape(title).split(".")[0] for _, title in links] == [f"CQ{int(f.name[:2])}" for f in files]
    # each link runs its question, as written in its file
    first = client.get(unescape(links[0][0]).replace("http://localhost", ""))
    assert first.status_code == 200 and "<h2>Answer</h2>" in first.get_data(as_text=True)
    assert files[0].read_text(encoding="utf-8").splitlines()[-1] in unescape(first.get_data(as_text=True))


def test_the_examples_follow_the_base():
    other = "https://example.org/other/"
    questions = competency_questions(Settings(base=other))
    assert questions and all("https://w3id.org/haven/" not in q["query"] for q in questions)
    assert all(other + "ontology#" in q["query"] for q in questions)


def test_a_long_answer_shows_its_first_rows_and_counts_them_all(client, monkeypatch):
    monkeypatch.setattr(page_module, "SHOWN_ROWS", 2)
    for query, unit in ((PERSONS, "rows"), (PERSON_TYPES, "triples")):
        html = client.post("/query", follow_redirects=True, data={"query": query}).get_data(as_text=True)
        total = int(re.match(r"\w+: (\d+) ", summary(html))[1])
        assert total > 2 and len(table(html)) == 1 + 2
        assert f"The table shows the first 2 of the {total} {unit}" in " ".join(html.split())
        assert "cut at" not in html  # not the server's cap: the answer is whole


@pytest.mark.parametrize("query,media_types", [
    (PERSONS, ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
               "text/tab-separated-values"]),
    (PERSON_TYPES, ["text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"]),
])
def test_the_answer_links_to_its_downloads(client, query, media_types):
    html = client.post("/query", follow_redirects=True, data={"query": query}).get_data(as_text=True)
    links = [unescape(href) for href in re.findall(r'<a href="([^"]+)">', html.split('<p class="downloads">')[1].split("</p>")[0])]
    assert len(links) == len(media_types)
    for link, media_type in zip(links, media_types):
        response = client.get(link.replace("http://localhost", ""), headers={"Accept": "text/html,*/*;q=0.8"})
        assert response.status_code == 200 and response.mimetype == media_type


def test_the_dataset_parameters_work_as_at_sparql(client):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    for graph in ("https://w3id.org/haven/graph/ontology", "https://w3id.org/haven/graph/hedged"):
        params = {"query": query, "default-graph-uri": graph}
        expected = client.get("/sparql", query_string=params, headers={"Accept": "text/csv"}).get_data(as_text=True)
        html = client.get("/query", query_string=params).get_data(as_text=True)
        assert table(html)[1] == [expected.splitlines()[1] + " ^^xsd:integer"]
    refused = client.get("/query", query_string={"query": query, "default-graph-uri": "not an IRI"})
    assert refused.status_code == 400 and "must be an absolute IRI" in refused.get_data(as_text=True)
