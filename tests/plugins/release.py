"""The tiny fixture release and Flask apps over it.

* `release_dir` / `build_dir`: the hand-made release in tests/resources/release, exposed as `build/current`.
* `make_app(**settings)`: a fresh app per test (flaskr style) over ONE store loaded once per session, so that
  tests can change limits without reloading data or restarting query workers. `app` and `client` use the
  defaults.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from haven.config import Settings
from haven.store.embedded import EmbeddedStore
from haven.web.app import create_app

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
RELEASE_FIXTURE = RESOURCES / "release"


@pytest.fixture(scope="session")
def release_dir() -> Path:
    return RELEASE_FIXTURE


def make_build_dir(parent: Path, release: Path) -> Path:
    """A build folder whose `current` points at `release`, as `haven build` leaves it."""
    build = parent / "build"
    build.mkdir(parents=True, exist_ok=True)
    (build / "current").symlink_to(release.resolve(), target_is_directory=True)
    return build


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory, release_dir) -> Path:
    return make_build_dir(tmp_path_factory.mktemp("haven"), release_dir)


@pytest.fixture(scope="session")
def shared_store(release_dir):
    store = EmbeddedStore(release_dir, workers=4)
    yield store
    store.close()


@pytest.fixture
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
