"""The pictures over a remote store (a real Oxigraph server holding the pictures release, tests/plugins/pictures.py,
published by Haven's publisher): the same JSON as on the embedded store, read by an app with no local release."""
from __future__ import annotations

import pytest

from haven.config import Settings
from haven.store.remote import RemoteStore
from haven.web.app import create_app

from plugins.pictures import pictures_json
from plugins.stores import load_release, start_oxigraph_server

pytestmark = pytest.mark.live

PAGES = ["/page/al-qaeda", "/page/taliban", "/page/osama-bin-laden", "/page/taliban-capture-of-kabul-1996",
         "/network", "/network?kind=Alliance&kind=FinancialSupport"]


@pytest.fixture(scope="module")
def remote_pictures_client(pictures_build, tmp_path_factory):
    server = start_oxigraph_server(tmp_path_factory.mktemp("pictures-oxigraph"))
    load_release(pictures_build / "current", server)
    build = tmp_path_factory.mktemp("no-local-release")
    store = RemoteStore(server.query_url, Settings(build_dir=build))
    app = create_app(Settings(build_dir=build, store=server.query_url), store=store)
    app.config["TESTING"] = True
    yield app.test_client()
    store.close()
    server.stop()


@pytest.mark.parametrize("path", PAGES)
def test_pictures_are_the_same_over_a_remote_store(remote_pictures_client, pictures_client, path):
    remote, embedded = remote_pictures_client.get(path), pictures_client.get(path)
    assert remote.status_code == embedded.status_code == 200
    picture = pictures_json(remote)
    assert picture == pictures_json(embedded)
    assert picture["edges"] or picture["timeline"]


def test_hedged_edges_over_a_remote_store(remote_pictures_client):
    picture = pictures_json(remote_pictures_client.get("/page/taliban"))
    assert {e["id"].rsplit("/", 1)[1] for e in picture["edges"] if e["hedged"]} == \
        {"osama-bin-laden-pledged-allegiance-to-taliban", "taliban-funded-al-qaeda"}
