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
import gc
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

from haven.dumps import sha256_of
from haven import buildfolder
from haven.pipeline import BuildError

#: releases kept besides the current one, newest first
KEEP_RELEASES = 5
#: a temporary release folder older than this was left by a crashed build and may be removed
STALE_TMP_SECONDS = 3600
ID_LENGTH = 16
#: most blank nodes in one connected group that is not a tree (nodes shared or in a cycle): such a group is
#: labelled by colour refinement, whose rounds grow with its size; Haven's data and vocabularies have none
MAX_TANGLED_BLANK_NODES = 64


@dataclass
class Release:
    id: str
    path: Path
    reused: bool


# -- canonical N-Quads -------------------------------------------------------------------------------
#
# Blank-node labels come from the N-Triples text of the lines that mention blank nodes, graph by graph.
# A node's first colour is a hash of what it says about, and hears from, IRIs and literals. Most connected
# groups of blank nodes are trees (what Turtle's `[ ]` and `( )` write: one blank parent at most, no
# cycle): their colours come from one pass up the tree (a node's content with its subtree's) and one pass
# down (its parent's colour, the predicate, its place among identical siblings), linear in the size of the
# tree, however deep (a list of a million items). Other groups (nodes shared or in cycles, which only
# explicit `_:` labels write) get colour refinement: colours hashed with their blank neighbours' colours
# until the partition stops splitting; one of several still-equal nodes is then singled out and refinement
# runs again, until every node of the group has its own colour. Refinement takes as many rounds as the
# group is wide, so those groups are bounded (MAX_TANGLED_BLANK_NODES); the build refuses a larger one. Nodes that refinement cannot tell apart
# in Haven's graphs (Turtle's `[ ]` trees, twins, cycles) are interchangeable, so which one is singled
# out does not change the text. Groups of equal content are numbered, in any order for the same reason.
# This is not a general canonicaliser (a graph that refinement cannot split and that is not symmetric
# would need a search over the choices), and Haven's blank nodes do not need one.

def canonical_nquads_of(store: ox.Store, names: list[ox.NamedNode],
                        exact: dict[ox.NamedNode, list[bytes]] | None = None) -> bytes:
    """Sorted N-Quads of the graphs `names` of `store`, blank nodes labelled from their content.

    Rust writes the text (a Python loop over a million Quad objects took seconds). The store keeps
    literals as its own values: it writes "7"^^xsd:nonNegativeInteger back as "7"^^xsd:integer
    (oxigraph#1413). A graph whose N-Triples text is given in `exact` (the sources as parsed, one piece per
    file) is written from that text instead, so the release publishes what the sources say.
    """
    exact = exact or {}
    return _sorted_lines(_graph_lines(exact[name] if name in exact else
                                      [store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=name)], name)
                         for name in dict.fromkeys(names))


def canonical_nquads(graphs: dict[URIRef, Graph]) -> bytes:
    """:func:`canonical_nquads_of` for rdflib graphs, written as parsed (no store in between)."""
    return _sorted_lines(_graph_lines([ntriples(graph)], ox.NamedNode(str(name))) for name, graph in graphs.items())


def bnode_labels(graph: Graph, tag: str) -> dict[BNode, BNode]:
    """The labels :func:`canonical_nquads` gives the blank nodes of `graph` in a graph named `tag`."""
    lines = ntriples(graph).split(b"\n")
    labels = _labels(list(_blank_triples(lines, b" .").values()), tag)
    # OxTerms keeps rdflib's blank node ids
    return {BNode(node[2:].decode()): BNode(label[2:].decode()) for node, label in labels.items()}


def ntriples(graph: Graph) -> bytes:
    convert = OxTerms({})
    return ox.serialize((ox.Triple(convert(s), convert(p), convert(o)) for s, p, o in graph),
                        format=ox.RdfFormat.N_TRIPLES)


def _sorted_lines(graphs) -> bytes:
    lines: list[bytes] = []
    for graph_lines in graphs:
        lines += graph_lines
    lines.sort()
    if not lines:
        return b""
    # text written file by file may hold one triple twice (a graph is a set); labels are distinct per node
    unique = [line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1]]
    return b"\n".join(unique) + b"\n"


def _graph_lines(texts: list[bytes], name: ox.NamedNode) -> list[bytes]:
    """N-Triples text, in pieces → the graph's N-Quads lines (without line ends), blank nodes relabelled.
    Piece by piece, so that no copy of the whole text is made beside the lines (gigabytes at 10M triples)."""
    # literals escape their newlines, so " .\n" is exactly the end of each line, where the graph name goes
    suffix = f" {name} .".encode()
    lines: list[bytes] = []
    for text in texts:
        piece = text.replace(b" .\n", suffix + b"\n").split(b"\n")
        piece.pop()  # the empty piece after the last line end
        lines += piece
    triples = _blank_triples(lines, suffix)
    if triples:
        labels = _labels(list(triples.values()), _tag(name.value))
        for i, (s, p, o) in triples.items():
            lines[i] = b" ".join((labels.get(s, s), p, labels.get(o, o))) + suffix
    return lines


def _blank_triples(lines: list[bytes], suffix: bytes) -> dict[int, tuple[bytes, bytes, bytes]]:
    """Line index → (s, p, o) as N-Triples text, for the lines with a blank node."""
    triples = {}
    for i, line in enumerate(lines):
        if b"_:" in line:
            # subjects and predicates hold no space (IRIs or blank nodes); the rest is the object
            s, p, o = line[:-len(suffix)].split(b" ", 2)
            if s[:2] == b"_:" or o[:2] == b"_:":  # else the `_:` was inside a literal
                triples[i] = (s, p, o)
    return triples


def _tag(name: str) -> str:
    # a label names one node in the whole document, so each graph's labels carry the graph's name
    return re.sub(r"[^A-Za-z0-9]", "", name.rsplit("/", 1)[-1]) or "g"


def _labels(triples: list[tuple[bytes, bytes, bytes]], tag: str) -> dict[bytes, bytes]:
    """Blank node → canonical label (both as N-Triples text), for the triples of one graph."""
    # millions of small lists and tuples, none in a cycle: the cyclic collector's passes over them, not the
    # labelling, took half the time on a list of 100,000 items
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _labels_of(triples, tag)
    finally:
        if collecting:
            gc.enable()


def _labels_of(triples: list[tuple[bytes, bytes, bytes]], tag: str) -> dict[bytes, bytes]:
    fixed: dict[bytes, list[bytes]] = {}
    out: dict[bytes, list[tuple[bytes, bytes]]] = {}
    into: dict[bytes, list[tuple[bytes, bytes]]] = {}
    for s, p, o in triples:
        s_blank, o_blank = s[:2] == b"_:", o[:2] == b"_:"
        for node in (s, o) if s_blank and o_blank else (s,) if s_blank else (o,):
            if node not in fixed:
                fixed[node], out[node], into[node] = [], [], []
        if s_blank and o_blank:
            out[s].append((p, o))
            into[o].append((p, s))
        elif s_blank:
            fixed[s].append(b"> " + p + b" " + o)
        else:
            fixed[o].append(b"< " + s + b" " + p)
    colours = {node: _hash(sorted(rows)) for node, rows in fixed.items()}

    parent = {node: node for node in fixed}

    def root(node: bytes) -> bytes:
        while parent[node] != node:
            parent[node] = node = parent[parent[node]]
        return node

    for s, edges in out.items():
        for _, o in edges:
            parent[root(s)] = root(o)
    groups: dict[bytes, list[bytes]] = {}
    for node in fixed:
        groups.setdefault(root(node), []).append(node)

    tangled: list[list[bytes]] = []
    for members in groups.values():
        if len(members) == 1:
            continue  # its colour says all there is
        if all(len(into[node]) <= 1 for node in members) and sum(len(out[n]) for n in members) == len(members) - 1:
            _tree_colours(members, colours, out, into)
        else:
            tangled.append(members)
    for members in tangled:
        if len(members) > MAX_TANGLED_BLANK_NODES:
            inside = set(members)
            example = next(b" ".join((s, p, o)) for s, p, o in triples if s in inside and o in inside)
            raise BuildError(f"graph {tag}: {len(members):,} blank nodes linked with shared nodes or cycles (such as "
                             f"{example.decode('utf-8', 'replace')}), over the limit of {MAX_TANGLED_BLANK_NODES}: "
                             "give them IRIs, or write them as nested [ ] or ( ) without explicit labels")
    # refining the tangled groups at once costs a few passes of one comprehension, not a call per group
    _refine([node for members in tangled for node in members], colours, out, into)
    by_content: dict[bytes, list[list[bytes]]] = {}
    for members in tangled:
        if len({colours[n] for n in members}) < len(members):
            _individualise(members, colours, out, into)
    for members in groups.values():
        rows = [colours[n] + b" " + row for n in members for row in fixed[n]]
        rows += [colours[n] + b" " + p + b" " + colours[o] for n in members for p, o in out[n]]
        by_content.setdefault(_hash(sorted(rows)), []).append(members)
    labels = {}
    for content, same in by_content.items():
        for index, members in enumerate(same):
            for node in members:
                digest = hashlib.sha256(b"%s %d %s" % (content, index, colours[node])).hexdigest()[:32]
                labels[node] = f"_:{tag}{digest}".encode()
    return labels


def _tree_colours(members: list[bytes], colours: dict, out: dict, into: dict) -> None:
    """Colours for a group that is a tree: distinct for every node, equal for the same content in the same place."""
    order = [next(node for node in members if not into[node])]  # the root, breadth first from it
    for node in order:
        order += [child for _, child in out[node]]
    subtree: dict[bytes, bytes] = {}
    for node in reversed(order):
        subtree[node] = _hash([colours[node], *sorted(b"> " + p + b" " + subtree[o] for p, o in out[node])])
    colours[order[0]] = _hash([subtree[order[0]], b"root"])
    for node in order:
        seen: dict[tuple[bytes, bytes], int] = {}
        for p, child in out[node]:
            # identical siblings are interchangeable: which one is first does not change the text
            place = seen[p, subtree[child]] = seen.get((p, subtree[child]), -1) + 1
            colours[child] = _hash([colours[node], p, subtree[child], b"%d" % place])


def _individualise(members: list[bytes], colours: dict, out: dict, into: dict) -> None:
    while True:
        classes: dict[bytes, list[bytes]] = {}
        for node in members:
            classes.setdefault(colours[node], []).append(node)
        tied = [colour for colour, nodes in classes.items() if len(nodes) > 1]
        if not tied:
            return
        colour = min(tied)
        colours[classes[colour][0]] = _hash([colour, b"singled out"])
        _refine(members, colours, out, into)


def _refine(members: list[bytes], colours: dict, out: dict, into: dict) -> None:
    count = len({colours[n] for n in members})
    while True:
        new = {n: _hash([colours[n], *sorted(b"> " + p + b" " + colours[o] for p, o in out[n]),
                         *sorted(b"< " + colours[s] + b" " + p for p, s in into[n])])
               if out[n] or into[n] else colours[n] for n in members}
        colours.update(new)
        after = len(set(new.values()))
        if after == count:  # refinement only ever splits classes, so the same count means it is stable
            return
        count = after


def _hash(rows: list[bytes]) -> bytes:
    return hashlib.sha256(b"\n".join(rows)).hexdigest().encode()


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
    with open(Path(build_dir) / buildfolder.LOCK, "w") as handle:
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
    releases = buildfolder.releases_folder(build_dir)
    for path in sorted(releases.glob(".tmp-*")) if releases.is_dir() else []:
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    for link in sorted(build_dir.glob(".current-*")):
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        removed.append(link.name)
    return removed


def existing_release(build_dir: Path, release_id: str) -> Path | None:
    path = buildfolder.release_folder(build_dir, release_id)
    return path if buildfolder.is_release(path) else None


def write_release(build_dir: Path, release_id: str, files: dict[str, bytes], manifest: dict,
                  derive=None) -> Path:
    """`files` and `manifest.json` (with every file's sha256) into the release folder. `derive(folder)`, if
    given, writes more files there from those (the dumps, from haven.nq) and returns their names."""
    releases = buildfolder.releases_folder(build_dir)
    releases.mkdir(parents=True, exist_ok=True)
    final = buildfolder.release_folder(build_dir, release_id)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{release_id}-", dir=releases))
    try:
        digests = {name: hashlib.sha256(body).hexdigest() for name, body in files.items()}
        for name, body in files.items():
            _write_synced(tmp / name, body)
        for name in derive(tmp) if derive is not None else ():
            with open(tmp / name, "rb") as handle:
                os.fsync(handle.fileno())
            digests[name] = sha256_of(tmp / name)
        manifest = {**manifest, "sha256": digests}
        _write_synced(tmp / buildfolder.MANIFEST, (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode())
        os.chmod(tmp, 0o755)
        _fsync_dir(tmp)
        if final.exists():  # an incomplete folder of that id, left by a crash before its manifest
            shutil.rmtree(final)
        os.rename(tmp, final)
        _fsync_dir(releases)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _write_synced(path: Path, body: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())


def switch_current(build_dir: Path, release_id: str) -> None:
    current = buildfolder.current(build_dir)
    if current.exists() and not current.is_symlink():
        raise BuildError(f"{current} is a real folder, not a symlink; move it away and build again")
    link = build_dir / f".current-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    os.symlink(Path(buildfolder.RELEASES) / release_id, link)  # relative, so the build folder can be moved
    os.replace(link, current)
    _fsync_dir(build_dir)
    os.utime(buildfolder.release_folder(build_dir, release_id))  # the one just published counts as newest when pruning


def prune(build_dir: Path, keep: int = KEEP_RELEASES) -> list[str]:
    releases = buildfolder.releases_folder(build_dir)
    current = buildfolder.current(build_dir).resolve()
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
    _prune_caches(buildfolder.cache_root(build_dir), removed, now)
    return removed


def _prune_caches(cache: Path, removed: list[str], now: float) -> None:
    """A removed release's cache (its on-disk store, rendered dumps) goes with it; so does a store load that a
    killed build or server left half-done (`.loading-*`, never used: only a complete load is renamed in).
    Other caches stay: a server over a remote store keeps its dumps here for releases never built locally."""
    for name in removed:
        shutil.rmtree(buildfolder.release_cache(cache, name), ignore_errors=True)
    for debris in cache.glob("*/.loading-*") if cache.is_dir() else ():
        if now - debris.stat().st_mtime > STALE_TMP_SECONDS:
            shutil.rmtree(debris, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
