"""A real Triple Pattern Fragments client answers the competency questions over /fragments with the answers
/sparql gives, on the embedded store and over a real Oxigraph server, for the project's own release.

The client is Comunica 4.5 (`comunica-sparql`, tests/clients/, `make install-test-clients`) given only the
fragments URL: it finds the Hydra controls on the first page, then asks one triple pattern at a time and joins
the pages itself. Both answers are compared as multisets of typed terms (bench/tpf.py, whose functions these
are, prints the requests and times). Two questions are left out, on purpose and said here:

* CQ17 costs the client about two minutes and 5,400 requests on the project's release (its MINUS walks five
  unions of property paths), so the suite asks over the test release the one thing that kept it from an
  answer (property paths walked from literals), and `bench/tpf.py` asks CQ17 itself with the others;
* CQ5 (`?st a/rdfs:subClassOf* haven:Statement`) meets a known Comunica 4 defect: the engine stops without an
  answer or an error on some property paths (comunica/comunica#1553, #1554). Over /fragments it did so in 10
  of 12 runs against a warm server, after 89 to 255 requests, every one answered 200 (node exits when
  nothing is left to wait for, so no request was pending). The same question over the same data as one
  Turtle file answered in 6 of 6 runs. `bench/tpf.py` still asks it and prints the failure.
"""
from __future__ import annotations

from urllib.parse import unquote

import pytest

from plugins.bench import bench_module
from plugins.servers import start_live_server
from plugins.stores import load_release, start_oxigraph_server

tpf = bench_module("tpf")

#: the questions left out (see above), each asked by bench/tpf.py
SLOW_OVER_TPF = "17-hedged-only-direct-triples"
CLIENT_DEFECT = "05-hedged-claims"
LEFT_OUT = {SLOW_OVER_TPF, CLIENT_DEFECT}
#: Comunica evaluates `?label rdfs:subPropertyOf* ?p` from each label it found, asking for the fragments whose
#: subject is that literal, as it does for CQ17; the zero-length step binds each label to itself
WALK_FROM_LITERALS = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label ?p WHERE { ?s skos:prefLabel ?label . ?label rdfs:subPropertyOf* ?p }"""
QUESTIONS = [q for q in tpf.questions() if q.stem not in LEFT_OUT]

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture(scope="module", params=["embedded", "oxigraph"])
def server_url(request, project_build, tmp_path_factory):
    oxigraph = None
    if request.param == "embedded":
        server = start_live_server(project_build)
    else:
        oxigraph = start_oxigraph_server(tmp_path_factory.mktemp("oxigraph-real"))
        load_release((project_build / "current").resolve(), oxigraph)
        server = start_live_server(project_build, store=oxigraph.query_url)
    yield server.url
    server.stop()
    if oxigraph is not None:
        oxigraph.stop()


def test_every_question_is_asked_over_fragments():
    assert len(QUESTIONS) + len(LEFT_OUT) == len(tpf.questions()) and LEFT_OUT <= {q.stem for q in tpf.questions()}


def ask_both(server_url, question, timeout):
    """The question over /fragments and over /sparql, after checking that the server answered every page the
    TPF client asked for. A client that stalls half-way (comunica-sparql then exits 0 with half an answer, seen
    once in CI) is asked once more, and only when the server answered all its requests 200: a server fault is
    never retried away."""
    for attempt in (1, 2):
        before = tpf.fragment_statuses(server_url)
        try:
            answers = tpf.compare(server_url, question, timeout=timeout)
        except tpf.ClientStalled as stall:
            statuses = tpf.fragment_statuses(server_url) - before
            assert set(statuses) <= {200}, f"{stall}\nthe server answered the client's pages {dict(statuses)}"
            if attempt == 2:
                raise
            print(f"TPF client: {stall} (the server answered its {statuses[200]} pages 200); asking again")
            continue
        statuses = tpf.fragment_statuses(server_url) - before
        assert set(statuses) <= {200} and statuses[200] >= answers[0].requests, (
            f"the server answered the client's {answers[0].requests} page requests {dict(statuses)}")
        return answers


def assert_same_answers(fragments, sparql):
    assert fragments.requests >= 2, "the client did not ask for fragments"
    assert sum(sparql.rows.values()) > 0
    assert fragments.variables == sparql.variables
    assert fragments.rows == sparql.rows, (
        f"only over TPF: {fragments.rows - sparql.rows}\nonly over /sparql: {sparql.rows - fragments.rows}")


def test_comunica_walks_property_paths_from_literals(build_dir):
    """CQ17 had no answer through TPF: a literal subject (Comunica walking rdfs:subPropertyOf* from a literal)
    was a 400 that stopped the client; it is now an empty fragment."""
    server = start_live_server(build_dir)
    try:
        fragments, sparql = ask_both(server.url, WALK_FROM_LITERALS, timeout=300)
        assert any('subject="' in unquote(url) for url in fragments.urls), "no fragment of a literal was asked for"
        assert_same_answers(fragments, sparql)
    finally:
        server.stop()


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.stem for q in QUESTIONS])
def test_comunica_over_fragments_answers_as_sparql(server_url, question):
    assert_same_answers(*ask_both(server_url, question, timeout=300))
