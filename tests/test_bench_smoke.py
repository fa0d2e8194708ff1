"""The benchmark's data generator: its trees pass the real build, and a seed pins their bytes."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def load_generator():
    """bench/ is a folder of commands, not a package; load the module by path (registered, for dataclasses)."""
    name = "haven_bench_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def generate():
    return load_generator().generate


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "data").rglob("*.ttl"))}


def test_generated_tree_builds_with_no_violation(generate, tmp_path):
    info = generate(2000, 7, tmp_path / "src")
    assert 2000 <= info["data_triples"] < 2100
    assert info["statements"] > 50 and info["sample_entities"]
    result = subprocess.run(
        [sys.executable, "-m", "haven.cli", "build", "--root", str(tmp_path / "src"),
         "--build-dir", str(tmp_path / "build"), "--skip-reasoner"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[validate] 0 violations" in result.stderr
    manifest = json.loads((tmp_path / "build" / "current" / "manifest.json").read_text())
    graphs = manifest["graphs"]
    # everything written was parsed, and the statements produced a direct layer
    assert graphs["https://w3id.org/haven/graph/data"] == info["data_triples"]
    assert graphs["https://w3id.org/haven/graph/derived"] > info["statements"]


def test_same_seed_same_bytes_other_seed_other_bytes(generate, tmp_path):
    generate(2000, 7, tmp_path / "a")
    generate(2000, 7, tmp_path / "b")
    generate(2000, 8, tmp_path / "c")
    first = tree_digest(tmp_path / "a")
    assert first and first == tree_digest(tmp_path / "b")
    assert first != tree_digest(tmp_path / "c")
    assert (tmp_path / "a" / "bench.json").read_bytes() == (tmp_path / "b" / "bench.json").read_bytes()


def test_every_statement_class_of_the_generator_appears_at_modest_size(generate, tmp_path):
    """At 20k triples each concrete statement class is drawn at least once (the mix covers all families)."""
    from rdflib import Graph, Namespace
    from rdflib.namespace import RDF

    generate(20000, 3, tmp_path / "src")
    graph = Graph()
    for path in sorted((tmp_path / "src" / "data" / "statements").glob("*.ttl")):
        graph.parse(path, format="turtle")
    haven = Namespace("https://w3id.org/haven/ontology#")
    used = {str(c)[len(haven):] for c in graph.objects(None, RDF.type) if str(c).startswith(str(haven))}
    assert set(load_generator().STATEMENT_CLASSES) <= used
