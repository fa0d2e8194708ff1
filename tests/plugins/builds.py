"""Whole builds: the project's own release built once per run (`project_build`), and source trees for others —
the project's real ontology/ and shapes/ with the small data set of the broken-input corpus
(tests/resources/broken/), cases laid over it, and `haven build` run through the CLI."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from haven.cli import main
from haven.config import PROJECT_ROOT

PROJECT = PROJECT_ROOT
CORPUS = PROJECT / "tests" / "resources" / "broken"


def make_tree(dest: Path) -> Path:
    for part in ("ontology", "shapes"):
        shutil.copytree(PROJECT / part, dest / part)
    shutil.copytree(CORPUS / "_base" / "data", dest / "data")
    return dest


def overlay(root: Path, case: Path) -> None:
    for path in sorted(case.rglob("*")):
        if path.is_file() and path.name != "expected.txt":
            target = root / path.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def build(root: Path, build_dir: Path, *extra: str):
    return CliRunner().invoke(main, ["build", "--root", str(root), "--build-dir", str(build_dir), *extra],
                              catch_exceptions=False)


@pytest.fixture(scope="session")
def project_build(tmp_path_factory) -> Path:
    """A build folder holding the project's own release (ontology/, data/, shapes/) as `haven build` writes it,
    without the reasoner (its own tests run it): built once per run for every test that serves or queries the
    real data, none of which changes the release (a server writes only its caches beside it)."""
    build_dir = tmp_path_factory.mktemp("project") / "build"
    result = build(PROJECT, build_dir, "--skip-reasoner")
    assert result.exit_code == 0, result.output
    return build_dir
