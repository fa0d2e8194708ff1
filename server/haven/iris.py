"""Every IRI and URL Haven makes, in one place: the canonical IRIs under the base, the server's URL space, the
prefix table, and the rebasing of IRIs when a build publishes under another base.

Haven's IRIs live under the configured base (``https://w3id.org/haven/`` by default, normalised to end with
'/' by `haven.config.Settings`), but a server may answer on any host (``http://127.0.0.1:8080/``). RDF keeps
the canonical IRIs; HTML links point at the host that served the page so that a reader can keep browsing
there. The path below the base is the same on both sides (``{base}id/al-qaeda`` ⇄ ``{host}id/al-qaeda``),
which is also what the w3id redirect rules rely on. So the paths below are at once the URL space the build's
metadata describes (VoID's endpoint, dumps, dataset) and the routes the web layer serves.

Source files are always written against :data:`haven.config.DEFAULT_BASE`; everything that needs an IRI at
run time asks :func:`iris_for` for the set that matches the configured base.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef

from haven import terms
from haven.config import DEFAULT_BASE, normalise_base
from haven.formats import Format

# -- the URL space: paths below the base (IRIs) and below the server root (routes) -------------------------

ENTITY_PATH = "id/"
STATEMENT_PATH = "id/statement/"
DOCUMENT_PATH = "data/"
PAGE_PATH = "page/"
ONTOLOGY_PATH = "ontology"
SHAPES_PATH = "shapes"
GRAPH_PATH = "graph/"
DATASET_PATH = "dataset"
SPARQL_PATH = "sparql"
QUERY_PAGE_PATH = "query"
VOID_PATH = ".well-known/void"
DUMP_PATH = "dumps/haven."
CONTEXT_PATH = "context.jsonld"
STATIC_PATH = "static/"
#: lookup by name (HTML and JSON) and the W3C Reconciliation Service API with its sub-services
SEARCH_PATH = "search"
RECONCILE_PATH = "reconcile"
RECONCILE_PREVIEW_PATH = "reconcile/preview"
RECONCILE_SUGGEST_PATH = "reconcile/suggest/"  # + entity, type, property
RECONCILE_FLYOUT_PATH = "reconcile/flyout/"  # + entity
RECONCILE_PROPOSE_PATH = "reconcile/propose_properties"
#: Triple Pattern Fragments (haven.web.fragments)
FRAGMENTS_PATH = "fragments"
#: the dataset's allegiance and sanctuary network as a picture (haven.web.pictures)
NETWORK_PATH = "network"
#: Prometheus metrics of one server process, for its operators (haven.web.metrics)
METRICS_PATH = "metrics"
#: the HTTP API description, `/openapi.json` and `/openapi.yaml` (haven.web.openapi)
OPENAPI_PATH = "openapi"
#: skolem IRIs that stand for the release's blank nodes in fragments (RDF 1.1 Concepts §3.5)
GENID_PATH = ".well-known/genid/"
#: the release list; `releases/{id}` a release, `releases/{id}/changes` what it changed (haven.history)
RELEASES_PATH = "releases"
#: the named graphs of a build, in the order they are written
GRAPHS = ("ontology", "data", "derived", "hedged", "metadata")
#: the graphs kept out of the default graph a client queries (read with GRAPH or FROM): `hedged` holds the
#: direct triples that only Believed, Alleged or Disputed statements support (docs/architecture.md)
HEDGED_GRAPHS = ("hedged",)
#: the graphs whose union is the default graph
DEFAULT_GRAPHS = tuple(name for name in GRAPHS if name not in HEDGED_GRAPHS)
#: the certainties (local names in the haven namespace) whose statements make the default graph's direct
#: layer; a triple that only the other levels (Believed, Alleged, Disputed) support goes to `hedged`
FIRM_CERTAINTIES = ("Stated", "Reported")
#: the slug of the source article every statement comes from (the dataset's root resource)
SOURCE_SLUG = "the-al-qaeda-afghan-taliban-connections"


def route(path: str) -> str:
    """The Flask rule for a path of the URL space (``sparql`` → ``/sparql``)."""
    return "/" + path


# -- slugs and embedding ----------------------------------------------------------------------------------

# One or more path segments of lowercase ASCII words joined by '-': the slug grammar of the contract, with
# '/' allowed between segments (``statement/taliban-sanctuary-to-al-qaeda``). Anything else is not one of
# our entities, so it never reaches a query: this pattern is the guard that makes IRIs safe to embed.
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*){0,3}")
MAX_SLUG_LENGTH = 200

# IRIs read back from the store are embedded in follow-up queries; an IRI containing characters that are
# illegal in SPARQL's IRIREF production would end the IRI early, so such IRIs are never embedded.
_SAFE_IRI = re.compile(r"[^\s<>\"{}|^`\\]+")


def is_web_url(iri: str) -> bool:
    """True for an absolute http(s) IRI, the only kind a page may make clickable: a browser runs a
    ``javascript:`` link and renders a ``data:`` one as a page of the attacker's making. Matched on the raw
    text, so leading blanks or a tab inside the scheme (which browsers strip) cannot slip one past."""
    return iri[:8].lower().startswith(("http://", "https://"))


def is_valid_slug(slug: str) -> bool:
    return len(slug) <= MAX_SLUG_LENGTH and SLUG_PATTERN.fullmatch(slug) is not None


def sparql_iri(iri: str) -> str:
    """`<iri>` for a query, refusing anything that could break out of the IRI."""
    if not _SAFE_IRI.fullmatch(iri):
        raise ValueError(f"not embeddable in SPARQL: {iri!r}")
    return f"<{iri}>"


def is_embeddable(iri: str) -> bool:
    return _SAFE_IRI.fullmatch(iri) is not None


# -- vocabularies -----------------------------------------------------------------------------------------

#: external vocabularies of the contract, by their usual prefix (rdflib namespaces of `haven.terms`)
EXTERNAL = {prefix: Namespace(iri) for prefix, iri in terms.VOCABULARIES.items()}
ORG, SCHEMA, OA, VANN, SH, SD = (EXTERNAL[p] for p in ("org", "schema", "oa", "vann", "sh", "sd"))
WIKIDATA, DBPEDIA = EXTERNAL["wd"], EXTERNAL["dbr"]


# -- canonical IRIs ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Iris:
    """The canonical IRIs under one base (which ends with '/')."""

    base: str

    @property
    def haven(self) -> Namespace:
        return Namespace(f"{self.ontology_iri}#")

    @property
    def ontology_iri(self) -> URIRef:
        return URIRef(self.base + ONTOLOGY_PATH)

    def ontology_version_iri(self, version: str) -> str:
        """A string, not a URIRef: the version may come from a client (rdflib logs odd text made a URIRef)."""
        return f"{self.ontology_iri}/{version}"

    @property
    def hsh(self) -> Namespace:
        return Namespace(f"{self.shapes_iri}#")

    @property
    def shapes_iri(self) -> URIRef:
        return URIRef(self.base + SHAPES_PATH)

    @property
    def hid(self) -> Namespace:
        return Namespace(self.base + ENTITY_PATH)

    @property
    def hst(self) -> Namespace:
        return Namespace(self.base + STATEMENT_PATH)

    @property
    def hg(self) -> Namespace:
        return Namespace(self.base + GRAPH_PATH)

    @property
    def graphs(self) -> dict[str, URIRef]:
        """The named graphs of a build, in the order they are written."""
        return {name: self.hg[name] for name in GRAPHS}

    @property
    def default_graphs(self) -> dict[str, URIRef]:
        """The named graphs whose union is the default graph a client queries (all but the hedged one)."""
        return {name: self.hg[name] for name in DEFAULT_GRAPHS}

    @property
    def dataset_iri(self) -> URIRef:
        return URIRef(self.base + DATASET_PATH)

    @property
    def context_iri(self) -> URIRef:
        """The JSON-LD @context every Haven JSON-LD document names (served at /context.jsonld)."""
        return URIRef(self.base + CONTEXT_PATH)

    @property
    def sparql_endpoint(self) -> URIRef:
        return URIRef(self.base + SPARQL_PATH)

    @property
    def fragments_iri(self) -> URIRef:
        return URIRef(self.base + FRAGMENTS_PATH)

    def skolem_iri(self, blank_id: str) -> URIRef:
        return URIRef(self.base + GENID_PATH + blank_id)

    def skolem_id(self, iri: str) -> str | None:
        """The blank node id a skolem IRI of ours names, else None."""
        prefix = self.base + GENID_PATH
        return iri[len(prefix):] or None if iri.startswith(prefix) else None

    def release_iri(self, release_id: str) -> str:
        return f"{self.base}{RELEASES_PATH}/{release_id}"

    def dump_iri(self, fmt: Format, compressed: bool = False) -> URIRef:
        """The dump in `fmt`; `compressed`: its gzip file beside it (`haven.nt.gz`)."""
        return URIRef(f"{self.base}{DUMP_PATH}{fmt.extension}{'.gz' if compressed else ''}")

    def entity_iri(self, slug: str) -> URIRef:
        if not is_valid_slug(slug):
            raise ValueError(f"not a slug: {slug!r}")
        return self.hid[slug]

    def slug_of(self, iri: str) -> str | None:
        """The slug when `iri` is one of our entity IRIs (``{base}id/<slug>``), else None."""
        if not iri.startswith(self.hid):
            return None
        slug = iri[len(self.hid):]
        return slug if is_valid_slug(slug) else None

    def document_iri(self, slug: str, ext: str | None = None) -> URIRef:
        """The canonical IRI of the document about an entity (generic when `ext` is None)."""
        return URIRef(f"{self.base}{DOCUMENT_PATH}{slug}" + (f".{ext}" if ext else ""))

    def page_iri(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}{PAGE_PATH}{slug}")

    def prefixes(self) -> dict[str, str]:
        """Prefix → namespace IRI, Haven's first: the one prefix table of serialisers, /sparql answers,
        documents and readable output."""
        own = {"haven": self.haven, "hsh": self.hsh, "hst": self.hst, "hid": self.hid, "hg": self.hg}
        return {p: str(ns) for p, ns in {**own, **EXTERNAL}.items()}

    def bind(self, graph: Graph) -> Graph:
        for prefix, iri in self.prefixes().items():
            graph.bind(prefix, iri, override=True, replace=True)
        return graph


@lru_cache(maxsize=8)
def iris_for(base: str = DEFAULT_BASE) -> Iris:
    return Iris(normalise_base(base))


# -- served URLs (what HTML links to) -------------------------------------------------------------------------

@dataclass(frozen=True)
class UrlMap(Iris):
    """The canonical IRIs of one base, and where the host a request arrived at serves them."""

    host_root: str = "/"  # e.g. "http://127.0.0.1:8080/" (Flask's request.url_root: scheme, host and script root)

    def served(self, iri: str) -> str | None:
        """Where a browser on this host finds `iri`: ours → this host, anyone else's → unchanged, and None
        for an IRI that is not http(s), which a page shows as text, never as a link."""
        if iri.startswith(self.base):
            return self.host_root + iri[len(self.base):]
        return iri if is_web_url(iri) else None

    def url(self, path: str) -> str:
        """The URL of a path of the URL space on this host."""
        return self.host_root + path

    def page_url(self, slug: str) -> str:
        return self.url(PAGE_PATH + slug)

    def data_url(self, slug: str, ext: str) -> str:
        return self.url(f"{DOCUMENT_PATH}{slug}.{ext}")

    def link(self, iri: str) -> str | None:
        """The HTML link for a resource: an entity's page directly (skipping the 303), else `served`."""
        slug = self.slug_of(iri)
        if slug is not None:
            return self.page_url(slug)
        return self.served(iri)


# -- reading IRIs -------------------------------------------------------------------------------------------

def compact(iri: str, prefixes: dict[str, str]) -> str:
    """`haven:Person` for a known namespace, `<iri>` otherwise (longest namespace wins)."""
    best = max((ns for ns in prefixes.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return f"<{iri}>"
    local = iri[len(best):]
    prefix = next(p for p, ns in prefixes.items() if ns == best)
    # a local name Turtle would reject is shown in full rather than as a misleading CURIE
    if local and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", local) or local.endswith("."):
        return f"<{iri}>"
    return f"{prefix}:{local}"


# -- rebasing (a build published under another base) ---------------------------------------------------------

# A literal that is nothing but one of our IRIs (vann:preferredNamespaceUri, xsd:anyURI values) names that
# IRI and must follow it to the new base; text that merely mentions the IRI is left as written.
_IRI_ONLY = re.compile(r"\S+")
_IRI_TYPES = (terms.XSD_ANY_URI, terms.XSD_STRING)


def rebase_term(term, old: str, new: str):
    if isinstance(term, URIRef):
        return URIRef(new + term[len(old):]) if term.startswith(old) else term
    if isinstance(term, Literal) and term.startswith(old) and _IRI_ONLY.fullmatch(str(term)):
        if (term.datatype is None or str(term.datatype) in _IRI_TYPES) and term.language is None:
            return Literal(new + str(term)[len(old):], datatype=term.datatype)
    return term


def rebase_ox(term, old: str, new: str):
    """:func:`rebase_term` for pyoxigraph terms (the build's store), by the same rules."""
    if isinstance(term, ox.NamedNode):
        return ox.NamedNode(new + term.value[len(old):]) if term.value.startswith(old) else term
    if isinstance(term, ox.Literal) and not term.language and term.value.startswith(old) \
            and term.datatype.value in _IRI_TYPES and _IRI_ONLY.fullmatch(term.value):
        return ox.Literal(new + term.value[len(old):], datatype=term.datatype)
    return term


def rebase_graph(graph: Graph, new: str, old: str = DEFAULT_BASE) -> Graph:
    """A copy of `graph` with every IRI under `old` moved under `new` (the graph itself when they match)."""
    if new == old:
        return graph
    out = Graph()
    for prefix, ns in graph.namespaces():
        out.bind(prefix, rebase_term(URIRef(ns), old, new), override=True, replace=True)
    for s, p, o in graph:
        out.add((rebase_term(s, old, new), rebase_term(p, old, new), rebase_term(o, old, new)))
    return out
