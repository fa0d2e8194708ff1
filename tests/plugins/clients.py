"""Third-party clients driven against a real Haven server (tests/test_client_conformance.py).

* `rapper_count(body, media_type)`: the triples (or quads) Raptor's `rapper` parses from a document; it fails
  the test when rapper rejects it. `RAPPER_PARSERS` are the media types Raptor reads (not JSON-LD);
* `rdflib_count(body, media_type)`: the same count by rdflib;
* `comunica(sources, query)`: Comunica 4.5's answer (tests/clients, installed by `make system-deps`) as
  rows of rdflib terms, comparable with `rdflib_rows`;
* `self_based_server`: a server whose release is published under its own URL as base, so that every IRI
  in it, the JSON-LD @context included, dereferences on this machine (a client that follows links, such as
  Comunica, never leaves for w3id.org);
* `conformance_server`: the server the suite reads and its release folder: `live_server` over the fixture
  release, or a server over the build HAVEN_CONFORMANCE_BUILD names (e.g. `build` after `haven build`, to
  run the suite on the real release);
* `sample(items, limit)`: at most `limit` items spread evenly over a sorted list (the whole list when shorter).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef

from plugins.release import write_release
from plugins.servers import start_live_server
from plugins.stores import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
COMUNICA = ROOT / "tests" / "clients" / "node_modules" / ".bin" / "comunica-sparql"
RAPPER = "rapper"
#: media type → Raptor's parser name (Raptor has no JSON-LD parser: PyLD reads that format instead)
RAPPER_PARSERS = {"text/turtle": "turtle", "application/n-triples": "ntriples", "application/rdf+xml": "rdfxml",
                  "application/n-quads": "nquads", "application/trig": "trig"}
RDFLIB_PARSERS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
                  "application/n-quads": "nquads", "application/trig": "trig"}
_RAPPER_COUNT = re.compile(r"Parsing returned (\d+) triples?")
#: seconds one Comunica query may take (a Node start is about two of them)
COMUNICA_TIMEOUT_S = 120


def rapper_count(body: bytes, media_type: str, base: str = "http://example.org/") -> int:
    result = subprocess.run([RAPPER, "-i", RAPPER_PARSERS[media_type], "-c", "-", base], input=body,
                            capture_output=True, timeout=60)
    errors = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0 and "Error" not in errors, errors
    return int(_RAPPER_COUNT.search(errors).group(1))


def rdflib_count(body: bytes, media_type: str) -> int:
    fmt = RDFLIB_PARSERS[media_type]
    if fmt in ("nquads", "trig"):
        dataset = Dataset()
        dataset.parse(data=body, format=fmt)
        return sum(1 for _ in dataset.quads((None, None, None, None)))
    return len(Graph().parse(data=body, format=fmt))


def _term(value: dict):
    if value["type"] == "uri":
        return URIRef(value["value"])
    if value["type"] == "bnode":
        return BNode()  # blank nodes are compared by position only: callers avoid them
    if "xml:lang" in value:
        return Literal(value["value"], lang=value["xml:lang"])
    return Literal(value["value"], datatype=URIRef(value["datatype"]) if "datatype" in value else None)


def comunica(sources: list[str], query: str):
    """SELECT → sorted rows of (variable, term) pairs; ASK → bool."""
    assert COMUNICA.exists(), f"{COMUNICA} is missing: run `make system-deps`"
    result = subprocess.run([str(COMUNICA), *sources, "-q", query, "-t", "application/sparql-results+json"],
                            capture_output=True, timeout=COMUNICA_TIMEOUT_S)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    answer = json.loads(result.stdout)
    if "boolean" in answer:
        return answer["boolean"]
    return sorted(tuple(sorted((name, _term(value)) for name, value in row.items()))
                  for row in answer["results"]["bindings"])


def rdflib_rows(graph: Graph, query: str):
    """rdflib's answer in `comunica`'s shape."""
    result = graph.query(query)
    if result.type == "ASK":
        return result.askAnswer
    return sorted(tuple(sorted((str(v), row[v]) for v in result.vars if row[v] is not None)) for row in result)


def sample(items: list, limit: int) -> list:
    items = sorted(items)
    if len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


@pytest.fixture(scope="session")
def conformance_server(request, build_dir):
    """(server, release folder): the session's `live_server` over the fixture release, or a server over the
    build HAVEN_CONFORMANCE_BUILD names."""
    named = os.environ.get("HAVEN_CONFORMANCE_BUILD")
    if not named:
        yield request.getfixturevalue("live_server"), (build_dir / "current").resolve()
        return
    build = Path(named).resolve()
    server = start_live_server(build)
    yield server, (build / "current").resolve()
    server.stop()


@pytest.fixture(scope="session")
def self_based_server(tmp_path_factory):
    # the port is chosen before the release is written, since the release's IRIs contain it; another process
    # taking it in between makes the server fail to start, loudly
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    build = tmp_path_factory.mktemp("self-based")
    release = write_release(build, base=base)
    server = start_live_server(build, base=base, port=port)
    server.release = release
    yield server
    server.stop()

