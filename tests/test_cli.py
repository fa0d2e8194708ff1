"""`haven build | validate | query | serve` end to end through click's CliRunner, on fixture trees."""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, Namespace, URIRef

from haven.cli import main

RESOURCES = Path(__file__).parent / "resources" / "pipeline"
BASE = "https://w3id.org/haven/"
SH = Namespace("http://www.w3.org/ns/shacl#")
GRAPHS = [f"{BASE}graph/{name}" for name in ("ontology", "data", "derived", "hedged", "metadata")]


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "src"
    shutil.copytree(RESOURCES / "good", root)
    return root


@pytest.fixture
def build_dir(tmp_path) -> Path:
    return tmp_path / "build"


def add(root: Path, fixture: str, folder: str = "data") -> None:
    shutil.copy(RESOURCES / "bad" / fixture, root / folder / fixture)


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def build(tree: Path, build_dir: Path, *extra: str):
    return run("build", "--root", str(tree), "--build-dir", str(build_dir), "--skip-reasoner", *extra)


def snapshot(build_dir: Path) -> tuple[str, dict[str, bytes]]:
    current = build_dir / "current"
    return str(current.readlink()), {p.name: p.read_bytes() for p in sorted(current.iterdir())}


# -- build -------------------------------------------------------------------------------------------

def test_build_writes_a_release_and_points_current_at_it(tree, build_dir):
    result = build(tree, build_dir)
    assert result.exit_code == 0, result.output
    current = build_dir / "current"
    assert current.is_symlink() and not current.readlink().is_absolute()
    assert sorted(p.name for p in current.iterdir()) == sorted([
        "haven.jsonld", "haven.nq", "haven.nt", "haven.ttl", "manifest.json", "ontology.ttl", "shapes.ttl",
        "haven.jsonld.gz", "haven.nq.gz", "haven.nt.gz", "haven.ttl.gz", "history.json", "search.json"])
    manifest = json.loads((current / "manifest.json").read_text())
    assert set(manifest) == {"id", "base", "created", "version", "triples", "graphs", "sha256"}
    assert current.readlink().name == manifest["id"] and manifest["base"] == BASE
    assert list(manifest["graphs"]) == GRAPHS
    quads = (current / "haven.nq").read_text().splitlines()
    for graph, count in manifest["graphs"].items():
        assert count == sum(line.endswith(f"<{graph}> .") for line in quads)
    # the 11 direct triples, and the 6 superclass types of the typed entities (derive.materialise_types)
    assert manifest["graphs"][f"{BASE}graph/derived"] == 17
    assert manifest["triples"] == len(quads)
    assert manifest["sha256"]["haven.nq"] == hashlib.sha256((current / "haven.nq").read_bytes()).hexdigest()
    # the single hand-written ontology file is published as written, comments and all
    assert (current / "ontology.ttl").read_bytes() == (tree / "ontology" / "mini.ttl").read_bytes()


def test_build_reports_each_stage_with_counts_and_seconds(tree, build_dir):
    result = build(tree, build_dir)
    lines = result.output.splitlines()
    for stage in ("sources", "derive", "validate", "types", "metadata", "release"):
        line = next(l for l in lines if l.startswith(f"[{stage}] "))
        assert line.endswith(" s)")
    assert "[sources] 4 files, ontology" in result.output
    assert "[derive] 3 statements, 3 direct, 11 derived triples" in result.output
    assert "[consistency] skipped (--skip-reasoner)" in result.output


def test_building_the_same_sources_twice_gives_the_same_release(tree, build_dir):
    first = build(tree, build_dir)
    before = snapshot(build_dir)
    second = build(tree, build_dir)
    assert second.exit_code == 0
    assert "(unchanged)" in second.output and "already built from the same sources" in second.output
    assert snapshot(build_dir) == before
    assert len(list((build_dir / "releases").iterdir())) == 1
    assert first.output.splitlines()[-1] == second.output.splitlines()[-1].replace(" (unchanged)", "")


def test_changed_sources_give_a_new_release_and_keep_the_old(tree, build_dir):
    build(tree, build_dir)
    old = (build_dir / "current").readlink().name
    add(tree, "warning.ttl")
    assert build(tree, build_dir).exit_code == 0
    new = (build_dir / "current").readlink().name
    assert new != old and (build_dir / "releases" / old / "manifest.json").is_file()


def test_shacl_violation_stops_and_leaves_current_untouched(tree, build_dir):
    build(tree, build_dir)
    before = snapshot(build_dir)
    add(tree, "violation.ttl")
    result = build(tree, build_dir)
    assert result.exit_code == 1
    assert "SHACL: 2 violation(s) on 2 node(s)\n  hid:nameless\n    Violation hsh:ActorShape-prefLabel" in result.output
    assert "[validate] FAILED" in result.output and "failed after" in result.output
    assert snapshot(build_dir) == before
    assert len(list((build_dir / "releases").iterdir())) == 1


def test_failed_first_build_creates_no_current(tree, build_dir):
    add(tree, "violation.ttl")
    assert build(tree, build_dir).exit_code == 1
    assert not (build_dir / "current").exists()


def test_warning_is_printed_and_the_build_goes_on(tree, build_dir):
    add(tree, "warning.ttl")
    result = build(tree, build_dir)
    assert result.exit_code == 0
    assert "SHACL: 1 warning(s) on 1 node(s)" in result.output and "hid:undefined-group" in result.output
    assert "[validate] 0 violations, 1 warnings" in result.output


def test_syntax_error_names_file_and_line_without_traceback(tree, build_dir):
    add(tree, "syntax-error.ttl")
    result = build(tree, build_dir)
    assert result.exit_code == 1
    assert "data/syntax-error.ttl:7:1: Turtle syntax error" in result.output
    assert "Traceback" not in result.output


def test_binary_file_is_rejected(tree, build_dir):
    (tree / "shapes" / "logo.ttl").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = build(tree, build_dir)
    assert result.exit_code == 1 and "shapes/logo.ttl:3: binary file (NUL byte)" in result.output


def test_huge_file_is_rejected(tree, build_dir):
    (tree / "data" / "huge.ttl").write_text("# " + "x" * (4 * 1024 * 1024) + "\n")
    result = build(tree, build_dir)
    assert result.exit_code == 1
    assert "data/huge.ttl: 4,194,307 bytes is over the 4,194,304-byte limit" in result.output


def test_duplicate_slug_is_rejected(tree, build_dir):
    add(tree, "duplicate-slug.ttl")
    result = build(tree, build_dir)
    assert result.exit_code == 1 and "hid:al-qaeda is defined (typed or labelled) in 2 files" in result.output


def test_base_rewrite_publishes_under_the_new_base(tree, build_dir):
    base = "http://localhost:8080/"
    result = build(tree, build_dir, "--base", base)
    assert result.exit_code == 0, result.output
    manifest = json.loads((build_dir / "current" / "manifest.json").read_text())
    assert manifest["base"] == base
    assert list(manifest["graphs"]) == [g.replace(BASE, base) for g in GRAPHS]
    quads = (build_dir / "current" / "haven.nq").read_text()
    assert "w3id.org/haven" not in quads
    assert f"<{base}id/al-qaeda> <{base}ontology#alliedWith> <{base}id/taliban> <{base}graph/derived> ." in quads
    shapes = Graph().parse(build_dir / "current" / "shapes.ttl")
    assert (URIRef(f"{base}shapes#ActorShape"), SH.targetClass, URIRef(f"{base}ontology#Actor")) in shapes


def test_base_from_the_environment(tree, build_dir, monkeypatch):
    monkeypatch.setenv("HAVEN_BASE", "https://example.org/haven/")
    assert build(tree, build_dir).exit_code == 0
    assert json.loads((build_dir / "current" / "manifest.json").read_text())["base"] == "https://example.org/haven/"


# -- validate ----------------------------------------------------------------------------------------

def test_validate_checks_and_writes_nothing(tree, build_dir):
    result = run("validate", "--root", str(tree), "--build-dir", str(build_dir), "--skip-reasoner")
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "valid"
    assert not build_dir.exists()


def test_validate_fails_like_build(tree, build_dir):
    add(tree, "violation.ttl")
    result = run("validate", "--root", str(tree), "--build-dir", str(build_dir), "--skip-reasoner")
    assert result.exit_code == 1 and "hsh:StatementShape-certainty" in result.output


# -- query -------------------------------------------------------------------------------------------

@pytest.fixture
def built(tree, build_dir) -> Path:
    assert build(tree, build_dir).exit_code == 0
    return build_dir


def query(build_dir: Path, text: str, *extra: str):
    return run("query", "--build-dir", str(build_dir), text, *extra)


SELECT = "SELECT ?who ?label WHERE { ?who a haven:Organization ; skos:prefLabel ?label } ORDER BY ?who"


def test_query_prints_an_aligned_table_with_prefixed_names(built):
    result = query(built, SELECT)
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "who          | label",
        "-------------+------------",
        "hid:al-qaeda | al-Qaeda@en",
        "hid:taliban  | Taliban@en",
        "(2 rows)",
    ]


def test_query_csv(built):
    result = query(built, SELECT, "--format", "csv")
    assert result.output.splitlines() == [
        "who,label", f"{BASE}id/al-qaeda,al-Qaeda", f"{BASE}id/taliban,Taliban"]


def test_query_json(built):
    document = json.loads(query(built, SELECT, "--format", "json").output)
    assert document["head"]["vars"] == ["who", "label"]
    assert [b["who"]["value"] for b in document["results"]["bindings"]] == [f"{BASE}id/al-qaeda", f"{BASE}id/taliban"]


def test_query_sees_the_named_graphs_as_the_default_graph(built):
    result = query(built, "SELECT (COUNT(*) AS ?n) WHERE { ?s haven:supportedBy ?o }")
    assert result.output.splitlines()[2] == "1"


def test_query_ask_and_construct(built):
    assert query(built, "ASK { hid:taliban haven:alliedWith hid:al-qaeda }").output.strip() == "true"
    turtle = query(built, "CONSTRUCT { ?s haven:ledBy ?o } WHERE { ?s haven:ledBy ?o }").output
    assert "hid:al-qaeda haven:ledBy hid:osama-bin-laden" in turtle


def test_query_from_a_file_and_from_stdin(built, tmp_path):
    (tmp_path / "q.rq").write_text("ASK { hid:al-qaeda a haven:Organization }")
    assert query(built, f"@{tmp_path / 'q.rq'}").output.strip() == "true"
    assert run("query", "--build-dir", str(built), "-", input="ASK { hid:nobody ?p ?o }").output.strip() == "false"


def test_query_syntax_error_is_one_clean_line(built):
    result = query(built, "SELECT WHERE {")
    assert result.exit_code == 1
    assert result.output.startswith("Error: SPARQL syntax error at 1:")
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1


def test_query_without_a_build_says_so(build_dir):
    result = query(build_dir, SELECT)
    assert result.exit_code == 1 and "run `haven build` first" in result.output


# -- serve -------------------------------------------------------------------------------------------

@pytest.fixture
def fake_serve(monkeypatch):
    """Stands in for haven.web.serve (another module's job): records the settings it was started with."""
    calls = []
    module = types.ModuleType("haven.web.serve")
    module.run = calls.append
    monkeypatch.setitem(sys.modules, "haven.web.serve", module)
    return calls


def test_serve_builds_first_when_there_is_no_release(tree, build_dir, fake_serve):
    result = run("serve", "--root", str(tree), "--build-dir", str(build_dir), "--skip-reasoner",
                 "--port", "9123", "--timeout", "2.5", "--no-cors")
    assert result.exit_code == 0, result.output
    assert "building first" in result.output and (build_dir / "current" / "manifest.json").is_file()
    (settings,) = fake_serve
    assert (settings.port, settings.query_timeout, settings.cors, settings.build_dir) == (9123, 2.5, False, build_dir)


def test_serve_first_build_summarises_the_warnings(tree, build_dir, fake_serve):
    """Issue 10.10: a first `make serve` printed every data warning; it says how many and where to read them."""
    add(tree, "warning.ttl")
    result = run("serve", "--root", str(tree), "--build-dir", str(build_dir), "--skip-reasoner")
    assert result.exit_code == 0, result.output
    assert "SHACL: 1 warning(s) on 1 node(s) (haven validate lists them)" in result.output
    assert "hid:undefined-group" not in result.output and len(fake_serve) == 1


def test_serve_uses_an_existing_release_as_is(tree, build_dir, fake_serve):
    build(tree, build_dir)
    before = snapshot(build_dir)
    result = run("serve", "--root", str(tree), "--build-dir", str(build_dir))
    assert result.exit_code == 0 and "building first" not in result.output
    assert snapshot(build_dir) == before and len(fake_serve) == 1


def test_serve_rebuilds_when_the_release_has_another_base(tree, build_dir, fake_serve):
    build(tree, build_dir)
    result = run("serve", "--root", str(tree), "--build-dir", str(build_dir), "--skip-reasoner",
                 "--base", "http://127.0.0.1:8080/")
    assert result.exit_code == 0 and "building first" in result.output
    assert json.loads((build_dir / "current" / "manifest.json").read_text())["base"] == "http://127.0.0.1:8080/"


def test_serve_does_not_start_on_a_failing_build(tree, build_dir, fake_serve):
    add(tree, "violation.ttl")
    result = run("serve", "--root", str(tree), "--build-dir", str(build_dir), "--skip-reasoner")
    assert result.exit_code == 1 and fake_serve == []


def test_help_shows_the_defaults_from_the_environment(monkeypatch):
    monkeypatch.setenv("HAVEN_PORT", "9999")
    monkeypatch.setenv("HAVEN_HOST", "127.0.0.2")
    text = " ".join(run("serve", "--help").output.split())
    assert "[default: 9999]" in text and "[default: 127.0.0.2]" in text
    assert "(dynamic)" not in text
