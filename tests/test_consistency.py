"""OWL consistency with HermiT (through owlready2 and a JVM): a few seconds per run, hence `slow`."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from haven.cli import main
from haven.config import DEFAULT_BASE
from haven.pipeline import BuildError
from haven.pipeline.consistency import check_consistency, disjoint_pairs
from haven.pipeline.derive import derive
from haven.pipeline.sources import load_sources

RESOURCES = Path(__file__).parent / "resources" / "pipeline"
pytestmark = pytest.mark.slow


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "src"
    shutil.copytree(RESOURCES / "good", root)
    return root


def reason(root: Path):
    sources = load_sources(root)
    derived = derive(sources.store, sources.base).graph
    return check_consistency(sources.ontology, sources.data, derived, DEFAULT_BASE)


def test_consistent_tree_passes(tree):
    result = reason(tree)
    assert result.unsatisfiable == [] and result.axioms > 100


def test_individual_in_two_disjoint_classes_fails_and_is_named(tree):
    shutil.copy(RESOURCES / "bad" / "inconsistent.ttl", tree / "data")
    with pytest.raises(BuildError) as caught:
        reason(tree)
    message = str(caught.value)
    assert message.startswith("OWL: ontology + data + derived is INCONSISTENT (HermiT).")
    assert "hid:chimera is a haven:Organization and a haven:Person, declared disjoint" in message


def test_statement_against_a_domain_is_inconsistent(tree):
    # an organisation as the subject of leaderOf (domain Person): only the derived layer says so
    (tree / "data" / "statements" / "wrong-leader.ttl").write_text(
        "@prefix haven: <https://w3id.org/haven/ontology#> .\n@prefix hid: <https://w3id.org/haven/id/> .\n"
        "<https://w3id.org/haven/id/statement/taliban-leader-of-al-qaeda> a haven:Leadership ;\n"
        "  haven:subject hid:taliban ; haven:relation haven:leaderOf ; haven:object hid:al-qaeda ;\n"
        "  haven:certainty haven:Stated .\n")
    with pytest.raises(BuildError, match="INCONSISTENT"):
        reason(tree)


def test_unsatisfiable_class_fails(tree):
    shutil.copy(RESOURCES / "bad" / "unsatisfiable.ttl", tree / "ontology")
    with pytest.raises(BuildError) as caught:
        reason(tree)
    assert str(caught.value) == ("OWL: 1 unsatisfiable class(es) (equivalent to owl:Nothing): "
                                 "haven:PersonOrganization")


def test_disjoint_pairs_reads_both_axiom_forms(tree):
    (tree / "ontology" / "all-disjoint.ttl").write_text(
        "@prefix haven: <https://w3id.org/haven/ontology#> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "[] a owl:AllDisjointClasses ; owl:members ( haven:Actor haven:Statement haven:Certainty ) .\n")
    pairs = disjoint_pairs(load_sources(tree).ontology)
    assert len(pairs) == 4  # Person/Organization plus the three pairs of the list


def test_build_with_the_reasoner_stops_on_inconsistency_and_keeps_current(tree, tmp_path):
    build_dir = tmp_path / "build"
    args = ["build", "--root", str(tree), "--build-dir", str(build_dir)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0 and "[consistency] consistent" in first.output
    target = (build_dir / "current").readlink()
    shutil.copy(RESOURCES / "bad" / "inconsistent.ttl", tree / "data")
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 1 and "INCONSISTENT" in second.output
    assert (build_dir / "current").readlink() == target


def test_the_reasoner_reads_dates_as_datetimes_without_ignoring_datatypes(tree, tmp_path):
    """xsd:date is outside the OWL 2 datatype map: HermiT refuses it unless told to ignore datatypes, so the
    consistency stage reasons over the DL projection (xsd:date → xsd:dateTime) and ignores nothing."""
    import owlready2
    from rdflib import Graph, Literal
    from haven.pipeline.consistency import XSD_DATE, XSD_DATETIME, dl_projection

    sources = load_sources(tree)
    derived = derive(sources.store, sources.base).graph
    projected = dl_projection(sources.ontology, sources.data, derived)
    literals = [o for o in projected.objects() if isinstance(o, Literal)]
    assert not [o for o in literals if o.datatype == XSD_DATE]
    assert [o for o in literals if o.datatype == XSD_DATETIME]
    raw = Graph()
    raw += sources.ontology
    raw += sources.data
    assert [o for o in raw.objects() if isinstance(o, Literal) and o.datatype == XSD_DATE]
    path = tmp_path / "raw.nt"
    raw.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    with pytest.raises(owlready2.OwlReadyJavaError):
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
