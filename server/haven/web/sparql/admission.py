"""Admission of client queries to the query slots: a bounded wait, fair across clients, instead of a refusal.

A query needs one of `slots` slots (`Settings.max_concurrent_queries`: the embedded store's query workers,
the remote store's syntax checkers). When none is free it waits, in its client's queue:

* **arrival order within a client, round-robin across clients.** Each client (its address, or the
  X-Forwarded-For value when `Settings.proxy_hops` trusts a proxy) has its own FIFO queue; a freed slot goes
  to the head of the next client's queue in turn, so a client with fifty queries waiting gets one slot per
  round, like a client with one.
* **a bounded wait.** A query still waiting after `max_wait` seconds is refused: 503 with Retry-After,
  the server is busy for everyone.
* **a share per client.** One client's queries hold at most `slots - 1` slots at once (all of them when there
  is one), so another client's query finds a slot free or the next one; and a client may have at most
  `client_limit` queries running or waiting: the next one is refused at once with 429 and Retry-After.
  429 (RFC 6585, Too Many Requests) rather than 503, because the refusal is about that client's own
  concurrency, not the server's state: a harvester should lower its parallelism, other clients are served.
  Refusing it at once also frees the request thread it would hold while waiting, so that one client's burst
  cannot fill the WSGI server's threads and its task queue ahead of everybody else's requests.

Nothing here sleeps or polls: a waiting request blocks on its own `threading.Event`, set by the request that
releases a slot. The decisions (`_dispatch`) are made under one lock from plain counters, so they are tested
without threads (tests/test_admission.py) with an injected clock and wait function.

What happened is counted in `stats()` (an `AdmissionStats`, what a /metrics endpoint can read) and logged on
this module's logger (`haven.web.sparql.admission`): a WARNING line per refused query, and an INFO summary of admissions and waits
at most once per `log_interval` seconds, written by the next request after it passed.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)


class Refused(Exception):
    """A query that gets no slot (the web layer answers it, with Retry-After)."""


class QueueTimeout(Refused):
    """Waited `max_wait` seconds without a slot: the server is busy (503)."""


class ClientOverLimit(Refused):
    """The client already has `client_limit` queries running or waiting (429)."""


@dataclass(frozen=True)
class AdmissionStats:
    """A snapshot of the admission queue: gauges now, counters since the server started."""

    slots: int
    #: queries holding a slot / waiting for one / clients with a query waiting
    running: int
    waiting: int
    clients_waiting: int
    #: most queries waiting at once so far
    waiting_peak: int
    #: queries given a slot, and how many of them had to wait for it
    admitted: int
    waited: int
    #: seconds spent waiting by the admitted queries, in total and the longest single wait
    wait_seconds_total: float
    wait_seconds_max: float
    #: queries refused after waiting `max_wait` (503) / at once for their client's limit (429)
    refused_busy: int
    refused_client: int


class Ticket:
    """One query's place in its client's queue; `granted` once it holds a slot."""

    __slots__ = ("client", "arrived", "granted", "granted_at", "event")

    def __init__(self, client: str, arrived: float):
        self.client = client
        self.arrived = arrived
        self.granted = False
        self.granted_at = arrived
        self.event = threading.Event()


def _wait_on_event(event: threading.Event, timeout: float) -> bool:
    return event.wait(timeout)


class Admission:
    def __init__(self, slots: int, *, max_wait: float, client_limit: int, log_interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 wait: Callable[[threading.Event, float], bool] = _wait_on_event):
        if slots < 1:
            raise ValueError(f"there must be at least one query slot, not {slots}")
        if client_limit < 1:
            raise ValueError(f"a client must be allowed at least one query, not {client_limit}")
        if max_wait < 0:
            raise ValueError(f"the longest wait for a slot cannot be negative ({max_wait})")
        self.slots = slots
        self.max_wait = max_wait
        self.client_limit = client_limit
        #: slots one client may hold at once: one is always left for the others (when there is more than one)
        self.client_slots = max(1, slots - 1)
        self.log_interval = log_interval
        self._clock = clock
        self._wait = wait
        self._lock = threading.Lock()
        #: clients with queries waiting, in the order the next freed slots go round to them (dicts keep
        #: insertion order: a served client moves to the end)
        self._queues: dict[str, deque[Ticket]] = {}
        self._running: dict[str, int] = {}
        self._in_use = 0
        self._waiting = 0
        self._waiting_peak = 0
        self._admitted = self._waited = self._refused_busy = self._refused_client = 0
        self._wait_total = self._wait_max = 0.0
        self._since = clock()
        self._last_report = (0, 0, 0.0, 0, 0)  # admitted, waited, wait_total, refused_busy, refused_client
        self._interval_wait_max = 0.0

    # -- the two calls a request makes -----------------------------------------------------------------------
    def acquire(self, client: str) -> float:
        """Wait for a slot for `client`; returns the seconds waited. Raises ClientOverLimit at once, or
        QueueTimeout after `max_wait` seconds without a slot. Every successful call needs one `release`."""
        return self.wait(self.enter(client))

    def enter(self, client: str) -> "Ticket":
        """Join `client`'s queue without blocking: the ticket holds a slot already (`granted`) or waits for
        one (`wait`). Raises ClientOverLimit when the client has `client_limit` queries running or waiting."""
        with self._lock:
            now = self._clock()
            pending = self._running.get(client, 0) + len(self._queues.get(client, ()))
            if pending >= self.client_limit:
                self._refused_client += 1
                state, report = self._state(), self._report_due(now)
                ticket = None
            else:
                ticket, granted = self._enqueue(client, now)
        if ticket is None:
            log.warning("query refused 429: client %s has %d queries running or waiting (limit %d); %s",
                        client, pending, self.client_limit, state)
            self._log(report)
            raise ClientOverLimit(f"{pending} queries of this client are running or waiting")
        for other in granted:
            other.event.set()
        return ticket

    def wait(self, ticket: "Ticket") -> float:
        """Block until `ticket` holds a slot (returns the seconds it waited) or `max_wait` has passed since
        it entered (QueueTimeout: the ticket leaves its queue)."""
        if not ticket.granted:
            self._wait(ticket.event, max(0.0, ticket.arrived + self.max_wait - self._clock()))
        with self._lock:
            now = self._clock()
            # a grant that came between the end of the wait and this lock counts: the slot is already taken
            if not ticket.granted:
                self._abandon(ticket)
            state, report = self._state(), self._report_due(now)
        if not ticket.granted:
            log.warning("query refused 503: client %s waited %.1f s for a query slot; %s", ticket.client,
                        now - ticket.arrived, state)
            self._log(report)
            raise QueueTimeout(f"no query slot within {self.max_wait:g} s")
        self._log(report)
        return ticket.granted_at - ticket.arrived

    def release(self, client: str) -> None:
        with self._lock:
            self._in_use -= 1
            held = self._running.get(client, 0) - 1
            if held > 0:
                self._running[client] = held
            else:
                self._running.pop(client, None)
            granted = self._dispatch(self._clock())
        for ticket in granted:
            ticket.event.set()

    def stats(self) -> AdmissionStats:
        with self._lock:
            return AdmissionStats(
                slots=self.slots, running=self._in_use, waiting=self._waiting, clients_waiting=len(self._queues),
                waiting_peak=self._waiting_peak, admitted=self._admitted, waited=self._waited,
                wait_seconds_total=self._wait_total, wait_seconds_max=self._wait_max,
                refused_busy=self._refused_busy, refused_client=self._refused_client)

    # -- decisions, under the lock ---------------------------------------------------------------------------
    def _enqueue(self, client: str, now: float) -> tuple[Ticket, list[Ticket]]:
        """A ticket for `client` in its queue, and the tickets given a slot now (this one, when one is free)."""
        ticket = Ticket(client, now)
        self._queues.setdefault(client, deque()).append(ticket)
        self._waiting += 1
        granted = self._dispatch(now)
        self._waiting_peak = max(self._waiting_peak, self._waiting)
        return ticket, granted

    def _dispatch(self, now: float) -> list[Ticket]:
        """Give free slots to the heads of the client queues in turn; returns the tickets granted."""
        granted = []
        while self._in_use < self.slots and self._queues:
            for client, queue in self._queues.items():
                if self._running.get(client, 0) < self.client_slots:
                    break
            else:
                break  # every waiting client holds its share: the free slot waits for another client
            ticket = queue.popleft()
            del self._queues[client]
            if queue:
                self._queues[client] = queue  # to the end of the round
            ticket.granted, ticket.granted_at = True, now
            self._count_admission(ticket)
            self._waiting -= 1
            self._in_use += 1
            self._running[client] = self._running.get(client, 0) + 1
            granted.append(ticket)
        return granted

    def _abandon(self, ticket: Ticket) -> None:
        queue = self._queues[ticket.client]
        queue.remove(ticket)
        if not queue:
            del self._queues[ticket.client]
        self._waiting -= 1
        self._refused_busy += 1

    def _count_admission(self, ticket: Ticket) -> None:
        waited = ticket.granted_at - ticket.arrived
        self._admitted += 1
        if waited > 0:
            self._waited += 1
            self._wait_total += waited
            self._wait_max = max(self._wait_max, waited)
            self._interval_wait_max = max(self._interval_wait_max, waited)

    def _state(self) -> str:
        return (f"{self._in_use}/{self.slots} slots in use, {self._waiting} queries of "
                f"{len(self._queues)} clients waiting")

    def _report_due(self, now: float) -> str | None:
        """The periodic summary line, when `log_interval` has passed since the last one (and something
        happened); None otherwise."""
        if now - self._since < self.log_interval:
            return None
        current = (self._admitted, self._waited, self._wait_total, self._refused_busy, self._refused_client)
        admitted, waited, wait_total, busy, over = (a - b for a, b in zip(current, self._last_report))
        seconds, self._since, self._last_report = now - self._since, now, current
        longest, self._interval_wait_max = self._interval_wait_max, 0.0
        if not (admitted or busy or over):
            return None
        mean_ms = 1000 * wait_total / waited if waited else 0.0
        return (f"queries in the last {seconds:.0f} s: {admitted} admitted, {waited} of them after a wait "
                f"(mean {mean_ms:.0f} ms, longest {longest * 1000:.0f} ms); refused {busy} busy (503), "
                f"{over} over their client's limit (429); now {self._state()}, "
                f"most ever waiting {self._waiting_peak}")

    @staticmethod
    def _log(report: str | None) -> None:
        if report is not None:
            log.info("%s", report)
