"""The one IRI/URL builder (haven.iris) and the base it is built from (haven.config.Settings)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from flask import Flask
from rdflib import URIRef

from haven import formats, iris
from haven.config import Settings
from haven.iris import iris_for
from haven.store.base import WrongRelease
from haven.web.app import create_app
from haven.web.dataset import routes as dataset_routes
from haven.web.entities import routes as entity_routes
from haven.web.sparql import routes as sparql_routes
from plugins.release import write_release

UNSLASHED = "https://example.org/h"


def test_base_from_the_environment_is_normalised(monkeypatch):
    """Defect 2: HAVEN_BASE without its trailing slash was used as written (only CLI overrides were fixed)."""
    monkeypatch.setenv("HAVEN_BASE", UNSLASHED)
    assert Settings.from_env().base == UNSLASHED + "/"
    assert Settings(base=UNSLASHED).base == UNSLASHED + "/"
    assert iris_for(UNSLASHED).entity_iri("al-qaeda") == URIRef(UNSLASHED + "/id/al-qaeda")


def test_an_unslashed_base_serves_its_entities(tmp_path, monkeypatch):
    """Defect 2 end to end: the app built from the environment finds the entities of a release built for the
    base (on main it looked for `…/hid/al-qaeda` and answered 404)."""
    write_release(tmp_path, UNSLASHED + "/")
    monkeypatch.setenv("HAVEN_BASE", UNSLASHED)
    app = create_app({"build_dir": tmp_path, "max_concurrent_queries": 1})
    try:
        client = app.test_client()
        assert client.get("/id/al-qaeda", headers={"Accept": "text/turtle"}).status_code == 303
        document = client.get("/data/al-qaeda.nt")
        assert document.status_code == 200
        assert f"<{UNSLASHED}/id/al-qaeda>".encode() in document.data
        assert f"{UNSLASHED}id/".encode() not in document.data
    finally:
        app.extensions["haven"].close()


def test_the_url_space_the_metadata_describes_is_served():
    """Every IRI the build's metadata names below the base (VoID's endpoint, the dataset, the dumps, entity
    documents) is a route of the app: both come from haven.iris."""
    flask = Flask(__name__)
    for blueprint in (sparql_routes.bp, entity_routes.bp, dataset_routes.bp):
        flask.register_blueprint(blueprint)
    adapter = flask.url_map.bind("example.org")
    ns = iris_for("https://example.org/h/")
    described = [ns.sparql_endpoint, ns.dataset_iri, ns.ontology_iri, ns.shapes_iri, ns.entity_iri("x"),
                 ns.document_iri("x", "ttl"), ns.page_iri("x"), *(ns.dump_iri(f) for f in formats.DUMP_FORMATS)]
    for iri in described:
        adapter.match("/" + iri[len(ns.base):])  # raises NotFound for a path no route serves
    for path in (iris.VOID_PATH, iris.CONTEXT_PATH, iris.QUERY_PAGE_PATH):
        adapter.match(iris.route(path))


def test_served_urls_keep_the_path_below_the_base():
    urls = iris.UrlMap(base="https://w3id.org/haven/", host_root="http://127.0.0.1:8080/")
    assert urls.served(str(urls.dataset_iri)) == "http://127.0.0.1:8080/dataset"
    assert urls.link(str(urls.entity_iri("al-qaeda"))) == "http://127.0.0.1:8080/page/al-qaeda"
    assert urls.served("https://example.org/x") == "https://example.org/x"


# -- a release built for another base (defect 4) -------------------------------------------------------------

OTHER = "https://example.org/kb/"


def test_create_app_refuses_a_release_built_for_another_base(tmp_path):
    """Only the CLI checked the base: create_app served the release and answered 404 for every entity."""
    write_release(tmp_path, base=OTHER)
    with pytest.raises(WrongRelease, match=f"built for the base {OTHER}.*configured for https://w3id.org/haven/"):
        create_app({"build_dir": tmp_path, "base": "https://w3id.org/haven/", "max_concurrent_queries": 1})


@pytest.mark.live  # starts (and sees refuse) the production entry point as a process
def test_python_m_serve_refuses_a_release_built_for_another_base(tmp_path):
    write_release(tmp_path, base=OTHER)
    env = {**os.environ, "HAVEN_BUILD_DIR": str(tmp_path), "HAVEN_BASE": "https://w3id.org/haven/",
           "HAVEN_PORT": "0", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "haven.web.serve"], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "Serving on" not in done.stdout
    assert f"built for the base {OTHER}" in done.stderr
