"""The one small interface every store backend implements.

The HTTP layer (SPARQL protocol, entity documents, pages, VoID) talks only to this interface, so that the
embedded pyoxigraph store and a remote SPARQL 1.1 endpoint are interchangeable by configuration: every
capability it uses is declared here (no probing with hasattr). Internal callers use `rows`, `graph` and `ask`
(already-parsed answers); the public `/sparql` endpoint uses `execute`, which returns the serialised answer
in the negotiated format. Each HTTP request works on `pinned()`, a view of one release.

Timeouts mean one thing on every backend: a number is the limit in seconds; None is the store's
`query_timeout` (the configured limit, `Settings.query_timeout`), never "no limit".
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import rdflib

from haven.config import DEFAULT_QUERY_TIMEOUT
from haven.sparqltext import Scan


class StoreError(Exception):
    """The store could not answer (unreachable, failed); the HTTP layer maps it to 503."""


class QueryTimeout(StoreError):
    """The query ran past the configured timeout and was stopped."""


class AnswerTooLarge(StoreError):
    """The answer is over the byte cap (`Settings.max_answer_bytes`); nothing of it is sent."""


class QueryOutOfMemory(StoreError):
    """The query needed more memory than one query worker may use (`Settings.query_memory_mb`)."""


class StoreBusy(StoreError):
    """Every query slot is taken; the HTTP layer answers 503 with Retry-After."""


class WrongRelease(StoreError):
    """The store serves a release built for another base: every entity IRI would be looked up in vain."""


class QuerySyntaxError(ValueError):
    """The query does not parse; `str()` is the parser's message (answered 400)."""


class QueryTooComplex(ValueError):
    """The query may be well-formed but is beyond what this endpoint parses (nesting, length of a chain);
    `str()` says which limit (answered 400)."""


class QueryRefused(ValueError):
    """The query is well-formed but not allowed here (update, SERVICE, remote FROM...); answered 400 or 403."""


@dataclass
class SerializedResult:
    body: bytes
    media_type: str
    #: the query form: "SELECT", "ASK", "CONSTRUCT" or "DESCRIBE"
    form: str
    #: True when the result was cut at the configured result limit
    capped: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkerStats:
    """The worker processes client text runs in (the embedded store's query workers, the remote store's
    syntax checkers): how many the pool should have, how many are alive, and how many were killed and
    replaced since the server started (past a time or memory limit, or died)."""

    size: int
    alive: int
    replaced: int
    replacements_failed: int


class Store(ABC):
    #: identifies the immutable published release behind this store (used for ETags and caches)
    release_id: str = ""
    #: the release's manifest.json (id, base, created, version, triples, graphs, sha256); {} when unknown
    manifest: dict = {}
    #: the local folder of the release this store serves (`haven.buildfolder`), pinned when the store opened;
    #: None for a store that serves a release from elsewhere (a remote SPARQL store)
    release_dir: Path | None = None
    #: Haven's prefix table for the release's base (`haven.iris.Iris.prefixes`): Turtle and RDF/XML answers
    #: declare it
    prefixes: dict[str, str] = {}
    #: seconds a query may run when its caller gives no timeout (Haven's own queries, and client queries)
    query_timeout: float = DEFAULT_QUERY_TIMEOUT

    def time_limit(self, timeout: float | None) -> float:
        """The limit a query runs under: `timeout`, or the store's `query_timeout` when None."""
        return self.query_timeout if timeout is None else timeout

    def pinned(self) -> "Store":
        """A view answering every query from the release that is current now, for one HTTP request, so that
        one response never mixes two releases. A store that serves one release for its whole life (the
        embedded store) is its own view."""
        return self

    def shapes(self, timeout: float | None = None) -> rdflib.Graph | None:
        """The release's SHACL shapes, when the store holds them beside the release; None otherwise (the
        web layer reads them from the release folder when it has one)."""
        return None

    def prior_ontology_versions(self) -> tuple[str, ...]:
        """The prior versions of the ontology the store holds beside the release (none for the embedded
        store: the web layer reads them from the release folder)."""
        return ()

    def prior_ontology(self, version: str, timeout: float | None = None) -> rdflib.Graph | None:
        """A prior version of the ontology as the store holds it; None when it holds no such version."""
        return None

    def history_file(self, name: str, release_id: str, timeout: float | None = None) -> bytes | None:
        """A file of release `release_id`'s history (`haven.history`: history.json, changes.json,
        changes.rdfp) as the store holds it beside the release; None when it holds none (the web layer reads
        them from the release folders when it has them)."""
        return None

    @abstractmethod
    def dump_quads(self, timeout: float | None = None) -> Iterator:
        """Every quad of the release, with its canonical graph names (what haven.nq holds), as pyoxigraph
        quads; for a host without the release folder, whose dumps are made from them."""

    def warm_up(self, background: bool = False) -> None:
        """Start now what the first client query would otherwise wait for (the embedded store's workers)."""

    @abstractmethod
    def rows(self, query: str, timeout: float | None = None) -> list[dict[str, rdflib.term.Node]]:
        """Run a trusted SELECT written by Haven itself; variables map to rdflib terms (unbound omitted).
        Raises QueryTimeout past `time_limit(timeout)`."""

    @abstractmethod
    def graph(self, query: str, timeout: float | None = None) -> rdflib.Graph:
        """Run a trusted CONSTRUCT written by Haven itself."""

    @abstractmethod
    def ask(self, query: str, timeout: float | None = None) -> bool:
        """Run a trusted ASK written by Haven itself."""

    @abstractmethod
    def execute(
        self,
        query: str,
        accept_media_type: str,
        *,
        default_graph_uris: list[str] | None = None,
        named_graph_uris: list[str] | None = None,
        timeout: float | None = None,
        result_limit: int | None = None,
        base_iri: str | None = None,
        cap_link: str | None = None,
        max_bytes: int | None = None,
        scanned: Scan | None = None,
    ) -> SerializedResult:
        """Run an untrusted client query (already checked for safety) and serialise the answer.

        `scanned` is the caller's `haven.sparqltext.scan` of ``unescape(query)`` (the web layer's safety
        checks made it): the store reads the query's words from it rather than tokenizing the text again.
        `accept_media_type` is the negotiated type for the query's form; `base_iri` resolves relative IRIs
        (SPARQL 1.1 Protocol §2.3: the endpoint's URL); `cap_link` is the IRI a capped JSON/XML answer links
        to in its head. An answer over `max_bytes` bytes raises AnswerTooLarge, before it is held whole: the
        store's own memory stays bounded. Raises QuerySyntaxError, QueryTooComplex, QueryTimeout, StoreBusy or
        StoreError.
        """

    def worker_stats(self) -> WorkerStats | None:
        """The store's worker processes (a metrics endpoint reads it); None for a store without any."""
        return None

    def close(self) -> None:  # pragma: no cover - backends override when they hold resources
        pass


def check_answer_size(body: bytes, max_bytes: int | None) -> bytes:
    if max_bytes is not None and len(body) > max_bytes:
        raise AnswerTooLarge(f"the answer is {len(body):,} bytes, over the {max_bytes:,}-byte limit")
    return body
