"""A remote SPARQL 1.1 store (Oxigraph server, Virtuoso, ...) behind the same interface as the embedded one.

What a client sees must not depend on the engine, so this backend absorbs the differences:

* **one release at a time.** The store may hold several releases (`haven.store.releases`); every query runs
  against the release the control graph's pointer names, read at most once a second; the web layer works on a
  `pinned()` view per HTTP request, so one response never mixes two releases and a switch shows within ~1 s.
* **canonical graph names.** The default graph is the union of the release's graphs but the hedged one, the
  named graphs are all of them, sent as protocol `default-graph-uri` / `named-graph-uri`; canonical graph IRIs in the
  query, wherever they stand (GRAPH, FROM, VALUES, BIND, FILTER, triple patterns), are mapped to the
  release's (`haven.store.rewrite`), as the publisher mapped them inside the data, and mapped back in every
  answer. The layout's own names (the release's graphs, the control graph), written by a client, become
  names that exist nowhere (as on the embedded store) and come back as written.
* **release documents.** The shapes graph and the dumps come from the store too (`shapes`, `dump_quads`),
  so a replica needs no build folder.
* **same formats, same cap.** Answers are fetched in one format each engine speaks (SPARQL JSON results,
  N-Triples/Turtle), parsed as a stream, capped at the result limit, and re-serialised by the very code the
  embedded workers use (`haven.store.answers`), so JSON-LD, CSV, capping notes and prefixes are identical.
* **DESCRIBE** is never forwarded (engines disagree): targets are selected, then described by a CONSTRUCT.
* **safety whatever the engine allows.** Client text is parsed first by pyoxigraph in a checker process
  (same syntax messages as embedded, update syntax cannot pass, and a text that overflows the parser's stack
  kills a checker, not the server, and is never sent); SERVICE was refused by the web layer's safety checks;
  FROM / GRAPH names only ever reach graphs of the release. Nothing here sends an update.
* **faults.** Unreachable store → StoreError (HTTP 503) fast: the pointer read has a short timeout and a
  refused connection fails at once; every query has an HTTP timeout of the query timeout plus a margin and a
  deadline checked while the answer streams; Virtuoso's partial "anytime" answers count as timeouts.
"""
from __future__ import annotations

import copy
import logging
import socket
import threading
import time
import urllib.error
from collections.abc import Iterator

import pyoxigraph as ox
import rdflib
from SPARQLWrapper import BASIC, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

from haven import formats
from haven.credentials import CredentialsError, check_basic_transport, split_userinfo
from haven.sparqltext import keywords, query_words, unescape
from haven.terms import XSD_STRING
from haven.iris import iris_for
from haven.store import releases
from haven.store.answers import (oxigraph_format, serialize_boolean, serialize_solutions, serialize_triples,
                                 to_rdflib)
from haven.store.base import (AnswerTooLarge, QuerySyntaxError, QueryTimeout, QueryTooComplex, SerializedResult, Store,
                              StoreError, WorkerStats, check_answer_size)
from haven.store.embedded import WorkerDied, WorkerPool
from haven.store.rewrite import description_query, describe_targets, rewrite_graph_names

log = logging.getLogger(__name__)

#: seconds the pointer read may take: a store that cannot answer this quickly is treated as gone
POINTER_TIMEOUT = 3.0
#: seconds a pointer read stays valid (a publish is seen within this time)
POINTER_TTL = 1.0
#: seconds one request for a release document (the shapes, a graph of a dump, one page of it) may take: these
#: are read once per release, and a big graph streams for longer than a client query may run
DOCUMENT_TIMEOUT = 600.0
#: HTTP timeout beyond what is left of the query's time limit: a store that applies the limit itself (Virtuoso,
#: given it with each query) answers first; one that does not is given up on this soon after the limit, so
#: the client's 503 comes within the limit plus this (the embedded store's comes at the limit)
HTTP_MARGIN = 0.5

def engine_named(server_header: str) -> str:
    """The engine behind a SPARQL endpoint, from its HTTP Server header: Oxigraph server and Virtuoso say
    who they are; anything else is "generic"."""
    server = server_header.lower()
    return "oxigraph" if "oxigraph" in server else "virtuoso" if "virtuoso" in server else "generic"

RESULTS_JSON = formats.SPARQL_JSON.media_type
#: what graph answers are fetched as: formats every engine writes and pyoxigraph parses as a stream
GRAPH_ANSWERS = (formats.N_TRIPLES, formats.TURTLE)
GRAPH_ACCEPT = f"{formats.N_TRIPLES.media_type}, {formats.TURTLE.media_type};q=0.9"


class RemoteStore(Store):
    def __init__(self, url: str, settings, *, pointer_ttl: float = POINTER_TTL):
        # an account in the URL is used as such and never shown: every message quotes self.url
        self.url, self._account = split_userinfo(url)
        if self._account is not None:
            try:
                check_basic_transport([self.url], getattr(settings, "allow_plain_http_auth", False))
            except CredentialsError as exc:
                raise StoreError(str(exc)) from None
        self.base = settings.base
        self.query_timeout = settings.query_timeout
        self.prefixes = iris_for(self.base).prefixes()
        self._pointer_ttl = pointer_ttl
        self._lock = threading.Lock()
        self._pointer: tuple[float, str] | None = None
        self._records: dict[str, dict] = {}
        #: Virtuoso's silent row cap once learnt (see _silent_row_cap); a list, so that pinned views share it
        self._row_cap: list = [_UNKNOWN]
        #: the release a pinned view answers from (None: the store itself, which follows the pointer)
        self._pinned_release: str | None = None
        #: one syntax checker per query slot (a check runs inside the slot its query holds); pinned views share it
        # a checker evaluates an ASK on its empty store: a query that inflates strings is bounded there too
        self._checkers = WorkerPool(None, size=max(1, settings.max_concurrent_queries),
                                    memory_mb=settings.query_memory_mb)
        # fail at start, with the reason, rather than on the first request
        self._current()
        self._warn_if_unbounded(settings.query_timeout)

    # -- which release ------------------------------------------------------------------------------------
    def pinned(self) -> "RemoteStore":
        """This store with the release the pointer names now fixed: every query of one HTTP request goes
        through one such view, so a response never mixes two releases while a publish switches the pointer.
        The view shares the store's caches (records, row cap)."""
        view = copy.copy(self)
        view._pinned_release = self._current()
        return view

    def _current(self) -> str:
        if self._pinned_release is not None:
            return self._pinned_release
        with self._lock:
            cached = self._pointer
        if cached is None or time.monotonic() - cached[0] > self._pointer_ttl:
            release = releases.current_release(self._pointer_rows, self.base)
            if release is None:
                raise StoreError(f"the store at {self.url} holds no published Haven release "
                                 f"(no pointer in <{releases.control_graph(self.base)}>; run `haven publish`)")
            self._check_layout(release)
            cached = (time.monotonic(), release)
            with self._lock:
                self._pointer = cached
        return cached[1]

    def _check_layout(self, release: str) -> None:
        record = self._record(release)
        if record.get("layout", releases.LAYOUT) != releases.LAYOUT:
            # read again next time: `haven publish --force` reloads the release under the same id
            self._records.pop(release, None)
            raise StoreError(f"release {release} in the store at {self.url} was published by an older Haven "
                             f"(store layout {record.get('layout')}, this server reads {releases.LAYOUT}): "
                             "publish it again with `haven publish --force`")

    def _warn_if_unbounded(self, query_timeout: float) -> None:
        """Say at start when the store will not stop a query itself at Haven's time limit. Haven stops
        waiting at the limit and closes the connection; what the store does with the query then is the
        engine's. Known from the engine (its Server header), not probed: a probe would be a runaway query."""
        try:
            with self._send("ASK {}", RESULTS_JSON, [], [], POINTER_TIMEOUT) as probe:
                server = probe.headers.get("Server", "")
        except StoreError as error:
            server = f"unknown: {error}"
        engine = engine_named(server)
        if engine == "virtuoso":
            return  # each query carries its limit (the `timeout` parameter), which Virtuoso applies
        if engine == "oxigraph":
            log.warning("the store at %s is %s, which does not stop a query at a time limit (its --timeout-s is not "
                        "applied to a running evaluation): a query Haven answers 503 after %g s ends when its "
                        "streamed answer is cut, but an aggregate or a sort runs on in the store to its end "
                        "(docs/stores.md, query time limits)", self.url, server, query_timeout)
            return
        log.warning("cannot tell whether the store at %s (Server: %s) stops a query at a time limit: set the "
                    "engine's own query timeout to about %g s (docs/stores.md, query time limits), or a query "
                    "Haven answers 503 may run on in the store", self.url, server or "not given", query_timeout)

    def _pointer_rows(self, query: str):
        return [{k: v for k, v in row.items()} for row in self._select_terms(query, [], [], POINTER_TIMEOUT)]

    @property
    def release_id(self) -> str:
        return self._current()

    @property
    def manifest(self) -> dict:
        return self._record(self._current())

    def _record(self, release: str) -> dict:
        if release not in self._records:
            record = releases.read_release_record(self._pointer_rows, self.base, release) or {"id": release}
            self._records[release] = record
        return self._records[release]

    # -- release documents ----------------------------------------------------------------------------
    def shapes(self, timeout=None) -> rdflib.Graph | None:
        """The release's SHACL shapes as published beside its graphs; None when it was published without."""
        release = self._current()
        if self._record(release).get("shapes") is None:
            return None
        graph = rdflib.Graph()
        for triple in self._stored_graph(releases.shapes_graph(self.base, release), {}, timeout):
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        return graph

    def prior_ontology_versions(self) -> tuple[str, ...]:
        return tuple(self._record(self._current()).get("prior_ontologies", {}))

    def prior_ontology(self, version, timeout=None) -> rdflib.Graph | None:
        """A prior version of the ontology as published beside the release; None when it was not."""
        release = self._current()
        if version not in self._record(release).get("prior_ontologies", {}):
            return None
        graph = rdflib.Graph()
        for triple in self._stored_graph(releases.prior_ontology_graph(self.base, release, version), {}, timeout):
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        return graph

    def history_file(self, name, release_id, timeout=None) -> bytes | None:
        """A history file of a release still in the store, as `haven publish` stored it; None otherwise."""
        graph = releases.history_graph(self.base, releases.check_release_id(release_id))
        rows = self._select_terms(releases.history_file_query(self.base, release_id, name), [graph], [graph],
                                  DOCUMENT_TIMEOUT if timeout is None else timeout)
        return rows[0]["text"].value.encode() if rows and "text" in rows[0] else None

    def dump_quads(self, timeout=None) -> Iterator[ox.Quad]:
        """Every quad of the release, with canonical graph names inside and as graph names (what haven.nq
        holds); raises StoreError rather than give a dump the store cut short."""
        release = self._current()
        forward, backward, _ = self._mapping(release)
        for canonical, stored in forward.items():
            name = ox.NamedNode(canonical)
            for triple in self._stored_graph(stored, backward, timeout):
                yield ox.Quad(triple.subject, triple.predicate, triple.object, name)

    def _stored_graph(self, graph: str, backward: dict[str, str], timeout) -> Iterator[ox.Triple]:
        """All triples of one stored graph, sent as written (a graph clients cannot name), mapped back.

        A store that cuts answers at a row limit (Virtuoso's ResultSetMaxRows, which applies to CONSTRUCT
        and to Graph Store GETs alike) is read in pages of a SELECT sorted in a subquery: Virtuoso refuses
        `ORDER BY ... OFFSET` past 10,000 rows at the top level ("SR353"), not inside a subquery, and its
        blank node ids are stable across requests, so the pages join up."""
        # a release document, not a query: read once per release, for longer than a query may run
        timeout = DOCUMENT_TIMEOUT if timeout is None else timeout
        with self._send("ASK {}", RESULTS_JSON, [graph], [graph], POINTER_TIMEOUT) as probe:
            cap = self._silent_row_cap(probe.headers.get("Server", ""))
        if cap:
            yield from self._paged_graph(graph, backward, max(1, cap - 1), timeout)
            return
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        for triple in self._fetch_triples(query, [graph], [graph], backward, time.monotonic() + timeout):
            if triple is _CUT:
                raise StoreError(f"the store cut the triples of <{graph}> at its row limit")
            yield triple

    def _paged_graph(self, graph: str, backward: dict[str, str], page: int, timeout: float) -> Iterator[ox.Triple]:
        inner = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o"
        offset = 0
        while True:
            rows = self._select_terms(f"SELECT ?s ?p ?o WHERE {{ {{ {inner} }} }} LIMIT {page} OFFSET {offset}",
                                      [graph], [graph], timeout)
            for row in rows:
                yield ox.Triple(*(_map_term(row[v], backward) for v in ("s", "p", "o")))
            if len(rows) < page:
                return
            offset += page

    def _mapping(self, release: str) -> tuple[dict[str, str], dict[str, str], str]:
        forward = releases.graph_mapping(self.base, release)
        backward = {stored: canonical for canonical, stored in forward.items()}
        # a name the layout never creates: any graph that is not the release's reads as empty
        absent = f"{releases.release_node(self.base, release)}/absent"
        return forward, backward, absent

    def _prepare(self, query: str, base_iri: str | None, default_graph_uris=None, named_graph_uris=None,
                 words=None):
        """(query text, default graphs, named graphs, backward map) for the current release.

        The dataset is always explicit and always sent as protocol parameters (the rewrite takes FROM out of
        the text): a store given no `default-graph-uri` reads the union of everything it holds (Virtuoso),
        so an empty side of the dataset is sent as the one graph that cannot exist. A `GRAPH <g>` for a `g`
        outside the named graphs is pointed at that same empty graph, which is itself in the named set:
        Virtuoso counts one row (`COUNT(*)` = 1) over a GRAPH outside its `named-graph-uri` set."""
        forward, backward, absent = self._mapping(self._current())
        to_release = lambda iri: forward.get(iri, absent)  # noqa: E731 - the rewrite's callback
        words = words if words is not None else keywords(unescape(query))
        if default_graph_uris or named_graph_uris:
            defaults = [to_release(iri) for iri in default_graph_uris or []]
            named = [to_release(iri) for iri in named_graph_uris or []]
        elif "FROM" in words:
            # the query's own FROM / FROM NAMED graphs decide which graphs the rewrite below may name
            rewritten = rewrite_graph_names(query, to_release, base_iri)
            defaults, named = list(rewritten.from_graphs), list(rewritten.from_named_graphs)
        else:
            # the default graph is every graph of the release but the hedged one, as on the embedded store
            default = {str(iri) for iri in iris_for(self.base).default_graphs.values()}
            defaults, named = [forward[iri] for iri in forward if iri in default], list(forward.values())
        defaults = list(dict.fromkeys(defaults)) or [absent]
        named = list(dict.fromkeys(named))
        visible = set(named)
        # IRI constants: canonical graph names become the release's, as the publisher renamed them in the
        # data. The layout's own names (the release's graphs, the control graph), which exist nowhere on the
        # embedded store, become stand-ins that name nothing, come back as written, and are in the named set
        # (Virtuoso's COUNT(*) over a GRAPH outside that set is 1, not 0, however the name reaches GRAPH)
        stand_ins: dict[str, str] = {}

        def constant(iri: str) -> str:
            if iri in forward:
                return forward[iri]
            if releases.is_internal_graph(self.base, iri):
                return stand_ins.setdefault(iri, f"{absent}/{len(stand_ins)}")
            return iri

        rewritten = rewrite_graph_names(query, to_release, base_iri,
                                        lambda iri: forward[iri] if forward.get(iri) in visible else absent,
                                        constant)
        named.append(absent)
        named.extend(stand_ins.values())
        return rewritten, defaults, named, {**backward, **{v: k for k, v in stand_ins.items()}}

    # -- trusted queries ------------------------------------------------------------------------------
    def rows(self, query, timeout=None):
        rewritten, defaults, named, backward = self._prepare(query, None)
        return [{k: to_rdflib(_map_term(v, backward)) for k, v in row.items()}
                for row in self._select_terms(rewritten.text, defaults, named, self.time_limit(timeout))]

    def graph(self, query, timeout=None):
        graph = rdflib.Graph()
        for triple in self._graph_triples(query, None, None, None, self.time_limit(timeout)):
            if triple is _CUT:
                log.warning("the store cut a graph answer at its row limit; a page may be incomplete: %s",
                            query[:200])
                continue
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        return graph

    def ask(self, query, timeout=None):
        rewritten, defaults, named, _ = self._prepare(query, None)
        with self._send(rewritten.text, RESULTS_JSON, defaults, named, self.time_limit(timeout)) as response:
            result = ox.parse_query_results(_VirtuosoBlankNodes(response), format=ox.QueryResultsFormat.JSON)
            if not isinstance(result, ox.QueryBoolean):
                raise TypeError("ask() needs an ASK query")
            return bool(result)

    # -- client queries -------------------------------------------------------------------------------
    def execute(self, query, accept_media_type, *, default_graph_uris=None, named_graph_uris=None, timeout=None,
                result_limit=None, base_iri=None, cap_link=None, max_bytes=None, scanned=None):
        try:
            return self._execute(query, accept_media_type, default_graph_uris, named_graph_uris, timeout,
                                 result_limit, base_iri, cap_link, max_bytes, query_words(query, scanned))
        except MemoryError as error:  # pyoxigraph's parsers refuse one token over 16 MiB this way
            raise AnswerTooLarge(f"the store's answer holds a value too large to read: {error}") from None

    def _execute(self, query, accept_media_type, default_graph_uris, named_graph_uris, timeout, result_limit,
                 base_iri, cap_link, max_bytes, words):
        chosen = formats.by_media_type(accept_media_type, formats.RESULT_FORMATS + formats.GRAPH_FORMATS)
        if chosen is None:
            raise ValueError(f"cannot serialise query answers as {accept_media_type}")
        timeout = self.time_limit(timeout)
        started = time.monotonic()
        form = self._check_syntax(query, base_iri, timeout, words)
        timeout = _remaining(started + timeout)
        if form in {"CONSTRUCT", "DESCRIBE"}:
            answered = chosen if chosen.kind == "graph" else formats.GRAPH_FORMATS[0]
            cut: list[bool] = []
            triples = _until_cut(self._graph_triples(query, base_iri, default_graph_uris, named_graph_uris, timeout,
                                                     _read_budget(max_bytes), words), result_limit, cut)
            body, capped = serialize_triples(triples, answered, result_limit, self.prefixes)
            capped = capped or bool(cut)
            return SerializedResult(body=check_answer_size(body, max_bytes), media_type=answered.content_type,
                                    form=form, capped=capped)
        answered = chosen if chosen.kind == "results" else formats.RESULT_FORMATS[0]
        rewritten, defaults, named, backward = self._prepare(query, base_iri, default_graph_uris, named_graph_uris,
                                                             words)
        with self._send(rewritten.text, RESULTS_JSON, defaults, named, timeout) as response:
            result = ox.parse_query_results(_VirtuosoBlankNodes(_Bounded(response, _read_budget(max_bytes))),
                                            format=ox.QueryResultsFormat.JSON)
            if isinstance(result, ox.QueryBoolean):
                body = serialize_boolean(result, answered)
                capped = False
            else:
                cut = _store_row_limit(response)
                solutions = _MappedSolutions(result, backward, time.monotonic() + timeout, cut is not None,
                                             hidden=set() if _STAR_FAKE in query else {_STAR_FAKE})
                body, capped = serialize_solutions(solutions, answered, _within(result_limit, cut), cap_link)
        return SerializedResult(body=check_answer_size(body, max_bytes), media_type=answered.content_type, form=form,
                                capped=capped)

    def _check_syntax(self, query: str, base_iri: str | None, timeout: float, words) -> str:
        """Parse the client's query as the embedded store would (same 400 messages); returns its form.

        The store's parser runs in a checker process (`haven.store.worker.check`), never here: on text nested
        or chained deeply enough it overflows its stack and kills its process, and planning (or an ASK's
        evaluation) can run for long. A checker that dies on a text answers 400: the text would overflow an
        Oxigraph store's parser as well, so it is never sent. One past the deadline is killed (503)."""
        try:
            header, _ = self._checkers.run({"query": query, "base_iri": base_iri}, timeout)
        except WorkerDied:
            raise QueryTooComplex("The query is nested or chained too deeply for the query parser "
                                  "(it ran out of stack); split it or write it flatter.") from None
        if not header.get("ok"):
            if header.get("error") == "syntax":
                raise QuerySyntaxError(header.get("message", "syntax error"))
            raise StoreError(header.get("message", "the query could not be checked"))
        if header["form"] != "GRAPH":
            return header["form"]
        return "DESCRIBE" if "DESCRIBE" in words else "CONSTRUCT"

    def warm_up(self, background: bool = False) -> None:
        """Start the syntax checkers now (in the background: what `haven serve` asks; a query arriving
        meanwhile waits for the first)."""
        if not background:
            self._checkers.start()
            return
        threading.Thread(target=self._checkers.start, name="haven-checkers-start", daemon=True).start()

    def worker_stats(self) -> WorkerStats:
        return self._checkers.stats()

    def close(self) -> None:
        self._checkers.close()

    # -- graphs ---------------------------------------------------------------------------------------
    def _graph_triples(self, query, base_iri, default_graph_uris, named_graph_uris, timeout,
                       max_bytes=None, words=None) -> Iterator[ox.Triple]:
        deadline = time.monotonic() + timeout
        words = words if words is not None else keywords(unescape(query))
        rewritten, defaults, named, backward = self._prepare(query, base_iri, default_graph_uris, named_graph_uris,
                                                             words)
        if "DESCRIBE" in words:
            text, defaults, named = self._describe_as_construct(query, base_iri, rewritten, defaults, named, backward, deadline)
            if text is None:
                return
        else:
            text = rewritten.text
        yield from self._fetch_triples(text, defaults, named, backward, deadline, max_bytes)

    def _fetch_triples(self, text, defaults, named, backward, deadline, max_bytes=None) -> Iterator[ox.Triple]:
        """The triples of a CONSTRUCT, mapped back; `_CUT` last when the store cut the answer. Past `max_bytes`
        bytes of the store's answer, AnswerTooLarge."""
        with self._send(text, GRAPH_ACCEPT, defaults, named, _remaining(deadline)) as response:
            media_type = response.headers.get("Content-Type", "")
            answered = formats.by_media_type(media_type, GRAPH_ANSWERS)
            if answered is None:
                raise StoreError(f"the store answered a graph query as {media_type.split(';')[0] or 'nothing'}")
            fmt = oxigraph_format(answered)
            cut = _store_row_limit(response)
            silent_cap = self._silent_row_cap(response.headers.get("Server", ""))
            count = 0
            try:
                for triple in ox.parse(_Bounded(response, max_bytes), format=fmt):
                    _check(deadline)
                    count += 1
                    yield ox.Triple(_map_term(triple.subject, backward), _map_term(triple.predicate, backward),
                                    _map_term(triple.object, backward))
            except (SyntaxError, OSError) as error:
                raise StoreError(f"the store's answer was cut or malformed: {error}") from error
            if cut is not None or (silent_cap and count >= silent_cap):
                yield _CUT

    def _silent_row_cap(self, server: str) -> int | None:
        """Virtuoso's `ResultSetMaxRows`, which it applies to CONSTRUCT answers *without* saying so (no header):
        learned once from a SELECT it must cut (every Virtuoso database holds thousands of system triples, so
        a self-join over the whole store passes any sane limit; Virtuoso answers it in ~50 ms). An answer of
        exactly that many triples is then taken as cut. None for other engines, or when nothing was cut."""
        if not server.startswith("Virtuoso"):
            return None
        if self._row_cap[0] is _UNKNOWN:
            limit = None
            for probe_query in _ROW_CAP_PROBES:
                try:
                    with self._send(probe_query, RESULTS_JSON, [], [], POINTER_TIMEOUT) as probe:
                        limit = _store_row_limit(probe)
                except (StoreRefused, QuerySyntaxError, QueryTimeout):
                    # Virtuoso refuses a query whose *estimated* cost is too high (the self-join on a large
                    # store); the single pattern before it has then already passed the cap
                    continue
                if limit is not None:
                    break
            self._row_cap[0] = limit
        return self._row_cap[0]

    def _describe_as_construct(self, query, base_iri, rewritten, defaults, named, backward, deadline):
        """The CONSTRUCT (and its dataset) giving what the embedded store's DESCRIBE gives."""
        # the rewritten text already names the store's terms, and so do the SELECT's answers: no mapping here
        targets = describe_targets(rewritten.text, base_iri)
        resources = list(targets.constants)
        if targets.select is not None:
            for row in self._select_terms(targets.select, defaults, named, _remaining(deadline)):
                resources.extend(t.value for t in row.values() if isinstance(t, ox.NamedNode))
        resources = list(dict.fromkeys(resources))
        if not resources:
            return None, defaults, named
        return description_query(resources), defaults, named

    # -- transport ------------------------------------------------------------------------------------
    def _select_terms(self, query, defaults, named, timeout) -> list[dict[str, object]]:
        deadline = time.monotonic() + timeout
        with self._send(query, RESULTS_JSON, defaults, named, timeout) as response:
            result = ox.parse_query_results(_VirtuosoBlankNodes(response), format=ox.QueryResultsFormat.JSON)
            if not isinstance(result, ox.QuerySolutions):
                raise TypeError("rows() needs a SELECT query")
            if _store_row_limit(response) is not None:
                log.warning("the store cut an answer at its row limit; a page may be incomplete: %s", query[:200])
            names = [v.value for v in result.variables]
            out = []
            try:
                for solution in result:
                    _check(deadline)
                    out.append({n: solution[n] for n in names if solution[n] is not None})
            except (SyntaxError, OSError) as error:
                raise StoreError(f"the store's answer was cut or malformed: {error}") from error
            return out

    def _send(self, query: str, accept: str, defaults: list[str], named: list[str], timeout: float):
        """POST the query with SPARQLWrapper; returns the open HTTP response (a context manager)."""
        client = SPARQLWrapper(self.url)
        if self._account is not None:
            client.setHTTPAuth(BASIC)
            client.setCredentials(self._account.user, self._account.password)
        client.setMethod(POST)
        client.setOnlyConneg(True)  # no format=/output= parameters: Accept alone, as every engine honours
        client.setTimeout(max(0.5, timeout + HTTP_MARGIN))
        client.setQuery(query)
        client.addCustomHttpHeader("Accept", accept)
        # the store's own limit, where it has one (Virtuoso: milliseconds); others ignore the parameter
        client.addParameter("timeout", str(int(timeout * 1000)))
        for iri in defaults:
            client.addDefaultGraph(iri)
        for iri in named:
            client.addNamedGraph(iri)
        try:
            response = client.query().response
        except QueryBadFormed as error:
            raise QuerySyntaxError(_store_message(error)) from error
        except SPARQLWrapperException as error:
            raise StoreRefused(f"the store at {self.url} refused the query: {_store_message(error)}") from error
        except (TimeoutError, socket.timeout) as error:
            raise QueryTimeout("the store did not answer within the time limit") from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, (TimeoutError, socket.timeout)):
                raise QueryTimeout("the store did not answer within the time limit") from error
            raise StoreError(f"the store at {self.url} is unreachable: {error.reason}") from error
        except (ConnectionError, OSError) as error:
            raise StoreError(f"the store at {self.url} is unreachable: {error}") from error
        if response.headers.get("X-SQL-State"):
            # Virtuoso's "anytime" answer: partial results past its timeout, which must not pass as complete
            response.close()
            raise QueryTimeout("the store stopped the query at its time limit")
        return response


#: marks the end of an answer the store cut at its own row limit: read as "more rows exist", never kept
_CUT = object()
_UNKNOWN = object()
#: the variable Virtuoso invents for `SELECT *` over a pattern without variables (no client asked for it)
_STAR_FAKE = "_star_fake"
#: a SELECT with more rows than any store-side row limit (see RemoteStore._silent_row_cap)
#: cheapest first: one pattern passes the cap on any store holding more triples than the cap; the self-join
#: passes it on a small store (Virtuoso's own system triples), where its estimated cost stays acceptable
class StoreRefused(StoreError):
    """The store answered, but with an error about this query (not about being reachable)."""


_ROW_CAP_PROBES = ("SELECT ?a WHERE { ?a ?b ?c }", "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f }")
#: Virtuoso's sign that it stopped at `ResultSetMaxRows` (sent only when it did), with status 200
ROW_LIMIT_HEADER = "X-SPARQL-MaxRows"


def _store_row_limit(response) -> int | None:
    value = response.headers.get(ROW_LIMIT_HEADER)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return 0


def _within(limit: int | None, cut: int | None) -> int | None:
    """The cap to apply so that a store-side cut reads as Haven's own cap (the cut rows are all kept)."""
    if cut is None:
        return limit
    return cut if limit is None else min(limit, cut)


def _until_cut(items, limit: int | None, cut: list):
    """`items` up to a store-side cut; the cut is noted in `cut` and passed on only where `take()` reads it
    as the one item beyond the limit (so the answer is flagged capped and the marker never kept)."""
    kept = 0
    for item in items:
        if item is _CUT:
            cut.append(True)
            if limit is not None and kept >= limit:
                yield item
            return
        kept += 1
        yield item


class _MappedSolutions:
    """A stream of solutions with release graph names mapped back, read only as far as the cap needs; when the
    store cut the answer, `_CUT` follows the last solution."""

    def __init__(self, solutions: ox.QuerySolutions, backward: dict[str, str], deadline: float, cut=False,
                 hidden: set[str] = frozenset()):
        shown = [(index, v) for index, v in enumerate(solutions.variables) if v.value not in hidden]
        self.variables = [v for _, v in shown]
        #: where each shown variable is in the store's rows (rows are read by position: `serialize_solutions`)
        self._columns = [index for index, _ in shown]
        self._solutions = solutions
        self._backward = backward
        self._deadline = deadline
        self._cut = cut

    def __iter__(self):
        try:
            for solution in self._solutions:
                _check(self._deadline)
                row = [solution[index] for index in self._columns]
                yield [_map_term(term, self._backward) if term is not None else None for term in row]
        except (SyntaxError, OSError) as error:
            raise StoreError(f"the store's answer was cut or malformed: {error}") from error
        if self._cut:
            yield _CUT


def _read_budget(max_bytes: int | None) -> int | None:
    """Bytes of the store's answer read for an answer of at most `max_bytes`: twice as many, because the
    store's format (SPARQL JSON, N-Triples) can be larger than the one the client asked for."""
    return None if max_bytes is None else 2 * max_bytes


class _Bounded:
    """A response read within a byte budget: past it, AnswerTooLarge, so the answer is never held whole."""

    def __init__(self, raw, max_bytes: int | None):
        self._raw, self._max_bytes, self._read = raw, max_bytes, 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 16), b""))
        data = self._raw.read(size)
        self._read += len(data)
        if self._max_bytes is not None and self._read > self._max_bytes:
            raise AnswerTooLarge(f"the store's answer passed {self._max_bytes:,} bytes")
        return data


class _VirtuosoBlankNodes:
    """A results stream with Virtuoso's blank node values (`nodeID://b123`, which are not blank node labels
    and which pyoxigraph refuses) turned into plain labels (`b123`). Only the exact JSON structure
    `"type": "bnode", "value": "nodeID://` is touched: inside a literal those quotes would be escaped."""

    PATTERN = b'"type": "bnode", "value": "nodeID://'
    REPLACEMENT = b'"type": "bnode", "value": "'

    def __init__(self, raw):
        self._raw = raw
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read() if size is None or size < 0 else self._raw.read(max(size, len(self.PATTERN)))
        data = (self._pending + chunk).replace(self.PATTERN, self.REPLACEMENT)
        if not chunk:
            self._pending = b""
            return data
        # keep back what could be the start of a pattern cut by the chunk boundary
        keep = len(self.PATTERN) - 1
        self._pending = data[-keep:]
        out = data[:-keep]
        return out if out else self.read(size)


_XSD_STRING = ox.NamedNode(XSD_STRING)


def _map_term(term, backward: dict[str, str]):
    if isinstance(term, ox.NamedNode) and term.value in backward:
        return ox.NamedNode(backward[term.value])
    # STR(?g) of a graph name: the text of a stored name is the layout's, which clients never see
    if isinstance(term, ox.Literal) and term.datatype == _XSD_STRING and term.value in backward:
        return ox.Literal(backward[term.value])
    return term


def _store_message(error: Exception) -> str:
    text = str(error)
    # SPARQLWrapper prefixes its own explanation; the store's message follows "Response:"
    _, _, detail = text.partition("Response:")
    return (detail or text).strip().removeprefix("b'").removesuffix("'").replace("\\n", "\n")[:2000]


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise QueryTimeout("the query ran past its time limit")
    return remaining


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise QueryTimeout("the query ran past its time limit")

