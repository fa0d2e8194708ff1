"""Stage 6a: the new release's history and its difference from the release `build/current` serves
(`haven.history` says what they hold and how blank nodes are matched)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from haven import buildfolder, history


@dataclass
class ReleaseHistory:
    #: file name → body, for the release folder
    files: dict[str, bytes]
    #: one line for the build's progress
    note: str


def release_history(previous_release: Path, base: str, release_id: str, nquads: bytes) -> ReleaseHistory:
    """The history files of release `release_id` (its canonical N-Quads `nquads`), against the release in
    `previous_release` when there is one built for the same base (a release for another base, a local test
    base, starts a new history: its IRIs are not this one's)."""
    new = history.describe(nquads, base)
    previous = _previous(previous_release, base, release_id)
    if previous is None:
        document = history.history(release_id, None, None, new, None)
        return ReleaseHistory({buildfolder.HISTORY: history.to_bytes(document)},
                              f"history starts: {len(new.slugs)} IRIs under id/")
    manifest, folder = previous
    old_nquads = (folder / buildfolder.NQUADS).read_bytes()
    removed, added = history.difference(old_nquads, nquads)
    old = history.describe(old_nquads, base)
    del old_nquads
    changes = history.changelog(base, release_id, manifest["id"], removed, added, old, new)
    old_history = history.from_bytes(_read(folder / buildfolder.HISTORY))
    document = history.history(release_id, manifest, old_history, new, changes)
    counts = {kind: {what: len(items) for what, items in changes[kind].items()} for kind in ("entities", "statements")}
    note = (f"against {manifest['id']}: {len(added)} quads added, {len(removed)} removed; entities "
            + ", ".join(f"{n} {what}" for what, n in counts["entities"].items())
            + "; statements " + ", ".join(f"{n} {what}" for what, n in counts["statements"].items()))
    return ReleaseHistory({buildfolder.HISTORY: history.to_bytes(document),
                           buildfolder.CHANGES: history.to_bytes(changes),
                           buildfolder.PATCH: history.rdf_patch(base, release_id, manifest["id"], removed, added)},
                          note)


def reused_note(previous_release: Path, base: str, release_id: str) -> str | None:
    """What to say when the build reuses release `release_id` while another one is served: the reused
    folder keeps the history written with it, in which the served release does not appear (a rebuild of
    older sources; docs/history.md)."""
    previous = _previous(previous_release, base, release_id)
    if previous is None:
        return None
    return (f"its history is the one written with it: the release served until now ({previous[0]['id']}) is not "
            "in it; to keep it in the history, publish the revert as a new edit")


def _previous(folder: Path, base: str, release_id: str) -> tuple[dict, Path] | None:
    try:
        manifest = buildfolder.read_manifest(folder)
    except buildfolder.ReleaseFolderError:
        return None
    if manifest["base"] != base or str(manifest["id"]) == release_id:
        return None
    return manifest, folder.resolve()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
