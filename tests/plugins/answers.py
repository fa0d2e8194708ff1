"""Reading what the Flask test client got back from /sparql: solutions and graphs parsed with rdflib, blank-node
labels aside, so that answers from different stores compare (tests/test_backends.py, test_remote_parity.py)."""
from __future__ import annotations

import io
import json

from rdflib import Graph
from rdflib.query import Result

RESULT_PARSERS = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
                  "text/csv": "csv", "text/tab-separated-values": "tsv"}
GRAPH_PARSERS = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
                 "application/rdf+xml": "xml"}


def _term(value) -> str:
    if value is None:
        return ""
    return "_:b" if value.n3().startswith("_:") else value.n3()


def solutions(response) -> list[tuple]:
    fmt = RESULT_PARSERS[response.mimetype]
    result = Result.parse(io.BytesIO(response.data), format=fmt)
    if result.type == "ASK":
        return [(result.askAnswer,)]
    names = [str(v) for v in result.vars]
    return sorted(tuple((n, _term(row[n])) for n in names) for row in result)  # in the query's variable order


def rdf(response, client=None) -> Graph:
    fmt = GRAPH_PARSERS[response.mimetype]
    body = response.data.decode("utf-8")
    if fmt == "json-ld" and client is not None and "context.jsonld" in body:
        doc = json.loads(body)
        doc["@context"] = json.loads(client.get("/context.jsonld").data)["@context"]
        body = json.dumps(doc)
    return Graph().parse(data=body, format=fmt)


def sparql(client, query, accept="application/sparql-results+json", **params):
    return client.get("/sparql", query_string={"query": query, **params}, headers={"Accept": accept})
