"""Stage 5: the dataset description (`hg:metadata`), in VoID for statistics and DCAT for catalogues.

Partitions get fragment IRIs under the dataset IRI rather than blank nodes, so that the description is
the same graph, triple for triple, each time the same sources are built, and each partition can be
pointed at. Counts are of asserted triples (no inference), per graph as published.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import datetime

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD

from haven.namespaces import EXTERNAL, SD, compact, namespaces

SOURCE_SLUG = "the-al-qaeda-afghan-taliban-connections"
LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
ENGLISH = URIRef("http://id.loc.gov/vocabulary/iso639-1/en")
#: dump formats the server offers under {base}dumps/, by file extension
DUMPS = {
    "ttl": ("text/turtle", "Turtle"),
    "nt": ("application/n-triples", "N-Triples"),
    "nq": ("application/n-quads", "N-Quads (with the named graphs)"),
    "jsonld": ("application/ld+json", "JSON-LD"),
}
#: shown as void:exampleResource when present (well-known, well-connected entities)
EXAMPLES = ("al-qaeda", "taliban", "osama-bin-laden")


def describe_dataset(base: str, graphs: dict[str, Graph], release_id: str, created: datetime,
                     version: str) -> Graph:
    """`graphs` maps "ontology", "data", "derived" to their graphs."""
    ns = namespaces(base)
    dataset = URIRef(f"{base}dataset")
    prefixes = ns.prefixes()
    g = ns.bind(Graph())
    g.bind("sd", str(SD))

    def part(kind: str, iri: str) -> URIRef:
        label = re.sub(r"[^A-Za-z0-9]+", "-", compact(iri, prefixes).strip("<>")).strip("-")
        if compact(iri, prefixes).startswith("<"):  # unknown namespace: keep the fragment short and stable
            label = hashlib.sha256(iri.encode()).hexdigest()[:12]
        return URIRef(f"{dataset}#{kind}-{label}")

    # counted over the union without building it: copying a million triples into a new rdflib graph twice
    # was most of this stage at scale
    data, derived, ontology = graphs["data"], graphs["derived"], graphs["ontology"]
    derived_only = [t for t in derived if t not in data]
    data_and_derived_size = len(data) + len(derived_only)
    published_size = data_and_derived_size + sum(1 for t in ontology if t not in data and t not in derived)
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
    g.add((dataset, FOAF.homepage, URIRef(base)))
    g.add((dataset, VOID.uriSpace, Literal(str(ns.hid))))
    g.add((dataset, VOID.sparqlEndpoint, URIRef(f"{base}sparql")))
    g.add((dataset, VOID.triples, Literal(published_size)))
    entities = {s for s in graphs["data"].subjects() if isinstance(s, URIRef) and s.startswith(ns.hid)}
    g.add((dataset, VOID.entities, Literal(len(entities))))
    for slug in EXAMPLES:
        if (ns.hid[slug], SKOS.prefLabel, None) in graphs["data"]:
            g.add((dataset, VOID.exampleResource, ns.hid[slug]))

    # one subset per published named graph, so a client can see what each graph holds before querying it
    for name, graph in graphs.items():
        subset = URIRef(f"{dataset}#graph-{name}")
        g.add((dataset, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, SD.name, ns.graphs[name]))
        g.add((subset, VOID.triples, Literal(len(graph))))

    classes = Counter(o for _, o in set(graphs["data"].subject_objects(RDF.type)) if isinstance(o, URIRef))
    g.add((dataset, VOID.classes, Literal(len(classes))))
    for cls, count in sorted(classes.items()):
        partition = part("class", cls)
        g.add((dataset, VOID.classPartition, partition))
        g.add((partition, VOID["class"], cls))
        g.add((partition, VOID.entities, Literal(count)))

    properties = Counter(p for _, p, _ in data) + Counter(p for _, p, _ in derived_only)
    g.add((dataset, VOID.properties, Literal(len(properties))))
    for prop, count in sorted(properties.items()):
        partition = part("property", prop)
        g.add((dataset, VOID.propertyPartition, partition))
        g.add((partition, VOID.property, prop))
        g.add((partition, VOID.triples, Literal(count)))

    used = set(properties) | set(classes)
    for vocabulary in sorted({str(v) for v in EXTERNAL.values()} | {str(ns.haven)}):
        if any(term.startswith(vocabulary) for term in used):
            g.add((dataset, VOID.vocabulary, URIRef(vocabulary)))

    for extension, (media_type, label) in DUMPS.items():
        dump = URIRef(f"{base}dumps/haven.{extension}")
        g.add((dataset, VOID.dataDump, dump))
        g.add((dataset, DCAT.distribution, dump))
        g.add((dump, RDF.type, DCAT.Distribution))
        g.add((dump, DCTERMS.title, Literal(f"Haven as {label}", lang="en")))
        g.add((dump, DCAT.downloadURL, dump))
        g.add((dump, DCAT.accessURL, dump))
        g.add((dump, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media_type}")))
        g.add((dump, DCTERMS.license, LICENSE))

    service = URIRef(f"{base}sparql")
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
    return g
