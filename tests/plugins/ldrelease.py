"""The Linked Data tests' release (fixtures `ld_app`, `ld_client`, `hostile_client`): tests/resources/ld/release.trig written out as a published build folder
(`<build>/releases/<id>/{haven.nq,shapes.ttl,manifest.json}` and the `current` symlink), the layout that
`haven build` produces and the server reads."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from rdflib import Dataset

from haven.config import DEFAULT_BASE, Settings
from haven.iris import rebase_term
from haven.store import releases

RESOURCES = Path(__file__).resolve().parent.parent / "resources" / "ld"
RELEASE_ID = "ld-test-1"
CREATED = "2026-11-25T10:00:00+00:00"


def write_release(build_dir: Path, base: str = DEFAULT_BASE, extra_trig: str = "") -> Path:
    """The release, with `extra_trig` (TriG using the release file's prefixes) added: data no build would
    accept, as a store published by other means could still hold it."""
    dataset = Dataset()
    text = (RESOURCES / "release.trig").read_text(encoding="utf-8")
    dataset.parse(data=text + "\n" + extra_trig, format="trig")
    rebased = Dataset()
    for s, p, o, g in dataset.quads((None, None, None, None)):
        graph = rebased.graph(rebase_term(g.identifier if hasattr(g, "identifier") else g, DEFAULT_BASE, base))
        graph.add(tuple(rebase_term(t, DEFAULT_BASE, base) for t in (s, p, o)))
    release = build_dir / "releases" / RELEASE_ID
    release.mkdir(parents=True)
    body = rebased.serialize(format="nquads").encode("utf-8")
    (release / "haven.nq").write_bytes(body)
    shapes = (RESOURCES / "shapes.ttl").read_text(encoding="utf-8").replace(DEFAULT_BASE, base)
    (release / "shapes.ttl").write_text(shapes, encoding="utf-8")
    # what `haven publish` checks a release against: triples per graph and the file's digest
    counts = dict.fromkeys(releases.canonical_graphs(base).values(), 0)
    for s, p, o, g in rebased.quads((None, None, None, None)):
        name = str(g.identifier if hasattr(g, "identifier") else g)
        counts[name] = counts.get(name, 0) + 1
    (release / "manifest.json").write_text(json.dumps(
        {"id": RELEASE_ID, "base": base, "created": CREATED, "version": "1.0.0", "triples": sum(counts.values()),
         "graphs": counts, "sha256": {"haven.nq": hashlib.sha256(body).hexdigest()}}), encoding="utf-8")
    (build_dir / "current").symlink_to(release.relative_to(build_dir))
    return release


def settings_for(build_dir: Path, base: str = DEFAULT_BASE) -> Settings:
    return Settings(base=base, build_dir=build_dir, root=build_dir)


# -- fixtures ----------------------------------------------------------------------------------------------

OTHER_BASE = "https://example.org/haven/"


@pytest.fixture(scope="module")
def ld_app(tmp_path_factory):
    """The app factory serving the tiny LD release under the default base."""
    from haven.web.app import create_app

    build = tmp_path_factory.mktemp("ld-build")
    write_release(build)
    app = create_app(settings_for(build))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def ld_client(ld_app):
    return ld_app.test_client()


#: added to the test release's data graph
HOSTILE_TRIG = """
hg:data {
  hid:al-qaeda skos:exactMatch <javascript:alert(document.domain)> ;
      skos:exactMatch <data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==> ;
      rdfs:seeAlso <javascript:alert(2)> , <JavaScript:alert(3)> ;
      skos:altLabel "<!--<script>"@en , "</script><script>alert(4)</script>"@en , "a\\u2028b]]>&amp;"@en .
}
"""
HOSTILE_LITERALS = {"<!--<script>", "</script><script>alert(4)</script>", "a\u2028b]]>&amp;"}


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    """The release with hostile data added (tests/test_hardening.py, tests/test_browser.py)."""
    from haven.web.app import create_app

    build = tmp_path_factory.mktemp("hostile-build")
    write_release(build, extra_trig=HOSTILE_TRIG)
    app = create_app(settings_for(build))
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["haven"].close()
