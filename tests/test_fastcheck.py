"""The SHACL fast path (haven.pipeline.fastcheck) finds exactly what pySHACL finds, on every shape fixture.

Both validators run on the same graphs as tests/test_shapes.py (fixture ontology + background + one fixture)
and must report the same (focus node, source shape, severity) triples; the shapes files must compile with no
constraint left out, so a new shape cannot be skipped by the fast path without this file failing.
"""
from __future__ import annotations

import pytest
from rdflib import BNode, Graph, Literal, URIRef

from haven.config import DEFAULT_BASE
from haven.pipeline import BuildError, fastcheck
from haven.pipeline.build import FAST_VALIDATOR_FROM, choose_validator
from haven.pipeline.validate import parse_results
# the shapes and their fixtures are test_shapes' too: both validators are held to the same inputs
from plugins.shacl import FIXTURES, INVALID, VALID, load_fixture, named_shapes


@pytest.fixture(scope="module")
def compiled(shapes):
    return fastcheck.compile_shapes(shapes)


def pairs(findings) -> set[tuple]:
    return {(f.focus.n3(), f.shape.n3() if isinstance(f.shape, URIRef) else "(anonymous)", f.severity)
            for f in findings}


def test_every_constraint_of_the_shapes_files_compiles(compiled, shapes):
    assert compiled.uncovered == []
    covered = {c.shape for c in compiled.checks}
    # every named shape that constrains anything has at least one check (NodeShapes with only sh:property
    # are covered through their property shapes)
    constraining = {s for s in named_shapes(shapes) if any(
        str(p).startswith("http://www.w3.org/ns/shacl#") and str(p).rsplit("#", 1)[1] not in fastcheck.PASSIVE
        for p in shapes.predicates(s))}
    assert constraining - covered == set()


def test_an_untranslatable_constraint_is_reported_not_skipped(shapes):
    extra = Graph()
    for triple in shapes:
        extra.add(triple)
    odd = URIRef("https://w3id.org/haven/shapes#OddShape")
    extra.add((odd, URIRef("http://www.w3.org/ns/shacl#targetClass"), URIRef("https://w3id.org/haven/ontology#Person")))
    extra.add((odd, URIRef("http://www.w3.org/ns/shacl#closed"), Literal(True)))
    compiled = fastcheck.compile_shapes(extra)
    assert compiled.uncovered_violations() == [f"{odd.n3()} (Violation): node-level sh:closed"]
    with pytest.raises(BuildError, match="cannot check every shape"):
        fastcheck.validate(Graph(), Graph(), Graph(), extra, DEFAULT_BASE)


def fast_findings(data: Graph, compiled) -> set[tuple]:
    return pairs(fastcheck.run(fastcheck.store_of(data, Graph(), Graph()), compiled).findings)


def expectation_met(node, shape, findings) -> bool:
    return any(f == node.n3() or isinstance(node, BNode) and f.startswith("_:") for f, s, _ in findings
               if s == shape.n3())


@pytest.mark.parametrize("path", VALID + INVALID, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fast_path_finds_what_the_fixture_expects(path, background, compiled):
    """Each invalid fixture is caught on its node by its shape, a valid one gives no finding at all: the shapes'
    fixtures through the fast path alone, in the fast tier (pySHACL, the oracle, is the slow tier's)."""
    data, expected = load_fixture(path, background)
    found = fast_findings(data, compiled)
    assert expected or found == set(), found
    for node, shape in expected:
        assert expectation_met(node, shape, found), sorted(found)


@pytest.mark.slow  # pySHACL over every fixture
@pytest.mark.parametrize("path", VALID + INVALID, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_same_findings_as_pyshacl(path, compiled, validated):
    data, expected, _conforms, results = validated(path)  # pySHACL as test_shapes runs it, on the same inputs
    reference = pairs(parse_results(results))
    fast = fast_findings(data, compiled)
    assert fast == reference
    for node, shape in expected:  # and the fixture's own expectation is among them
        assert expectation_met(node, shape, fast)


def test_fast_validate_stops_the_build_with_a_grouped_report(shapes, background):
    data, _ = load_fixture(FIXTURES / "invalid" / "DirectTripleShape-hand-written.ttl", background)
    with pytest.raises(BuildError) as error:
        fastcheck.validate(data, Graph(), Graph(), shapes, DEFAULT_BASE)
    text = str(error.value)
    assert text.startswith("SHACL: ")
    assert "Violation hsh:DirectTripleShape" in text
    assert "is not derived from any statement" in text


def test_fast_validate_passes_valid_data(shapes, background):
    report = fastcheck.validate(background, Graph(), Graph(), shapes, DEFAULT_BASE)
    assert report.violations == []


def test_not_exists_becomes_minus_only_where_equivalent():
    safe = "SELECT ?a WHERE { ?a ?p ?b FILTER NOT EXISTS { { ?x <u:s> ?a ; <u:o> ?b } UNION { ?x <u:o> ?a ; <u:s> ?b } } }"
    assert "MINUS {" in fastcheck.not_exists_as_minus(safe)
    # a FILTER inside, a branch missing a shared variable, or nothing shared: left as written
    for kept in ("SELECT ?a WHERE { ?a ?p ?b FILTER NOT EXISTS { ?a <u:s> ?c FILTER (?c != ?b) } }",
                 "SELECT ?a WHERE { ?a ?p ?b FILTER NOT EXISTS { { ?a <u:s> ?b } UNION { ?a <u:o> ?c } } }",
                 "SELECT ?a WHERE { ?a ?p ?b FILTER NOT EXISTS { ?c <u:s> ?d } }"):
        assert fastcheck.not_exists_as_minus(kept) == kept


def test_star_paths_are_replaced_by_their_closure():
    import pyoxigraph as ox
    store = fastcheck.store_of(Graph().parse(data="""
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <u:a> rdfs:subClassOf <u:b> . <u:b> rdfs:subClassOf <u:c> . <u:x> a <u:a> .""", format="turtle"),
        Graph(), Graph())
    query = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?c WHERE { <u:x> a/rdfs:subClassOf* ?c }"
    helpers = fastcheck.materialise_closures(store, [query], "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")
    rewritten = fastcheck.rewrite(query, helpers)
    assert "*" not in rewritten.split("SELECT", 1)[1]
    found = {row["c"] for row in store.query(rewritten, default_graph=fastcheck.UNION + [fastcheck.CLOSURES])}
    assert found == {ox.NamedNode("u:a"), ox.NamedNode("u:b"), ox.NamedNode("u:c")}


def test_auto_picks_pyshacl_for_small_graphs_and_the_fast_path_at_scale():
    assert choose_validator("auto", FAST_VALIDATOR_FROM - 1) == "pyshacl"
    assert choose_validator("auto", FAST_VALIDATOR_FROM) == "fast"
    assert choose_validator("pyshacl", 10**7) == "pyshacl"
    assert choose_validator("fast", 10) == "fast"
    with pytest.raises(ValueError):
        choose_validator("hermit", 10)


# -- consistency at scale (HermiT on the ontology, SPARQL on the individuals) -------------------------------

PIPELINE = FIXTURES.parent / "pipeline"
PREFIXES = ("@prefix haven: <https://w3id.org/haven/ontology#> .\n@prefix hid: <https://w3id.org/haven/id/> .\n"
            "@prefix hst: <https://w3id.org/haven/id/statement/> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
            "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n")


@pytest.fixture
def tree(tmp_path):
    import shutil
    root = tmp_path / "src"
    shutil.copytree(PIPELINE / "good", root)
    return root


def at_scale(root):
    from haven.pipeline.consistency import check_consistency_at_scale
    from haven.pipeline.derive import derive
    from haven.pipeline.sources import load_sources
    sources = load_sources(root)
    derivation = derive(sources.store, sources.base)
    union = [sources.graph_name("ontology"), sources.graph_name("data"), derivation.name]
    return check_consistency_at_scale(sources.store, union, sources.ontology, DEFAULT_BASE)


def add(root, part, name, text):
    (root / part / name).write_text(PREFIXES + text)


@pytest.mark.slow
def test_at_scale_consistent_tree_passes(tree):
    assert at_scale(tree).axioms > 100


@pytest.mark.slow
def test_at_scale_asserted_disjoint_types(tree):
    import shutil
    shutil.copy(PIPELINE / "bad" / "inconsistent.ttl", tree / "data")
    with pytest.raises(BuildError, match="hid:chimera is a haven:Organization and a haven:Person"):
        at_scale(tree)


@pytest.mark.slow
def test_at_scale_range_against_disjointness(tree):
    # leaderOf's range is an organisation-like class; a person as its object is both (via the derived triple)
    add(tree, "data/statements", "wrong.ttl",
        "hst:x a haven:Leadership ; haven:subject hid:osama-bin-laden ; haven:relation haven:leaderOf ;\n"
        "  haven:object hid:osama-bin-laden ; haven:certainty haven:Stated .\n")
    with pytest.raises(BuildError, match="hid:osama-bin-laden is a haven:Organization and a haven:Person"):
        at_scale(tree)


@pytest.mark.slow
def test_at_scale_all_values_from_on_a_statement_class(tree):
    add(tree, "ontology", "restriction.ttl",
        "haven:Alliance rdfs:subClassOf [ a owl:Restriction ; owl:onProperty haven:object ; "
        "owl:allValuesFrom haven:Person ] .\n")
    # hst:al-qaeda-allied-with-taliban has hid:taliban (an organisation) as its object
    with pytest.raises(BuildError, match="hid:taliban is a haven:Organization and a haven:Person"):
        at_scale(tree)


@pytest.mark.slow
def test_at_scale_functional_property_with_two_literals(tree):
    add(tree, "ontology", "functional.ttl", "haven:startDate a owl:DatatypeProperty , owl:FunctionalProperty .\n")
    add(tree, "data/statements", "dates.ttl",
        'hst:osama-bin-laden-leader-of-al-qaeda haven:startDate "1989-01-01"^^xsd:date .\n')
    with pytest.raises(BuildError, match="2 values of haven:startDate"):
        at_scale(tree)


@pytest.mark.slow
def test_at_scale_cardinality_one_merges_two_iris_into_disjoint_classes(tree):
    add(tree, "ontology", "card.ttl",
        "haven:Statement rdfs:subClassOf [ a owl:Restriction ; owl:onProperty haven:object ; "
        'owl:cardinality "1"^^xsd:nonNegativeInteger ] .\n')
    add(tree, "data/statements", "two.ttl", "hst:al-qaeda-allied-with-taliban haven:object hid:osama-bin-laden .\n")
    with pytest.raises(BuildError, match="2 values of haven:object"):
        at_scale(tree)


@pytest.mark.slow
def test_at_scale_two_iris_that_may_be_one_individual_are_not_a_contradiction(tree):
    add(tree, "ontology", "functional.ttl", "haven:subject a owl:FunctionalProperty .\n")
    add(tree, "data/statements", "two.ttl", "hst:al-qaeda-allied-with-taliban haven:subject hid:taliban .\n")
    at_scale(tree)  # al-qaeda and taliban are both organisations: the reasoner would merge them, no clash


@pytest.mark.slow
def test_at_scale_unsatisfiable_class_is_caught_by_hermit_on_the_ontology(tree):
    import shutil
    shutil.copy(PIPELINE / "bad" / "unsatisfiable.ttl", tree / "ontology")
    with pytest.raises(BuildError, match="unsatisfiable"):
        at_scale(tree)
