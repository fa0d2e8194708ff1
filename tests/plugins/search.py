"""The search index and the reconciliation service on the project's real data, and the W3C schemas.

* `real_index`: the search index of data/ + ontology/ as the build's own stage makes it (`pipeline.search`),
  in-process in well under a second, for the spelling table and the reconciliation batch;
* `real_store`, `real_client`, `real_app(real_release, real_store)`: a store, a Flask client over a release of the real data (sources parsed and the direct layer derived
  by the pipeline's own stages, no validation: `haven build` checks the same data in its own tests), with its
  search.json written by the build's stage: what `haven build` serves, without a minute of SHACL and HermiT;
* `validate(instance, schema)`: an answer against a schema of tests/resources/reconciliation-api/
  (the Reconciliation Service API 0.2's, copied with their attribution);
* `spelling_rows()`, `batch_rows()`: the rows of tests/resources/search/*.tsv.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pyoxigraph as ox
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT7

from haven import buildfolder
from haven.config import DEFAULT_BASE, PROJECT_ROOT, Settings
from haven.iris import iris_for
from haven.pipeline.derive import derive
from haven.pipeline.search import search_index
from haven.pipeline.sources import load_sources
from haven.search.index import SearchIndex, to_bytes
from haven.store.embedded import EmbeddedStore
from haven.web.app import create_app

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SCHEMAS = RESOURCES / "reconciliation-api"
SEARCH_RESOURCES = RESOURCES / "search"
REAL_RELEASE_ID = "real-data-search"


def _rows(name: str) -> list[dict]:
    lines = [line for line in (SEARCH_RESOURCES / name).read_text("utf-8").splitlines()
             if line and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def spelling_rows() -> list[dict]:
    return _rows("spelling-variants.tsv")


def batch_rows() -> list[dict]:
    return _rows("reconciliation-batch.tsv")


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text("utf-8"))
        # the files name no draft ("http://json-schema.org/schema#"): read as draft 7, the specification's
        resource = DRAFT7.create_resource(schema)
        resources.append((schema["$id"], resource))
        resources.append((path.name, resource))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validate(instance, schema_name: str) -> None:
    """Raises jsonschema.ValidationError when `instance` does not conform to the named schema file."""
    schema = json.loads((SCHEMAS / schema_name).read_text("utf-8"))
    jsonschema.Draft7Validator(schema, registry=REGISTRY).validate(instance)


def _real_store():
    sources = load_sources(PROJECT_ROOT)
    derive(sources.store, DEFAULT_BASE)
    sources.store.remove_graph(sources.graph_name("shapes"))
    return sources.store


@pytest.fixture(scope="session")
def real_index() -> SearchIndex:
    sources = load_sources(PROJECT_ROOT)
    return SearchIndex(search_index(sources.store, DEFAULT_BASE))


@pytest.fixture(scope="session")
def real_release(tmp_path_factory) -> Path:
    store = _real_store()
    build = tmp_path_factory.mktemp("real-build")
    release = buildfolder.release_folder(build, REAL_RELEASE_ID)
    release.mkdir(parents=True)
    (release / buildfolder.NQUADS).write_bytes(store.dump(format=ox.RdfFormat.N_QUADS))
    (release / buildfolder.SEARCH_INDEX).write_bytes(to_bytes(search_index(store, DEFAULT_BASE)))
    ns = iris_for(DEFAULT_BASE)
    counts = {str(iri): sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(str(iri))))
              for iri in ns.graphs.values()}
    manifest = {"id": REAL_RELEASE_ID, "base": DEFAULT_BASE, "created": "2025-01-01T00:00:00Z", "version": "test",
                "triples": sum(counts.values()), "graphs": counts}
    (release / buildfolder.MANIFEST).write_text(json.dumps(manifest), "utf-8")
    buildfolder.current(build).symlink_to(release.relative_to(build))
    return release


@pytest.fixture(scope="session")
def real_store(real_release):
    store = EmbeddedStore(real_release, workers=1)
    yield store
    store.close()


def real_app(real_release, real_store):
    app = create_app(Settings(build_dir=real_release.parent.parent), store=real_store)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def real_client(real_release, real_store):
    return real_app(real_release, real_store).test_client()
