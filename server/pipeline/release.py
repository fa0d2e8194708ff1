"""Stage 6: write a release folder and switch `build/current` to it atomically.

A release is written into a hidden temporary folder beside the others, flushed to disk, renamed into
place and only then does the `current` symlink move (a new symlink renamed over the old one, which is
atomic on POSIX). A reader of `build/current` therefore sees the old release or the new one, never a
half-written one, and a failing build never reaches this stage at all.

The release id is a hash of the published content, so building the same sources twice yields the same
id, and the second build just points `current` at the release that already exists. For that, the
N-Quads are written in a canonical form: sorted lines and blank-node labels computed from each blank
node's content and position (rdflib's general canonicaliser takes minutes on a few thousand evidence
nodes; Haven's blank nodes are the trees that Turtle's ``[ ]`` writes, which this labelling handles
in linear time).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from haven.pipeline import BuildError

#: releases kept besides the current one, newest first
KEEP_RELEASES = 5
#: a temporary release folder older than this was left by a crashed build and may be removed
STALE_TMP_SECONDS = 3600
ID_LENGTH = 16


@dataclass
class Release:
    id: str
    path: Path
    reused: bool


# -- canonical N-Quads -------------------------------------------------------------------------------

def bnode_labels(graph: Graph, tag: str) -> dict[BNode, BNode]:
    """Stable labels: a hash of what a blank node says (recursively) and of who points to it (recursively)."""
    content_memo: dict[BNode, str] = {}
    context_memo: dict[BNode, str] = {}

    def content(node: BNode, seen: frozenset) -> str:
        if node in content_memo:
            return content_memo[node]
        rows = sorted(f"{p.n3()} {_term(o, seen | {node}, content)}" for p, o in graph.predicate_objects(node))
        content_memo[node] = digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digest

    def context(node: BNode, seen: frozenset) -> str:
        if node in context_memo:
            return context_memo[node]
        rows = sorted(f"{_term(s, seen | {node}, context)} {p.n3()}" for s, p in graph.subject_predicates(node))
        context_memo[node] = digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digest

    nodes = sorted({t for triple in graph for t in triple if isinstance(t, BNode)}, key=str)
    by_label: dict[str, list[BNode]] = {}
    for node in nodes:
        label = hashlib.sha256((content(node, frozenset()) + context(node, frozenset())).encode()).hexdigest()
        by_label.setdefault(label[:32], []).append(node)
    labels = {}
    for label, same in by_label.items():
        # nodes with equal signatures are interchangeable, so numbering them in any order gives the same text
        for index, node in enumerate(same):
            labels[node] = BNode(f"{tag}{label}{index if len(same) > 1 else ''}")
    return labels


def _term(term, seen: frozenset, recurse) -> str:
    if isinstance(term, BNode):
        return "_:cycle" if term in seen else "_:" + recurse(term, seen)
    return term.n3()


def canonical_nquads(graphs: dict[URIRef, Graph]) -> bytes:
    """Serialised by pyoxigraph (rdflib's N-Quads writer took most of the metadata stage at 1M triples)."""
    quads = []
    for name, graph in graphs.items():
        # a label names one node in the whole document, so each graph's labels carry the graph's name
        labels = bnode_labels(graph, tag=re.sub(r"[^A-Za-z0-9]", "", name.rsplit("/", 1)[-1]) or "g")
        convert = OxTerms(labels)
        graph_name = ox.NamedNode(str(name))
        quads += [ox.Quad(convert(s), convert(p), convert(o), graph_name) for s, p, o in graph]
    text = ox.serialize(quads, format=ox.RdfFormat.N_QUADS).decode("utf-8")
    lines = sorted({line for line in text.splitlines() if line.strip()})
    return ("\n".join(lines) + "\n").encode("utf-8")


class OxTerms:
    """rdflib term → pyoxigraph term, memoised (a million triples share a few hundred thousand terms)."""

    def __init__(self, labels: dict):
        self.labels = labels
        self.memo: dict = {}

    def __call__(self, node):
        found = self.memo.get(node)
        if found is None:
            if isinstance(node, BNode):
                found = ox.BlankNode(str(self.labels.get(node, node)))
            elif isinstance(node, URIRef):
                found = ox.NamedNode(str(node))
            elif node.language:
                found = ox.Literal(str(node), language=node.language)
            elif node.datatype is not None:
                found = ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
            else:
                found = ox.Literal(str(node))
            self.memo[node] = found
        return found


def content_id(base: str, nquads: bytes, shapes_nquads: bytes) -> str:
    h = hashlib.sha256()
    for part in (base.encode(), nquads, shapes_nquads):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()[:ID_LENGTH]


# -- writing -----------------------------------------------------------------------------------------

@contextlib.contextmanager
def build_lock(build_dir: Path):
    """Two builds at once would race on `current`; the second waits for the first."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clear_leftovers(build_dir: Path) -> list[str]:
    """Remove what a killed build left behind: temporary release folders and `.current-<pid>` links.

    Only call it holding `build_lock`: every build writes those inside the lock, so while we hold it
    none of them can belong to a build that is still running, whatever its age.
    """
    removed = []
    releases = build_dir / "releases"
    for path in sorted(releases.glob(".tmp-*")) if releases.is_dir() else []:
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    for link in sorted(build_dir.glob(".current-*")):
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        removed.append(link.name)
    return removed


def existing_release(build_dir: Path, release_id: str) -> Path | None:
    path = build_dir / "releases" / release_id
    return path if (path / "manifest.json").is_file() else None


def write_release(build_dir: Path, release_id: str, files: dict[str, bytes], manifest: dict) -> Path:
    releases = build_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    final = releases / release_id
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{release_id}-", dir=releases))
    try:
        manifest = {**manifest, "sha256": {name: hashlib.sha256(body).hexdigest() for name, body in files.items()}}
        files = {**files, "manifest.json": (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode()}
        for name, body in files.items():
            with open(tmp / name, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o755)
        _fsync_dir(tmp)
        if final.exists():  # an incomplete folder of that id, left by a crash before manifest.json
            shutil.rmtree(final)
        os.rename(tmp, final)
        _fsync_dir(releases)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def switch_current(build_dir: Path, release_id: str) -> None:
    current = build_dir / "current"
    if current.exists() and not current.is_symlink():
        raise BuildError(f"{current} is a real folder, not a symlink; move it away and build again")
    link = build_dir / f".current-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    os.symlink(Path("releases") / release_id, link)  # relative, so the build folder can be moved
    os.replace(link, current)
    _fsync_dir(build_dir)
    os.utime(build_dir / "releases" / release_id)  # the one just published counts as newest when pruning


def prune(build_dir: Path, keep: int = KEEP_RELEASES) -> list[str]:
    releases = build_dir / "releases"
    current = (build_dir / "current").resolve()
    removed = []
    now = time.time()
    entries = sorted((p for p in releases.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in entries:
        if path.name.startswith(".tmp-"):
            if now - path.stat().st_mtime > STALE_TMP_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
    finished = [p for p in entries if not p.name.startswith(".")]
    for path in finished[keep:]:
        if path.resolve() != current:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
