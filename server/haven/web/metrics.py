"""Prometheus metrics at ``/metrics``: what one server process has answered, refused and cached, its query
queue and workers, and the release it serves (docs/operations.md lists every series and the alert rules).

One registry per app (``app.extensions[METRICS_KEY]``), shared by waitress's threads: a process is one
scrape target. Behind nginx each replica is scraped at its own address; nginx answers ``/metrics`` 404, so
the load-balanced upstream never mixes replicas in one series.

Labels are bounded: a request is counted under its route's rule (``/id/<path:slug>``, never the path a
client made up; ``unmatched`` for a 404 no route matched), its method (``other`` for one Haven does not
serve) and its status. Gauges that other parts already keep are read when scraped, never counted twice:
the admission queue's `AdmissionStats`, the store's `WorkerStats`, the release's manifest.

Who may read it: peers in `Settings.metrics_from` (loopback by default), and never a request that came
through a proxy (it carries X-Forwarded-For): the figures say how busy and how limited the server is,
which is for its operators.
"""
from __future__ import annotations

import ipaddress
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import Forbidden
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import choose_encoder

from haven.iris import METRICS_PATH, route
from haven.store.base import (AnswerTooLarge, QueryOutOfMemory, QuerySyntaxError, QueryTimeout, QueryTooComplex,
                              Store, StoreBusy, StoreError)
from haven.store.embedded import WorkerDied
from haven.web.caching import parse_release_date

# the `_created` twin of every counter doubles a scrape, and Prometheus reads a counter's restart without it
disable_created_metrics()

METRICS_KEY = "haven.metrics"
#: methods counted under their own name; anything else a client sends is `other`
METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"})
#: the route label of a request no route matched (404, 405 before routing)
UNMATCHED = "unmatched"
#: seconds; pages and documents answer in milliseconds, queries run up to the time limit (10 s by default)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
QUERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30)

#: why a request was refused (`haven_refusals_total{reason}`): a store failure by its class, the query
#: endpoints' own 4xx by status; the admission queue's two reasons are read from its stats
STORE_FAILURES = ((QueryTimeout, "time_limit"), (QueryOutOfMemory, "memory"), (AnswerTooLarge, "answer_bytes"),
                  (StoreBusy, "workers_busy"), (WorkerDied, "worker_died"), (StoreError, "store_unavailable"))
QUERY_CLIENT_ERRORS = {400: "invalid", 403: "forbidden", 413: "too_large"}
#: what a client query that ran came to (`haven_query_duration_seconds{outcome}`)
QUERY_OUTCOMES = ((QuerySyntaxError, "invalid"), (QueryTooComplex, "invalid")) + STORE_FAILURES


def failure_reason(error: BaseException, table=STORE_FAILURES) -> str:
    for kind, reason in table:
        if isinstance(error, kind):
            return reason
    return "error"


@dataclass(frozen=True)
class Sources:
    """What the metrics read when scraped, given by create_app (this module imports no blueprint)."""

    store: Store
    admission_stats: Callable


class Metrics:
    def __init__(self, sources: Sources, allowed: list, clock: Callable[[], float] = time.time):
        self.sources = sources
        self.allowed = allowed
        self._clock = clock
        self.registry = CollectorRegistry()
        self.requests = Counter("haven_http_requests", "HTTP requests answered, by route rule, method and status",
                                ["route", "method", "status"], registry=self.registry)
        self.request_seconds = Histogram("haven_http_request_duration_seconds",
                                         "Time to answer a request (until the body is handed to the server)",
                                         ["route"], buckets=REQUEST_BUCKETS, registry=self.registry)
        self.query_seconds = Histogram("haven_query_duration_seconds",
                                       "Client SPARQL queries that held a query slot: time in the store, by outcome",
                                       ["outcome"], buckets=QUERY_BUCKETS, registry=self.registry)
        self.cache = Counter("haven_cache_lookups", "Lookups in the per-release caches (release_cache), by cache",
                             ["cache", "result"], registry=self.registry)
        # every reason from the start, so that rate() and increase() see the first refusal of each
        self._refusals = {reason: 0 for _, reason in STORE_FAILURES}
        self._refusals.update((reason, 0) for reason in QUERY_CLIENT_ERRORS.values())
        self._lock = threading.Lock()
        self.registry.register(_Collector(self))
        ProcessCollector(registry=self.registry)

    def refused(self, reason: str) -> None:
        with self._lock:
            self._refusals[reason] = self._refusals.get(reason, 0) + 1

    def refusals(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._refusals)
        stats = self.sources.admission_stats()
        counts["queue_timeout"] = stats.refused_busy
        counts["client_limit"] = stats.refused_client
        return counts

    def may_read(self) -> bool:
        if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
            return False
        # the TCP peer, not the client ProxyFix read from X-Forwarded-For (there is none here, but the rule
        # stays right if a proxy stripped the header)
        peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR") or request.remote_addr
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        # a dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d
        address = getattr(address, "ipv4_mapped", None) or address
        return any(address in network for network in self.allowed)


class _Collector:
    """The series read when scraped: release, store, admission queue, workers, refusals."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def describe(self):
        return []  # read at each scrape; describing would call the store at registration

    def collect(self):
        metrics = self.metrics
        yield from self._release(metrics.sources.store)
        refusals = CounterMetricFamily("haven_refusals", "Requests refused, by reason (query limits, the queue, "
                                       "store failures, the query endpoints' 400/403/413)", labels=["reason"])
        for reason, count in sorted(metrics.refusals().items()):
            refusals.add_metric([reason], count)
        yield refusals
        yield from self._admission(metrics.sources.admission_stats())
        yield from self._workers(metrics.sources.store.worker_stats())

    def _release(self, store: Store):
        up = GaugeMetricFamily("haven_store_up", "1 when the store named its current release at this scrape")
        try:
            pinned = store.pinned()
            manifest = pinned.manifest
        except StoreError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        info = InfoMetricFamily("haven_release", "The release this server answers from")
        info.add_metric([], {"release": str(pinned.release_id), "version": str(manifest.get("version", "")),
                             "base": str(manifest.get("base", ""))})
        yield info
        created = parse_release_date(manifest.get("created"))
        if created is not None:
            yield GaugeMetricFamily("haven_release_created_timestamp_seconds",
                                    "When the served release was built (Unix time)", value=created.timestamp())
            yield GaugeMetricFamily("haven_release_age_seconds", "Seconds since the served release was built",
                                    value=self.metrics._clock() - created.timestamp())
        if manifest.get("triples") is not None:
            yield GaugeMetricFamily("haven_release_triples", "Triples in the served release",
                                    value=float(manifest["triples"]))

    @staticmethod
    def _admission(stats):
        gauges = (("haven_query_slots", "Query slots (queries evaluated at once)", stats.slots),
                  ("haven_queries_running", "Queries holding a slot now", stats.running),
                  ("haven_queries_waiting", "Queries waiting for a slot now", stats.waiting),
                  ("haven_query_clients_waiting", "Clients with a query waiting now", stats.clients_waiting),
                  ("haven_queries_waiting_peak", "Most queries waiting at once since start", stats.waiting_peak),
                  ("haven_query_wait_seconds_max", "Longest wait for a slot since start", stats.wait_seconds_max))
        for name, text, value in gauges:
            yield GaugeMetricFamily(name, text, value=value)
        counters = (("haven_queries_admitted", "Queries given a slot", stats.admitted),
                    ("haven_queries_waited", "Queries given a slot after waiting for it", stats.waited),
                    ("haven_query_wait_seconds", "Seconds the admitted queries waited for a slot",
                     stats.wait_seconds_total))
        for name, text, value in counters:
            yield CounterMetricFamily(name, text, value=value)

    @staticmethod
    def _workers(stats):
        if stats is None:
            return
        yield GaugeMetricFamily("haven_query_workers", "Worker processes the store's pool should have",
                                value=stats.size)
        yield GaugeMetricFamily("haven_query_workers_alive", "Worker processes alive now", value=stats.alive)
        yield CounterMetricFamily("haven_query_worker_replacements",
                                  "Workers killed and replaced (time or memory limit, or died)", value=stats.replaced)
        yield CounterMetricFamily("haven_query_worker_replacement_failures",
                                  "Replacement workers that failed to start", value=stats.replacements_failed)


# -- the app's side ------------------------------------------------------------------------------------------

def install(app: Flask, sources: Sources, allowed: list) -> Metrics:
    """Count every request of `app` and serve /metrics to peers in `allowed` (`Settings.metrics_networks`)."""
    metrics = Metrics(sources, allowed)
    app.extensions[METRICS_KEY] = metrics
    app.before_request(_started)
    app.after_request(_answered)
    app.add_url_rule(route(METRICS_PATH), "metrics", _metrics_view)
    return metrics


def _current() -> Metrics | None:
    return current_app.extensions.get(METRICS_KEY)


def _started() -> None:
    g.haven_started = time.perf_counter()


def _answered(response: Response) -> Response:
    metrics = _current()
    started = g.pop("haven_started", None)
    if metrics is None or started is None:
        return response
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    metrics.requests.labels(route, method, str(response.status_code)).inc()
    metrics.request_seconds.labels(route).observe(time.perf_counter() - started)
    return response


def count_refusal(reason: str) -> None:
    metrics = _current()
    if metrics is not None:
        metrics.refused(reason)


def count_store_failure(error: StoreError) -> None:
    count_refusal(failure_reason(error))


def count_query_client_error(status: int) -> None:
    """A query endpoint's own refusal (malformed, update or SERVICE, too large)."""
    reason = QUERY_CLIENT_ERRORS.get(status)
    if reason is not None:
        count_refusal(reason)


def count_cache(cache: str, hit: bool) -> None:
    metrics = _current()
    if metrics is not None:
        metrics.cache.labels(cache, "hit" if hit else "miss").inc()


@contextmanager
def timed_query():
    """Time a client query in the store, labelled by what it came to (`QUERY_OUTCOMES`)."""
    started = time.perf_counter()
    outcome = "answered"
    try:
        yield
    except BaseException as error:
        outcome = failure_reason(error, QUERY_OUTCOMES)
        raise
    finally:
        metrics = _current()
        if metrics is not None:
            metrics.query_seconds.labels(outcome).observe(time.perf_counter() - started)


def _metrics_view() -> Response:
    metrics = _current()
    if not metrics.may_read():
        raise Forbidden("The metrics are for this server's operators: read them from an address in "
                        "HAVEN_METRICS_FROM, directly (not through a proxy).")
    encoder, content_type = choose_encoder(request.headers.get("Accept"))
    response = Response(encoder(metrics.registry), status=200, content_type=content_type)
    # a scrape is a reading of now: no cache (nginx, a browser) may keep or replay it
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept"
    return response
