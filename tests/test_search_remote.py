"""Search and reconciliation over a remote store (a real Oxigraph server holding the fixture release): the
same answers as on the embedded store, the index extracted from the store when the host has no release
folder, in-process and through `haven serve --store` over HTTP."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from haven.config import Settings
from haven.store.remote import RemoteStore
from haven.web.app import create_app

from plugins.search import validate
from plugins.servers import start_live_server

pytestmark = pytest.mark.live

SEARCHES = ["Usama bin Ladin", "al-Qa'ida", "Taleban", "Kaboul", "Hezbollah", "gretchen"]
BATCH = {"q0": {"query": "Osama ibn Laden", "type": "Person"}, "q1": {"query": "Al Qaida"},
         "q2": {"query": "Hamas"}, "q3": {"query": "Usama bin Ladin", "properties": [{"pid": "leaderOf", "v": "al-Qaeda"}]}}


@pytest.fixture(scope="module")
def remote_client(oxigraph_server, tmp_path_factory):
    """An app over the Oxigraph server whose build folder is empty: nothing local to read the index from."""
    build = tmp_path_factory.mktemp("no-local-release")
    store = RemoteStore(oxigraph_server.query_url, Settings(build_dir=build))
    app = create_app(Settings(build_dir=build, store=oxigraph_server.query_url), store=store)
    app.config["TESTING"] = True
    assert store.release_dir is None
    yield app.test_client()
    store.close()


@pytest.mark.parametrize("text", SEARCHES)
def test_search_answers_as_on_the_embedded_store(remote_client, client, text):
    remote = remote_client.get("/search", query_string={"q": text, "prefix": "1"})
    embedded = client.get("/search", query_string={"q": text, "prefix": "1"})
    assert remote.status_code == embedded.status_code == 200
    assert remote.get_json() == embedded.get_json()


def test_reconciliation_answers_as_on_the_embedded_store(remote_client, client):
    answers = [c.post("/reconcile", data={"queries": json.dumps(BATCH)}).get_json() for c in (remote_client, client)]
    validate(answers[0], "reconciliation-result-batch.json")
    assert answers[0] == answers[1]
    assert answers[0]["q0"]["result"][0]["id"] == "osama-bin-laden" and answers[0]["q0"]["result"][0]["match"]
    assert not any(r["match"] for r in answers[0]["q2"]["result"])
    extend = {"ids": ["osama-bin-laden"], "properties": [{"id": "leaderOf"}]}
    extended = [c.get("/reconcile", query_string={"extend": json.dumps(extend)}).get_json()
                for c in (remote_client, client)]
    validate(extended[0], "data-extension-response.json")
    assert extended[0] == extended[1]


def test_haven_serve_over_the_remote_store_searches_and_reconciles(oxigraph_server, tmp_path):
    server = start_live_server(tmp_path / "empty-build", store=oxigraph_server.query_url)
    try:
        with server.get("/search?" + urllib.parse.urlencode({"q": "Usama bin Ladin"}),
                        headers={"Accept": "application/json"}) as response:
            assert response.status == 200
            assert json.load(response)["results"][0]["id"] == "osama-bin-laden"
        with server.get("/search?q=Taleban", headers={"Accept": "text/html"}) as response:
            assert "/page/taliban" in response.read().decode()
        body = urllib.parse.urlencode({"queries": json.dumps(BATCH)}).encode()
        request = urllib.request.Request(server.url + "reconcile", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        validate(answer, "reconciliation-result-batch.json")
        assert answer["q1"]["result"][0]["id"] == "al-qaeda" and answer["q1"]["result"][0]["match"]
        with server.get("/reconcile") as response:
            validate(json.load(response), "manifest.json")
    finally:
        server.stop()
