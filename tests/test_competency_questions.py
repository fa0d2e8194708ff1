"""The competency questions of ontology/competency-questions/ return their expected answers on the real build.

Each question is a SPARQL file; its expected answer sits beside it as `<name>.expected.tsv` (header row of
variable names, then one row per solution; IRIs compacted with the hid:/haven: prefixes, literals as their
lexical form, unbound as empty). Answers are compared as multisets, so the files stay readable.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from haven.cli import main as haven_cli
from haven.iris import iris_for

ROOT = Path(__file__).resolve().parent.parent
CQ_DIR = ROOT / "ontology" / "competency-questions"
PREFIXES = {
    "https://w3id.org/haven/id/": "hid:",
    "https://w3id.org/haven/ontology#": "haven:",
}
QUESTIONS = sorted(CQ_DIR.glob("*.rq"))
#: the default graph a client of the server queries: every graph of the release but hg:hedged
DEFAULT_GRAPH = [pyoxigraph.NamedNode(str(iri)) for iri in iris_for().default_graphs.values()]
HEDGED_ONLY = CQ_DIR / "17-hedged-only-direct-triples.rq"


def compact(term) -> str:
    if term is None:
        return ""
    if isinstance(term, pyoxigraph.NamedNode):
        for namespace, prefix in PREFIXES.items():
            if term.value.startswith(namespace):
                return prefix + term.value[len(namespace):]
        return term.value
    return term.value


@pytest.fixture(scope="module")
def published_store(tmp_path_factory) -> pyoxigraph.Store:
    build_dir = tmp_path_factory.mktemp("build")
    result = CliRunner().invoke(
        haven_cli, ["build", "--root", str(ROOT), "--build-dir", str(build_dir), "--skip-reasoner"]
    )
    assert result.exit_code == 0, result.output
    store = pyoxigraph.Store()
    store.bulk_load(path=str(build_dir / "current" / "haven.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    return store


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

    solutions = published_store.query(question.read_text(encoding="utf-8"), default_graph=DEFAULT_GRAPH)
    variables = [v.value for v in solutions.variables]
    assert variables == header, f"{question.name}: variables {variables} != expected header {header}"
    actual = [[compact(solution[v]) for v in variables] for solution in solutions]
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
