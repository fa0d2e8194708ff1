"""Entity JSON-LD for plain-JSON readers (issue 10, item 8): the top-level object is the entity, its statements
nested under it, every key a term of the published context, the context named by its permanent IRI, and the
same RDF as the Turtle document (read by rdflib and by PyLD). The page links to it and embeds only a summary.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyld import jsonld
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from haven.config import DEFAULT_BASE
from haven.store.answers import to_rdflib
from haven.web.entities.jsonld import entity_tree
from plugins.jsonld import context_loader, entity_slugs, jsonld_graph, pyld_graph
from haven.web.app import create_app
from plugins.release import OTHER_BASE, RELEASE_FIXTURE, settings_for, write_release

ROOT = Path(__file__).resolve().parent.parent
HAVEN = DEFAULT_BASE + "ontology#"
CONTEXT_IRI = DEFAULT_BASE + "context.jsonld"
SLUGS = entity_slugs(RELEASE_FIXTURE / "haven.nq", DEFAULT_BASE)


@pytest.fixture
def context(client) -> dict:
    return json.loads(client.get("/context.jsonld").data)


def document(client, slug: str) -> dict:
    response = client.get(f"/data/{slug}.jsonld")
    assert response.status_code == 200
    return json.loads(response.data)


# -- the shape a JSON reader sees ---------------------------------------------------------------------------

def test_the_top_level_object_is_the_entity_with_id_first(client):
    doc = document(client, "al-qaeda")
    assert list(doc)[:3] == ["@context", "id", "type"]
    assert doc["id"] == "hid:al-qaeda" and doc["type"] == "MilitantOrganization"
    assert "@graph" not in doc
    assert doc["prefLabel"] == "al-Qaeda" and sorted(doc["altLabel"]) == ["AQ", "Al Qaida"]
    assert doc["wikidata"] == "http://www.wikidata.org/entity/Q34490"


def test_statements_are_nested_under_the_entity_with_names_inline(client):
    doc = document(client, "al-qaeda")
    (alliance,) = doc["subjectOf"]
    assert alliance["id"] == "hst:al-qaeda-allied-with-taliban"
    assert alliance["relation"] == "alliedWith" and alliance["certainty"] == "Stated"
    assert alliance["object"] == {"id": "hid:taliban", "label": "Taliban", "prefLabel": "Taliban"}
    assert alliance["evidence"]["hasSelector"] == {"type": "oa:TextPositionSelector", "end": 1255, "start": 789}
    sanctuary = next(s for s in doc["objectOf"] if s["id"] == "hst:taliban-sanctuary-al-qaeda")
    assert sanctuary["startDate"] == "1996-01-01" and sanctuary["startPrecision"] == "YearPrecision"
    assert sanctuary["subject"]["label"] == "Taliban"
    assert doc["primaryTopicOf"]["id"] == DEFAULT_BASE + "data/al-qaeda"


def test_no_key_is_an_iri_or_a_curie(client):
    """Every property in a document compacts to a term of the context (footnote used to come out as 81 full
    IRIs); the fixture's documents, with everything the store gives back, are the test."""
    def keys(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                yield key
                yield from keys(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from keys(inner)

    for slug in SLUGS:
        bad = {k for k in keys(document(client, slug)) if ":" in k or k.startswith("http")}
        assert not bad, (slug, bad)


def test_the_context_is_named_by_its_permanent_iri_and_served_here(client, context):
    assert document(client, "al-qaeda")["@context"] == CONTEXT_IRI
    assert context["@context"]["hid"] == DEFAULT_BASE + "id/"


def test_under_another_base_the_context_iri_follows_the_base(tmp_path):
    write_release(tmp_path, base=OTHER_BASE)
    app = create_app(settings_for(tmp_path, base=OTHER_BASE))
    try:
        client = app.test_client()
        doc = json.loads(client.get("/data/al-qaeda.jsonld").data)
        assert doc["@context"] == OTHER_BASE + "context.jsonld"
        assert json.loads(client.get("/context.jsonld").data)["@context"]["hid"] == OTHER_BASE + "id/"
    finally:
        app.extensions["haven"].close()


# -- the same RDF as the Turtle ---------------------------------------------------------------------------

@pytest.mark.parametrize("slug", SLUGS)
def test_rdflib_reads_the_same_graph_as_the_turtle(client, context, slug):
    turtle = Graph().parse(data=client.get(f"/data/{slug}.ttl").data, format="turtle")
    assert isomorphic(jsonld_graph(document(client, slug), context), turtle)


@pytest.mark.parametrize("slug", SLUGS)
def test_pyld_reads_the_same_graph_as_the_turtle(client, context, slug):
    turtle = Graph().parse(data=client.get(f"/data/{slug}.ttl").data, format="turtle")
    loader = context_loader({CONTEXT_IRI: context})
    assert isomorphic(pyld_graph(document(client, slug), loader), turtle)


def test_pyld_cannot_read_it_without_the_context():
    """The loader is what supplies the context (as w3id would send a client to the server): without it PyLD
    fails rather than silently reading nothing, so the round-trip tests above really use it."""
    with pytest.raises(jsonld.JsonLdError):
        pyld_graph({"@context": CONTEXT_IRI, "id": "hid:x", "label": "x"}, context_loader({}))


def _multiparty_graph() -> tuple[Graph, URIRef]:
    """A participant of a multiparty statement (no subject/object link to it), a blank node pointing at the
    root, and a resource known only by an incoming triple: the shapes the tree must nest without loss."""
    h, hid = (lambda n: URIRef(HAVEN + n)), (lambda n: URIRef(DEFAULT_BASE + "id/" + n))
    root, st, inv, ev = hid("arab-legion"), URIRef(DEFAULT_BASE + "id/statement/massacre"), BNode(), BNode()
    g = Graph()
    g.add((root, RDF.type, h("MilitantOrganization")))
    g.add((root, SKOS.prefLabel, Literal("Arab legion", lang="en")))
    g.add((st, RDF.type, h("MultipartyStatement")))
    g.add((st, h("subject"), hid("massacre")))
    g.add((st, h("involves"), inv))
    g.add((inv, h("participant"), root))
    g.add((inv, h("role"), h("PerpetratorRole")))
    g.add((st, h("footnote"), Literal(7, datatype=XSD.integer)))
    g.add((st, h("evidence"), ev))
    g.add((ev, URIRef("http://www.w3.org/ns/oa#hasSource"), root))
    g.add((hid("massacre"), RDFS.label, Literal("Massacre", lang="en")))
    g.add((hid("other"), OWL.sameAs, root))
    g.add((h("PerpetratorRole"), RDFS.label, Literal("perpetrator", lang="en")))
    return g, root


def test_a_participant_nests_its_multiparty_statement(context):
    graph, root = _multiparty_graph()
    tree = entity_tree(graph, root, context["@context"], HAVEN)
    (involvement,) = tree["participantOf"]
    assert involvement["role"] == "PerpetratorRole"
    statement = involvement["involvedIn"]
    assert statement["id"] == "hst:massacre" and statement["footnote"] == 7
    assert statement["subject"] == {"id": "hid:massacre", "label": "Massacre"}
    assert tree["@reverse"]["owl:sameAs"] == {"id": "hid:other"}  # no term for it: still nested, by IRI
    assert tree["@included"] == [{"id": "haven:PerpetratorRole", "label": "perpetrator"}]
    assert isomorphic(jsonld_graph({"@context": CONTEXT_IRI, **tree}, context), graph)


def test_a_dataset_keeps_its_default_graph_for_a_json_ld_processor(client, context):
    """A Triple Pattern Fragment (data in the default graph, controls in a named one): rdflib nested the
    default graph as `{"@graph": [...]}`, which PyLD reads as a graph named by a blank node."""
    doc = json.loads(client.get("/fragments", headers={"Accept": "application/ld+json"}).data)
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads",
                                 "documentLoader": context_loader({CONTEXT_IRI: context})})
    dataset = Dataset()
    dataset.parse(data=nquads, format="nquads")
    label = (URIRef(DEFAULT_BASE + "id/al-qaeda"), SKOS.prefLabel, Literal("al-Qaeda", lang="en"))
    assert label in dataset.default_graph
    assert not [g.identifier for g in dataset.graphs() if len(g) and isinstance(g.identifier, BNode)]


# -- the context against the vocabulary and the data --------------------------------------------------------

def _terms(context: dict) -> dict[str, str]:
    """Expanded IRI → term name, for the terms that name a property or class (not the reverse ones)."""
    ctx = context["@context"]
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}

    def expand(value: str) -> str:
        prefix, _, local = value.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else value

    out = {}
    for name, value in ctx.items():
        iri = value if isinstance(value, str) else value.get("@id")
        if iri and not name.startswith("@") and not iri.startswith("@") and name not in prefixes:
            out[expand(iri)] = name
    return out


def test_every_term_of_the_ontology_has_a_context_term(context):
    ontology = Graph().parse(ROOT / "ontology" / "haven.ttl")
    declared = {s for s in ontology.subjects(RDF.type, None) if isinstance(s, URIRef) and s.startswith(HAVEN)}
    terms = _terms(context)
    missing = sorted(s[len(HAVEN):] for s in declared if str(s) not in terms)
    assert not missing, f"add to server/haven/web/context.jsonld: {missing}"
    assert all(terms[str(s)] == s[len(HAVEN):] for s in declared)


def test_every_property_and_class_of_the_data_compacts_to_a_term(context):
    """Every predicate the data and the fixture release use, with each of its values, picks a term (so a
    term whose datatype or language does not fit the data fails here, as `footnote` did), and every class
    has a term or at least a prefix."""
    written = [quad for path in sorted((ROOT / "data").rglob("*.ttl"))
               for quad in ox.parse(path=path, format=ox.RdfFormat.TURTLE)]
    written += [quad for quad in ox.parse(path=RELEASE_FIXTURE / "haven.nq", format=ox.RdfFormat.N_QUADS)
                if not quad.graph_name.value.endswith("/graph/ontology")]
    # the values as the store gives them back too (it reads xsd:positiveInteger as xsd:integer)
    store = ox.Store()
    store.extend(ox.Quad(q.subject, q.predicate, q.object) for q in written)
    data = [tuple(to_rdflib(t) for t in (q.subject, q.predicate, q.object)) for q in [*written, *store]]
    # one resource carrying one triple of each (property, kind of value): each picks its key
    samples = {}
    for _, p, o in data:
        kind = (o.datatype, o.language) if isinstance(o, Literal) else o if p == RDF.type else type(o)
        samples.setdefault((p, kind), BNode() if isinstance(o, BNode) else o)
    root, sample = URIRef(DEFAULT_BASE + "id/x"), Graph()
    for (p, _), o in samples.items():
        sample.add((root, p, o))
    tree = entity_tree(sample, root, context["@context"], HAVEN)
    types = tree["type"] if isinstance(tree["type"], list) else [tree["type"]]
    unprefixed = [t for t in types if t.startswith("http")]
    assert not unprefixed, f"classes without a prefix in the context: {unprefixed}"
    misfits = [k for k in tree if ":" in k]
    assert not misfits, f"properties without a context term that fits their values: {misfits}"


# -- the HTML page ------------------------------------------------------------------------------------------

#: the ontology's schema.org alignment, which the fixture release leaves out
SCHEMA_ALIGNMENT = "hg:ontology { haven:Person rdfs:subClassOf <https://schema.org/Person> . }"


def test_the_page_links_to_the_json_ld_and_embeds_only_a_summary(tmp_path):
    write_release(tmp_path, extra_trig=SCHEMA_ALIGNMENT)
    app = create_app(settings_for(tmp_path))
    try:
        html = app.test_client().get("/page/osama-bin-laden").get_data(as_text=True)
    finally:
        app.extensions["haven"].close()
    assert re.search(r'<link rel="alternate" type="application/ld\+json" href="http://localhost/data/'
                     r'osama-bin-laden.jsonld">', html)
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    summary = json.loads(block)
    assert {k: summary[k] for k in ("@context", "@type", "@id", "name", "url")} == {
        "@context": "https://schema.org", "@type": "Person", "@id": DEFAULT_BASE + "id/osama-bin-laden",
        "name": "Osama bin Laden", "url": "http://localhost/page/osama-bin-laden"}
    assert set(summary) <= {"@context", "@type", "@id", "name", "url", "description", "alternateName", "sameAs"}
    assert len(block) < 1000


def test_a_class_without_a_schema_org_match_is_a_thing(client):
    html = client.get("/page/al-qaeda").get_data(as_text=True)
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    summary = json.loads(block)
    assert summary["@type"] == "Thing" and summary["name"] == "al-Qaeda"
    assert summary["sameAs"] == ["http://www.wikidata.org/entity/Q34490", "http://dbpedia.org/resource/Al-Qaeda"]
    assert "hid:" not in block and "subjectOf" not in block  # the full document is linked, not copied
