"""The one formats table (haven.formats): every name in it means something to the library it names."""
from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.plugin import Serializer, get

from haven import formats
from haven.store.answers import oxigraph_format


@pytest.mark.parametrize("fmt", formats.ALL, ids=lambda f: f.name)
def test_library_names_resolve(fmt):
    if fmt.oxigraph is not None:
        constant = oxigraph_format(fmt)
        assert isinstance(constant, ox.QueryResultsFormat if fmt.kind == "results" else ox.RdfFormat)
        assert constant.media_type.split(";")[0] == fmt.media_type
    if fmt.rdflib is not None:
        assert get(fmt.rdflib, Serializer) is not None


def test_extensions_and_names_are_unambiguous():
    for offers in (formats.GRAPH_FORMATS, formats.RESULT_FORMATS, formats.DUMP_FORMATS):
        assert len({f.extension for f in offers}) == len(offers)
        for fmt in offers:
            assert formats.by_extension(fmt.extension, offers) is fmt
            assert formats.by_name(fmt.name, offers) is fmt
            assert formats.by_media_type(fmt.content_type, offers) is fmt


def test_a_store_may_answer_with_a_legacy_media_type():
    assert formats.by_media_type("application/x-turtle; charset=utf-8") is formats.TURTLE
    assert formats.by_media_type("text/plain") is formats.N_TRIPLES
    assert formats.by_media_type("application/json") is None


def test_rdflib_names_round_trip_a_graph():
    graph = Graph()
    graph.add((URIRef("http://example.org/a"), URIRef("http://example.org/b"), URIRef("http://example.org/c")))
    for fmt in formats.GRAPH_FORMATS:
        again = Graph().parse(data=graph.serialize(format=fmt.rdflib), format=fmt.rdflib)
        assert set(again) == set(graph)
