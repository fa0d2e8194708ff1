"""The formats Haven reads and writes: the one table of media types, file extensions, `format=` names, and
the names rdflib and pyoxigraph give them.

A leaf module (no rdflib, no pyoxigraph, no Flask): the web layer negotiates over these objects, the stores
serialise to them (`haven.store.answers.oxigraph_format` turns a name below into pyoxigraph's constant), the
build describes its dumps with them and the query worker names them across its pipe.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Format:
    #: short name accepted by the ``format=`` parameter
    name: str
    media_type: str
    #: "results" (SELECT/ASK), "graph" (CONSTRUCT/DESCRIBE, RDF documents), "dataset" (named graphs), "html",
    #: "request" (bodies a client sends), "api" (plain JSON: /search, the reconciliation service) or "patch"
    kind: str
    #: the file extension of a document in this format (``/data/{slug}.ttl``, ``/dumps/haven.nq``)
    extension: str
    #: what people call it (dump titles, 406 answers)
    label: str
    #: other ``format=`` values and file extensions that mean this format
    aliases: tuple[str, ...] = ()
    #: other media types a store may answer with for this format (read, never sent)
    media_aliases: tuple[str, ...] = ()
    #: media types an Accept header (or a ``format=`` value) may name for this format, as Oxigraph and Fuseki
    #: accept them: the generic type (``application/json``, ``application/xml``), older or unregistered
    #: names, and for Turtle the N3 types (every Turtle document is N3). Only within one list of offers, so the
    #: same alias may mean SPARQL JSON results for SELECT and JSON-LD for a graph. Never sent.
    accepted_as: tuple[str, ...] = ()
    #: text formats carry an explicit charset so that browsers and curl never guess
    charset: bool = False
    #: rdflib's serialiser/parser name; None where rdflib is not used for it
    rdflib: str | None = None
    #: the member of pyoxigraph's ``RdfFormat`` or ``QueryResultsFormat``; None where pyoxigraph has none
    oxigraph: str | None = None
    #: its writer declares prefixes (so a store passes Haven's prefix table to it)
    prefixed: bool = False
    #: its name in the W3C registry of formats, ``http://www.w3.org/ns/formats/{w3c}`` (service descriptions)
    w3c: str | None = None

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


SPARQL_JSON = Format("json", "application/sparql-results+json", "results", "srj", "SPARQL JSON results",
                     ("srj",), accepted_as=("application/json",), oxigraph="JSON", w3c="SPARQL_Results_JSON")
SPARQL_XML = Format("xml", "application/sparql-results+xml", "results", "srx", "SPARQL XML results", ("srx",),
                    accepted_as=("application/xml", "text/xml"), charset=True, oxigraph="XML",
                    w3c="SPARQL_Results_XML")
SPARQL_CSV = Format("csv", "text/csv", "results", "csv", "SPARQL CSV results", accepted_as=("text/plain",),
                    charset=True, oxigraph="CSV", w3c="SPARQL_Results_CSV")
SPARQL_TSV = Format("tsv", "text/tab-separated-values", "results", "tsv", "SPARQL TSV results", charset=True,
                    oxigraph="TSV", w3c="SPARQL_Results_TSV")

TURTLE = Format("turtle", "text/turtle", "graph", "ttl", "Turtle", ("ttl", "n3"), ("application/x-turtle",),
                ("application/x-turtle", "application/turtle", "text/n3", "text/rdf+n3", "application/n3"),
                charset=True, rdflib="turtle", oxigraph="TURTLE", prefixed=True, w3c="Turtle")
N_TRIPLES = Format("nt", "application/n-triples", "graph", "nt", "N-Triples", ("ntriples", "n-triples"),
                   ("text/plain",), ("text/plain",), rdflib="nt", oxigraph="N_TRIPLES", w3c="N-Triples")
RDF_XML = Format("rdfxml", "application/rdf+xml", "graph", "rdf", "RDF/XML", ("rdf", "xml", "owl", "rdf+xml"),
                 accepted_as=("application/xml", "text/xml"), charset=True,
                 rdflib="xml", oxigraph="RDF_XML", prefixed=True, w3c="RDF_XML")
JSON_LD = Format("jsonld", "application/ld+json", "graph", "jsonld", "JSON-LD", ("json-ld", "json"),
                 accepted_as=("application/json", "application/x-json+ld"), rdflib="json-ld", oxigraph="JSON_LD", w3c="JSON-LD")
N_QUADS = Format("nq", "application/n-quads", "dataset", "nq", "N-Quads", ("nquads", "n-quads"),
                 rdflib="nquads", oxigraph="N_QUADS", w3c="N-Quads")
TRIG = Format("trig", "application/trig", "dataset", "trig", "TriG", charset=True, rdflib="trig", oxigraph="TRIG",
              prefixed=True, w3c="TriG")

HTML = Format("html", "text/html", "html", "html", "HTML", ("htm",), accepted_as=("application/xhtml+xml",),
              charset=True)
#: plain JSON, not RDF (search hits, reconciliation answers); not in ALL: no store answers with it
JSON = Format("json", "application/json", "api", "json", "JSON")

#: the difference between two releases (https://afs.github.io/rdf-patch/, the media type Apache Jena registers)
RDF_PATCH = Format("rdfpatch", "application/rdf-patch", "patch", "rdfp", "RDF Patch", charset=True)
#: the server's own messages: error answers (`haven.web.errors.plain`), never data
PLAIN_TEXT = Format("text", "text/plain", "message", "txt", "plain text", charset=True)
#: the HTTP API's description (`/openapi.json`, `/openapi.yaml`), the media types the OpenAPI Initiative registered
OPENAPI_JSON = Format("openapi", "application/vnd.oai.openapi+json", "api", "json", "OpenAPI (JSON)")
OPENAPI_YAML = Format("openapi-yaml", "application/vnd.oai.openapi", "api", "yaml", "OpenAPI (YAML)")

#: a compressed dump (`/dumps/haven.nt.gz`): the file is a gzip file (RFC 6713), not N-Triples sent gzipped
GZIP = Format("gzip", "application/gzip", "compression", "gz", "gzip")

# the bodies a client may POST to /sparql (SPARQL 1.1 Protocol §2.1); an update is recognised to be refused
SPARQL_QUERY = Format("query", "application/sparql-query", "request", "rq", "SPARQL query", charset=True)
SPARQL_UPDATE = Format("update", "application/sparql-update", "request", "ru", "SPARQL update", charset=True)
FORM = Format("form", "application/x-www-form-urlencoded", "request", "", "HTML form")

#: SELECT and ASK answers; the first is the default
RESULT_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, SPARQL_CSV, SPARQL_TSV)
#: CONSTRUCT and DESCRIBE answers and every RDF document (an entity's `/data/{slug}.{ext}`); Turtle is the default
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, N_TRIPLES, RDF_XML, JSON_LD)
#: the dumps of a release (`/dumps/haven.{ext}`), in the order the dataset description lists them
DUMP_FORMATS: tuple[Format, ...] = (TURTLE, N_TRIPLES, N_QUADS, JSON_LD)
ALL: tuple[Format, ...] = (*RESULT_FORMATS, *GRAPH_FORMATS, N_QUADS, TRIG, HTML)


def media_type_iri(media_type: str) -> str:
    """The IANA registry's IRI of a media type, as DCAT's mediaType and compressFormat take it."""
    return f"https://www.iana.org/assignments/media-types/{media_type}"


def by_name(name: str | None, offers: Sequence[Format]) -> Format | None:
    """The offer a ``format=`` value names (short name, alias, or a media type it answers); None if none does."""
    if not name:
        return None
    wanted = name.split(";")[0].strip().lower()
    for offer in offers:
        if wanted == offer.name or wanted in offer.aliases or wanted == offer.media_type or wanted in offer.accepted_as:
            return offer
    return None


def by_media_type(media_type: str | None, offers: Sequence[Format] = ALL) -> Format | None:
    """The offer a Content-Type names (parameters ignored, the aliases a store may send included)."""
    wanted = (media_type or "").split(";")[0].strip().lower()
    for offer in offers:
        if wanted == offer.media_type or wanted in offer.media_aliases:
            return offer
    return None


def by_extension(extension: str, offers: Sequence[Format]) -> Format | None:
    """The offer whose documents end in ``.{extension}`` (exactly: a URL's extension has one spelling)."""
    return next((offer for offer in offers if offer.extension == extension), None)
