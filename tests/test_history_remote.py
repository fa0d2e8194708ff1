"""Release history over a remote store: releases 2 and 3 of the history fixtures (tests/plugins/history.py)
published with `haven publish` into a real Oxigraph server, served by an app whose build folder is empty, so
everything comes from the store: the release list with hashes, the changelog and patch, entity histories and
the 301/410 answers; and the same over HTTP from `haven serve` processes, embedded and over the store."""
from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from haven import buildfolder
from haven.cli import main
from haven.config import Settings
from haven.store.remote import RemoteStore
from haven.web.app import create_app

from plugins.servers import start_live_server
from plugins.stores import start_oxigraph_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def oxigraph_with_history(history_builds, tmp_path_factory):
    """An Oxigraph server into which releases 2 and 3 were published with `haven publish`."""
    server = start_oxigraph_server(tmp_path_factory.mktemp("history-oxigraph"))
    try:
        for release_id in history_builds.ids[1:]:
            result = CliRunner().invoke(main, ["publish", "--to", server.query_url, "--release",
                                               str(history_builds.folder(release_id))], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            assert "[load history] changes.json, changes.rdfp, history.json, manifest.json" in result.output
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def remote_history(history_builds, oxigraph_with_history, tmp_path_factory):
    empty = tmp_path_factory.mktemp("no-local-release")
    url = oxigraph_with_history.query_url
    store = RemoteStore(url, Settings(build_dir=empty))
    app = create_app(Settings(build_dir=empty, store=url), store=store)
    app.config["TESTING"] = True
    assert store.release_dir is None and store.release_id == history_builds.ids[2]
    yield app.test_client()
    store.close()


def test_releases_over_the_remote_store_list_every_release_with_its_hashes(history_builds, remote_history):
    releases = remote_history.get("/releases", headers={"Accept": "application/json"}).json["releases"]
    assert [r["id"] for r in releases] == history_builds.ids[::-1]
    for release in releases:
        manifest = json.loads((history_builds.folder(release["id"]) / buildfolder.MANIFEST).read_text())
        assert release["sha256"] == manifest["sha256"] and release["triples"] == manifest["triples"]
    served, previous, first = releases
    # the store keeps the served release and the one before it: their changes; dumps of the served one only
    assert served["changes"].endswith(f"/releases/{served['id']}/changes") and "changes" in previous
    assert "changes" not in first and "dumps" in served and "dumps" not in previous
    dump = remote_history.get(served["dumps"][2]["url"])  # the N-Quads, made from the store in the background
    assert dump.status_code in (200, 503)


def test_a_replica_serves_the_dumps_it_made_for_an_earlier_release(history_builds, oxigraph_with_history,
                                                                     tmp_path):
    """A replica over a remote store writes a served release's dumps into its cache folder; once the store
    has moved on, the release list still offers them, and they are served under the release's URL."""
    import shutil
    two = history_builds.ids[1]
    cache = tmp_path / "cache" / two
    cache.mkdir(parents=True)
    for name in ("haven.nq", "haven.nt", "haven.nt.gz"):  # what the replica wrote while release 2 was served
        shutil.copy(history_builds.folder(two) / name, cache / name)
    url = oxigraph_with_history.query_url
    store = RemoteStore(url, Settings(build_dir=tmp_path))
    app = create_app(Settings(build_dir=tmp_path, store=url), store=store)
    try:
        client = app.test_client()
        releases = client.get("/releases", headers={"Accept": "application/json"}).json["releases"]
        listed = {d["url"].rsplit("/", 1)[1] for d in releases[1]["dumps"]}
        assert releases[1]["id"] == two and listed == {"haven.nq", "haven.nt"}
        manifest = json.loads((history_builds.folder(two) / buildfolder.MANIFEST).read_text())
        for name in ("haven.nt", "haven.nt.gz"):
            response = client.get(f"/releases/{two}/{name}")
            assert response.status_code == 200
            assert hashlib.sha256(response.data).hexdigest() == manifest["sha256"][name]
        assert client.get(f"/releases/{two}/haven.ttl").status_code == 404
    finally:
        store.close()


def test_changes_and_patch_over_the_remote_store_are_the_builds(history_builds, remote_history):
    for release_id in history_builds.ids[1:]:
        folder = history_builds.folder(release_id)
        changes = remote_history.get(f"/releases/{release_id}/changes", headers={"Accept": "application/json"})
        assert changes.status_code == 200 and changes.json == json.loads((folder / buildfolder.CHANGES).read_text())
        patch = remote_history.get(f"/releases/{release_id}/changes.rdfp")
        assert patch.status_code == 200 and patch.data == (folder / buildfolder.PATCH).read_bytes()
    assert remote_history.get(f"/releases/{history_builds.ids[0]}/changes").status_code == 404


def test_entity_history_and_continuity_over_the_remote_store(history_builds, remote_history):
    two, three = history_builds.ids[1:]
    page = remote_history.get("/page/jason-burke").get_data(as_text=True)
    assert f'First published in release <a href="http://localhost/releases/{two}">' in page
    moved = remote_history.get("/id/al-qaeda", headers={"Accept": "text/turtle"})
    assert moved.status_code == 301 and moved.location == "http://localhost/id/al-qaida"
    gone = remote_history.get("/data/tony-blair.ttl")
    assert gone.status_code == 410 and b"owl:deprecated true" in gone.data


def _status(server, path: str, accept: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(server.url + path.lstrip("/"), headers={"Accept": accept})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get("Location", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.parametrize("backend", ["embedded", "remote"])
def test_haven_serve_answers_the_history_over_http(history_builds, oxigraph_with_history, tmp_path, backend):
    options = {"store": oxigraph_with_history.query_url} if backend == "remote" else {}
    server = start_live_server(history_builds.build_dir if backend == "embedded" else tmp_path, **options)
    try:
        status, _, body = _status(server, "/releases", "application/json")
        assert status == 200 and [r["id"] for r in json.loads(body)["releases"]] == history_builds.ids[::-1]
        status, _, body = _status(server, f"/releases/{history_builds.ids[2]}/changes.rdfp", "*/*")
        assert status == 200 and body == (history_builds.folder(history_builds.ids[2]) / buildfolder.PATCH).read_bytes()
        status, location, _ = _status(server, "/id/al-qaeda", "text/turtle")
        assert status == 301 and location.endswith("/id/al-qaida")
        status, _, body = _status(server, "/page/tony-blair", "text/html")
        assert status == 410 and b"This identifier has been withdrawn" in body
    finally:
        server.stop()
