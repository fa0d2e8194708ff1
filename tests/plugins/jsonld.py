"""Reading Haven's JSON-LD as third-party clients do (no fixtures).

* `jsonld_graph(doc, context)`: rdflib's reading of a document, with the @context it names supplied inline
  (rdflib would otherwise fetch the permanent IRI from the network): bench/load.py's, the one the load test
  checks answers with (bench/ stands alone, so the tests borrow from it rather than the other way round);
* `pyld_graph(doc, loader)`: PyLD's reading (expansion to RDF), fetching the context through `loader`;
* `context_loader(documents)`: a PyLD document loader that answers from a dict of URL → JSON and refuses
  every other URL, so that no test reaches the network;
* `served_loader(base, server_url)`: a loader that fetches IRIs under `base` from `server_url`, as a client
  behind the base's redirects (w3id) would get them;
* `entity_slugs(nquads, base)`: the slugs of the entities a release describes (its `/id/` subjects).
"""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from pyld import jsonld
from rdflib import Graph

from plugins.bench import bench_module


def jsonld_graph(doc: dict, context: dict) -> Graph:
    return bench_module("load").jsonld_graph(doc, context)


def pyld_graph(doc: dict, loader) -> Graph:
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": loader})
    return Graph().parse(data=nquads, format="nt")


def _remote(url: str, document) -> dict:
    return {"contextUrl": None, "documentUrl": url, "document": document}


def context_loader(documents: dict):
    def load(url, options=None):
        if url not in documents:
            raise jsonld.JsonLdError(f"not a document of this test: {url}", "jsonld.LoadDocumentError",
                                     code="loading document failed")
        return _remote(url, documents[url])
    return load


def served_loader(base: str, server_url: str):
    """Fetch `base…` IRIs from `server_url…` (the path below both is the same), with the JSON-LD Accept."""
    def load(url, options=None):
        if not url.startswith(base):
            raise jsonld.JsonLdError(f"outside the base: {url}", "jsonld.LoadDocumentError",
                                     code="loading document failed")
        request = urllib.request.Request(server_url + url[len(base):], headers={"Accept": "application/ld+json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return _remote(url, json.load(response))
    return load


def entity_slugs(nquads: Path, base: str) -> list[str]:
    prefix = f"<{base}id/"
    slugs = set()
    with open(nquads, encoding="utf-8") as lines:
        for line in lines:
            subject = line.split(" ", 1)[0]
            if subject.startswith(prefix) and not subject.startswith(prefix + "statement/"):
                slugs.add(subject[len(prefix):-1])
    return sorted(slugs)
