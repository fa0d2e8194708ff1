"""The SHACL shapes and their DASH-style fixtures (tests/resources/shapes/), validated as the build validates:
shared by tests/test_shapes.py (the shapes against their fixtures) and tests/test_fastcheck.py (the fast
path against pySHACL), so that both hold the same inputs.

`shapes` and `background` are read once per session (bench/budgets.py reads them too) and only read. `validated(path)` is one fixture laid on
the background and pySHACL's verdict on it, computed once per session: both modules ask for every fixture,
and the answer depends only on the files (the data is kept with the report, so that blank nodes match).
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF, SH

ROOT = Path(__file__).resolve().parents[2]
SHAPE_FILES = [ROOT / "shapes" / "haven-shapes.ttl", ROOT / "shapes" / "haven-recommended.ttl"]
FIXTURES = ROOT / "tests" / "resources" / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
REAL_ONTOLOGY = ROOT / "ontology" / "haven.ttl"

HSH = Namespace("https://w3id.org/haven/shapes#")
HT = Namespace("https://w3id.org/haven/test#")


def read_shapes() -> Graph:
    graph = Graph()
    for path in SHAPE_FILES:
        graph.parse(path)
    return graph


def read_background() -> Graph:
    """The fixtures' own small ontology and the complete, valid entities they relate to one another."""
    graph = Graph()
    graph.parse(FIXTURES / "ontology.ttl")
    graph.parse(FIXTURES / "background.ttl")
    return graph


@pytest.fixture(scope="session")
def shapes() -> Graph:
    return read_shapes()


@pytest.fixture(scope="session")
def background() -> Graph:
    return read_background()


def named_shapes(shapes: Graph) -> set[URIRef]:
    found = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    return {s for s in found if isinstance(s, URIRef)}


def load_fixture(path: Path, background: Graph) -> tuple[Graph, list[tuple]]:
    """The data graph for a fixture, and its (node, shape) expectations taken out of it."""
    fixture = Graph().parse(path)
    expected = list(fixture.subject_objects(HT.violates))
    for triple in [t for t in fixture if str(t[1]).startswith(str(HT))]:
        fixture.remove(triple)
    return background + fixture, expected


def run(data: Graph, shapes: Graph) -> tuple[bool, Graph]:
    # The ontology is already in `data`, as in the build's union. pySHACL's ont_graph= is not a union: it
    # copies selected RDFS/OWL axioms only ("inoculation"), lost haven:qualifiedBy on haven:alliedWith here,
    # and took a minute on the real ontology.
    conforms, report, _ = validate(data, shacl_graph=shapes, inference="none", advanced=True)
    return conforms, report


class Validated(NamedTuple):
    data: Graph  # background + fixture
    expected: list[tuple]  # its (node, shape) expectations
    conforms: bool
    report: Graph  # pySHACL's validation report


@pytest.fixture(scope="session")
def validated(shapes, background):
    """validated(path) → `Validated` for that fixture, pySHACL run once per session."""
    done: dict[Path, Validated] = {}

    def get(path: Path) -> Validated:
        if path not in done:
            data, expected = load_fixture(path, background)
            done[path] = Validated(data, expected, *run(data, shapes))
        return done[path]

    return get


def sanctuary_statements(count: int) -> Graph:
    """`count` valid sanctuary statements over `count` organisations, plus their derived direct triples."""
    fixture = Graph().parse(FIXTURES / "valid" / "statement-sanctuary-with-derived-layer.ttl")
    template = URIRef("https://w3id.org/haven/id/statement/taliban-sanctuary-al-qaeda")
    org = Graph().parse(FIXTURES / "background.ttl").cbd(URIRef("https://w3id.org/haven/id/taliban"))
    out = Graph()
    hid = "https://w3id.org/haven/id/"
    for i in range(count):
        rename = {URIRef(hid + "taliban"): URIRef(f"{hid}org-{i}"), URIRef(hid + "al-qaeda"): URIRef(f"{hid}org-{i + 1}"),
                  template: URIRef(f"{template}-{i}")}
        for s, p, o in fixture.cbd(template) + org:
            out.add((rename.get(s, s), p, rename.get(o, o)))
        out.add((URIRef(f"{hid}org-{i}"), URIRef("https://w3id.org/haven/ontology#providedSanctuaryTo"),
                 URIRef(f"{hid}org-{i + 1}")))
    for s, p, o in org:
        out.add((URIRef(f"{hid}org-{count}") if s == URIRef(hid + "taliban") else s, p, o))
    return out
