"""The build stages one by one, on the fixture trees of tests/resources/pipeline/."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, SKOS

from haven.cli import main as cli
from haven.config import DEFAULT_BASE
from haven.iris import ORG, compact, iris_for, rebase_graph
from haven.pipeline import BuildError
from haven.pipeline.derive import check_no_hand_written_direct_triples, derive, materialise_types
from haven.pipeline.graphs import view as graphs_view
from haven.pipeline.metadata import dataset_description
from haven.pipeline.release import (bnode_labels, canonical_nquads, content_id, prune, switch_current,
                                    write_release)
from haven.pipeline.sources import load_sources
from haven.pipeline.validate import validate

RESOURCES = Path(__file__).parent / "resources" / "pipeline"
NS = iris_for(DEFAULT_BASE)
HAVEN, HID, HST = NS.haven, NS.hid, NS.hst
# plain namespaces: pytest probes module globals, and rdflib's closed namespaces warn on unknown names
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
VOID = Namespace("http://rdfs.org/ns/void#")


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "src"
    shutil.copytree(RESOURCES / "good", root)
    return root


def add(root: Path, fixture: str, folder: str = "data") -> Path:
    return Path(shutil.copy(RESOURCES / "bad" / fixture, root / folder / fixture))


def problems_of(root: Path, **kwargs) -> str:
    with pytest.raises(BuildError) as caught:
        load_sources(root, **kwargs)
    return str(caught.value)


# -- sources -----------------------------------------------------------------------------------------

def test_sources_good_tree_parses_every_part(tree):
    sources = load_sources(tree)
    assert sorted(f.rel for f in sources.files) == [
        "data/entities.ttl", "data/statements/relations.ttl", "ontology/mini.ttl", "shapes/shapes.ttl"]
    assert (HID["al-qaeda"], RDF.type, HAVEN.Organization) in sources.data
    assert (HAVEN.alliedWith, RDF.type, OWL.SymmetricProperty) in sources.ontology
    assert len(sources.shapes) > 0 and sources.warnings == []


def test_syntax_error_names_file_line_and_column(tree):
    add(tree, "syntax-error.ttl")
    message = problems_of(tree)
    assert "data/syntax-error.ttl:7:1: Turtle syntax error: A dot is expected" in message
    assert "Traceback" not in message


def test_every_broken_file_is_listed_in_one_run(tree):
    add(tree, "syntax-error.ttl")
    (tree / "shapes" / "broken.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\nsh:x sh:y\n")
    message = problems_of(tree)
    assert "2 problem(s)" in message
    assert "data/syntax-error.ttl:7" in message and "shapes/broken.ttl:" in message


def test_binary_file_is_rejected(tree):
    (tree / "data" / "image.ttl").write_bytes(b"@prefix x: <http://x/> .\n\x89PNG\x00\x00\x1a")
    assert "data/image.ttl:2: binary file (NUL byte)" in problems_of(tree)


def test_non_utf8_file_is_rejected(tree):
    (tree / "data" / "latin1.ttl").write_bytes('# caf\xe9\n'.encode("latin-1"))
    assert "data/latin1.ttl:1: not UTF-8 (byte 0xe9)" in problems_of(tree)


def test_file_over_the_size_cap_is_rejected_before_it_is_read(tree):
    (tree / "data" / "dump.ttl").write_text("# padding\n" * 200)
    message = problems_of(tree, max_bytes=1000)
    assert "data/dump.ttl: 2,000 bytes is over the 1,000-byte limit" in message


def test_missing_source_folder_is_named(tree):
    shutil.rmtree(tree / "shapes")
    assert "shapes: source folder missing" in problems_of(tree)


def test_relative_iri_is_rejected(tree):
    (tree / "data" / "relative.ttl").write_text(
        "@prefix haven: <https://w3id.org/haven/ontology#> .\n<some-org> a haven:Organization .\n")
    assert "data/relative.ttl: relative IRI <some-org>" in problems_of(tree)


def test_data_subjects_outside_the_base_are_rejected(tree):
    add(tree, "outside-base.ttl")
    message = problems_of(tree)
    assert "<http://w3id.org/haven/id/stray> looks like a Haven IRI but is not under https://w3id.org/haven/" in message
    assert "subject <https://example.org/elsewhere> is not under https://w3id.org/haven/id/" in message


def test_data_may_not_use_other_published_iris(tree):
    (tree / "data" / "dataset.ttl").write_text(
        "@prefix hid: <https://w3id.org/haven/id/> .\n"
        "hid:al-qaeda <http://www.w3.org/2000/01/rdf-schema#seeAlso> <https://w3id.org/haven/sparql> .\n")
    assert "<https://w3id.org/haven/sparql> is neither an ontology term nor under" in problems_of(tree)


def test_duplicate_slug_in_two_files_is_rejected(tree):
    add(tree, "duplicate-slug.ttl")
    message = problems_of(tree)
    assert "hid:al-qaeda is defined (typed or labelled) in 2 files: data/duplicate-slug.ttl, data/entities.ttl" in message


def test_undeclared_ontology_term_in_data_is_rejected(tree):
    add(tree, "undeclared-term.ttl")
    assert "data/undeclared-term.ttl: haven:Organisation is not declared in the ontology" in problems_of(tree)


def test_shared_preferred_label_is_only_a_warning(tree):
    (tree / "data" / "twin.ttl").write_text(
        "@prefix hid: <https://w3id.org/haven/id/> .\n@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        'hid:al-qaida skos:prefLabel "al-Qaeda"@en .\n')
    sources = load_sources(tree)
    assert sources.warnings == ["preferred label 'al-qaeda' is shared by hid:al-qaeda, hid:al-qaida"]


def test_base_rewrite_moves_every_iri_and_namespace_literal(tree):
    new = "https://example.org/h/"
    sources = load_sources(tree, base=new)
    every_iri = {t for part in ("ontology", "data", "shapes") for triple in sources.merged(part) for t in triple
                 if isinstance(t, URIRef)}
    assert not [i for i in every_iri if i.startswith(DEFAULT_BASE)]
    assert (URIRef(new + "id/al-qaeda"), RDF.type, URIRef(new + "ontology#Organization")) in sources.data
    assert (URIRef(new + "ontology"), URIRef("http://purl.org/vocab/vann/preferredNamespaceUri"),
            Literal(new + "ontology#")) in sources.ontology
    assert URIRef(new + "shapes#ActorShape") in set(sources.shapes.subjects())


def test_rebase_leaves_text_that_only_mentions_the_base():
    g = Graph()
    g.add((URIRef(DEFAULT_BASE + "id/x"), SKOS.note, Literal(f"see {DEFAULT_BASE}id/x for more", lang="en")))
    rebased = rebase_graph(g, "https://example.org/")
    assert set(rebased) == {(URIRef("https://example.org/id/x"), SKOS.note,
                             Literal(f"see {DEFAULT_BASE}id/x for more", lang="en"))}


def test_compact_prefers_the_longest_namespace():
    prefixes = NS.prefixes()
    assert compact(str(HST["a-b"]), prefixes) == "hst:a-b"
    assert compact(str(HID["a-b"]), prefixes) == "hid:a-b"
    assert compact("http://nowhere.example/x", prefixes) == "<http://nowhere.example/x>"


# -- derive ------------------------------------------------------------------------------------------

EXPECTED_DIRECT = {
    # leaderOf: itself, its ORG superproperty, and the inverse declared on the inverse's side
    (HID["osama-bin-laden"], HAVEN.leaderOf, HID["al-qaeda"]),
    (HID["osama-bin-laden"], ORG.headOf, HID["al-qaeda"]),
    (HID["al-qaeda"], HAVEN.ledBy, HID["osama-bin-laden"]),
    # alliedWith: symmetric, with a symmetric superproperty
    (HID["al-qaeda"], HAVEN.alliedWith, HID["taliban"]),
    (HID["taliban"], HAVEN.alliedWith, HID["al-qaeda"]),
    (HID["al-qaeda"], HAVEN.cooperatedWith, HID["taliban"]),
    (HID["taliban"], HAVEN.cooperatedWith, HID["al-qaeda"]),
    # providedSanctuaryTo: inverse declared on its own side, superproperty, and the superproperty's inverse
    (HID["taliban"], HAVEN.providedSanctuaryTo, HID["al-qaeda"]),
    (HID["al-qaeda"], HAVEN.receivedSanctuaryFrom, HID["taliban"]),
    (HID["taliban"], HAVEN.supported, HID["al-qaeda"]),
    (HID["al-qaeda"], HAVEN.supportedBy, HID["taliban"]),
}


def test_derive_writes_inverse_symmetric_and_superproperty_closure(tree):
    sources = load_sources(tree)
    derivation = derive(sources.store, sources.base)
    assert set(derivation.graph) == EXPECTED_DIRECT
    assert (derivation.statements, derivation.seeded) == (3, 3)


def test_derive_closes_chains_through_an_inverse(tree):
    # the superproperty of an inverse is only reached by applying the rules one after the other
    (tree / "ontology" / "chain.ttl").write_text(
        "@prefix haven: <https://w3id.org/haven/ontology#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "haven:hasHead a owl:ObjectProperty . haven:ledBy rdfs:subPropertyOf haven:hasHead .\n")
    sources = load_sources(tree)
    derived = derive(sources.store, sources.base).graph
    assert (HID["al-qaeda"], HAVEN.hasHead, HID["osama-bin-laden"]) in derived


def test_every_derived_triple_has_a_statement_behind_it(tree):
    sources = load_sources(tree)
    derived = derive(sources.store, sources.base).graph
    pairs = {frozenset((sources.data.value(st, HAVEN.subject), sources.data.value(st, HAVEN.object)))
             for st in sources.data.subjects(HAVEN.relation)}
    assert {frozenset((s, o)) for s, _, o in derived} <= pairs


def test_statement_without_object_derives_nothing(tree):
    (tree / "data" / "partial.ttl").write_text(
        "@prefix haven: <https://w3id.org/haven/ontology#> .\n@prefix hid: <https://w3id.org/haven/id/> .\n"
        "<https://w3id.org/haven/id/statement/half> a haven:Alliance ; haven:subject hid:taliban ;"
        " haven:relation haven:alliedWith .\n")
    sources = load_sources(tree)
    assert set(derive(sources.store, sources.base).graph) == EXPECTED_DIRECT


def test_hand_written_direct_triple_is_rejected(tree):
    add(tree, "hand-written-direct.ttl")
    sources = load_sources(tree)
    with pytest.raises(BuildError) as caught:
        derive(sources.store, sources.base)
    assert "1 direct triple(s) written by hand" in str(caught.value)
    assert "hid:osama-bin-laden haven:alliedWith hid:taliban" in str(caught.value)


def _types_after_closure(root: Path):
    sources = load_sources(root)
    derive(sources.store, sources.base)
    added = materialise_types(sources.store, sources.base)
    return added, graphs_view(sources.store, ox.NamedNode(str(NS.graphs["derived"])), sources.base)


def test_type_closure_derives_every_named_superclass(tree):
    """Issue 10.7: `?s a haven:Organization` found only the 4 organisations typed so, not the 24 of the landing."""
    (tree / "data" / "coalition.ttl").write_text(
        "@prefix haven: <https://w3id.org/haven/ontology#> .\n@prefix hid: <https://w3id.org/haven/id/> .\n"
        "hid:a-coalition a haven:Coalition .\n_:blank a haven:Coalition .\n")
    (tree / "ontology" / "coalition.ttl").write_text(
        "@prefix haven: <https://w3id.org/haven/ontology#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n@prefix org: <http://www.w3.org/ns/org#> .\n"
        "haven:Coalition a owl:Class ; rdfs:subClassOf haven:Organization , owl:Thing ,\n"
        "  [ a owl:Restriction ; owl:onProperty haven:memberOf ; owl:someValuesFrom haven:Actor ] .\n"
        "haven:Organization a owl:Class ; rdfs:subClassOf haven:Actor , org:Organization .\n"
        "haven:Actor a owl:Class .\n")
    added, derived = _types_after_closure(tree)
    coalition = HID["a-coalition"]
    assert {o for o in derived.objects(coalition, RDF.type)} == {
        HAVEN.Organization, HAVEN.Actor, ORG.Organization}  # transitively, named classes only, no owl:Thing
    # a blank node copied into another graph would be another node once the graphs are canonicalised
    assert all(isinstance(s, URIRef) for s in derived.subjects(RDF.type, None))
    assert added == len(list(derived.triples((None, RDF.type, None))))


def test_type_closure_leaves_asserted_types_in_data_only(tree):
    added, derived = _types_after_closure(tree)
    sources = load_sources(tree)
    asserted = set(sources.data.triples((None, RDF.type, None)))
    assert not asserted & set(derived.triples((None, RDF.type, None)))


def test_type_closure_is_not_mistaken_for_hand_written_direct_triples(tree):
    sources = load_sources(tree)
    derive(sources.store, sources.base)
    assert materialise_types(sources.store, sources.base) > 0
    check_no_hand_written_direct_triples(sources.store, sources.base)  # rdf:type is in data and derived


# -- validate ----------------------------------------------------------------------------------------

def _validate(root: Path):
    sources = load_sources(root)
    derived = derive(sources.store, sources.base).graph
    return validate(sources.ontology, sources.data, derived, sources.shapes, DEFAULT_BASE)


def test_good_tree_conforms_without_warnings(tree):
    report = _validate(tree)
    assert report.findings == [] and report.text == ""


def test_violations_stop_with_a_report_grouped_by_focus_node(tree):
    add(tree, "violation.ttl")
    add(tree, "warning.ttl")
    with pytest.raises(BuildError) as caught:
        _validate(tree)
    lines = str(caught.value).splitlines()
    assert lines[0] == "SHACL: 2 violation(s) on 2 node(s)"
    nameless = lines.index("  hid:nameless")
    assert lines[nameless + 1] == ("    Violation hsh:ActorShape-prefLabel at skos:prefLabel: "
                                   "An actor has exactly one English preferred label.")
    statement = lines.index("  hst:nameless-allied-with-taliban")
    assert lines[statement + 1].startswith("    Violation hsh:StatementShape-certainty at haven:certainty:")
    # the warnings found on the way are shown too, after the violations
    assert "SHACL: 1 warning(s) on 1 node(s)" in lines


def test_warnings_do_not_stop(tree):
    add(tree, "warning.ttl")
    report = _validate(tree)
    assert [f.severity for f in report.findings] == ["Warning"]
    assert report.violations == []
    assert "hid:undefined-group" in report.text and "hsh:ActorShape-definition" in report.text


def test_blank_focus_node_is_named_by_its_owner(tree):
    (tree / "shapes" / "selector.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix oa: <http://www.w3.org/ns/oa#> .\n"
        "<https://w3id.org/haven/shapes#SelectorShape> a sh:NodeShape ; sh:targetClass oa:TextPositionSelector ;"
        " sh:property [ sh:path oa:exact ; sh:minCount 1 ] .\n")
    with pytest.raises(BuildError) as caught:
        _validate(tree)
    assert "  [] (the oa:hasSelector of [] (the haven:evidence of hst:al-qaeda-allied-with-taliban))" in str(caught.value)


# -- metadata ----------------------------------------------------------------------------------------

def test_dataset_description_counts_and_links(tree):
    sources = load_sources(tree)
    derived = derive(sources.store, sources.base).graph
    graphs = {"ontology": sources.ontology, "data": sources.data, "derived": derived}
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    g = dataset_description(DEFAULT_BASE, graphs, "abc123", when, "1.0.0")
    dataset = URIRef(DEFAULT_BASE + "dataset")
    assert (dataset, RDF.type, VOID.Dataset) in g and (dataset, RDF.type, DCAT.Dataset) in g
    # the default graph: the three graphs and this description (no triple in two of them here)
    assert g.value(dataset, VOID.triples).toPython() == len(sources.ontology) + len(sources.data) + len(derived) + len(g)
    assert g.value(dataset, VOID.sparqlEndpoint) == URIRef(DEFAULT_BASE + "sparql")
    assert g.value(dataset, VOID.uriSpace) == Literal(DEFAULT_BASE + "id/")
    assert g.value(dataset, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert g.value(dataset, DCTERMS.source) == HID["the-al-qaeda-afghan-taliban-connections"]
    assert g.value(dataset, DCTERMS.identifier) == Literal("abc123")
    organisations = next(p for p in g.objects(dataset, VOID.classPartition)
                         if g.value(p, VOID["class"]) == HAVEN.Organization)
    assert g.value(organisations, VOID.entities).toPython() == 2
    allied = next(p for p in g.objects(dataset, VOID.propertyPartition) if g.value(p, VOID.property) == HAVEN.alliedWith)
    assert g.value(allied, VOID.triples).toPython() == 2
    dumps = set(g.objects(dataset, DCAT.distribution))
    assert dumps == {URIRef(f"{DEFAULT_BASE}dumps/haven.{ext}{gz}") for ext in ("ttl", "nt", "nq", "jsonld")
                     for gz in ("", ".gz")}
    assert {URIRef(str(ORG)), URIRef(str(HAVEN))} <= set(g.objects(dataset, VOID.vocabulary))
    subsets = {g.value(s, URIRef("http://www.w3.org/ns/sparql-service-description#name")): g.value(s, VOID.triples).toPython()
               for s in g.objects(dataset, VOID.subset)}
    assert subsets == {NS.graphs["ontology"]: len(sources.ontology), NS.graphs["data"]: len(sources.data),
                       NS.graphs["derived"]: len(derived), NS.graphs["hedged"]: 0,  # given no hedged graph
                       NS.graphs["metadata"]: len(g)}


# -- release -----------------------------------------------------------------------------------------

def test_canonical_nquads_do_not_depend_on_parse_order_or_blank_node_ids(tree):
    text = (tree / "data" / "statements" / "relations.ttl").read_text()
    first = Graph().parse(data=text, format="turtle")
    second = Graph().parse(data=text, format="turtle")
    assert set(first.subjects()) & set(second.subjects())  # the IRIs agree...
    assert not {s for s in first.subjects() if not isinstance(s, URIRef)} & set(second.subjects())  # ...bnodes not
    graph_iri = NS.graphs["data"]
    assert canonical_nquads({graph_iri: first}) == canonical_nquads({graph_iri: second})


def test_identical_blank_nodes_get_distinct_labels():
    g = Graph().parse(data="<http://x/a> <http://x/p> [ <http://x/q> 1 ] , [ <http://x/q> 1 ] .", format="turtle")
    labels = bnode_labels(g, "t")
    assert len(set(labels.values())) == 2


def test_blank_node_labels_are_scoped_per_graph():
    g = Graph().parse(data="<http://x/a> <http://x/p> [ <http://x/q> 1 ] .", format="turtle")
    body = canonical_nquads({URIRef("http://x/g1"): g, URIRef("http://x/g2"): g}).decode()
    labels = {line.split()[2] for line in body.splitlines() if "<http://x/p>" in line}
    assert len(labels) == 2


def test_content_id_changes_with_base_and_content():
    assert content_id("a/", b"x", b"y") == content_id("a/", b"x", b"y")
    assert len({content_id("a/", b"x", b"y"), content_id("b/", b"x", b"y"), content_id("a/", b"xy", b""),
                content_id("a/", b"x", b"z")}) == 4


def test_release_write_switch_and_prune(tmp_path):
    for n in range(4):
        write_release(tmp_path, f"r{n}", {"haven.nq": b"<a> <b> <c> .\n"}, {"id": f"r{n}"})
        switch_current(tmp_path, f"r{n}")
    assert (tmp_path / "current").is_symlink() and str((tmp_path / "current").readlink()) == "releases/r3"
    assert (tmp_path / "current" / "manifest.json").is_file()
    removed = prune(tmp_path, keep=2)
    assert sorted(removed) == ["r0", "r1"]
    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == ["r2", "r3"]
    assert not list(tmp_path.glob(".current-*"))


def test_prune_takes_a_removed_release_cache_and_stale_store_loads_and_nothing_else(tmp_path):
    for n in range(3):
        write_release(tmp_path, f"r{n}", {"haven.nq": b"<a> <b> <c> .\n"}, {"id": f"r{n}"})
        switch_current(tmp_path, f"r{n}")
        os.utime(tmp_path / "releases" / f"r{n}", (4e9 + n, 4e9 + n))
    cache = tmp_path / "cache"
    for name in ("r0", "r2", "remote-only"):  # a server over a remote store caches releases never built here
        (cache / name / "oxigraph").mkdir(parents=True)
    stale, fresh = cache / "r2" / ".loading-stale", cache / "r2" / ".loading-fresh"
    stale.mkdir(), fresh.mkdir()
    os.utime(stale, (time.time() - 2 * 3600,) * 2)
    assert prune(tmp_path, keep=2) == ["r0"]
    assert sorted(p.name for p in cache.iterdir()) == ["r2", "remote-only"]
    assert sorted(p.name for p in (cache / "r2").iterdir()) == [".loading-fresh", "oxigraph"]


@pytest.mark.slow  # two builds of the real data
def test_build_leaves_the_on_disk_store_and_the_dumps_the_server_serves(tmp_path):
    from haven.dumps import DERIVED
    from haven.buildfolder import store_folder
    from haven.store.worker import is_complete
    result = CliRunner().invoke(cli, ["build", "--build-dir", str(tmp_path), "--skip-reasoner"])
    assert result.exit_code == 0, result.output
    release = (tmp_path / "current").readlink().name
    folder = store_folder(tmp_path / "cache", release)
    assert is_complete(folder) and "[store] loaded" in result.output
    # the dumps are part of the release, listed with their digests like every other file
    path = tmp_path / "releases" / release
    digests = json.loads((path / "manifest.json").read_text())["sha256"]
    for name in [f"haven.{ext}" for ext in DERIVED] + [f"haven.{ext}.gz" for ext in ("ttl", "nt", "nq", "jsonld")]:
        body = (path / name).read_bytes()
        assert body and digests[name] == hashlib.sha256(body).hexdigest(), name
    # a release built before releases held dumps gets them beside its store when built again
    for ext in DERIVED:
        (path / f"haven.{ext}").unlink()
    again = CliRunner().invoke(cli, ["build", "--build-dir", str(tmp_path), "--skip-reasoner"])
    assert again.exit_code == 0 and "[store] kept" in again.output
    assert all((tmp_path / "cache" / release / f"haven.{ext}").stat().st_size > 0 for ext in DERIVED)


def test_prune_never_removes_the_current_release(tmp_path):
    for n in range(3):
        write_release(tmp_path, f"r{n}", {}, {"id": f"r{n}"})
    switch_current(tmp_path, "r0")
    for n in (1, 2):  # newer than r0
        os.utime(tmp_path / "releases" / f"r{n}", (4e9 + n, 4e9 + n))
    assert prune(tmp_path, keep=1) == ["r1"]
    assert (tmp_path / "releases" / "r0").is_dir()


def test_a_real_directory_at_current_is_not_replaced(tmp_path):
    write_release(tmp_path, "r0", {}, {"id": "r0"})
    (tmp_path / "current").mkdir()
    with pytest.raises(BuildError, match="is a real folder, not a symlink"):
        switch_current(tmp_path, "r0")


def test_merged_scratch_graph_is_the_union_and_is_removed_even_on_failure():
    import pyoxigraph as ox
    from haven.pipeline import graphs
    store = ox.Store()
    a, b = ox.NamedNode("urn:test:a"), ox.NamedNode("urn:test:b")
    s, p = ox.NamedNode("urn:test:s"), ox.NamedNode("urn:test:p")
    store.extend([ox.Quad(s, p, ox.Literal("1"), a), ox.Quad(s, p, ox.Literal("2"), b), ox.Quad(s, p, ox.Literal("1"), b)])
    with graphs.merged(store, [a, b]) as union:
        assert graphs.size(store, union[0]) == 2  # a set: the triple in both graphs counts once
    assert graphs.size(store, graphs.MERGED) == 0
    with pytest.raises(BuildError):
        with graphs.merged(store, [a, b]):
            raise BuildError("a check failed")
    assert graphs.size(store, graphs.MERGED) == 0 and len(store) == 3


def test_merge_places_the_metadata_lines_where_a_full_sort_would():
    import random
    from haven.pipeline.build import _merge
    rng = random.Random(7)
    for trial in range(200):
        lines = sorted({f"<s{rng.randrange(60)}> <p> \"{rng.random():.3f}\" <g{rng.randrange(3)}> .\n".encode()
                        for _ in range(rng.randrange(0, 40))})
        big = set(lines[: len(lines) - len(lines) // 4])
        small = sorted(set(lines) - big)
        merged = _merge(b"".join(sorted(big)), b"".join(small))
        assert merged == b"".join(lines), trial


def test_a_triple_written_in_two_files_is_published_once_with_its_datatype_as_written():
    import pyoxigraph as ox
    from haven.pipeline.release import canonical_nquads_of
    g = ox.NamedNode("urn:test:g")
    one = b'<urn:s> <urn:p> "7"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> .\n'
    two = one + b'<urn:s> <urn:q> <urn:o> .\n'
    body = canonical_nquads_of(ox.Store(), [g], {g: [one, two]})
    assert body.count(b"\n") == 2 and b"nonNegativeInteger" in body  # the store would say xsd:integer
