"""Bad data never reaches the public graph: every case of tests/resources/broken/ through `haven build`.

The tree under test is the project's real ontology/ and shapes/ with a small data set, published once; each
case is laid over a copy of it and built into a copy of that build folder. A case passes when the build
exits non-zero with the expected message and the published release is byte for byte what it was. A live
server then shows that failed builds leave the old release served, before and after a restart.
"""
from __future__ import annotations

import json
import shutil
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from haven.cli import main
from haven.pipeline.sources import MAX_SOURCE_BYTES, TRIPLES_PER_BYTE_LIMIT
from plugins.builds import CORPUS, build, make_tree, overlay
from plugins.figures import report_line
from plugins.servers import start_live_server

CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
ACCEPTED = sorted(p.name for p in (CORPUS / "_accepted").iterdir() if p.is_dir())
HID = "https://w3id.org/haven/id/"

pytestmark = pytest.mark.slow  # every case is a whole build (the published tree with the reasoner)


@dataclass
class Workspace:
    root: Path
    build_dir: Path
    release: str  # the id of the published release


def snapshot(build_dir: Path) -> tuple[str, dict[str, bytes]]:
    """What readers can see: where `current` points and every byte of every finished release."""
    releases = build_dir / "releases"
    files = {p.relative_to(releases).as_posix(): p.read_bytes() for p in sorted(releases.rglob("*")) if p.is_file()}
    return str((build_dir / "current").readlink()), files


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Workspace:
    parent = tmp_path_factory.mktemp("published")
    root, build_dir = make_tree(parent / "src"), parent / "build"
    result = build(root, build_dir)  # with the reasoner, as CI builds the real tree
    assert result.exit_code == 0, result.output
    return Workspace(root, build_dir, (build_dir / "current").readlink().name)


@pytest.fixture
def workspace(published, tmp_path) -> Workspace:
    root, build_dir = tmp_path / "src", tmp_path / "build"
    shutil.copytree(published.root, root)
    shutil.copytree(published.build_dir, build_dir, symlinks=True)
    return Workspace(root, build_dir, published.release)


def assert_refused(workspace: Workspace, case: str, before) -> None:
    result = build(workspace.root, workspace.build_dir)
    assert result.exit_code == 1, result.output
    for line in (CORPUS / case / "expected.txt").read_text("utf-8").splitlines():
        assert line.format(previous=workspace.release) in result.output, result.output
    assert "Traceback" not in result.output and "failed after" in result.output
    assert snapshot(workspace.build_dir) == before
    assert not list((workspace.build_dir / "releases").glob(".tmp-*"))


@pytest.mark.parametrize("case", CASES)
def test_broken_input_is_refused_and_current_is_untouched(workspace, case, pytestconfig):
    before = snapshot(workspace.build_dir)
    overlay(workspace.root, CORPUS / case)
    assert_refused(workspace, case, before)
    if case == CASES[-1]:
        report_line(pytestconfig, f"broken inputs: {len(CASES)} corpus cases + 1 generated (huge file), "
                                  f"each refused with current untouched")


def test_huge_file_is_refused_before_it_is_parsed(workspace):
    before = snapshot(workspace.build_dir)
    line = '<https://w3id.org/haven/id/x> <http://www.w3.org/2000/01/rdf-schema#label> "padding" .\n'
    huge = workspace.root / "data" / "generated-dump.ttl"
    huge.write_text(line * (MAX_SOURCE_BYTES // len(line) + 1))
    result = build(workspace.root, workspace.build_dir)
    assert result.exit_code == 1
    assert f"data/generated-dump.ttl: {huge.stat().st_size:,} bytes is over the {MAX_SOURCE_BYTES:,}-byte limit" \
        in result.output
    assert snapshot(workspace.build_dir) == before


@pytest.mark.parametrize("shape", ["list", "nesting"])
def test_a_file_of_more_triples_than_the_limit_is_refused_as_it_is_parsed(workspace, shape):
    """Issue 14.15: `( 1 1 … )` and `[ :p [ :p … ] ]` make a triple of 2-4 bytes; every stage after the parse costs
    per triple (a 4 MB list took a 7.7 GB build past 300 s). The file is refused by its triple count."""
    before = snapshot(workspace.build_dir)
    limit = int(MAX_SOURCE_BYTES * TRIPLES_PER_BYTE_LIMIT)
    if shape == "list":
        body = f"<{HID}al-qaeda> <http://www.w3.org/2000/01/rdf-schema#seeAlso> ( " + "1 " * (limit // 2 + 1) + ") .\n"
    else:
        body = "@prefix : <http://x/> .\n<" + HID + "al-qaeda> :p " + "[:p " * (limit + 1) + "1" + "]" * (limit + 1) + " .\n"
    (workspace.root / "data" / "hostile.ttl").write_text(body)
    result = build(workspace.root, workspace.build_dir)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"data/hostile.ttl: more than {limit:,} triples, the limit for one file" in result.output
    assert "[sources] FAILED" in result.output
    assert snapshot(workspace.build_dir) == before


def test_validate_refuses_a_changed_slug_too(workspace):
    overlay(workspace.root, CORPUS / "slug-changed")
    result = CliRunner().invoke(main, ["validate", "--root", str(workspace.root), "--build-dir",
                                       str(workspace.build_dir), "--skip-reasoner"])
    assert result.exit_code == 1 and "hid:al-qaeda was published in release" in result.output


def test_a_changed_slug_is_refused_across_a_change_of_base(workspace):
    # slugs are compared below the base: a release published under another base still counts
    local = workspace.build_dir.parent / "local-build"
    assert build(workspace.root, local, "--skip-reasoner", "--base", "http://127.0.0.1:8080/").exit_code == 0
    overlay(workspace.root, CORPUS / "slug-changed")
    result = build(workspace.root, local, "--skip-reasoner")
    assert result.exit_code == 1
    assert "  hid:al-qaeda was published in release" in result.output


@pytest.mark.parametrize("case", ACCEPTED)
def test_changed_slug_with_a_record_of_where_it_went_is_published(workspace, case):
    overlay(workspace.root, CORPUS / "_accepted" / case)
    result = build(workspace.root, workspace.build_dir)
    assert result.exit_code == 0, result.output
    assert f"IRIs published by release {workspace.release} checked, 3 recorded as moved" in result.output
    new = (workspace.build_dir / "current").readlink().name
    assert new != workspace.release
    quads = (workspace.build_dir / "current" / "haven.nq").read_text()
    assert f"<{HID}al-qaida> " in quads and f"<{HID}al-qaeda> " in quads
    # the next build compares against the new release, which still publishes the old IRI
    again = build(workspace.root, workspace.build_dir, "--skip-reasoner")
    assert again.exit_code == 0 and "(unchanged)" in again.output


def test_first_build_has_nothing_to_compare(tmp_path):
    root = make_tree(tmp_path / "src")
    overlay(root, CORPUS / "slug-changed")  # a renamed slug is fine when nothing was published yet
    result = build(root, tmp_path / "build", "--skip-reasoner")
    assert result.exit_code == 0, result.output
    assert "[continuity] no published release to compare with" in result.output


# -- the old release stays served ---------------------------------------------------------------------------

def ask(server, query: str) -> bool:
    with server.get("/sparql?" + urllib.parse.urlencode({"query": query}),
                    headers={"Accept": "application/sparql-results+json"}) as response:
        return json.load(response)["boolean"]


def served_release(server) -> str:
    with server.get("/healthz") as response:
        return json.load(response)["release"]


OLD_DATA = f"ASK {{ <{HID}osama-bin-laden> <https://w3id.org/haven/ontology#leaderOf> <{HID}al-qaeda> }}"
NEW_DATA = f"ASK {{ <{HID}al-qaida> ?p ?o }}"


@pytest.mark.live
def test_failed_builds_leave_the_old_release_served(workspace, published):
    server = start_live_server(workspace.build_dir)
    try:
        assert served_release(server) == workspace.release and ask(server, OLD_DATA)
        for case in ("slug-changed", "organisation-as-leader", "syntax-error"):
            shutil.rmtree(workspace.root)
            shutil.copytree(published.root, workspace.root)
            overlay(workspace.root, CORPUS / case)
            assert_refused(workspace, case, snapshot(workspace.build_dir))
            assert served_release(server) == workspace.release
            assert ask(server, OLD_DATA) and not ask(server, NEW_DATA)
    finally:
        server.stop()
    # a restart (a deploy, a crash) reads build/current again: still the last good release
    restarted = start_live_server(workspace.build_dir)
    try:
        assert served_release(restarted) == workspace.release
        assert ask(restarted, OLD_DATA) and not ask(restarted, NEW_DATA)
        with restarted.get("/id/al-qaeda", headers={"Accept": "text/turtle"}) as response:
            assert response.status == 200 and response.url.endswith("/data/al-qaeda.ttl")
    finally:
        restarted.stop()
