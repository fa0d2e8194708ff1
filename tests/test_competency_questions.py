"""The competency questions of ontology/competency-questions/ return their expected answers on the real build.

Each question is a SPARQL file; its expected answer sits beside it as `<name>.expected.tsv` (header row of
variable names, then one row per solution; IRIs compacted with the hid:/haven: prefixes, literals as their
lexical form, unbound as empty). Answers are compared as multisets, so the files stay readable.
"""
from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pyoxigraph
import pytest

from haven.config import PROJECT_ROOT
from haven.iris import iris_for

# the answers are recorded by scripts/regen.py (`make regen`), which the checks share
_spec = importlib.util.spec_from_file_location("regen", PROJECT_ROOT / "scripts" / "regen.py")
regen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regen)

CQ_DIR = regen.QUESTIONS
QUESTIONS = sorted(CQ_DIR.glob("*.rq"))
HEDGED_ONLY = CQ_DIR / "17-hedged-only-direct-triples.rq"


@pytest.fixture(scope="module")
def published_store(project_build) -> pyoxigraph.Store:
    return regen.load_release(project_build)


def test_there_are_at_least_twelve_questions_each_with_an_answer():
    assert len(QUESTIONS) >= 12
    missing = [q.name for q in QUESTIONS if not q.with_suffix(".expected.tsv").exists()]
    assert not missing, f"competency questions without an expected answer: {missing}"


@pytest.mark.slow  # builds the real data first
@pytest.mark.parametrize("question", QUESTIONS, ids=[q.stem for q in QUESTIONS])
def test_competency_question_returns_expected_answer(question: Path, published_store):
    expected_path = question.with_suffix(".expected.tsv")
    with expected_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    header, expected = rows[0], rows[1:]
    assert expected, f"{expected_path.name} must list at least one answer row"

    variables, actual = regen.answer(published_store, question)
    assert variables == header, f"{question.name}: variables {variables} != expected header {header}"
    assert sorted(actual) == sorted(expected), (
        f"{question.name}:\n only in actual: {sorted(set(map(tuple, actual)) - set(map(tuple, expected)))}\n"
        f" only in expected: {sorted(set(map(tuple, expected)) - set(map(tuple, actual)))}"
    )


@pytest.mark.slow  # builds the real data first
def test_hedged_only_question_finds_the_hedged_graph_when_it_is_read(published_store):
    """CQ17 answers 0 on the default graph; over every graph it counts the triples of hg:hedged, so the
    question can fail (a hedged triple leaking into the default graph would be counted)."""
    every_graph = [pyoxigraph.NamedNode(str(iri)) for iri in iris_for().graphs.values()]
    answer = published_store.query(HEDGED_ONLY.read_text(encoding="utf-8"), default_graph=every_graph)
    hedged = next(iter(published_store.query(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iris_for().graphs['hedged']}> {{ ?s ?p ?o }} "
        "FILTER (STRSTARTS(STR(?p), STR(<https://w3id.org/haven/ontology#>))) }")))["n"]
    assert int(hedged.value) > 0
    assert next(iter(answer))["hedgedOnly"].value == hedged.value
