"""Accept matching, table-driven (rdflib-endpoint's test_parse_accept style, with Oxigraph's server cases)."""
from __future__ import annotations

import pytest

from haven import formats
from haven.web import negotiation as n

RESULTS = formats.RESULT_FORMATS
GRAPHS = formats.GRAPH_FORMATS


@pytest.mark.parametrize(
    "accept, offers, expected",
    [
        # missing or empty header: the first offer (the server's default)
        (None, RESULTS, formats.SPARQL_JSON),
        ("", RESULTS, formats.SPARQL_JSON),
        ("   ", GRAPHS, formats.TURTLE),
        # Oxigraph get_query_accept_star / _good / _bad
        ("*/*", RESULTS, formats.SPARQL_JSON),
        ("application/sparql-results+json;charset=utf-8", RESULTS, formats.SPARQL_JSON),
        ("application/foo", RESULTS, None),
        # Oxigraph _explicit_priority, _implicit_priority, _implicit_and_explicit_priority (with real types)
        ("text/foo;q=0.5 , application/sparql-results+json ; q = 0.7", RESULTS, formats.SPARQL_JSON),
        ("application/sparql-results+xml,text/foo", RESULTS, formats.SPARQL_XML),
        ("text/foo;q=0.9,text/csv", RESULTS, formats.SPARQL_CSV),
        # type/* matches only that type (Oxigraph answers JSON to text/*; RFC 9110 says a text/ type)
        ("text/*", RESULTS, formats.SPARQL_CSV),
        ("application/*", GRAPHS, formats.N_TRIPLES),
        # q-values decide, whatever the order in the header
        ("application/sparql-results+xml;q=0.4, text/tab-separated-values;q=0.8", RESULTS, formats.SPARQL_TSV),
        ("application/rdf+xml;q=0.5, application/ld+json", GRAPHS, formats.JSON_LD),
        ("text/turtle;q=0.1, application/n-triples;q=0.2", GRAPHS, formats.N_TRIPLES),
        # equal q: the server's order breaks the tie
        ("application/n-triples, text/turtle", GRAPHS, formats.TURTLE),
        # q=0 excludes, and the most specific range sets an offer's q
        ("*/*, application/sparql-results+json;q=0", RESULTS, formats.SPARQL_XML),
        ("text/*;q=0, */*", RESULTS, formats.SPARQL_JSON),
        ("text/*;q=0, */*", GRAPHS, formats.N_TRIPLES),
        ("text/turtle;q=0", GRAPHS, None),
        ("*/*;q=0", RESULTS, None),
        ("application/*;q=0.1, application/sparql-results+xml", RESULTS, formats.SPARQL_XML),
        # a charset we cannot produce excludes that range; utf-8 is fine
        ("text/turtle;charset=iso-8859-1", GRAPHS, None),
        ("text/turtle;charset=UTF-8", GRAPHS, formats.TURTLE),
        # wrong kind of answer for the query form
        ("text/turtle", RESULTS, None),
        ("application/sparql-results+json", GRAPHS, None),
        # a browser's header: HTML offered → HTML; not offered → */* gives the default
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", GRAPHS + (formats.HTML,), formats.HTML),
        # ... and application/xml;q=0.9 beats */*;q=0.8: XML results (as Fuseki answers a browser)
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", RESULTS, formats.SPARQL_XML),
        ("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", RESULTS, formats.SPARQL_JSON),
        # the generic and older names Oxigraph and Fuseki accept, each meaning the offer of the right kind
        ("application/json", RESULTS, formats.SPARQL_JSON),
        ("application/json", GRAPHS, formats.JSON_LD),
        ("application/json", (formats.HTML, *GRAPHS), formats.JSON_LD),
        ("application/json;q=0, */*", GRAPHS, formats.TURTLE),
        ("application/xml", RESULTS, formats.SPARQL_XML),
        ("text/xml", GRAPHS, formats.RDF_XML),
        ("application/xhtml+xml", (formats.HTML, *GRAPHS), formats.HTML),
        ("application/xhtml+xml", GRAPHS, None),
        ("text/plain", GRAPHS, formats.N_TRIPLES),
        ("text/plain", RESULTS, formats.SPARQL_CSV),
        ("text/n3", GRAPHS, formats.TURTLE),
        ("application/x-turtle", GRAPHS, formats.TURTLE),
        ("application/x-json+ld", GRAPHS, formats.JSON_LD),
        # SPARQLWrapper's N3 header: Turtle is N3, and listed first
        ("application/turtle,text/turtle,text/rdf+n3,application/n-triples,application/n3,text/n3", GRAPHS,
         formats.TURTLE),
        # an alias does not widen a wildcard: application/* is not text/turtle through application/turtle
        ("application/*;q=0.5, text/csv", GRAPHS, formats.N_TRIPLES),
        # case-insensitive types, junk items skipped, bad q treated as 0
        ("Application/SPARQL-Results+XML", RESULTS, formats.SPARQL_XML),
        ("garbage, ;;, text/csv", RESULTS, formats.SPARQL_CSV),
        ("text/csv;q=high, text/tab-separated-values;q=0.1", RESULTS, formats.SPARQL_TSV),
        ("*/json", RESULTS, formats.SPARQL_JSON),  # invalid range skipped → nothing usable left → default
    ],
)
def test_negotiate(accept, offers, expected):
    assert n.negotiate(accept, offers) is expected


@pytest.mark.parametrize(
    "format_param, offers, expected",
    [
        ("json", RESULTS, formats.SPARQL_JSON),
        ("xml", RESULTS, formats.SPARQL_XML),
        ("csv", RESULTS, formats.SPARQL_CSV),
        ("tsv", RESULTS, formats.SPARQL_TSV),
        ("turtle", GRAPHS, formats.TURTLE),
        ("ttl", GRAPHS, formats.TURTLE),
        ("nt", GRAPHS, formats.N_TRIPLES),
        ("rdfxml", GRAPHS, formats.RDF_XML),
        ("jsonld", GRAPHS, formats.JSON_LD),
        # the same short name means the answer of the right kind for the query form
        ("json", GRAPHS, formats.JSON_LD),
        ("xml", GRAPHS, formats.RDF_XML),
        ("application/sparql-results+xml", RESULTS, formats.SPARQL_XML),
        ("TTL", GRAPHS, formats.TURTLE),
        # SPARQLWrapper's names, and the media types an Accept header may use
        ("rdf+xml", GRAPHS, formats.RDF_XML),
        ("n3", GRAPHS, formats.TURTLE),
        ("json-ld", GRAPHS, formats.JSON_LD),
        ("application/json", RESULTS, formats.SPARQL_JSON),
        ("text/tab-separated-values", RESULTS, formats.SPARQL_TSV),
        # a format that is not offered is refused, not silently replaced
        ("turtle", RESULTS, None),
        ("pdf", GRAPHS, None),
    ],
)
def test_by_name(format_param, offers, expected):
    assert n.by_name(format_param, offers) is expected


@pytest.mark.parametrize(
    "accept, format_params, offers, expected",
    [
        # format= picks among what Accept allows: a browser link (Accept ends in */*) gets the format it names
        ("text/html,application/xhtml+xml,*/*;q=0.8", "csv", RESULTS, formats.SPARQL_CSV),
        (None, "tsv", RESULTS, formats.SPARQL_TSV),
        ("application/sparql-results+xml, text/csv;q=0.1", "csv", RESULTS, formats.SPARQL_CSV),
        # ... but it does not override a satisfiable Accept that excludes it
        ("application/sparql-results+xml", "csv", RESULTS, formats.SPARQL_XML),
        ("*/*, text/csv;q=0", "csv", RESULTS, formats.SPARQL_JSON),
        # a value naming no offer (a typo, or a format of another query form) never turns a request into 406
        ("*/*", "yaml", RESULTS, formats.SPARQL_JSON),
        (None, "yaml", GRAPHS, formats.TURTLE),
        ("*/*", "turtle", RESULTS, formats.SPARQL_JSON),
        # Accept allows nothing: the format= value is the client's explicit choice; without one, 406
        ("image/png", "csv", RESULTS, formats.SPARQL_CSV),
        ("image/png", "yaml", RESULTS, None),
        ("image/png", None, RESULTS, None),
        # what SPARQLWrapper sends (format= twice where its short name is not a media type, plus Accept)
        ("application/rdf+xml", ["rdf+xml", "application/rdf+xml"], GRAPHS, formats.RDF_XML),
        ("application/turtle,text/turtle,text/rdf+n3,application/n-triples,application/n3,text/n3", ["n3"], GRAPHS,
         formats.TURTLE),
        ("application/ld+json,application/x-json+ld", ["json-ld", "application/ld+json"], GRAPHS, formats.JSON_LD),
        ("text/tab-separated-values", ["tsv", "text/tab-separated-values"], RESULTS, formats.SPARQL_TSV),
        ("*/*", ["json"], GRAPHS, formats.JSON_LD),  # its JSON return format with a CONSTRUCT
        ("*/*", ["rdf+xml", ""], RESULTS, formats.SPARQL_JSON),  # its RDFXML return format with a SELECT
        ("*/*", ["csv"], GRAPHS, formats.TURTLE),  # its CSV return format with a CONSTRUCT
        # the first value that Accept allows wins
        ("text/csv;q=0.5, text/tab-separated-values", ["xml", "tsv", "csv"], RESULTS, formats.SPARQL_TSV),
    ],
)
def test_choose(accept, format_params, offers, expected):
    assert n.choose(accept, format_params, offers) is expected


def test_accept_decides_without_format_parameter():
    assert n.choose("text/csv", None, RESULTS) is formats.SPARQL_CSV
    assert n.choose("text/csv", "", RESULTS) is formats.SPARQL_CSV


def test_parse_accept_reads_q_and_params():
    ranges = n.parse_accept('text/turtle;charset="utf-8";q=0.5;ext=1, */*')
    assert ranges[0].type == "text" and ranges[0].subtype == "turtle"
    assert ranges[0].params == (("charset", "utf-8"),)
    assert ranges[0].q == 0.5
    assert (ranges[1].type, ranges[1].subtype, ranges[1].q) == ("*", "*", 1.0)


def test_q_is_clamped_to_the_http_range():
    assert n.parse_accept("text/csv;q=7")[0].q == 1.0
    assert n.parse_accept("text/csv;q=-1")[0].q == 0.0


def test_content_types_declare_utf8_for_text_formats():
    assert formats.TURTLE.content_type == "text/turtle; charset=utf-8"
    assert formats.SPARQL_CSV.content_type == "text/csv; charset=utf-8"
    assert formats.SPARQL_JSON.content_type == "application/sparql-results+json"


def test_offers_message_lists_media_types_and_names():
    line = n.offers_message(GRAPHS)
    for fmt in GRAPHS:
        assert fmt.media_type in line and f"format={fmt.name}" in line


def test_empty_offers_gives_none():
    assert n.negotiate("*/*", ()) is None
