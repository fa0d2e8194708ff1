"""RDF documents as text: Haven's serialisation of rdflib graphs (Turtle with Haven's prefixes, JSON-LD
compacted against the published @context, which is served at `/context.jsonld` and named by URL).
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

from flask import request
from rdflib import Dataset, Graph

from haven.config import DEFAULT_BASE
from haven.formats import JSON_LD, TURTLE, Format
from haven.iris import CONTEXT_PATH, iris_for
from haven.web.current import settings

@lru_cache(maxsize=8)
def jsonld_context(base: str) -> dict:
    """Haven's @context, written against the default base and moved to the configured one."""
    text = files("haven.web").joinpath(CONTEXT_PATH).read_text(encoding="utf-8")
    return json.loads(text.replace(DEFAULT_BASE, base))


def jsonld_context_url() -> str:
    """Where a JSON-LD processor fetches the context: this host, which certainly serves it."""
    return request.url_root + CONTEXT_PATH


def serialize(graph: Graph | Dataset, fmt: Format) -> str:
    if fmt is JSON_LD:
        return to_json_ld(graph)
    if fmt is TURTLE:  # a document read by people: Haven's prefixes make it legible
        iris_for(settings().base).bind(graph)
    return graph.serialize(format=fmt.rdflib)


def to_json_ld(graph: Graph | Dataset) -> str:
    """Compact JSON-LD against the published context, which the document then names by URL rather than
    inlining it, so that every Haven JSON-LD document reads the same way."""
    context = jsonld_context(settings().base)["@context"]
    doc = json.loads(graph.serialize(format=JSON_LD.rdflib, context=context, auto_compact=True))
    if isinstance(doc, dict):
        doc["@context"] = jsonld_context_url()
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False)
