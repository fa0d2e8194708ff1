"""The one fixture release every test serves, and Flask apps over it.

tests/resources/release/ is a release folder as `haven build` leaves it (`haven.nq`, `ontology.ttl`,
`shapes.ttl`, `manifest.json`), so that server processes, nginx replicas and stores can open it as it is.
Its source is `release.trig` (readable, with comments): `render_release` writes the other files from it, and
tests/test_fixture_release.py checks that the committed files are what it writes. After editing the TriG:

    PYTHONPATH=server:tests .venv/bin/python -m plugins.release

* `release_dir` / `build_dir`: the fixture release, exposed as `build/current`.
* `make_app(**settings)`: a fresh app per test (flaskr style) over ONE store loaded once per session, so that
  tests can change limits without reloading data or restarting query workers. `app` and `client` use the
  defaults.
* `write_release(build_dir, base=, extra_trig=)`: the same release written into another build folder, under
  another base and/or with TriG added (data no build would accept, as a store published by other means
  could still hold it); `settings_for(build_dir, base)` serves such a folder.
* `hostile_client`: the release with hostile data added (javascript: IRIs, literals that try to end a
  script block), for tests/test_hardening.py and tests/test_browser.py.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef

from haven.config import DEFAULT_BASE, Settings
from haven.iris import rebase_term
from haven.pipeline.release import canonical_nquads
from haven.store import releases
from haven.store.embedded import EmbeddedStore
from haven.web.app import create_app

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
RELEASE_FIXTURE = RESOURCES / "release"
SOURCE = RELEASE_FIXTURE / "release.trig"
RELEASE_ID = "test-fixture-0001"
CREATED = "2025-01-01T00:00:00Z"
#: base IRI of the tests that move the release elsewhere
OTHER_BASE = "https://example.org/haven/"


def render_release(base: str = DEFAULT_BASE, extra_trig: str = "") -> dict[str, bytes]:
    """The release folder's files, from release.trig (plus `extra_trig`, in its prefixes), under `base`."""
    dataset = Dataset()
    dataset.parse(data=SOURCE.read_text("utf-8") + "\n" + extra_trig, format="trig")
    graphs: dict[URIRef, Graph] = {}
    for s, p, o, g in dataset.quads((None, None, None, None)):
        name = rebase_term(g.identifier if hasattr(g, "identifier") else g, DEFAULT_BASE, base)
        graphs.setdefault(name, Graph()).add(tuple(rebase_term(t, DEFAULT_BASE, base) for t in (s, p, o)))
    body = canonical_nquads(graphs)
    # the graphs the release holds, in the contract's order (an empty one, such as hg:hedged here, is left out:
    # a store has no such graph to count)
    counts = {iri: len(graphs[URIRef(iri)]) for iri in releases.canonical_graphs(base).values() if URIRef(iri) in graphs}
    ontology = graphs.get(URIRef(releases.canonical_graphs(base)["ontology"]), Graph())
    manifest = {"id": RELEASE_ID, "base": base, "created": CREATED, "version": "1.0.0",
                "triples": sum(counts.values()), "graphs": counts,
                "sha256": {"haven.nq": hashlib.sha256(body).hexdigest()}}
    return {
        "haven.nq": body,
        "ontology.ttl": ontology.serialize(format="turtle").encode("utf-8"),
        "shapes.ttl": (RELEASE_FIXTURE / "shapes.ttl").read_text("utf-8").replace(DEFAULT_BASE, base).encode("utf-8"),
        "manifest.json": (json.dumps(manifest, indent=2) + "\n").encode("utf-8"),
    }


def fixture_triples(*parts: str) -> int:
    """Triples of the committed fixture release in those graphs (`"data"`, `"derived"`...), or in all of them."""
    manifest = json.loads((RELEASE_FIXTURE / "manifest.json").read_text("utf-8"))
    if not parts:
        return manifest["triples"]
    return sum(manifest["graphs"][releases.canonical_graphs(manifest["base"])[part]] for part in parts)


def write_release(build_dir: Path, base: str = DEFAULT_BASE, extra_trig: str = "") -> Path:
    """The release written into `build_dir` (releases/<id>/ and the `current` link), as `haven build` would."""
    release = build_dir / "releases" / RELEASE_ID
    release.mkdir(parents=True)
    for name, body in render_release(base, extra_trig).items():
        (release / name).write_bytes(body)
    (build_dir / "current").symlink_to(release.relative_to(build_dir))
    return release


def settings_for(build_dir: Path, base: str = DEFAULT_BASE) -> Settings:
    return Settings(base=base, build_dir=build_dir, root=build_dir)


def make_build_dir(parent: Path, release: Path) -> Path:
    """A build folder whose `current` points at `release`, as `haven build` leaves it."""
    build = parent / "build"
    build.mkdir(parents=True, exist_ok=True)
    (build / "current").symlink_to(release.resolve(), target_is_directory=True)
    return build


@pytest.fixture(scope="session")
def release_dir() -> Path:
    return RELEASE_FIXTURE


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory, release_dir) -> Path:
    return make_build_dir(tmp_path_factory.mktemp("haven"), release_dir)


@pytest.fixture(scope="session")
def shared_store(release_dir):
    store = EmbeddedStore(release_dir, workers=4)
    yield store
    store.close()


@pytest.fixture(scope="session")
def make_app(build_dir, shared_store):
    """make_app(result_limit=2, ...) → a new app on the shared store with those settings."""

    def factory(**overrides):
        settings = Settings(build_dir=build_dir).with_overrides(**overrides)
        app = create_app(settings, store=shared_store)
        app.config["TESTING"] = True
        return app

    return factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


#: added to the release's data graph by `hostile_client`
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
    build = tmp_path_factory.mktemp("hostile-build")
    write_release(build, extra_trig=HOSTILE_TRIG)
    app = create_app(settings_for(build))
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["haven"].close()


if __name__ == "__main__":  # rewrite the committed files from release.trig
    for file_name, content in render_release().items():
        if file_name != "shapes.ttl":
            (RELEASE_FIXTURE / file_name).write_bytes(content)
