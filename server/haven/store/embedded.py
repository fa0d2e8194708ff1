"""The embedded store: one release loaded once into pyoxigraph, read-only, plus killable query workers.

With a cache folder (what `haven serve` passes: ``<build_dir>/cache``), the server's own store is an on-disk
pyoxigraph (RocksDB) store ``<cache>/<release id>/oxigraph``, bulk-loaded ONCE per release and opened
read-only by every later start in a fraction of a second. The first start of a release has no such folder
yet: it loads haven.nq into memory and serves from it at once, while a child process builds the folder; the
server then swaps its in-memory copy for the folder. Without a cache folder (tests' shared store), or if it
cannot be written, the server keeps its in-memory copy.

The query workers answer from memory, from ONE copy for all of them: a template process
(`haven.store.worker.template`) loads haven.nq after the server is ready (so that start-up does not wait
for it), and every worker is a fork of it, sharing its pages copy-on-write (a query reads them and never
writes them). N workers then cost one copy of the release plus what their queries allocate, not N copies
(1M triples, 4 workers: server and workers 1.7 GiB proportional set size before, one copy now); a worker
killed at its deadline is replaced by a new fork in milliseconds, not by reloading the release. Not from
the on-disk store: measured with pyoxigraph 0.5, the competency questions run 2-40x slower from RocksDB
than from memory (at 1M triples several passed the 10 s limit), and /sparql speed is a target; the
server's own queries are rendered once per release and cached, so the disk costs them nothing that matters.

Two paths, on purpose:
* Haven's own queries (`rows`, `graph`, `ask`: entity documents, VoID, pages) run in-process on the store
  loaded at start-up: they are written by us, bounded, and must be fast. The deadline is checked while the
  answer is read.
* Client queries (`execute`, the public /sparql endpoint) run in a pool of worker processes
  (`haven.store.worker`), forked from the template, because pyoxigraph cannot cancel a running query: a
  worker past its deadline is killed and replaced, and the client gets 503, never a truncated 200.

Nothing here writes: the pyoxigraph store is private, no method adds, removes or updates, and client text
reaches only `Store.query`, which rejects update syntax (and the web layer's safety checks refused it before that).
"""
from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import rdflib

from haven import buildfolder, formats
from haven.config import DEFAULT_BASE, DEFAULT_QUERY_TIMEOUT
from haven.iris import iris_for
from haven.sparqltext import keywords, query_words, unescape
from haven.store.answers import to_rdflib
from haven.store.base import (AnswerTooLarge, QueryOutOfMemory, QuerySyntaxError, QueryTimeout, SerializedResult, Store,
                              StoreBusy, StoreError, WorkerStats)
from haven.store.worker import CHECK, TEMPLATE, is_complete, open_release

log = logging.getLogger(__name__)

#: the query forms whose answers are graphs (serialised with Haven's prefixes)
GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})
#: a worker loading a release must say it is ready within this many seconds
WORKER_START_TIMEOUT = 120.0


class EmbeddedStore(Store):
    def __init__(self, release_dir: Path | str, *, workers: int = 4, memory_mb: int | None = None,
                 prefixes: dict[str, str] | None = None, cache_dir: Path | str | None = None,
                 query_timeout: float = DEFAULT_QUERY_TIMEOUT):
        # resolve() pins the release: if build/current is repointed later, workers still load this one
        self.release_dir = Path(release_dir).resolve()
        self.nq_path = self.release_dir / buildfolder.NQUADS
        if not self.nq_path.is_file():
            raise StoreError(f"no release to serve: {self.nq_path} does not exist (run `haven build` first)")
        # a folder without a manifest, or with a partial one (a hand-made test release), is served under its
        # folder name; a manifest that does not read is a store that cannot open, said as such
        try:
            self.manifest = buildfolder.read_manifest(self.release_dir, required=()) \
                if buildfolder.is_release(self.release_dir) else {}
        except buildfolder.ReleaseFolderError as error:
            raise StoreError(str(error)) from None
        self.release_id = str(self.manifest.get("id") or self.release_dir.name)
        self.query_timeout = query_timeout
        #: Haven's prefix table for the base the release was built with (Turtle and RDF/XML answers declare it)
        release_base = self.manifest.get("base") or DEFAULT_BASE
        self.base = release_base
        self.prefixes = dict(prefixes) if prefixes is not None else iris_for(release_base).prefixes()
        #: the read-only on-disk store shared with the workers, once it exists (None: each process loads haven.nq)
        self.store_path: Path | None = None
        self._preparing: subprocess.Popen | None = None
        self._closing = False
        target = buildfolder.store_folder(cache_dir, self.release_id) if cache_dir is not None else None
        if target is not None and is_complete(target):
            self.store_path = target
            self._store = open_release(str(target))
        else:
            self._store = open_release(str(self.nq_path))
            if target is not None:
                self._target = target
                self._preparing = subprocess.Popen(
                    [sys.executable, "-m", "haven.store.worker", "--prepare", str(self.nq_path), str(target)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self._pool = WorkerPool(self.nq_path, size=max(1, workers), memory_mb=memory_mb)
        if self._preparing is not None:
            threading.Thread(target=self._adopt_prepared_store, name="haven-store-prepare", daemon=True).start()

    def __len__(self) -> int:
        return len(self._store)

    # -- trusted queries ------------------------------------------------------------------------------
    def _run_trusted(self, query: str):
        try:
            return self._store.query(query, **_dataset_for(_trusted_words(query), self.base))
        except SyntaxError as error:
            raise QuerySyntaxError(str(error)) from error

    def rows(self, query, timeout=None):
        deadline = self._deadline(timeout)
        result = self._run_trusted(query)
        if not isinstance(result, ox.QuerySolutions):
            raise TypeError("rows() needs a SELECT query")
        names = [v.value for v in result.variables]
        out = []
        for solution in result:
            _check(deadline)
            out.append({n: to_rdflib(solution[n]) for n in names if solution[n] is not None})
        _check(deadline)
        return out

    def graph(self, query, timeout=None):
        deadline = self._deadline(timeout)
        result = self._run_trusted(query)
        if not isinstance(result, ox.QueryTriples):
            raise TypeError("graph() needs a CONSTRUCT or DESCRIBE query")
        graph = rdflib.Graph()
        for triple in result:
            _check(deadline)
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        _check(deadline)
        return graph

    def ask(self, query, timeout=None):
        deadline = self._deadline(timeout)
        result = self._run_trusted(query)
        if not isinstance(result, ox.QueryBoolean):
            raise TypeError("ask() needs an ASK query")
        # an ASK is answered whole by the engine, which cannot be interrupted: its deadline is checked once
        # the answer is in, so that an overrun still reads as a timeout and not as an answer
        _check(deadline)
        return bool(result)

    def _deadline(self, timeout: float | None) -> float:
        return time.monotonic() + self.time_limit(timeout)

    def dump_quads(self, timeout=None):
        deadline = self._deadline(timeout)
        for quad in self._store.quads_for_pattern(None, None, None):
            _check(deadline)
            yield quad

    # -- client queries -------------------------------------------------------------------------------
    def execute(
        self,
        query,
        accept_media_type,
        *,
        default_graph_uris=None,
        named_graph_uris=None,
        timeout=None,
        result_limit=None,
        base_iri: str | None = None,
        cap_link: str | None = None,
        max_bytes: int | None = None,
        scanned=None,
    ):
        words = query_words(query, scanned)
        chosen = formats.by_media_type(accept_media_type, formats.RESULT_FORMATS + formats.GRAPH_FORMATS)
        if chosen is None:
            raise ValueError(f"cannot serialise query answers as {accept_media_type}")
        protocol_dataset = bool(default_graph_uris) or bool(named_graph_uris)
        request = {
            "query": query,
            "base_iri": base_iri,
            "results_format": chosen.name if chosen.kind == "results" else formats.RESULT_FORMATS[0].name,
            "graph_format": chosen.name if chosen.kind == "graph" else formats.GRAPH_FORMATS[0].name,
            "limit": result_limit,
            "cap_link": cap_link,
            "max_bytes": max_bytes,
            # only graph answers declare prefixes: a SELECT or ASK request does not carry (and encode) the table
            "prefixes": self.prefixes if GRAPH_FORMS.intersection(words) else {},
        }
        if protocol_dataset:
            # SPARQL 1.1 Protocol §2.1.4: the protocol's dataset replaces FROM/FROM NAMED entirely
            request["default_graphs"] = list(default_graph_uris or [])
            request["named_graphs"] = list(named_graph_uris or [])
        else:
            request.update(_dataset_for(words, self.base, as_request=True))
        header, body = self._pool.run(request, self.time_limit(timeout))
        if not header.get("ok"):
            if header.get("error") == "syntax":
                raise QuerySyntaxError(header.get("message", "syntax error"))
            if header.get("error") == "too_large":
                raise AnswerTooLarge(header.get("message", "the answer is too large"))
            raise StoreError(header.get("message", "the query failed"))
        offers = formats.GRAPH_FORMATS if header["form"] == "GRAPH" else formats.RESULT_FORMATS
        answered = formats.by_name(header["format"], offers)
        form = header["form"] if header["form"] != "GRAPH" else ("DESCRIBE" if "DESCRIBE" in words else "CONSTRUCT")
        return SerializedResult(body=body, media_type=answered.content_type, form=form, capped=header["capped"])

    def _adopt_prepared_store(self) -> None:
        """When the child has built the on-disk store: serve the trusted queries from it, freeing memory."""
        code = self._preparing.wait()
        if self._closing:
            return
        if code == 0 and is_complete(self._target):
            self._store = open_release(str(self._target))  # a query running on the old copy keeps its reference
            self.store_path = self._target
        else:  # the child said why on stderr; the in-memory copy stays
            log.warning("no on-disk store for release %s (exit %s): serving from memory", self.release_id, code)

    def warm_up(self, background: bool = False) -> None:
        """Start the query workers now. In the background (what `haven serve` asks), pages are served at once
        and a client query arriving while the workers load waits for them (seconds at 1M triples) rather
        than being refused."""
        if not background:
            self._pool.start()
            return

        def start() -> None:
            try:
                self._pool.start()
            except Exception:  # a client query retries the start and gets the error
                log.exception("query workers did not start")
        threading.Thread(target=start, name="haven-workers-start", daemon=True).start()

    def worker_stats(self) -> WorkerStats:
        return self._pool.stats()

    def close(self) -> None:
        self._closing = True
        preparing = self._preparing
        if preparing is not None and preparing.poll() is None:
            preparing.kill()  # its half-built folder is private and never opened; the next start rebuilds
            preparing.wait()
        self._pool.close()


@functools.lru_cache(maxsize=4096)
def _trusted_words(query: str) -> tuple[str, ...]:
    # Haven's own queries repeat (one text per entity and kind of document): tokenized once each
    return tuple(keywords(unescape(query)))


def _dataset_for(words, base: str, as_request: bool = False) -> dict:
    """With no dataset in the request, the default graph is the union of the release's graphs but the hedged
    one (:data:`haven.iris.DEFAULT_GRAPHS`), every graph staying available to GRAPH; unless the query (its
    `words`) names its own with FROM / FROM NAMED (pyoxigraph would otherwise let the given default graph
    override FROM)."""
    if "FROM" in words:
        return {}
    graphs = [str(iri) for iri in iris_for(base).default_graphs.values()]
    if as_request:
        return {"default_graphs": graphs}
    return {"default_graph": [ox.NamedNode(iri) for iri in graphs]}


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise QueryTimeout("the query ran past its time limit")


class WorkerDied(StoreError):
    """The worker process ended while answering (a crash in the engine, or a kill from outside)."""


class _Worker:
    def __init__(self, source: Path | None, memory_mb: int | None = None):
        limit = ["--memory-mb", str(memory_mb)] if memory_mb is not None else []
        self.memory_mb = memory_mb
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "haven.store.worker", *limit, str(source) if source is not None else CHECK],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self._fd = self.proc.stdout.fileno()
        self._buffer = bytearray()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, deadline: float) -> None:
        header = json.loads(self._read_line(deadline))
        if not header.get("ready"):
            raise StoreError("query worker did not start")

    def ask(self, request: dict, deadline: float) -> tuple[dict, bytes]:
        try:
            self._send(json.dumps(request).encode("utf-8") + b"\n")
        except (BrokenPipeError, OSError) as error:
            raise StoreError("query worker is gone") from error
        header = json.loads(self._read_line(deadline))
        if header.get("error") == "memory":  # the worker exits: the pool replaces it
            raise QueryOutOfMemory(header.get("message", "the query needed too much memory"))
        body = self._read_exact(header.get("length", 0), deadline)
        return header, body

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buffer:
            self._fill(deadline)
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return line

    def _read_exact(self, length: int, deadline: float) -> bytes:
        while len(self._buffer) < length:
            self._fill(deadline)
        data = bytes(self._buffer[:length])
        del self._buffer[:length]
        return data

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueryTimeout("the query ran past its time limit")
        ready, _, _ = select.select([self._fd], [], [], remaining)
        if not ready:
            raise QueryTimeout("the query ran past its time limit")
        chunk = os.read(self._fd, 1 << 16)
        if not chunk:
            code = self._exit_code()
            if code == -signal.SIGABRT and self.memory_mb is not None:
                # the Rust engine aborts when an allocation fails under the limit
                raise QueryOutOfMemory(f"the query needed more than {self.memory_mb} MiB")
            raise WorkerDied("query worker exited unexpectedly")
        self._buffer += chunk

    def _send(self, data: bytes) -> None:
        self.proc.stdin.write(data)

    def _exit_code(self) -> int | None:
        """How the process ended (negative: the signal), once its end of the pipe closed."""
        try:
            return self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignorable
            log.error("query worker %s did not exit after SIGKILL", self.proc.pid)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class _Template:
    """The process that holds the pool's one copy of the release and forks its query workers
    (`haven.store.worker.template`); the control socket is its stdin."""

    def __init__(self, source: Path, memory_mb: int | None):
        limit = ["--memory-mb", str(memory_mb)] if memory_mb is not None else []
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "haven.store.worker", *limit, TEMPLATE, str(source)],
                                         stdin=theirs, stdout=subprocess.DEVNULL)
        finally:
            theirs.close()
        self._control = ours
        self._lock = threading.Lock()

    def wait_ready(self, deadline: float) -> None:
        if not json.loads(self._receive(deadline)[0]).get("ready"):
            raise StoreError("the query worker template did not start")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self) -> tuple[int, socket.socket]:
        """A new worker: its pid and the socket it answers on."""
        with self._lock:
            self._request({"op": "fork"})
            message, fds = self._receive(time.monotonic() + WORKER_START_TIMEOUT, fds=1)
        if not fds:
            raise StoreError("the query worker template sent no worker")
        return json.loads(message)["pid"], socket.socket(fileno=fds[0])

    def status(self, pid: int) -> int | None:
        """How worker `pid` ended (negative: the signal), waiting for it; it is reaped."""
        with self._lock:
            self._request({"op": "status", "pid": pid})
            return json.loads(self._receive(time.monotonic() + WORKER_START_TIMEOUT)[0])["code"]

    def _request(self, request: dict) -> None:
        try:
            self._control.send(json.dumps(request).encode())
        except OSError as error:
            raise StoreError("the query worker template is gone") from error

    def _receive(self, deadline: float, fds: int = 0) -> tuple[bytes, list[int]]:
        self._control.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            message, received, _, _ = socket.recv_fds(self._control, 4096, fds)
        except (OSError, TimeoutError) as error:
            raise StoreError(f"the query worker template did not answer: {error}") from error
        if not message:
            raise StoreError("the query worker template is gone")
        return message, received

    def close(self) -> None:
        self._control.close()  # the template's loop ends
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _ForkedWorker(_Worker):
    """A query worker forked from the pool's template: it shares the template's copy of the release."""

    def __init__(self, template: _Template, memory_mb: int | None = None):
        self.memory_mb = memory_mb
        self._template = template
        self._pid, self._socket = template.fork()
        self._fd = self._socket.fileno()
        self._buffer = bytearray()
        self._code: int | None = None
        self._ended = False

    @property
    def pid(self) -> int:
        return self._pid

    def _send(self, data: bytes) -> None:
        self._socket.sendall(data)

    def _exit_code(self) -> int | None:
        if not self._ended:
            self._ended = True
            try:
                self._code = self._template.status(self.pid)
            except StoreError:
                self._code = None
        return self._code

    def kill(self) -> None:
        if not self._ended:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - reaped already means _ended
                pass
            self._exit_code()  # reaps it
        self._socket.close()


class WorkerPool:
    """`size` worker processes; a query borrows one, and a worker that overruns is killed and replaced."""

    def __init__(self, source: Path | None, size: int, memory_mb: int | None = None):
        #: haven.nq (each worker loads it) or an on-disk store folder (each worker opens it read-only)
        #: (None: syntax checkers, which hold no data: `haven.store.worker.check`)
        self.source = source
        self.size = size
        #: memory one query may take in a worker beyond the release (None: no limit)
        self.memory_mb = memory_mb
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        #: the one process holding the release, which the query workers are forked from (None: checkers)
        self._template: _Template | None = None
        self._template_lock = threading.Lock()
        self._started = False
        self._starting = False
        self._closed = False
        #: workers killed and replaced (past a deadline, over the memory limit, died), and replacements that
        #: failed to start (the pool then runs a worker short)
        self._replaced = self._replacements_failed = 0

    def start(self) -> None:
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed")
            if self._started:
                return
            # one worker at a time, each lent out as soon as it is ready: the first client query waits for one
            # load, not all of them, and the loads leave the other core to the server answering pages
            self._starting = True
            started: list[_Worker] = []
            try:
                for _ in range(self.size):
                    worker = self._new_worker()
                    started.append(worker)
                    worker.wait_ready(time.monotonic() + WORKER_START_TIMEOUT)
                    self._workers.add(worker)
                    self._idle.put(worker)
            except Exception:
                for worker in started:
                    worker.kill()
                    self._workers.discard(worker)
                while not self._idle.empty():
                    self._idle.get_nowait()
                raise
            finally:
                self._starting = False
            self._started = True
            atexit.register(self.close)

    def run(self, request: dict, timeout: float) -> tuple[dict, bytes]:
        starting = self._starting
        if not starting:
            self.start()
        try:
            # while the pool starts, wait for its first worker; later, a replacement may be loading: wait a
            # little for it rather than failing at once
            worker = self._idle.get(timeout=WORKER_START_TIMEOUT if starting else min(timeout, 5.0))
        except queue.Empty:
            raise StoreBusy("every query worker is busy") from None
        try:
            answer = worker.ask(request, time.monotonic() + timeout)
        except StoreError:
            self._discard(worker)
            raise
        except BaseException:
            # anything else leaves the worker in an unknown state (e.g. half-read answer)
            self._discard(worker)
            raise
        self._idle.put(worker)
        return answer

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)
            if self._closed:
                return
            self._replaced += 1
        threading.Thread(target=self._replace, name="haven-worker-replace", daemon=True).start()

    def _new_worker(self) -> _Worker:
        """A syntax checker of its own, or a query worker forked from the template (started, or started
        again if it died, here)."""
        if self.source is None:
            return _Worker(None, self.memory_mb)
        with self._template_lock:
            if self._template is None or not self._template.alive():
                if self._template is not None:
                    log.warning("the query worker template exited (%s): starting another", self._template.proc.poll())
                    self._template.close()
                self._template = _Template(self.source, self.memory_mb)
                self._template.wait_ready(time.monotonic() + WORKER_START_TIMEOUT)
            template = self._template
        return _ForkedWorker(template, self.memory_mb)

    def _replace(self) -> None:
        try:
            worker = self._new_worker()
            worker.wait_ready(time.monotonic() + WORKER_START_TIMEOUT)
        except Exception:  # pragma: no cover - logged; the pool runs one worker short
            log.exception("could not start a replacement query worker")
            with self._lock:
                self._replacements_failed += 1
            return
        with self._lock:
            if self._closed:
                worker.kill()
                return
            self._workers.add(worker)
        self._idle.put(worker)

    def stats(self) -> WorkerStats:
        with self._lock:
            return WorkerStats(size=self.size, alive=len(self._workers), replaced=self._replaced,
                               replacements_failed=self._replacements_failed)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers), set()
        for worker in workers:
            worker.kill()
        while not self._idle.empty():
            self._idle.get_nowait()
        with self._template_lock:
            template, self._template = self._template, None
        if template is not None:
            template.close()
