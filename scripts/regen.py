"""Regenerate every recorded (golden) file of the tests from the sources: `make regen`.

Recorded files pin what the code made from the sources at one time, so that a test notices when the code
changes what it makes. When the *sources* change on purpose (a new relation, new data), they are rewritten
here, and `git diff` shows what moved; review that diff as you would a code change. The files:

* tests/resources/metadata/project.nt: the dataset description (VoID) of the project's ontology/ and data/;
* tests/resources/metadata/generated-10k.nt: the same for bench/generate.py's 10k tree (seed 1);
* ontology/competency-questions/*.expected.tsv: each question's answer on the project's build, as a client
  of the server reads it (the default graph: every graph but hg:hedged).

The tests that read them (tests/test_release_canonical.py, tests/test_competency_questions.py) import the
recording parameters and helpers from this file, so a recording and its check cannot drift apart.

    PYTHONPATH=server .venv/bin/python scripts/regen.py [--only void|questions]
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from haven.config import DEFAULT_BASE, PROJECT_ROOT
from haven.iris import iris_for
from haven.pipeline.derive import derive, materialise_types
from haven.pipeline.metadata import dataset_description
from haven.pipeline.sources import find_files

METADATA = PROJECT_ROOT / "tests" / "resources" / "metadata"
QUESTIONS = PROJECT_ROOT / "ontology" / "competency-questions"
#: the fixed release facts of the recorded descriptions
RELEASE_ID, CREATED, VERSION = "abc123", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "1.0.0"
#: how an answer's terms are written in the .expected.tsv files
COMPACT = {"https://w3id.org/haven/id/": "hid:", "https://w3id.org/haven/ontology#": "haven:"}


def store_of(root: Path) -> ox.Store:
    """The build's store as the pipeline holds it: the source files as parsed, and the derived graphs."""
    ns = iris_for(DEFAULT_BASE)
    store = ox.Store()
    for name, files in find_files(root).items():
        if name == "shapes":
            continue
        for path in files:
            store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(str(ns.graphs[name])),
                       base_iri=DEFAULT_BASE)
    derive(store, DEFAULT_BASE)
    materialise_types(store, DEFAULT_BASE)
    return store


def description(root: Path):
    return dataset_description(DEFAULT_BASE, store_of(root), RELEASE_ID, CREATED, VERSION)


def generated_tree(out: Path) -> Path:
    subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "generate.py"), "--triples", "10000", "--seed", "1",
                    "--out", str(out)], check=True, capture_output=True)
    return out


def compact(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for namespace, prefix in COMPACT.items():
            if term.value.startswith(namespace):
                return prefix + term.value[len(namespace):]
    return term.value


def default_graph() -> list[ox.NamedNode]:
    """The default graph a client of the server queries: every graph of a release but hg:hedged."""
    return [ox.NamedNode(str(iri)) for iri in iris_for(DEFAULT_BASE).default_graphs.values()]


def answer(store: ox.Store, question: Path) -> tuple[list[str], list[list[str]]]:
    solutions = store.query(question.read_text(encoding="utf-8"), default_graph=default_graph())
    variables = [v.value for v in solutions.variables]
    return variables, [[compact(solution[v]) for v in variables] for solution in solutions]


def published_store(build_dir: Path) -> ox.Store:
    """The project's release as `haven build` writes it (without the reasoner), loaded into a store."""
    from click.testing import CliRunner

    from haven.cli import main

    result = CliRunner().invoke(main, ["build", "--root", str(PROJECT_ROOT), "--build-dir", str(build_dir),
                                       "--skip-reasoner"])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return load_release(build_dir)


def load_release(build_dir: Path) -> ox.Store:
    """The current release of a build folder, loaded into an in-memory store."""
    store = ox.Store()
    store.bulk_load(path=str(build_dir / "current" / "haven.nq"), format=ox.RdfFormat.N_QUADS)
    return store


def regen_void() -> list[Path]:
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, root in (("project", PROJECT_ROOT), ("generated-10k", generated_tree(Path(tmp) / "tree"))):
            path = METADATA / f"{name}.nt"
            lines = sorted(description(root).serialize(format="nt", encoding="utf-8").decode().splitlines(True))
            path.write_text("".join(line for line in lines if line.strip()), encoding="utf-8")
            written.append(path)
    return written


def regen_questions() -> list[Path]:
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        store = published_store(Path(tmp) / "build")
        for question in sorted(QUESTIONS.glob("*.rq")):
            variables, rows = answer(store, question)
            path = question.with_suffix(".expected.tsv")
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
                writer.writerow(variables)
                writer.writerows(sorted(rows))
            written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("void", "questions"))
    args = parser.parse_args()
    written = []
    if args.only in (None, "void"):
        written += regen_void()
    if args.only in (None, "questions"):
        written += regen_questions()
    for path in written:
        print(path.relative_to(PROJECT_ROOT))


if __name__ == "__main__":
    main()
