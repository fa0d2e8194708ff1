"""A query worker: a process holding a release, answering one client query at a time.

pyoxigraph 0.5 has no way to cancel a running query (no timeout argument, no interrupt), and a query blocked
inside the Rust engine cannot be stopped from Python. So untrusted queries run here, in a process the server
can kill when the deadline passes. Run as ``python -m haven.store.worker <haven.nq | store folder>``: a
folder is the release's on-disk store, opened read-only in a fraction of a second; a file is loaded into
memory. ``python -m haven.store.worker --prepare <haven.nq> <folder>`` builds that folder (once per release).
``python -m haven.store.worker --template <haven.nq>`` loads the release once and forks the workers, which
share its copy (`template`: what the embedded store runs).
``python -m haven.store.worker --check`` holds no data: it parses client queries for the remote store. It
imports nothing heavier than pyoxigraph (no rdflib, no Flask: see `haven.terms`) so that a replacement starts
quickly.

Wire protocol on stdin/stdout (a forked worker: on its socket): the server writes one JSON object per line;
the worker answers with one JSON header line, then ``length`` bytes of body. The first line the worker
writes is ``{"ready": true}``.

Limits (``--memory-mb N``, the request's ``max_bytes``): once the release is loaded, the worker's data segment
(heap and private mappings, RLIMIT_DATA) may grow by N MiB for a query. Past it, an allocation fails: in
Python the worker answers ``"error": "memory"`` and exits, in the Rust engine the process aborts (SIGABRT);
either way the parent answers "needs too much memory" and starts a replacement. An answer over ``max_bytes``
is not sent (``"error": "too_large"``), so the server never holds it.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import sys
import tempfile
import threading

import pyoxigraph as ox

from haven import formats
from haven.store.answers import serialize_boolean, serialize_solutions, serialize_triples

#: written into an on-disk store folder once its load is complete; a folder without it is never opened
STORE_MARKER = "haven-loaded"
#: the argument that starts a syntax checker (an empty store) instead of a query worker
CHECK = "--check"
#: the argument that starts a template: the release loaded once, query workers forked from it (`template`)
TEMPLATE = "--template"
#: stack of the thread that answers client queries. Oxigraph recurses once per level of nesting and per link
#: of some chains (`!!!…x`, `1+1+…`, BIND after BIND, MINUS after MINUS); with a main thread's 8 MiB, texts of
#: 6-50 KB overflow it (measured with pyoxigraph 0.5) and the worker dies, which costs a reload of the
#: release. 256 MiB of address space, touched only as deep as a query goes, holds every such text tried up to
#: 130 KB, twice the 64 KiB query cap.
QUERY_STACK_BYTES = 256 * 1024 * 1024


def is_complete(folder) -> bool:
    return os.path.isfile(os.path.join(folder, STORE_MARKER))


def open_release(source: str) -> ox.Store:
    """The release at `source`: an on-disk store folder opened read-only, or haven.nq loaded into memory."""
    if os.path.isdir(source):
        if not is_complete(source):
            raise OSError(f"{source} is not a completely loaded store")
        return ox.Store.read_only(source)
    store = ox.Store()
    store.bulk_load(path=source, format=ox.RdfFormat.N_QUADS)
    return store


def prepare(nq_path: str, target: str) -> None:
    """Bulk-load haven.nq into the on-disk store folder `target`, unless a complete one is there already.

    The load goes to a private folder renamed into place only when complete (with its marker file), so a
    crash mid-load leaves nothing that looks usable, and two servers starting together cannot see half a
    store: the loser of the rename drops its copy, which is the same."""
    if is_complete(target):
        return
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    loading = tempfile.mkdtemp(prefix=".loading-", dir=parent)
    try:
        store = ox.Store(loading)
        store.bulk_load(path=nq_path, format=ox.RdfFormat.N_QUADS)
        store.flush()
        del store  # closes RocksDB: the folder must have no writer once readers open it
        with open(os.path.join(loading, STORE_MARKER), "w", encoding="utf-8") as marker:
            marker.write(nq_path + "\n")
        if os.path.exists(target) and not is_complete(target):
            # only a complete load is ever renamed into place: a folder without the marker is debris
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(loading, target)
        except OSError:
            if not is_complete(target):
                raise
    finally:
        shutil.rmtree(loading, ignore_errors=True)


def dataset_options(request: dict) -> dict:
    """pyoxigraph keyword arguments for the dataset the request asks for."""
    options = {}
    if request.get("default_graphs") is not None:
        options["default_graph"] = [ox.NamedNode(iri) for iri in request["default_graphs"]]
    if request.get("named_graphs") is not None:
        options["named_graphs"] = [ox.NamedNode(iri) for iri in request["named_graphs"]]
    return options


def answer(store: ox.Store, request: dict) -> tuple[dict, bytes]:
    result = store.query(request["query"], base_iri=request.get("base_iri"), **dataset_options(request))
    limit = request.get("limit")
    if isinstance(result, ox.QueryBoolean):
        name = request["results_format"]
        return {"form": "ASK", "format": name, "capped": False}, serialize_boolean(result, _format(name))
    if isinstance(result, ox.QuerySolutions):
        name = request["results_format"]
        body, capped = serialize_solutions(result, _format(name), limit, request.get("cap_link"))
        return {"form": "SELECT", "format": name, "capped": capped}, body
    name = request["graph_format"]
    body, capped = serialize_triples(result, _format(name), limit, request.get("prefixes") or {})
    return {"form": "GRAPH", "format": name, "capped": capped}, body


def _format(name: str) -> formats.Format:
    found = formats.by_name(name, formats.RESULT_FORMATS + formats.GRAPH_FORMATS)
    if found is None:
        raise ValueError(f"no such answer format: {name!r}")
    return found


def limit_memory(budget_mb: int) -> None:
    """Let this process's data segment grow by `budget_mb` MiB beyond what it holds now (the release)."""
    held = 0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmData:"):
                held = int(line.split()[1]) * 1024
    limit = held + budget_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def write(out, header: dict, body: bytes = b"") -> None:
    header = {**header, "length": len(body)}
    out.write(json.dumps(header).encode("utf-8") + b"\n" + body)
    out.flush()


def check(store: ox.Store, request: dict) -> tuple[dict, bytes]:
    """Parse and plan a client query on an empty store (what the remote store's syntax checkers do): the
    store's own parser and messages, in a process that dies or is killed instead of the server. SELECT and
    CONSTRUCT answers are lazy and never read; an ASK is evaluated, within the deadline its parent keeps."""
    result = store.query(request["query"], base_iri=request.get("base_iri"))
    if isinstance(result, ox.QueryBoolean):
        form = "ASK"
    elif isinstance(result, ox.QuerySolutions):
        form = "SELECT"
    else:
        form = "GRAPH"
    return {"form": form}, b""


def serve(store: ox.Store, respond, out, budget_mb: int | None = None, requests=None) -> None:
    write(out, {"ready": True})
    for line in requests if requests is not None else sys.stdin.buffer:
        request = json.loads(line)
        try:
            header, body = respond(store, request)
            max_bytes = request.get("max_bytes")
            if max_bytes is not None and len(body) > max_bytes:
                write(out, {"ok": False, "error": "too_large",
                            "message": f"the answer is {len(body):,} bytes, over the {max_bytes:,}-byte limit"})
                continue
            write(out, {"ok": True, **header}, body)
        except SyntaxError as error:
            write(out, {"ok": False, "error": "syntax", "message": str(error)})
        except MemoryError:
            # whatever half-built answer is still referenced, a fresh worker is the clean state: end
            write(out, {"ok": False, "error": "memory", "message": f"the query needed more than {budget_mb} MiB"})
            return
        except Exception as error:  # the parent maps this to 500; the worker stays usable
            write(out, {"ok": False, "error": "failed", "message": f"{type(error).__name__}: {error}"})


def answer_queries(store: ox.Store, budget_mb: int | None, out, requests=None) -> None:
    """Serve client queries from a thread whose stack holds deep queries (QUERY_STACK_BYTES), under the
    memory budget."""
    threading.stack_size(QUERY_STACK_BYTES)
    if budget_mb is not None:
        # the query thread's stack is a private mapping reserved whole when the thread starts (so a query may
        # also use for data what its stack leaves untouched: the bound is budget + QUERY_STACK_BYTES)
        limit_memory(budget_mb + QUERY_STACK_BYTES // (1 << 20))
    serving = threading.Thread(target=serve, args=(store, answer, out, budget_mb, requests), name="haven-queries")
    serving.start()
    serving.join()


def template(source: str, budget_mb: int | None, control: socket.socket) -> None:
    """Hold one copy of the release and fork query workers from it on request (``--template``).

    Each worker is a fork of this process: it shares the release's pages with the template and with every
    other worker (copy-on-write, and answering a query reads them, never writes them), so N workers cost one
    copy of the release plus what each query allocates, not N copies; and a replacement for a worker killed
    at its deadline is ready in milliseconds instead of reloading the release. The template itself runs no
    query: its copy stays as loaded.

    Control protocol on `control` (a SOCK_SEQPACKET Unix socket, the process's stdin), one JSON message each
    way: ``{"op": "fork"}`` → ``{"pid": N}`` with the server's end of the new worker's socket passed along
    (SCM_RIGHTS); the worker then speaks the usual protocol on it. ``{"op": "status", "pid": N}`` waits for
    that worker to end and answers ``{"code": C}`` (negative: the signal that ended it; null: already
    reaped), reaping it. The template ends when the server closes its end."""
    store = open_release(source)
    control.send(b'{"ready": true}')
    while True:
        message = control.recv(4096)
        if not message:
            return
        request = json.loads(message)
        if request.get("op") == "fork":
            ours, theirs = socket.socketpair()
            pid = os.fork()
            if pid == 0:  # the worker
                try:
                    control.close()
                    ours.close()
                    answer_queries(store, budget_mb, theirs.makefile("wb"), theirs.makefile("rb"))
                finally:
                    os._exit(0)
            theirs.close()
            socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [ours.fileno()])
            ours.close()
        elif request.get("op") == "status":
            try:
                _, status = os.waitpid(int(request["pid"]), 0)
                code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            except ChildProcessError:
                code = None
            control.send(json.dumps({"code": code}).encode())


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--prepare"]:
        try:
            prepare(argv[2], argv[3])
        except OSError as error:
            print(f"haven: cannot build the on-disk store {argv[3]}: {error}", file=sys.stderr)
            return 1
        return 0
    out = sys.stdout.buffer
    # stdout carries the protocol; anything printed by accident must not corrupt it
    sys.stdout = sys.stderr
    budget_mb = None
    if argv[1:2] == ["--memory-mb"]:
        budget_mb, argv = int(argv[2]), [argv[0], *argv[3:]]
    if argv[1:2] == [CHECK]:
        # the main thread's stack, as large as a store server's: a text that overflows it here would
        # overflow the store's parser too, and is refused instead of sent
        if budget_mb is not None:
            limit_memory(budget_mb)
        serve(ox.Store(), check, out, budget_mb)
        return 0
    if argv[1:2] == [TEMPLATE]:
        template(argv[2], budget_mb, socket.socket(fileno=sys.stdin.fileno()))
        return 0
    answer_queries(open_release(argv[1]), budget_mb, out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(0)
