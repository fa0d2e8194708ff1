"""The fixture release (tests/resources/release/) is what its source says: the committed haven.nq, ontology.ttl
and manifest.json are exactly what tests/plugins/release.py writes from release.trig, so that servers and
stores opening the folder and tests reading the TriG see one release."""
from __future__ import annotations

import pytest

from plugins.release import RELEASE_FIXTURE, render_release


@pytest.mark.parametrize("name", ["haven.nq", "ontology.ttl", "manifest.json"])
def test_committed_file_is_written_from_the_trig(name):
    assert (RELEASE_FIXTURE / name).read_bytes() == render_release()[name], (
        f"{name} is not what release.trig gives: PYTHONPATH=server:tests .venv/bin/python -m plugins.release")
