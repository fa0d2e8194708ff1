"""The ontology's release procedure (ontology/README.md, "Releasing a change"): the version is read from the
ontology itself, every prior version is kept under ontology/versions/ and stays resolvable at its version IRI,
the changelog has a section per version, and a deprecated term names its replacement."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from haven import buildfolder
from haven.pipeline.sources import find_files, prior_ontologies

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_IRI = URIRef("https://w3id.org/haven/ontology")
HAVEN = Namespace("https://w3id.org/haven/ontology#")
CHANGELOG = ROOT / "ontology" / "CHANGELOG.md"


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology" / "haven.ttl")


def version_of(graph: Graph) -> str:
    return str(graph.value(ONTOLOGY_IRI, OWL.versionInfo))


def test_version_iri_follows_the_version_info(ontology):
    version = version_of(ontology)
    assert re.fullmatch(buildfolder.VERSION_PATTERN, version)
    assert list(ontology.objects(ONTOLOGY_IRI, OWL.versionIRI)) == [URIRef(f"{ONTOLOGY_IRI}/{version}")]


def test_every_prior_version_is_kept_with_its_own_version_iri(ontology):
    kept = prior_ontologies(ROOT)
    assert version_of(ontology) not in kept, "the current version lives in ontology/haven.ttl only"
    for version, text in kept.items():
        graph = Graph().parse(data=text, format="turtle")
        assert version_of(graph) == version
        assert list(graph.objects(ONTOLOGY_IRI, OWL.versionIRI)) == [URIRef(f"{ONTOLOGY_IRI}/{version}")]
    prior = ontology.value(ONTOLOGY_IRI, OWL.priorVersion)
    assert prior is not None and str(prior).rsplit("/", 1)[-1] in kept


def test_prior_versions_are_not_sources_of_the_build():
    assert not [p for p in find_files(ROOT)["ontology"] if "versions" in p.parts]


def test_changelog_has_a_section_per_version(ontology):
    headings = re.findall(r"^## (\S+)", CHANGELOG.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert headings[0] == version_of(ontology), "the newest section first, for the current version"
    assert set(prior_ontologies(ROOT)) <= set(headings)


def undocumented_deprecations(graph: Graph) -> list[URIRef]:
    """Deprecated terms that name neither a replacement (dcterms:isReplacedBy) nor why there is none."""
    return sorted(term for term in graph.subjects(OWL.deprecated, Literal(True))
                  if graph.value(term, DCTERMS.isReplacedBy) is None and graph.value(term, RDFS.comment) is None)


def test_deprecated_terms_name_their_replacement(ontology):
    assert undocumented_deprecations(ontology) == []


def test_deprecation_check_catches_a_term_without_replacement(ontology):
    broken = Graph()
    broken += ontology
    broken.add((HAVEN.Trade, OWL.deprecated, Literal(True)))
    broken.remove((HAVEN.Trade, RDFS.comment, None))
    assert undocumented_deprecations(broken) == [HAVEN.Trade]


def test_a_prior_version_iri_serves_that_version(tmp_path):
    from plugins.release import settings_for, write_release
    from haven.web.app import create_app

    release = write_release(tmp_path)
    old = (ROOT / "ontology" / "versions" / "1.0.0" / "haven.ttl").read_bytes()
    (release / buildfolder.prior_ontology("0.9.0")).write_bytes(old)
    client = create_app(settings_for(tmp_path)).test_client()
    response = client.get("/ontology/0.9.0", headers={"Accept": "text/turtle"})  # negotiated as /ontology is
    assert response.status_code == 200 and response.mimetype == "text/turtle" and response.data == old
    for missing in ("/ontology/0.9.1", "/ontology/0.9", "/ontology/..%2Fmanifest.json", "/ontology/ontology-0.9.0.ttl"):
        assert client.get(missing).status_code == 404, missing


def test_locator_check_refuses_another_edition_and_prints_the_spans(tmp_path):
    import subprocess
    import sys

    article = tmp_path / "article.txt"
    article.write_text("not the article\n", encoding="utf-8")
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_locators.py"), str(article)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "MISMATCH" in run.stdout
    assert "paragraph" in run.stdout and "(outside the text)" in run.stdout
