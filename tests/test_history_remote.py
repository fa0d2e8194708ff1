"""Release history over a remote store: releases 2 and 3 of the history fixtures (tests/plugins/history.py)
published with `haven publish` into a real Oxigraph server, served by an app whose build folder is empty, so
everything comes from the store: the release list with hashes, the changelog and patch, entity histories and
the 301/410 answers."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from haven import buildfolder
from haven.cli import main
from haven.config import Settings
from haven.store.remote import RemoteStore
from haven.web.app import create_app

from plugins.stores import start_oxigraph_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def remote_history(history_builds, tmp_path_factory):
    server = start_oxigraph_server(tmp_path_factory.mktemp("history-oxigraph"))
    try:
        for release_id in history_builds.ids[1:]:
            result = CliRunner().invoke(main, ["publish", "--to", server.query_url, "--release",
                                               str(history_builds.folder(release_id))], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            assert "[load history] changes.json, changes.rdfp, history.json, manifest.json" in result.output
        empty = tmp_path_factory.mktemp("no-local-release")
        store = RemoteStore(server.query_url, Settings(build_dir=empty))
        app = create_app(Settings(build_dir=empty, store=server.query_url), store=store)
        app.config["TESTING"] = True
        assert store.release_dir is None and store.release_id == history_builds.ids[2]
        yield app.test_client()
        store.close()
    finally:
        server.stop()


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
