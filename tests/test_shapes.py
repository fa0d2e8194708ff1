"""The SHACL shapes in shapes/: well-formed, satisfied by valid fixtures, and each one tripped by a fixture.

Fixtures live in tests/resources/shapes/ (DASH style, one case per file):

* ``ontology.ttl``: the few contract terms the fixtures use, so these tests do not move with ontology/haven.ttl;
* ``background.ttl``: complete, valid entities the fixtures relate to one another;
* ``valid/*.ttl``: must produce no result at all, not even a warning;
* ``invalid/<ShapeLocalName>-<case>.ttl``: one defect. The offending node carries one extra triple
  ``<node> ht:violates hsh:<Shape>``; the test removes every ``ht:`` triple, validates, and requires a result
  whose sh:focusNode is that node and whose sh:sourceShape is that shape. Marking the node in place (rather
  than naming it ``ex:bad``) also works for blank nodes such as evidence and selectors.

Validation runs as the build runs it (server/haven/pipeline/validate.py): ontology in the data graph, no RDFS
inference, SHACL-AF enabled.
"""
from __future__ import annotations


import pytest
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF, SH

from plugins.shacl import (FIXTURES, HSH, HT, INVALID, REAL_ONTOLOGY, SHAPE_FILES, VALID, load_fixture, named_shapes,
                           run, sanctuary_statements)

# Parameters that are metadata or structure, not constraints: a NodeShape with nothing else never shows up
# as sh:sourceShape, so it could not be tested and its sh:message would never be read.
NON_CONSTRAINTS = {RDF.type, SH.name, SH.description, SH.message, SH.severity, SH.property, SH.target,
                   SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.deactivated,
                   URIRef("http://www.w3.org/2000/01/rdf-schema#comment")}


def results(report: Graph) -> set[tuple]:
    return {(report.value(r, SH.focusNode), report.value(r, SH.sourceShape))
            for r in report.subjects(RDF.type, SH.ValidationResult)}


def local(shape: URIRef) -> str:
    return str(shape)[len(str(HSH)):]


# -- the shapes themselves ------------------------------------------------------------------------------------

@pytest.mark.slow  # pySHACL's meta-shapes over the shapes files
@pytest.mark.parametrize("path", SHAPE_FILES, ids=lambda p: p.name)
def test_shapes_file_passes_meta_shacl(path):
    graph = Graph().parse(path)
    conforms, _, text = validate(Graph(), shacl_graph=graph, meta_shacl=True, advanced=True)
    assert conforms, text


@pytest.mark.parametrize("path", SHAPE_FILES, ids=lambda p: p.name)
def test_shapes_file_has_header(path):
    graph = Graph().parse(path)
    dcterms = Namespace("http://purl.org/dc/terms/")
    owl = Namespace("http://www.w3.org/2002/07/owl#")
    (header,) = list(graph.subjects(RDF.type, owl.Ontology))
    assert graph.value(header, dcterms.title)
    assert graph.value(header, owl.versionInfo)
    assert graph.value(header, dcterms.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")


def test_every_shape_is_named_documented_and_graded(shapes):
    for shape in named_shapes(shapes):
        assert str(shape).startswith(str(HSH)), shape
        assert shapes.value(shape, SH.severity) in (SH.Violation, SH.Warning), shape
        assert shapes.value(shape, SH.name), shape
        assert shapes.value(shape, SH.description), shape
        messages = list(shapes.objects(shape, SH.message)) + [
            m for c in shapes.objects(shape, SH.sparql) for m in shapes.objects(c, SH.message)]
        assert messages and all(m.language == "en" for m in messages), shape


def test_severity_follows_file(shapes):
    violations, recommended = (Graph().parse(p) for p in SHAPE_FILES)
    for shape in named_shapes(violations):
        assert violations.value(shape, SH.severity) == SH.Violation, shape
    for shape in named_shapes(recommended):
        assert recommended.value(shape, SH.severity) == SH.Warning, shape


def test_every_node_shape_has_a_constraint_of_its_own(shapes):
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        own = {p for p in shapes.predicates(shape, None)} - NON_CONSTRAINTS
        assert own, f"{shape} only groups property shapes, so no report can name it"


def test_property_shapes_are_named_after_their_node_shape(shapes):
    for node in shapes.subjects(RDF.type, SH.NodeShape):
        for prop in shapes.objects(node, SH.property):
            assert isinstance(prop, URIRef) and str(prop).startswith(str(node) + "-"), (node, prop)


# -- fixtures -------------------------------------------------------------------------------------------------

@pytest.mark.slow  # pySHACL (test_fastcheck checks every fixture through the fast path in the fast tier)
@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_conforms(path, validated):
    _, expected, conforms, report = validated(path)
    assert not expected
    assert conforms, report.serialize(format="turtle")


def test_background_alone_conforms(shapes, background):
    conforms, report = run(background, shapes)
    assert conforms, report.serialize(format="turtle")


@pytest.mark.slow  # pySHACL (test_fastcheck checks every fixture through the fast path in the fast tier)
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_on_its_shape_and_node(path, shapes, validated):
    _, expected, conforms, report = validated(path)
    assert len(expected) == 1, "one case per file: exactly one ht:violates triple"
    ((node, shape),) = expected
    assert shape in named_shapes(shapes), shape
    assert path.stem.startswith(local(shape) + "-"), f"{path.name} should be named {local(shape)}-<case>.ttl"
    assert not conforms
    found = results(report)
    assert (node, shape) in found, sorted((str(f), local(s)) for f, s in found if s is not None)


def test_every_shape_has_an_invalid_fixture(shapes):
    covered = set()
    for path in INVALID:
        covered.update(Graph().parse(path).objects(None, HT.violates))
    missing = sorted(local(s) for s in named_shapes(shapes) - covered)
    assert not missing, f"shapes without a failing fixture in {FIXTURES / 'invalid'}: {missing}"


# -- the base can move ----------------------------------------------------------------------------------------

@pytest.mark.slow  # pySHACL (test_fastcheck checks every fixture through the fast path in the fast tier)
def test_shapes_follow_a_rebased_build(shapes, background):
    """A build under another base rewrites IRIs and IRI-only literals; the SPARQL prefixes must follow."""
    from haven.iris import rebase_graph

    new = "https://example.org/haven/"
    fixture, _ = load_fixture(FIXTURES / "invalid" / "DirectTripleShape-hand-written.ttl", background)
    moved_shapes, moved_data = rebase_graph(shapes, new), rebase_graph(fixture, new)
    conforms, report = run(moved_data, moved_shapes)
    assert not conforms
    assert (URIRef(new + "id/al-qaeda"), URIRef(new + "shapes#DirectTripleShape")) in results(report)
    conforms, report = run(rebase_graph(background, new), moved_shapes)
    assert conforms, report.serialize(format="turtle")


# -- many statements and the real ontology ------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_hundred_chained_statements_conform(shapes, background):
    """Many statements chained over many organisations conform together: no shape reaches across statements
    where it should not. How long pySHACL takes at 300 is bench/budgets.py shacl's figure."""
    conforms, report = run(background + sanctuary_statements(100), shapes)
    assert conforms, report.serialize(format="turtle")


@pytest.mark.slow  # pySHACL over the real ontology, several times
def test_shapes_agree_with_the_real_ontology(shapes, background):
    """ontology/haven.ttl in place of the tiny one: its direct properties pass hsh:DirectPropertyShape, the
    valid fixtures still conform, and the class and relation checks still bite."""
    ontology = Graph().parse(REAL_ONTOLOGY)
    fixtures_only = Graph().parse(FIXTURES / "background.ttl")  # the stand-in's unions are blank nodes

    conforms, report = run(fixtures_only + ontology, shapes)
    assert conforms, report.serialize(format="turtle")
    for path in VALID:
        data, _ = load_fixture(path, fixtures_only)
        conforms, report = run(data + ontology, shapes)
        assert conforms, (path.name, report.serialize(format="turtle"))
    for name in ("StatementShape-subject-wrong-class", "StatementShape-relation-not-allowed",
                 "EntityShape-type-misspelt-class", "DirectTripleShape-inverse-wrong-direction"):
        data, ((node, shape),) = load_fixture(FIXTURES / "invalid" / f"{name}.ttl", fixtures_only)
        conforms, report = run(data + ontology, shapes)
        assert not conforms and (node, shape) in results(report), name


@pytest.mark.slow  # pySHACL over the real ontology
def test_direct_triple_shape_accepts_exactly_what_the_build_derives(shapes):
    """hsh:DirectTripleShape and haven.pipeline.derive encode the same derivation rule, once as a check and
    once as a closure. One statement per direct property of the real ontology; every candidate triple of
    the direct layer between its two nodes, either way round, must be accepted iff the build derives it."""
    from haven.config import DEFAULT_BASE
    from haven.pipeline import graphs
    from haven.pipeline.derive import derive

    ontology = Graph().parse(REAL_ONTOLOGY)
    haven = Namespace(DEFAULT_BASE + "ontology#")
    hid, hst = DEFAULT_BASE + "id/", DEFAULT_BASE + "id/statement/"
    statements = Graph()
    for i, relation in enumerate(sorted(ontology.subjects(haven.qualifiedBy))):
        node = URIRef(f"{hst}s{i}")
        statements.add((node, haven.subject, URIRef(f"{hid}s{i}")))
        statements.add((node, haven.relation, relation))
        statements.add((node, haven.object, URIRef(f"{hid}o{i}")))
    store = graphs.store_of({graphs.graph_name(DEFAULT_BASE, "ontology"): ontology,
                             graphs.graph_name(DEFAULT_BASE, "data"): statements})
    derived = set(derive(store, DEFAULT_BASE).graph)
    family = {p for _, p, _ in derived} | set(ontology.subjects(haven.qualifiedBy))
    family = {p for p in family if str(p).startswith(str(haven))}
    candidates = {(URIRef(f"{hid}{a}{i}"), p, URIRef(f"{hid}{b}{i}"))
                  for i in range(len(statements) // 3) for a, b in (("s", "o"), ("o", "s")) for p in family}

    data = ontology + statements
    for triple in candidates:
        data.add(triple)
    _, report, _ = validate(data, shacl_graph=shapes, inference="none", advanced=True,
                            use_shapes=[HSH.DirectTripleShape])
    rejected = {(report.value(r, SH.focusNode), report.value(r, SH.resultPath), report.value(r, SH.value))
                for r in report.subjects(RDF.type, SH.ValidationResult)}
    assert {t for t in derived if t[1] in family} <= candidates
    assert rejected == candidates - derived
