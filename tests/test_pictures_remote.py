"""The pictures over a remote store (a real Oxigraph server holding the pictures release, tests/plugins/pictures.py,
published by Haven's publisher): the same JSON as on the embedded store, read by an app with no local release."""
from __future__ import annotations

import pytest

from plugins.pictures import pictures_json

pytestmark = pytest.mark.live

PAGES = ["/page/al-qaeda", "/page/taliban", "/page/osama-bin-laden", "/page/taliban-capture-of-kabul-1996",
         "/network", "/network?kind=Alliance&kind=FinancialSupport"]


@pytest.fixture
def remote_pictures_client(remote_pictures_app):
    return remote_pictures_app.test_client()


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
