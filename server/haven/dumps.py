"""The release's dumps (`{base}dumps/haven.{ext}`, the formats `haven.formats.DUMP_FORMATS`): the writer that
makes the Turtle, N-Triples and JSON-LD dumps from the release's N-Quads.

The build writes them into the release folder (`haven.nq` is the release itself); a release built before
the build did, or one a remote store serves, gets them from :func:`write_dumps` run as a separate process
(`python -m haven.dumps NQUADS FOLDER BASE`), in the background, so that no request thread waits for a
dump and the server's own memory never holds one.

Every dump is written by pyoxigraph from the N-Quads text as published, so the literals stay as written
(`xsd:nonNegativeInteger` is not turned into `xsd:integer` as a store would, oxigraph#1413). Memory stays
flat in the size of the release: the input is read line by line and the serialisers stream.

Each dump also has a gzip-compressed copy beside it (`haven.nt.gz`, `haven.nq.gz`...), written without a
timestamp or file name in its header so that the same release always gives the same bytes.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from haven.formats import DUMP_FORMATS, GZIP, JSON_LD, N_QUADS, N_TRIPLES, TURTLE
from haven.iris import HEDGED_GRAPHS
from haven.store.answers import oxigraph_format


#: the dumps made from haven.nq, by file extension (the others of `haven.formats.DUMP_FORMATS`)
DERIVED = tuple(fmt.extension for fmt in DUMP_FORMATS if fmt is not N_QUADS)

NQ, NT, TTL, JSONLD = (oxigraph_format(fmt) for fmt in (N_QUADS, N_TRIPLES, TURTLE, JSON_LD))


#: gzip level of the compressed copies: zlib's default, near level 9's size at a third of its time
GZIP_LEVEL = 6


def file_name(extension: str, compressed: bool = False) -> str:
    return f"haven.{extension}.{GZIP.extension}" if compressed else f"haven.{extension}"


#: every file a release's dumps comprise besides haven.nq: the derived dumps, and each dump's gzip copy
FILES = tuple(file_name(ext) for ext in DERIVED) + tuple(file_name(f.extension, True) for f in DUMP_FORMATS)


def write_dumps(nquads: Path, folder: Path, prefixes: dict[str, str]) -> list[str]:
    """Write `haven.{nt,ttl,jsonld}` and the gzip copies of those and of `nquads` into `folder` from the
    N-Quads file `nquads`; returns their names (:data:`FILES`).

    Turtle and N-Triples cannot carry named graphs: they hold the default graph a client queries, the union
    of every graph but the hedged one (`hg:` of `prefixes` + :data:`haven.iris.HEDGED_GRAPHS`), a triple in
    two graphs once; JSON-LD keeps the graphs, one `@graph` per graph name. Each file appears whole or not
    at all."""
    folder.mkdir(parents=True, exist_ok=True)
    left_out = {f"<{prefixes['hg']}{name}>".encode() for name in HEDGED_GRAPHS} if "hg" in prefixes else set()
    with tempfile.TemporaryDirectory(dir=folder, prefix=".dumps-") as scratch:
        sorted_quads = _sorted(nquads, Path(scratch))
        nt = write_once(folder / file_name(N_TRIPLES.extension),
                        lambda path: _write_union(sorted_quads, path, left_out))
        write_once(folder / file_name(TURTLE.extension), lambda path: ox.serialize(
            ox.parse(path=nt, format=NT), output=path, format=TTL, prefixes=prefixes))
        by_graph = _split_by_graph(sorted_quads, Path(scratch))
        write_once(folder / file_name(JSON_LD.extension), lambda path: ox.serialize(
            (quad for part in by_graph for quad in ox.parse(path=part, format=NQ)), output=path, format=JSONLD))
    for fmt in DUMP_FORMATS:
        plain = nquads if fmt is N_QUADS else folder / file_name(fmt.extension)
        write_once(folder / file_name(fmt.extension, compressed=True), lambda path: _gzip(plain, path))
    return list(FILES)


def _gzip(source: Path, target: str) -> None:
    # filename="" and mtime=0: no name or time in the header, so the bytes depend on the content alone
    with open(source, "rb") as plain, open(target, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0) as packed:
        shutil.copyfileobj(plain, packed, 1 << 20)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sorted(nquads: Path, scratch: Path) -> Path:
    """`nquads` itself when its lines are sorted (a release the build wrote: canonical N-Quads, one term
    per space-free token but the object); otherwise a sorted copy as pyoxigraph writes it (a hand-made
    release, a remote store's quads), so that the lines of one triple in several graphs are neighbours."""
    previous = b""
    with open(nquads, "rb") as handle:
        for line in handle:
            if line < previous:
                break
            previous = line
        else:
            return nquads
    lines = ox.serialize(ox.parse(path=nquads, format=NQ), format=NQ).splitlines(keepends=True)
    lines.sort()
    copy = scratch / "sorted.nq"
    with open(copy, "wb") as handle:
        handle.writelines(lines)
    return copy


def _split(line: bytes) -> tuple[bytes, bytes]:
    """An N-Quads line → (the triple's text, the graph name's text). Every quad of a release is in a named
    graph, so the last term is always the graph's IRI (and an IRI holds no space)."""
    at = line.rindex(b" <", 0, len(line) - 3)
    return line[:at], line[at + 1:-2].rstrip()


def _triples(sorted_quads: Path, left_out: set[bytes] = frozenset()) -> Iterator[bytes]:
    """N-Triples lines of the union, each once. In sorted N-Quads a triple's lines in several graphs are
    neighbours: they share the text up to ` <graph> .`, and any other line sharing that prefix would be
    the same triple (a term ends at its first unescaped space outside a literal)."""
    previous = None
    with open(sorted_quads, "rb") as handle:
        for line in handle:
            line = line.rstrip(b"\n")
            if not line:
                continue
            triple, graph = _split(line)
            if graph in left_out:
                continue
            if triple != previous:
                yield triple + b" .\n"
                previous = triple


def _write_union(sorted_quads: Path, path: str, left_out: set[bytes]) -> None:
    with open(path, "wb") as handle:
        handle.writelines(_triples(sorted_quads, left_out))


def _split_by_graph(sorted_quads: Path, scratch: Path) -> list[Path]:
    """One N-Quads file per graph name, in the order of the names, lines kept in order: pyoxigraph's
    JSON-LD writer opens a new `@graph` object each time the graph name changes."""
    handles: dict[bytes, object] = {}
    try:
        with open(sorted_quads, "rb") as source:
            for line in source:
                stripped = line.rstrip(b"\n")
                if not stripped:
                    continue
                _, name = _split(stripped)
                handle = handles.get(name)
                if handle is None:
                    handle = handles[name] = open(scratch / f"graph-{len(handles)}.nq", "wb")
                handle.write(line)
    finally:
        for handle in handles.values():
            handle.close()
    return [Path(handle.name) for name, handle in sorted(handles.items())]


def write_once(target: Path, write) -> Path:
    """`write(path)` into a temporary file beside `target`, then renamed: a concurrent reader sees the whole
    file or none, and a failed write leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".part")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a release file from a server run as another user
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def main(argv: list[str]) -> int:
    from haven.iris import iris_for

    nquads, folder, base = argv
    write_dumps(Path(nquads), Path(folder), iris_for(base).prefixes())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
