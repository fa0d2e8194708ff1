"""The SHACL shapes and their DASH-style fixtures (tests/resources/shapes/), validated as the build validates:
shared by tests/test_shapes.py (the shapes against their fixtures) and tests/test_fastcheck.py (the fast
path against pySHACL), so that both hold the same inputs.

`shapes` and `background` are read once per session and only read. `validated(path)` is one fixture laid on
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


@pytest.fixture(scope="session")
def shapes() -> Graph:
    graph = Graph()
    for path in SHAPE_FILES:
        graph.parse(path)
    return graph


@pytest.fixture(scope="session")
def background() -> Graph:
    graph = Graph()
    graph.parse(FIXTURES / "ontology.ttl")
    graph.parse(FIXTURES / "background.ttl")
    return graph


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
