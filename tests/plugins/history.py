"""Three releases that differ, built with the CLI from the broken-input corpus's small data set
(tests/resources/history/ says what each adds): the release history's fixtures.

1. the corpus's base data;
2. Jason Burke and Tony Blair added, a statement added, the Taliban's definition and the alliance statement's
   summary changed;
3. al-qaeda renamed al-qaida with a continuity record (`owl:sameAs`, the corpus's accepted case), Tony Blair
   and the statement of release 2 withdrawn (`owl:deprecated true`), the changes of 2 to the Taliban and the
   alliance undone.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from plugins.builds import CORPUS, PROJECT, build, make_tree, overlay

HISTORY = PROJECT / "tests" / "resources" / "history"


@dataclass
class History:
    root: Path
    build_dir: Path
    #: the release ids, oldest first
    ids: list[str]

    def folder(self, release_id: str) -> Path:
        return self.build_dir / "releases" / release_id


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path} no longer says {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def build_history(workdir: Path, *extra: str) -> History:
    root = make_tree(workdir / "src")
    build_dir = workdir / "build"
    ids = []

    def release() -> None:
        result = build(root, build_dir, "--skip-reasoner", *extra)
        assert result.exit_code == 0, result.output
        ids.append((build_dir / "current").readlink().name)

    release()
    overlay(root, HISTORY / "r2")
    _replace(root / "data" / "entities.ttl", "Afghan militant movement (test fixture).",
             "Afghan Islamist movement (test fixture).")
    _replace(root / "data" / "statements" / "relations.ttl", "The two groups were allied (test fixture).",
             "The two groups were close allies (test fixture).")
    release()
    overlay(root, CORPUS / "_accepted" / "slug-changed-same-as")
    overlay(root, HISTORY / "r3")
    release()
    assert len(set(ids)) == 3
    return History(root, build_dir, ids)


@pytest.fixture(scope="module")
def history_builds(tmp_path_factory) -> History:
    """Three releases in one build folder, the third current (built once per test module)."""
    return build_history(tmp_path_factory.mktemp("history"))
