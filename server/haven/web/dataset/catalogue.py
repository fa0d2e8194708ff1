"""Dataset-level content: landing-page facts, example queries, the ontology as released, the VoID description
and the dumps. Computed from the store or the release folder; the callers cache per release.
"""
from __future__ import annotations

import functools
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD

from haven import buildfolder, dumps
from haven.config import DEFAULT_BASE, Settings
from haven.formats import DUMP_FORMATS, N_QUADS, Format
from haven.iris import SD, SOURCE_SLUG, UrlMap, iris_for
from haven.store.answers import oxigraph_format
from haven.store.base import Store
from haven.web.fragments.fragment import add_search_form

log = logging.getLogger(__name__)

#: entry points of the landing page: heading → the haven class whose instances (and subclasses') it lists
ENTRY_POINTS = (("Organisations", "Organization"), ("People", "Person"), ("States", "State"),
                ("Places", "Place"), ("Events", "Event"), ("Ideologies", "Ideology"))


def landing_facts(store: Store, base: str) -> dict:
    ns = iris_for(base)
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
    haven, hid = iris_for(base).haven, iris_for(base).hid
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


#: the ontology's competency questions under the sources' root: one SPARQL file each, its first comment the
#: question, its expected answer beside it (tests/test_competency_questions.py). The query page offers them
#: as its examples, read from there: one home for the questions.
COMPETENCY_QUESTIONS = Path("ontology") / "competency-questions"


def competency_questions(settings: Settings) -> list[dict]:
    """The competency questions as examples: `name` (file stem), `title` (the question), `query` (its text,
    rebased to the served base). None when the sources are not beside the server (an installed package)."""
    return list(_competency_questions(settings.root, settings.base))


@functools.lru_cache(maxsize=8)
def _competency_questions(root: Path, base: str) -> tuple[dict, ...]:
    questions = []
    for path in sorted((root / COMPETENCY_QUESTIONS).glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        questions.append({"name": path.stem, "title": _question(text) or path.stem,
                          "query": text.replace(DEFAULT_BASE, base)})
    return tuple(questions)


def _question(text: str) -> str:
    """The question a file opens with: its leading comment up to the first question mark."""
    comment = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("#").strip())
    joined = " ".join(comment)
    end = joined.find("?")
    return joined[:end + 1] if end >= 0 else (comment[0] if comment else "")


# -- ontology ---------------------------------------------------------------------------------------------

#: the OWL 2 cardinality restrictions, whose numbers the OWL 2 RDF mapping types `xsd:nonNegativeInteger`
OWL_CARDINALITIES = frozenset(OWL[name] for name in (
    "cardinality", "minCardinality", "maxCardinality",
    "qualifiedCardinality", "minQualifiedCardinality", "maxQualifiedCardinality"))


class ReleasedOntology:
    """One version of the ontology exactly as released: the release folder's Turtle file, text and graph.

    Never handed to anything that writes to it: the pages render from it through `haven.web.dataset.ontology_page`,
    which only reads, and a client's document is the file itself (Turtle) or a serialisation of this graph."""

    def __init__(self, graph: Graph, turtle: bytes | None = None):
        self.graph = graph
        #: the released file's own text (with its comments and layout), when this host has the release folder
        self.turtle = turtle

    @classmethod
    def from_file(cls, path: Path, base: str) -> "ReleasedOntology":
        text = path.read_bytes()
        return cls(iris_for(base).bind(Graph().parse(data=text, format="turtle")), text)


def released_ontology(release: Path | None, store: Store, base: str) -> ReleasedOntology:
    """The ontology of the release being served: its file when this host has the release folder, else the
    store's `hg:ontology` graph. A store writes integer subtypes back as `xsd:integer` (oxigraph#1413); in
    an OWL ontology those are the cardinalities, which the OWL 2 mapping types `xsd:nonNegativeInteger`, so
    they are typed back."""
    path = release / buildfolder.ONTOLOGY if release is not None else None
    if path is not None and path.is_file():
        return ReleasedOntology.from_file(path, base)
    ns = iris_for(base)
    stored = store.graph(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.graphs['ontology']}> {{ ?s ?p ?o }} }}")
    return ReleasedOntology(_cardinalities_typed_back(stored, base))


def prior_ontology_versions(release: Path | None, store: Store) -> tuple[str, ...]:
    """The prior versions of the ontology this release keeps: files of its folder, or graphs of the store."""
    if release is not None:
        return tuple(buildfolder.prior_ontology_versions(release))
    return store.prior_ontology_versions()


def prior_ontology(release: Path | None, store: Store, version: str, base: str) -> ReleasedOntology | None:
    """A prior version as the release keeps it (ontology/versions/ in the sources); None when it keeps none."""
    if release is not None:
        path = release / buildfolder.prior_ontology(version)
        return ReleasedOntology.from_file(path, base) if path.is_file() else None
    stored = store.prior_ontology(version)
    return ReleasedOntology(_cardinalities_typed_back(stored, base)) if stored is not None else None


def _cardinalities_typed_back(stored: Graph, base: str) -> Graph:
    graph = iris_for(base).bind(Graph())
    for s, p, o in stored:
        if p in OWL_CARDINALITIES and isinstance(o, Literal) and o.datatype == XSD.integer:
            o = Literal(str(o), datatype=XSD.nonNegativeInteger)
        graph.add((s, p, o))
    return graph


# -- VoID ---------------------------------------------------------------------------------------------------

def void_graph(store: Store, base: str) -> Graph:
    """The build's `hg:metadata`, plus the facts about the live service a consumer needs if the build left
    them out."""
    ns = iris_for(base)
    graph = ns.bind(store.graph(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.graphs['metadata']}> {{ ?s ?p ?o }} }}"))
    dataset = ns.dataset_iri
    graph.add((dataset, RDF.type, VOID.Dataset))
    defaults = [
        (VOID.sparqlEndpoint, ns.sparql_endpoint),
        (VOID.uriSpace, Literal(str(ns.hid))),
        (VOID.rootResource, ns.hid[SOURCE_SLUG]),
        (DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")),
    ]
    for prop, value in defaults:
        if graph.value(dataset, prop) is None:
            graph.add((dataset, prop, value))
    if graph.value(dataset, VOID.dataDump) is None:
        for fmt in DUMP_FORMATS:
            graph.add((dataset, VOID.dataDump, ns.dump_iri(fmt)))
    # Triple Pattern Fragments: a fragment by subject is a URI lookup (the IRI appended, percent-encoded), and
    # the Hydra search form is how TPF clients find the interface from the dataset
    graph.add((dataset, VOID.uriLookupEndpoint, URIRef(f"{ns.fragments_iri}?subject=")))
    add_search_form(graph, dataset, str(ns.fragments_iri))
    return graph


def dump_sizes(release: Path | None, settings: Settings, release_id: str, base: str) -> dict[URIRef, int]:
    """The byte size of each dump file this host has for the release (plain and gzip), by the dump's IRI; the
    ones still being written are left out rather than waited for."""
    ns = iris_for(base)
    cache = buildfolder.release_cache(buildfolder.cache_root(settings.build_dir), release_id or "unversioned")
    sizes = {}
    for fmt in DUMP_FORMATS:
        for compressed in (False, True):
            name = dumps.file_name(fmt.extension, compressed)
            for folder in (release, cache):
                if folder is not None and (folder / name).is_file():
                    sizes[ns.dump_iri(fmt, compressed)] = (folder / name).stat().st_size
                    break
    return sizes


def with_byte_sizes(graph: Graph, sizes: dict[URIRef, int]) -> Graph:
    """A copy of the VoID graph with `dcat:byteSize` on each distribution whose file is here."""
    sized = Graph(namespace_manager=graph.namespace_manager)
    sized += graph
    for dump, size in sizes.items():
        sized.add((dump, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
    return sized


def shapes_view(graph: Graph, base: str) -> list[dict]:
    """Every shape and named node of the shapes graph (`hsh:…`), for the page to give each an anchor: the IRI
    `…/shapes#MilitantOrganizationShape`, dereferenced, lands on its entry."""
    shapes_iri = str(iris_for(base).shapes_iri)
    sh = "http://www.w3.org/ns/shacl#"
    out = []
    # the shapes (…/shapes#X) and the documents they come in (…/shapes/recommended, 303 here by its last segment)
    for node in sorted({s for s in graph.subjects() if str(s).startswith((shapes_iri + "#", shapes_iri + "/"))},
                       key=str):
        out.append({"id": str(node)[len(shapes_iri) + 1:], "iri": str(node),
                    "name": graph.value(node, URIRef(sh + "name")),
                    "description": graph.value(node, URIRef(sh + "description")) or graph.value(node, DCTERMS.title),
                    "document": str(node).startswith(shapes_iri + "/"),
                    "severity": graph.value(node, URIRef(sh + "severity"))})
    return out


def void_view(graph: Graph, urls: UrlMap) -> dict:
    dataset = urls.dataset_iri

    def one(prop):
        value = graph.value(dataset, prop)
        return str(value) if value is not None else None

    def fragment(node) -> str | None:
        # the description's nodes are fragments of the dataset IRI (…/dataset#build): the page gives each an
        # element of that id, so that the IRI, dereferenced (303 to this page), lands on it
        prefix = f"{dataset}#"
        return str(node)[len(prefix):] if str(node).startswith(prefix) else None

    def partitions(link, key, count):
        out = []
        for part in graph.objects(dataset, link):
            term = graph.value(part, key)
            n = graph.value(part, count)
            if term is not None:
                out.append({"iri": str(term), "href": urls.served(str(term)), "n": int(n) if n is not None else None,
                            "id": fragment(part)})
        return sorted(out, key=lambda p: (-(p["n"] or 0), p["iri"]))

    graphs = sorted(({"id": fragment(subset), "name": str(graph.value(subset, SD.name)),
                      "href": urls.served(str(graph.value(subset, SD.name))),
                      "n": graph.value(subset, VOID.triples), "description": graph.value(subset, DCTERMS.description)}
                     for subset in graph.objects(dataset, VOID.subset) if graph.value(subset, SD.name) is not None),
                    key=lambda g: g["name"])
    provenance = [{"id": fragment(node), "label": graph.value(node, RDFS.label),
                   "ended": graph.value(node, PROV.endedAtTime)}
                  for node in sorted(set(graph.objects(dataset, PROV.wasGeneratedBy))
                                     | set(graph.objects(None, PROV.wasAssociatedWith)))]
    sizes = {str(d): int(n) for d, n in graph.subject_objects(DCAT.byteSize)}
    shown = {p["id"] for p in partitions(VOID.classPartition, VOID["class"], VOID.entities)} \
        | {p["id"] for p in partitions(VOID.propertyPartition, VOID.property, VOID.triples)} \
        | {g["id"] for g in graphs} | {p["id"] for p in provenance}
    others = sorted({f for f in map(fragment, set(graph.subjects())) if f and f not in shown})

    return {
        "iri": str(dataset),
        "title": one(DCTERMS.title) or "Haven",
        "description": one(DCTERMS.description),
        "license": one(DCTERMS.license),
        "license_href": urls.served(one(DCTERMS.license) or ""),
        "triples": one(VOID.triples),
        "entities": one(VOID.entities),
        "issued": one(DCTERMS.issued),
        "endpoint": urls.served(one(VOID.sparqlEndpoint) or ""),
        "uri_space": one(VOID.uriSpace),
        # a link that is not http(s) is left out rather than shown (UrlMap.served gives None)
        "dumps": sorted((served, sizes.get(str(d))) for d in graph.objects(dataset, VOID.dataDump)
                        if (served := urls.served(str(d)))),
        "graphs": graphs,
        "provenance": provenance,
        "others": others,
        "vocabularies": sorted(str(v) for v in graph.objects(dataset, VOID.vocabulary)),
        "examples": sorted(filter(None, (urls.link(str(v)) for v in graph.objects(dataset, VOID.exampleResource)))),
        "classes": partitions(VOID.classPartition, VOID["class"], VOID.entities),
        "properties": partitions(VOID.propertyPartition, VOID.property, VOID.triples),
        "distributions": list(filter(None, (urls.served(str(d)) for d in graph.objects(dataset, DCAT.distribution)))),
    }


# -- dumps ---------------------------------------------------------------------------------------------------
#
# The build writes every dump into the release folder. A release without them (built before the build did,
# or served from a remote store, whose quads have to be fetched first) gets them in the background: a
# thread per release fetches the quads if needed and runs `python -m haven.dumps` as a child process, so no
# request thread waits for a dump and the server's memory never holds one; meanwhile the route answers 503
# with Retry-After.

#: seconds a client is asked to wait while a release's dumps are being written
DUMP_RETRY_AFTER = 10
#: seconds after a failed attempt before a request starts another (the failure is in the log)
DUMP_RETRY_FAILED = 60


class DumpPending(Exception):
    """The release's dumps are being written; ask again in `retry_after` seconds."""

    retry_after = DUMP_RETRY_AFTER


_dump_jobs: dict[str, threading.Thread] = {}
_dump_failed: dict[str, float] = {}
_dump_lock = threading.Lock()


def dump_file(release: Path | None, settings: Settings, release_id: str, fmt: Format,
              store: Store | None = None, compressed: bool = False) -> Path | None:
    """The dump in format `fmt` (one of `haven.formats.DUMP_FORMATS`), or its gzip copy: the release's own file,
    or the one written for it into the cache folder next to the releases (a release folder is immutable once
    published). None when there is none to be had (no release folder here and no store to list the quads);
    raises DumpPending while it is being written."""
    name = dumps.file_name(fmt.extension, compressed)
    if release is not None and (release / name).is_file():
        return release / name
    cache = buildfolder.release_cache(buildfolder.cache_root(settings.build_dir), release_id or "unversioned")
    if (cache / name).is_file():
        return cache / name
    local = release / buildfolder.NQUADS if release is not None and (release / buildfolder.NQUADS).is_file() else None
    if local is None and store is None:
        return None
    with _dump_lock:
        failed = _dump_failed.get(release_id)
        running = _dump_jobs.get(release_id)
        if (running is None or not running.is_alive()) and (failed is None
                                                            or time.monotonic() - failed > DUMP_RETRY_FAILED):
            job = threading.Thread(target=_write_dumps, args=(release_id, cache, local, store, settings.base),
                                   name=f"haven-dumps-{release_id}", daemon=True)
            _dump_jobs[release_id] = job
            job.start()
    raise DumpPending()


def _write_dumps(release_id: str, cache: Path, nquads: Path | None, store: Store | None, base: str) -> None:
    try:
        if nquads is None:
            nquads = cache / dumps.file_name(N_QUADS.extension)
            if not nquads.is_file():
                if store.release_id != release_id:  # the store moved on; the next request asks for the new one
                    return
                dumps.write_once(nquads, lambda path: ox.serialize(store.dump_quads(), output=path,
                                                                   format=oxigraph_format(N_QUADS)))
        done = subprocess.run([sys.executable, "-m", "haven.dumps", str(nquads), str(cache), base],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode("utf-8", "replace")[-2000:])
        with _dump_lock:
            _dump_failed.pop(release_id, None)
    except Exception:
        log.exception("could not write the dumps of release %s", release_id)
        with _dump_lock:
            _dump_failed[release_id] = time.monotonic()
