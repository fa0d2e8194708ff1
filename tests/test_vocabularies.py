"""Haven's alignments entail nothing unintended once the aligned vocabularies' own axioms are loaded.

The ontology, the data (the DL projection the build reasons over) and the derived direct layer are loaded with
SKOS, PROV-O, ORG, FOAF and schema.org (tests/resources/vocabularies/, sources and licences in its README), and
HermiT classifies the individuals. Every type HermiT then gives a Haven entity or statement must follow from the
types the data asserts (their superclasses, Haven's and the vocabularies'); a type that comes from a property's
domain or range instead is unintended. 1.0.0 had 35 entities made skos:Concept (haven:wikidata and haven:dbpedia
under skos:exactMatch, whose SKOS domain is skos:Concept) and every entity a prov:Entity (prov:wasDerivedFrom).
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS

from haven.config import DEFAULT_BASE, PROJECT_ROOT
from haven.iris import iris_for
from haven.pipeline.consistency import dl_projection
from haven.pipeline.derive import derive
from haven.pipeline.sources import load_sources

VOCABULARIES = Path(__file__).parent / "resources" / "vocabularies"
pytestmark = pytest.mark.slow  # HermiT over the ontology, the data and five vocabularies: about 10 s
NS = iris_for(DEFAULT_BASE)
SKOS_EXACT_MATCH = URIRef("http://www.w3.org/2004/02/skos/core#exactMatch")


@pytest.fixture(scope="module")
def sources():
    loaded = load_sources(PROJECT_ROOT)
    return loaded, derive(loaded.store, loaded.base).graph


def unintended_types(ontology: Graph, data: Graph, derived: Graph, folder: Path) -> dict[str, set[str]]:
    """Haven node → the types HermiT gives it that are no superclass of a type the data asserts."""
    import owlready2

    union = dl_projection(ontology, data, derived)
    for path in sorted(VOCABULARIES.glob("*.ttl")):
        union.parse(path, format="turtle")
    union.remove((None, OWL.imports, None))
    asserted = {s: set(data.objects(s, RDF.type)) for s in set(data.subjects(RDF.type, None))
                if isinstance(s, URIRef) and str(s).startswith(str(NS.hid))}
    path = folder / "all.nt"
    union.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        world.get_ontology(path.as_uri()).load()
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    found = {}
    for node, types in asserted.items():
        individual = world[str(node)]
        expected = {a.iri for t in types if world[str(t)] is not None for a in world[str(t)].ancestors()}
        inferred = {c.iri for c in individual.INDIRECT_is_a if isinstance(c, owlready2.ThingClass)}
        extra = inferred - expected - {str(OWL.Thing)}
        if extra:
            found[str(node)] = extra
    world.close()
    return found


def test_loading_the_aligned_vocabularies_types_no_entity_or_statement_beyond_its_own_types(sources, tmp_path):
    loaded, derived = sources
    found = unintended_types(loaded.ontology, loaded.data, derived, tmp_path)
    checked = {s for s in loaded.data.subjects(RDF.type, None) if str(s).startswith(str(NS.hid))}
    print(f"HermiT with SKOS, PROV-O, ORG, FOAF, schema.org: {len(checked)} entities and statements, "
          f"{len(found)} with an unintended type")
    assert found == {}, "\n".join(f"{node}: {sorted(types)}" for node, types in sorted(found.items())[:20])


def test_the_check_finds_the_concepts_that_the_1_0_0_alignment_made(sources, tmp_path):
    loaded, derived = sources
    ontology = Graph()
    ontology += loaded.ontology
    ontology.add((NS.haven.wikidata, RDFS.subPropertyOf, SKOS_EXACT_MATCH))
    data = Graph()
    data += loaded.data
    data.add((NS.hid["al-qaeda"], PROV.wasDerivedFrom, NS.hid["the-al-qaeda-afghan-taliban-connections"]))
    found = unintended_types(ontology, data, derived, tmp_path)
    with_wikidata = {str(s) for s in loaded.data.subjects(NS.haven.wikidata, None)}
    concept = "http://www.w3.org/2004/02/skos/core#Concept"
    made_concepts = {node for node, types in found.items() if concept in types}
    print(f"1.0.0's skos:exactMatch alignment made {len(made_concepts)} entities skos:Concept")
    assert made_concepts and made_concepts <= with_wikidata
    assert str(PROV.Entity) in found[str(NS.hid["al-qaeda"])]
