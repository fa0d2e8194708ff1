"""The article coverage map (data/coverage/) is in step with the data, and its checks catch what they claim to.

The map lists every block of the article with the statements citing it or the reason nothing is modelled, and
every entity that takes part in no statement with the reason. scripts/article_coverage.py holds the checks;
these tests run them on the real data and on small graphs that break one rule each.
"""
from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import pytest
import rdflib

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("article_coverage", ROOT / "scripts" / "article_coverage.py")
coverage = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = coverage   # dataclasses look their module up there
_spec.loader.exec_module(coverage)

HAVEN, OA = coverage.HAVEN, coverage.OA
HID = rdflib.Namespace(coverage.ID)
HST = rdflib.Namespace(coverage.STATEMENT)


@pytest.fixture(scope="module")
def data() -> rdflib.Graph:
    return coverage.load_data()


@pytest.fixture(scope="module")
def blocks() -> list:
    return coverage.read_blocks()


@pytest.fixture(scope="module")
def reasons() -> dict:
    return coverage.read_entity_reasons()


def check(graph, blocks, reasons):
    return coverage.problems(graph, blocks, reasons, coverage.edition_length(graph))


def test_the_map_and_the_data_agree(data, blocks, reasons):
    assert check(data, blocks, reasons) == []


def test_every_block_of_the_article_is_listed_once_in_order(blocks, data):
    assert blocks[0].start == 0
    assert coverage.edition_length(data) - blocks[-1].end <= coverage.MAX_GAP
    assert len({b.locator for b in blocks}) == len(blocks) == 33


def test_blocks_not_modelled_say_why(blocks):
    skipped = [b for b in blocks if b.status == coverage.NOT_MODELLED]
    assert skipped and all(b.note.strip() for b in skipped)


def _statement(graph, name, locator):
    st, evidence = HST[name], rdflib.BNode()
    graph.add((st, HAVEN.relation, HAVEN.alliedWith))
    graph.add((st, HAVEN.subject, HID["al-qaeda"]))
    graph.add((st, HAVEN.object, HID["taliban"]))
    graph.add((st, HAVEN.evidence, evidence))
    graph.add((evidence, HAVEN.locator, rdflib.Literal(locator, lang="en")))
    return st


def test_a_statement_citing_a_block_outside_the_map_is_caught(data, blocks, reasons):
    graph = copy.copy(data) + rdflib.Graph()
    _statement(graph, "alliance-x", "paragraph 99")
    assert any("paragraph 99: cited by alliance-x but not in the map" in p for p in check(graph, blocks, reasons))


def test_a_statement_the_map_does_not_list_is_caught(data, blocks, reasons):
    graph = data + rdflib.Graph()
    _statement(graph, "alliance-x", "paragraph 3")
    assert any(p.startswith("paragraph 3: the map lists") for p in check(graph, blocks, reasons))


def test_a_block_marked_modelled_that_nothing_cites_is_caught(data, blocks, reasons):
    changed = copy.deepcopy(blocks)
    changed[0].status, changed[0].statements = coverage.MODELLED, []
    assert f"{changed[0].locator}: marked modelled but no statement cites it" in check(data, changed, reasons)


def test_a_block_not_modelled_without_a_reason_is_caught(data, blocks, reasons):
    changed = copy.deepcopy(blocks)
    changed[0].note = " "
    assert f"{changed[0].locator}: not modelled, and no reason given" in check(data, changed, reasons)


def test_a_block_marked_not_modelled_that_a_statement_cites_is_caught(data, blocks, reasons):
    changed = copy.deepcopy(blocks)
    cited = next(b for b in changed if b.status == coverage.MODELLED)
    cited.status = coverage.NOT_MODELLED
    assert any(p.startswith(f"{cited.locator}: marked not modelled but cited by") for p in check(data, changed, reasons))


def test_a_gap_in_the_map_is_caught(data, blocks, reasons):
    changed = [b for b in copy.deepcopy(blocks) if b.locator != "paragraph 5"]
    assert any(p.startswith("paragraph 6:") and "gap" in p for p in check(data, changed, reasons))


def test_an_entity_in_no_statement_without_a_reason_is_caught(data, blocks, reasons):
    graph = data + rdflib.Graph()
    graph.add((HID["lonely-group"], rdflib.namespace.SKOS.prefLabel, rdflib.Literal("Lonely group", lang="en")))
    assert ("lonely-group: takes part in no statement and data/coverage/entities.tsv gives no reason"
            in check(graph, blocks, reasons))


def test_an_entity_with_a_reason_that_is_in_a_statement_is_caught(data, blocks, reasons):
    listed = sorted(reasons)[0]
    graph = data + rdflib.Graph()
    st = _statement(graph, "alliance-x", "paragraph 3")
    graph.add((st, HAVEN.about, HID[listed]))
    assert any(p.startswith(f"{listed}: takes part in a statement (about)") for p in check(graph, blocks, reasons))


@pytest.mark.parametrize("role", ["subject", "object", "place", "about", "onBehalfOf", "attributedTo"])
def test_each_role_counts_as_taking_part(role):
    graph = rdflib.Graph()
    graph.add((HST.s, HAVEN.relation, HAVEN.alliedWith))
    graph.add((HST.s, HAVEN[role], HID.thing))
    assert HID.thing in coverage.roles(graph)


def test_a_party_of_an_n_ary_statement_counts_as_taking_part():
    graph, involvement = rdflib.Graph(), rdflib.BNode()
    graph.add((HST.s, HAVEN.relation, HAVEN.mediatedBetween))
    graph.add((HST.s, HAVEN.involves, involvement))
    graph.add((involvement, HAVEN.participant, HID.thing))
    assert coverage.roles(graph)[HID.thing] == {"participant"}


def test_the_report_gives_the_figures(data, blocks, reasons):
    report = coverage.figures(data, blocks, reasons)
    modelled = sum(b.status == coverage.MODELLED for b in blocks)
    assert f"statements: {len(coverage.statements(data))}" in report
    assert f"blocks: {len(blocks)} ({modelled} modelled, {len(blocks) - modelled} deliberately not modelled)" in report


def test_the_report_of_a_tree_without_a_map_counts_the_blocks_cited(data):
    report = coverage.figures(data, None, {})
    assert f"blocks cited by a statement: {len(coverage.citations(data))} (this tree has no coverage map)" in report
    assert "(no reason given)" in report


def test_a_statement_without_a_relation_counts_and_its_parties_take_part():
    """A multiparty statement has a subject and involvements but no haven:relation or haven:object."""
    graph, involvement, evidence = rdflib.Graph(), rdflib.BNode(), rdflib.BNode()
    graph.add((HST.joint, HAVEN.subject, HID.attack))
    graph.add((HST.joint, HAVEN.involves, involvement))
    graph.add((involvement, HAVEN.participant, HID.group))
    graph.add((HST.joint, HAVEN.evidence, evidence))
    graph.add((evidence, HAVEN.locator, rdflib.Literal("bullet 6", lang="en")))
    assert coverage.statements(graph) == {HST.joint}
    assert coverage.citations(graph) == {"bullet 6": {"joint"}}
    assert coverage.roles(graph) == {HID.attack: {"subject"}, HID.group: {"participant"}}
