"""RDF documents as text: Haven's serialisation of rdflib graphs (Turtle with Haven's prefixes, JSON-LD
compacted against the published @context, named by its permanent IRI under the base and served at
`/context.jsonld`). A document about one resource is one JSON-LD object, that resource (haven.web.entities.jsonld).
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

from rdflib import Dataset, Graph, URIRef

from haven.config import DEFAULT_BASE
from haven.formats import JSON_LD, TURTLE, Format
from haven.iris import CONTEXT_PATH, iris_for
from haven.web.current import settings
from haven.web.entities.jsonld import entity_tree

@lru_cache(maxsize=8)
def jsonld_context(base: str) -> dict:
    """Haven's @context, written against the default base and moved to the configured one."""
    text = files("haven.web").joinpath(CONTEXT_PATH).read_text(encoding="utf-8")
    return json.loads(text.replace(DEFAULT_BASE, base))


def jsonld_context_iri() -> str:
    """The context's permanent IRI under the base, which the base's redirects (w3id) lead to the server that
    publishes it, as they do for every other IRI under the base: a document stays valid wherever it is read,
    rather than naming whichever host happened to serve it."""
    return str(iris_for(settings().base).context_iri)


def serialize(graph: Graph | Dataset, fmt: Format, root: URIRef | None = None) -> str:
    """`graph` as text in `fmt`; JSON-LD about one resource (`root`) is that resource's object, with the rest
    of the graph nested under it."""
    if fmt is JSON_LD:
        return to_json_ld(graph, root)
    if fmt is TURTLE:  # a document read by people: Haven's prefixes make it legible
        iris_for(settings().base).bind(graph)
    return graph.serialize(format=fmt.rdflib)


def to_json_ld(graph: Graph | Dataset, root: URIRef | None = None) -> str:
    """Compact JSON-LD against the published context, which the document then names by IRI rather than
    inlining it, so that every Haven JSON-LD document reads the same way."""
    base = settings().base
    context = jsonld_context(base)["@context"]
    if root is not None:
        doc = {"@context": None, **entity_tree(graph, root, context, str(iris_for(base).haven))}
    else:
        doc = _default_graph_at_top(json.loads(graph.serialize(format=JSON_LD.rdflib, context=context,
                                                               auto_compact=True)))
    if isinstance(doc, dict):
        doc["@context"] = jsonld_context_iri()
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False)


def _default_graph_at_top(doc):
    """rdflib writes a dataset's default graph as ``{"@graph": [...]}`` inside the top-level ``@graph``, which
    a JSON-LD 1.1 processor (PyLD, jsonld.js) reads as a graph named by a blank node: its nodes belong in the
    top-level ``@graph`` itself, beside the named graphs."""
    if not isinstance(doc, dict) or not isinstance(doc.get("@graph"), list):
        return doc
    top = []
    for item in doc["@graph"]:
        if isinstance(item, dict) and set(item) == {"@graph"}:
            top.extend(item["@graph"])
        else:
            top.append(item)
    doc["@graph"] = top
    return doc
