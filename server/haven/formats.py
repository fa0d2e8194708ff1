"""The formats Haven reads and writes: one table of media types, `format=` names and file extensions.

A leaf module (no rdflib, no Flask): the web layer negotiates over these objects, the stores serialise to
them and the query worker names them across its pipe.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Format:
    #: short name accepted by the ``format=`` parameter
    name: str
    media_type: str
    #: "results" (SELECT/ASK), "graph" (CONSTRUCT/DESCRIBE, RDF documents) or "html"
    kind: str
    #: other ``format=`` values and file extensions that mean this format
    aliases: tuple[str, ...] = ()
    #: text formats carry an explicit charset so that browsers and curl never guess
    charset: bool = False

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


SPARQL_JSON = Format("json", "application/sparql-results+json", "results", ("srj",))
SPARQL_XML = Format("xml", "application/sparql-results+xml", "results", ("srx",), charset=True)
SPARQL_CSV = Format("csv", "text/csv", "results", (), charset=True)
SPARQL_TSV = Format("tsv", "text/tab-separated-values", "results", (), charset=True)

TURTLE = Format("turtle", "text/turtle", "graph", ("ttl",), charset=True)
N_TRIPLES = Format("nt", "application/n-triples", "graph", ("ntriples", "n-triples"))
RDF_XML = Format("rdfxml", "application/rdf+xml", "graph", ("rdf", "xml", "owl"), charset=True)
JSON_LD = Format("jsonld", "application/ld+json", "graph", ("json-ld", "json"))
N_QUADS = Format("nq", "application/n-quads", "dataset", ("nquads", "n-quads"))

HTML = Format("html", "text/html", "html", ("htm",), charset=True)

#: SELECT and ASK answers; the first is the default
RESULT_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, SPARQL_CSV, SPARQL_TSV)
#: CONSTRUCT and DESCRIBE answers and every RDF document; Turtle is the default
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, N_TRIPLES, RDF_XML, JSON_LD)


def by_name(name: str | None, offers: Sequence[Format]) -> Format | None:
    """The offer a ``format=`` value names (short name, alias, or full media type); None if none does."""
    if not name:
        return None
    wanted = name.strip().lower()
    for offer in offers:
        if wanted == offer.name or wanted in offer.aliases or wanted == offer.media_type:
            return offer
    return None
