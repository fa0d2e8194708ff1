"""Dataset-level content: landing-page facts, example queries, the ontology (graph and pyLODE HTML), the VoID
description and the dumps. Computed from the store or the release folder; the callers cache per release.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import sys
import tempfile
import threading
import types
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS, SKOS, VOID

from haven.config import Settings
from haven.formats import DUMP_FORMATS, JSON_LD, N_QUADS, Format
from haven.namespaces import namespaces
from haven.store.answers import oxigraph_format
from haven.store.base import Store
from haven.urls import UrlMap

SOURCE_SLUG = "the-al-qaeda-afghan-taliban-connections"
#: entry points of the landing page: heading → the haven class whose instances (and subclasses') it lists
ENTRY_POINTS = (("Organisations", "Organization"), ("People", "Person"), ("States", "State"),
                ("Places", "Place"), ("Events", "Event"), ("Ideologies", "Ideology"))


def landing_facts(store: Store, base: str) -> dict:
    ns = namespaces(base)
    haven = ns.haven
    classes = store.rows(f"""
SELECT ?class (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?s) AS ?n) WHERE {{
  ?s a ?class . FILTER(STRSTARTS(STR(?class), "{haven}") && STRSTARTS(STR(?s), "{ns.hid}"))
  OPTIONAL {{ ?class <{RDFS.label}> ?l }}
}} GROUP BY ?class ORDER BY DESC(?n) ?class""")
    relations = store.rows(f"""
SELECT ?relation (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?st) AS ?n) WHERE {{
  ?st <{haven}relation> ?relation . OPTIONAL {{ ?relation <{RDFS.label}> ?l }}
}} GROUP BY ?relation ORDER BY DESC(?n) ?relation""")
    entry_points = []
    for heading, cls in ENTRY_POINTS:
        # filtered and sorted here, not in SPARQL: Virtuoso 7.2 drops every row when a string function of
        # ?s or ?label (STRSTARTS, LCASE) meets a `*` path over a dataset of several graphs
        rows = store.rows(f"""
SELECT DISTINCT ?s ?label WHERE {{
  ?s a/<{RDFS.subClassOf}>* <{haven[cls]}> ; <{SKOS.prefLabel}> ?label .
}}""")
        items = sorted(((str(r["s"]), str(r["label"])) for r in rows if str(r["s"]).startswith(str(ns.hid))),
                       key=lambda item: (item[1].lower(), item[0]))
        entry_points.append({"heading": heading, "items": items})
    source = ns.hid[SOURCE_SLUG]
    about = store.rows(f"""
SELECT ?title ?creator ?publisher ?sha256 WHERE {{
  OPTIONAL {{ <{source}> <{DCTERMS.title}> ?title }}
  OPTIONAL {{ <{source}> <{DCTERMS.creator}>/<{SKOS.prefLabel}> ?creator }}
  OPTIONAL {{ <{source}> <{DCTERMS.publisher}>/<{SKOS.prefLabel}> ?publisher }}
  OPTIONAL {{ <{source}> <{haven}sha256> ?sha256 }}
}} LIMIT 1""")
    triples = store.rows("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    return {
        "classes": [(str(r["class"]), str(r.get("label") or r["class"]), int(r["n"])) for r in classes],
        "relations": [(str(r["relation"]), str(r.get("label") or r["relation"]), int(r["n"])) for r in relations],
        "entry_points": entry_points,
        "source": {"iri": str(source), **{k: str(v) for k, v in (about[0] if about else {}).items()}},
        "triples": int(triples[0]["n"]) if triples else 0,
    }


def example_queries(base: str) -> list[dict]:
    """A few questions the data answers, each a complete query that runs as written."""
    haven, hid = namespaces(base).haven, namespaces(base).hid
    prefixes = (f"PREFIX haven: <{haven}>\nPREFIX hid: <{hid}>\n"
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n")
    return [
        {"title": "Who gave sanctuary to whom, and how sure is the source?",
         "query": prefixes + """SELECT ?host ?guest ?certainty WHERE {
  ?st a haven:SanctuaryProvision ; haven:subject ?s ; haven:object ?o ; haven:certainty ?c .
  ?s skos:prefLabel ?host . ?o skos:prefLabel ?guest . ?c skos:prefLabel ?certainty .
}
ORDER BY ?host ?guest"""},
        {"title": "Leaders and the organisations they led",
         "query": prefixes + """SELECT ?leader ?organisation WHERE {
  ?p haven:leaderOf ?org . ?p skos:prefLabel ?leader . ?org skos:prefLabel ?organisation .
}
ORDER BY ?organisation ?leader"""},
        {"title": "Every spelling of every name",
         "query": prefixes + """SELECT ?entity ?preferred ?spelling WHERE {
  ?entity skos:prefLabel ?preferred ; skos:altLabel ?spelling .
}
ORDER BY ?preferred ?spelling"""},
        {"title": "Statements per kind of relation",
         "query": prefixes + """SELECT ?relation (COUNT(?st) AS ?statements) WHERE {
  ?st haven:relation ?relation .
}
GROUP BY ?relation
ORDER BY DESC(?statements)"""},
    ]


# -- ontology ---------------------------------------------------------------------------------------------

def ontology_graph(store: Store, base: str) -> Graph:
    ns = namespaces(base)
    graph = store.graph(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.graphs['ontology']}> {{ ?s ?p ?o }} }}")
    return ns.bind(graph)


def _ontpub():
    """pyLODE's OntPub. pyLODE 3.x reads its own version from a pyproject.toml that its wheel does not ship;
    give it the installed version instead of letting the import fail."""
    if "pylode.version" not in sys.modules:
        stub = types.ModuleType("pylode.version")
        stub.__version__ = importlib.metadata.version("pylode")
        sys.modules["pylode.version"] = stub
    from pylode import OntPub

    return OntPub


def ontology_html(graph: Graph, term_namespace: str) -> str:
    """pyLODE's documentation of the ontology (one page, CSS inlined), with an anchor per term named by its
    local name, so that a term IRI `{base}ontology#Term` opens the page at that term (pyLODE's own anchors
    are made from labels: `#Militantorganization`)."""
    html = _ontpub()(ontology=graph).make_html(include_css=True)
    entity = re.compile(r'(<div class="[^"]*entity" id="([^"]+)">)(\s*<h3>.*?<code>)' + re.escape(term_namespace)
                        + r'([^<]+)</code>', re.DOTALL)

    def anchor(match):
        opening, existing, between, local = match.groups()
        extra = f'<span id="{local}"></span>' if local != existing else ""
        return f"{opening}{extra}{between}{term_namespace}{local}</code>"

    return entity.sub(anchor, html)


# -- VoID ---------------------------------------------------------------------------------------------------

def void_graph(store: Store, base: str) -> Graph:
    """The build's `hg:metadata`, plus the facts about the live service a consumer needs if the build left
    them out."""
    ns = namespaces(base)
    graph = ns.bind(store.graph(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.graphs['metadata']}> {{ ?s ?p ?o }} }}"))
    dataset = URIRef(f"{base}dataset")
    graph.add((dataset, RDF.type, VOID.Dataset))
    defaults = [
        (VOID.sparqlEndpoint, URIRef(f"{base}sparql")),
        (VOID.uriSpace, Literal(str(ns.hid))),
        (VOID.rootResource, URIRef(f"{base}id/{SOURCE_SLUG}")),
        (DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")),
    ]
    for prop, value in defaults:
        if graph.value(dataset, prop) is None:
            graph.add((dataset, prop, value))
    if graph.value(dataset, VOID.dataDump) is None:
        for fmt in DUMP_FORMATS:
            graph.add((dataset, VOID.dataDump, URIRef(f"{base}dumps/haven.{fmt.extension}")))
    return graph


def void_view(graph: Graph, urls: UrlMap) -> dict:
    dataset = URIRef(f"{urls.base}dataset")

    def one(prop):
        value = graph.value(dataset, prop)
        return str(value) if value is not None else None

    def partitions(link, key, count):
        out = []
        for part in graph.objects(dataset, link):
            term = graph.value(part, key)
            n = graph.value(part, count)
            if term is not None:
                out.append({"iri": str(term), "href": urls.served(str(term)), "n": int(n) if n is not None else None})
        return sorted(out, key=lambda p: -(p["n"] or 0))

    return {
        "iri": str(dataset),
        "title": one(DCTERMS.title) or "Haven",
        "description": one(DCTERMS.description),
        "license": one(DCTERMS.license),
        "triples": one(VOID.triples),
        "entities": one(VOID.entities),
        "issued": one(DCTERMS.issued),
        "endpoint": urls.served(one(VOID.sparqlEndpoint) or ""),
        "uri_space": one(VOID.uriSpace),
        "dumps": sorted(urls.served(str(d)) for d in graph.objects(dataset, VOID.dataDump)),
        "vocabularies": sorted(str(v) for v in graph.objects(dataset, VOID.vocabulary)),
        "examples": sorted(urls.link(str(v)) for v in graph.objects(dataset, VOID.exampleResource)),
        "classes": partitions(VOID.classPartition, VOID["class"], VOID.entities),
        "properties": partitions(VOID.propertyPartition, VOID.property, VOID.triples),
        "distributions": [urls.served(str(d)) for d in graph.objects(dataset, DCAT.distribution)],
    }


# -- dumps ---------------------------------------------------------------------------------------------------

_dump_lock = threading.Lock()


def dump_file(release: Path | None, settings: Settings, release_id: str, fmt: Format,
              store: Store | None = None) -> Path | None:
    """The dump in format `fmt` (one of `haven.formats.DUMP_FORMATS`): N-Quads is the release's own file; the others are written once per release
    into a cache folder next to the releases (never into the release, which is immutable once published).

    Without the release folder (`release` None or lacking haven.nq), a store that can list its quads (a
    remote store: `dump_quads`) gives the N-Quads, written once per release into the same cache folder."""
    source = release / "haven.nq" if release is not None else None
    cache = Path(settings.build_dir) / "cache" / (release_id or "unversioned")
    if source is None or not source.is_file():
        if not hasattr(store, "dump_quads"):
            return None
        source = cache / "haven.nq"
        with _dump_lock:
            if not source.is_file():
                _write_once(source, lambda path: ox.serialize(store.dump_quads(), output=path,
                                                              format=oxigraph_format(N_QUADS)))
    if fmt is N_QUADS:
        return source
    target = cache / f"haven.{fmt.extension}"
    with _dump_lock:
        if not target.is_file():
            dataset = Dataset()
            dataset.parse(source, format=N_QUADS.rdflib)
            ns = namespaces(settings.base)
            if fmt is JSON_LD:
                from haven.web.context import context_document

                text = _json_ld_dump(dataset, context_document(settings.base)["@context"])
            else:
                # Turtle and N-Triples cannot carry named graphs: the dump is their union
                merged = ns.bind(Graph())
                for quad in dataset.quads((None, None, None, None)):
                    merged.add(quad[:3])
                text = merged.serialize(format=fmt.rdflib)
            _write_once(target, lambda path: Path(path).write_text(text, encoding="utf-8"))
    return target


def _write_once(target: Path, write) -> None:
    """`write(path)` into a temporary file beside `target`, then renamed: a concurrent reader sees the whole
    file or none, and a failed write leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_ld_dump(dataset: Dataset, context: dict) -> str:
    """JSON-LD keeps the named graphs; the context is inlined because a dump is read offline."""
    return dataset.serialize(format=JSON_LD.rdflib, context=context, auto_compact=True)

