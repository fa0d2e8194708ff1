"""Stage 5: the dataset description (`hg:metadata`), in VoID for statistics and DCAT for catalogues.

Partitions get fragment IRIs under the dataset IRI rather than blank nodes, so that the description is
the same graph, triple for triple, each time the same sources are built, and each partition can be
pointed at. Counts are of triples as published, per graph; the dataset's `void:triples` is the size of the
default graph (every graph but `hg:hedged`, this description included), the one number the landing page, the
service description and the Turtle and N-Triples dumps also give, so that one thing has one number. Class
partitions count the typed subjects of the data and the derived graph (which holds the superclasses).
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD

from haven.formats import DUMP_FORMATS, GZIP, media_type_iri as iana_iri
from haven.iris import SOURCE_SLUG, EXTERNAL, SD, compact, iris_for
from haven.pipeline.release import ntriples

LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
ENGLISH = URIRef("http://id.loc.gov/vocabulary/iso639-1/en")
#: shown as void:exampleResource when present (well-known, well-connected entities)
EXAMPLES = ("al-qaeda", "taliban", "osama-bin-laden")


def dataset_description(base: str, content: ox.Store | dict[str, Graph], release_id: str, created: datetime,
                     version: str) -> Graph:
    """`content` is the build's store, holding the graphs `iris_for(base).graphs` names "ontology",
    "data", "derived" and "hedged"; a dict of those rdflib graphs by name is copied into one first (a missing
    "hedged" counts as empty)."""
    ns = iris_for(base)
    store = content if isinstance(content, ox.Store) else _store_of(content, ns)
    names = {name: ns.graphs[name] for name in ("ontology", "data", "derived")}
    counts = _counts(store, names, str(ns.hid))
    dataset = ns.dataset_iri
    prefixes = ns.prefixes()
    g = ns.bind(Graph())
    g.bind("sd", str(SD))

    def part(kind: str, iri: str) -> URIRef:
        label = re.sub(r"[^A-Za-z0-9]+", "-", compact(iri, prefixes).strip("<>")).strip("-")
        if compact(iri, prefixes).startswith("<"):  # unknown namespace: keep the fragment short and stable
            label = hashlib.sha256(iri.encode()).hexdigest()[:12]
        return URIRef(f"{dataset}#{kind}-{label}")

    when = Literal(created.isoformat(timespec="seconds"), datatype=XSD.dateTime)
    source = ns.hid[SOURCE_SLUG]

    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, RDF.type, PROV.Entity))
    g.add((dataset, DCTERMS.title, Literal("Haven", lang="en")))
    g.add((dataset, DCTERMS.description, Literal(
        "Militant organisations, the people who lead them, the states and places around them, and their "
        "allegiances, sanctuaries, support and conflicts, each relation a qualified statement with its "
        "certainty and the passage of the source article it comes from.", lang="en")))
    g.add((dataset, DCTERMS.license, LICENSE))
    g.add((dataset, DCTERMS.language, ENGLISH))
    g.add((dataset, DCTERMS.source, source))
    g.add((dataset, PROV.wasDerivedFrom, source))
    g.add((dataset, DCTERMS.conformsTo, ns.ontology_iri))
    g.add((dataset, DCTERMS.identifier, Literal(release_id)))
    g.add((dataset, OWL.versionInfo, Literal(version)))
    g.add((dataset, DCTERMS.issued, when))
    g.add((dataset, FOAF.homepage, URIRef(ns.base)))
    g.add((dataset, VOID.uriSpace, Literal(str(ns.hid))))
    g.add((dataset, VOID.sparqlEndpoint, ns.sparql_endpoint))
    g.add((dataset, VOID.entities, Literal(counts.entities)))
    for slug in EXAMPLES:
        if ns.hid[slug] in counts.examples:
            g.add((dataset, VOID.exampleResource, ns.hid[slug]))

    # one subset per published named graph, so a client can see what each graph holds before querying it
    for name, iri in names.items():
        subset = URIRef(f"{dataset}#graph-{name}")
        g.add((dataset, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, SD.name, iri))
        g.add((subset, VOID.triples, Literal(counts.graphs[name])))
    # the hedged direct triples: a named graph outside the default graph, so outside the counts above
    hedged = ns.graphs["hedged"]
    subset = URIRef(f"{dataset}#graph-hedged")
    size = next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{hedged}> {{ ?s ?p ?o }} }}")))["n"]
    g.add((dataset, VOID.subset, subset))
    g.add((subset, RDF.type, VOID.Dataset))
    g.add((subset, SD.name, hedged))
    g.add((subset, VOID.triples, Literal(int(size.value))))
    g.add((subset, DCTERMS.description, Literal(
        "The direct triples that only Believed, Alleged or Disputed statements support; a named graph outside "
        "the default graph, read with GRAPH or FROM.", lang="en")))

    g.add((dataset, VOID.classes, Literal(len(counts.classes))))
    _partitions(g, dataset, VOID.classPartition, VOID["class"], VOID.entities, counts.classes,
                lambda iri: part("class", iri))
    g.add((dataset, VOID.properties, Literal(len(counts.properties))))
    _partitions(g, dataset, VOID.propertyPartition, VOID.property, VOID.triples, counts.properties,
                lambda iri: part("property", iri))

    used = set(counts.properties) | set(counts.classes)
    for vocabulary in sorted({str(v) for v in EXTERNAL.values()} | {str(ns.haven)}):
        if any(term.startswith(vocabulary) for term in used):
            g.add((dataset, VOID.vocabulary, URIRef(vocabulary)))

    for fmt in DUMP_FORMATS:
        dump = ns.dump_iri(fmt)
        # only N-Quads keeps the named graphs; the other dumps are their union
        label = f"{fmt.label} (with the named graphs)" if fmt.kind == "dataset" else fmt.label
        # its gzip file beside it: DCAT's compressFormat says how it is packed, mediaType what it holds. Byte sizes
        # are added where the files are served (web.dataset.catalogue.void_graph): a dump holds this description,
        # so its size cannot be written into it
        packed = ns.dump_iri(fmt, compressed=True)
        for distribution, title in ((dump, f"Haven as {label}"), (packed, f"Haven as {label}, gzip-compressed")):
            g.add((dataset, VOID.dataDump, distribution))
            g.add((dataset, DCAT.distribution, distribution))
            g.add((distribution, RDF.type, DCAT.Distribution))
            g.add((distribution, DCTERMS.title, Literal(title, lang="en")))
            g.add((distribution, DCAT.downloadURL, distribution))
            g.add((distribution, DCAT.accessURL, distribution))
            g.add((distribution, DCAT.mediaType, media_type_iri(fmt.media_type)))
            g.add((distribution, DCTERMS.license, LICENSE))
        g.add((packed, DCAT.compressFormat, media_type_iri(GZIP.media_type)))

    service = ns.sparql_endpoint
    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, RDF.type, SD.Service))
    g.add((service, DCTERMS.title, Literal("Haven SPARQL 1.1 query endpoint", lang="en")))
    g.add((service, DCAT.endpointURL, service))
    g.add((service, SD.endpoint, service))
    g.add((service, DCAT.servesDataset, dataset))

    activity = URIRef(f"{dataset}#build")
    agent = URIRef(f"{dataset}#haven-build")
    g.add((dataset, PROV.wasGeneratedBy, activity))
    g.add((dataset, PROV.generatedAtTime, when))
    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, RDFS.label, Literal(f"haven build of release {release_id}", lang="en")))
    g.add((activity, PROV.endedAtTime, when))
    g.add((activity, PROV.used, source))
    g.add((activity, PROV.wasAssociatedWith, agent))
    g.add((agent, RDF.type, PROV.SoftwareAgent))
    g.add((agent, RDFS.label, Literal(f"haven {version} build pipeline", lang="en")))
    _count_default_graph(g, dataset, store, list(names.values()), counts.published, ns.graphs["metadata"])
    return g


def _count_default_graph(g: Graph, dataset: URIRef, store: ox.Store, content: list[URIRef], content_size: int,
                         metadata: URIRef) -> None:
    """The description's own subset and the dataset's size, both including the description itself: the two
    count triples are counted before they are written (a count is one triple whatever its value)."""
    subset = URIRef(f"{dataset}#graph-metadata")
    g.add((dataset, VOID.subset, subset))
    g.add((subset, RDF.type, VOID.Dataset))
    g.add((subset, SD.name, metadata))
    g.add((subset, DCTERMS.description, Literal(
        "This description of the release: VoID statistics, DCAT distributions and the build's provenance.",
        lang="en")))
    size = len(g) + 2
    graphs = [ox.NamedNode(str(iri)) for iri in content]
    # a triple of the description that some content graph also holds is counted once in the default graph
    shared = sum(1 for t in ox.parse(ntriples(g), format=ox.RdfFormat.N_TRIPLES)
                 if any(True for graph in graphs for _ in store.quads_for_pattern(t.subject, t.predicate, t.object, graph)))
    g.add((subset, VOID.triples, Literal(size)))
    g.add((dataset, VOID.triples, Literal(content_size + size - shared)))


def media_type_iri(media_type: str) -> URIRef:
    """The IANA registry's IRI of a media type, as DCAT's mediaType and compressFormat take it."""
    return URIRef(iana_iri(media_type))


def _partitions(g: Graph, dataset: URIRef, link: URIRef, member: URIRef, size: URIRef, counts: Counter,
                partition_of) -> None:
    for iri, count in sorted(counts.items()):
        partition = partition_of(iri)
        g.add((dataset, link, partition))
        g.add((partition, member, iri))
        g.add((partition, size, Literal(count)))


@dataclass
class Counts:
    published: int  # triples of the union of the three graphs
    graphs: dict[str, int]
    entities: int
    examples: set[URIRef]
    classes: Counter  # class IRI -> typed subjects in data and derived
    properties: Counter  # property IRI -> triples in data, plus triples in derived and not in data


# The union is counted without being built, as data plus what the other graphs add to it; oxigraph's
# aggregates beat both a quad loop in Python and SELECT DISTINCT over the union at a million triples.
_QUERIES = {
    "graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ <{ontology}> <{data}> <{derived}> }} "
              "GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g",
    "derived_only": "SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH <{derived}> {{ ?s ?p ?o }} "
                    "FILTER NOT EXISTS {{ GRAPH <{data}> {{ ?s ?p ?o }} }} }} GROUP BY ?p",
    "ontology_only": "SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ontology}> {{ ?s ?p ?o }} "
                     "FILTER NOT EXISTS {{ GRAPH <{data}> {{ ?s ?p ?o }} }} "
                     "FILTER NOT EXISTS {{ GRAPH <{derived}> {{ ?s ?p ?o }} }} }}",
    "entities": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{data}> {{ ?s ?p ?o }} "
                "FILTER (isIRI(?s) && STRSTARTS(STR(?s), \"{hid}\")) }}",
    "examples": "SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {examples} }} GRAPH <{data}> {{ ?s <{label}> ?o }} }}",
    # the build writes a superclass into derived only when data does not state it, so no subject counts twice
    "classes": "SELECT ?c (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ <{data}> <{derived}> }} GRAPH ?g {{ ?s <{type}> ?c }} "
               "FILTER isIRI(?c) }} GROUP BY ?c",
    "properties": "SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH <{data}> {{ ?s ?p ?o }} }} GROUP BY ?p",
}


def _counts(store: ox.Store, names: dict[str, URIRef], hid: str) -> Counts:
    fill = {**{name: str(iri) for name, iri in names.items()}, "hid": hid, "label": str(SKOS.prefLabel),
            "type": str(RDF.type), "examples": " ".join(f"<{hid}{slug}>" for slug in EXAMPLES)}

    def rows(query: str, *columns: str):
        return [[row[c] for c in columns] for row in store.query(_QUERIES[query].format(**fill))]

    graphs = {name: 0 for name in names}
    by_iri = {str(iri): name for name, iri in names.items()}
    for graph, n in rows("graphs", "g", "n"):
        graphs[by_iri[graph.value]] = int(n.value)
    derived_only = Counter({URIRef(p.value): int(n.value) for p, n in rows("derived_only", "p", "n")})
    [[ontology_only]] = rows("ontology_only", "n")
    [[entities]] = rows("entities", "n")
    data_properties = Counter({URIRef(p.value): int(n.value) for p, n in rows("properties", "p", "n")})
    return Counts(
        published=graphs["data"] + sum(derived_only.values()) + int(ontology_only.value),
        graphs=graphs,
        entities=int(entities.value),
        examples={URIRef(s.value) for [s] in rows("examples", "s")},
        classes=Counter({URIRef(c.value): int(n.value) for c, n in rows("classes", "c", "n")}),
        properties=data_properties + derived_only,
    )


def _store_of(graphs: dict[str, Graph], ns) -> ox.Store:
    store = ox.Store()
    for name, graph in graphs.items():
        store.load(ntriples(graph), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(ns.graphs[name])))
    return store
