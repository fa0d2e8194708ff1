"""The query admission queue (haven.web.sparql.admission), without a server: ordering, fairness across
clients, the bounded wait, the per-client limit, the counters and the log lines.

Decisions are driven synchronously (`enter` / `release` and the tickets' `granted`); the bounded wait runs
on a fake clock whose wait function advances it, so nothing here sleeps. One test uses real threads, each
step synchronised on events.
"""
from __future__ import annotations

import logging
import threading

import pytest

from haven.web.sparql.admission import Admission, ClientOverLimit, QueueTimeout


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Nothing releases a slot while this 'waits': the whole timeout passes."""
        if not event.is_set():
            self.now += timeout
        return event.is_set()


def admission(slots=2, max_wait=5.0, client_limit=10, clock=None, **options) -> Admission:
    clock = clock or FakeClock()
    return Admission(slots, max_wait=max_wait, client_limit=client_limit, clock=clock, wait=clock.wait, **options)


def test_free_slots_are_taken_without_waiting():
    queue = admission(slots=3)
    tickets = [queue.enter(client) for client in ("a", "b", "c")]
    assert all(t.granted for t in tickets)
    assert [queue.wait(t) for t in tickets] == [0.0, 0.0, 0.0]
    stats = queue.stats()
    assert (stats.running, stats.waiting, stats.admitted, stats.waited) == (3, 0, 3, 0)


def test_one_client_queries_are_served_in_arrival_order():
    queue = admission(slots=2)  # one client may hold one of the two slots
    tickets = [queue.enter("a") for _ in range(4)]
    assert [t.granted for t in tickets] == [True, False, False, False]
    for expected in range(1, 4):
        queue.release("a")
        assert [t.granted for t in tickets][: expected + 1] == [True] * (expected + 1)
        assert not any(t.granted for t in tickets[expected + 1:])


def test_freed_slots_go_round_the_clients_in_turn():
    queue = admission(slots=3, client_limit=10)
    assert all(queue.enter(client).granted for client in ("x", "x", "y"))
    waiting = {f"{client}{n}": queue.enter(client) for client, count in (("a", 3), ("b", 2), ("c", 1))
               for n in range(count)}  # a's burst arrives first
    assert not any(t.granted for t in waiting.values())
    served = []
    for finished in ("y", "x", "x", "a", "b", "c"):
        queue.release(finished)
        served += [name for name, t in waiting.items() if t.granted and name not in served]
    # b and c do not wait behind all of a's queries: one each per round, each client's own in arrival order
    assert served == ["a0", "b0", "c0", "a1", "b1", "a2"]


def test_one_client_never_holds_every_slot():
    queue = admission(slots=4, client_limit=10)
    burst = [queue.enter("greedy") for _ in range(6)]
    assert sum(t.granted for t in burst) == 3  # slots - 1
    other = queue.enter("other")
    assert other.granted, "the slot a client's burst leaves free goes to the next client at once"
    queue.release("greedy")
    assert sum(t.granted for t in burst) == 4
    assert queue.stats().running == 4


def test_a_single_slot_is_shared_by_turns():
    queue = admission(slots=1)
    assert queue.enter("a").granted
    a2, a3 = queue.enter("a"), queue.enter("a")
    b1 = queue.enter("b")
    granted = []
    for finished in ("a", "a", "b"):
        queue.release(finished)
        granted.append(next(name for name, t in (("a2", a2), ("a3", a3), ("b1", b1))
                            if t.granted and name not in granted))
    assert granted == ["a2", "b1", "a3"], "b's first query comes before a's third, which arrived earlier"


def test_a_query_waits_at_most_the_bounded_time_then_is_refused(caplog):
    clock = FakeClock()
    queue = admission(slots=2, max_wait=4.0, clock=clock)
    held = [queue.enter("a"), queue.enter("b")]
    assert all(t.granted for t in held)
    late = queue.enter("c")
    assert not late.granted
    with caplog.at_level(logging.WARNING, logger="haven.web.sparql.admission"):
        with pytest.raises(QueueTimeout):
            queue.wait(late)
    assert clock.now == pytest.approx(104.0)
    stats = queue.stats()
    assert (stats.refused_busy, stats.waiting, stats.clients_waiting, stats.running) == (1, 0, 0, 2)
    refusals = [r.getMessage() for r in caplog.records if "refused 503" in r.getMessage()]
    assert len(refusals) == 1 and "client c waited 4.0 s" in refusals[0] and "2/2 slots in use" in refusals[0]
    # the refused ticket left the queue: a freed slot is not given to it
    queue.release("a")
    assert not late.granted and queue.stats().running == 1


def test_the_wait_counts_from_arrival_and_a_granted_query_reports_it():
    clock = FakeClock()
    queue = admission(slots=2, max_wait=5.0, clock=clock)
    queue.enter("a"), queue.enter("b")
    waiting = queue.enter("c")
    clock.now += 1.25
    queue.release("a")
    assert waiting.granted
    assert queue.wait(waiting) == pytest.approx(1.25)
    stats = queue.stats()
    assert (stats.admitted, stats.waited) == (3, 1)
    assert stats.wait_seconds_total == pytest.approx(1.25) and stats.wait_seconds_max == pytest.approx(1.25)


def test_a_client_over_its_limit_is_refused_at_once(caplog):
    clock = FakeClock()
    queue = admission(slots=2, client_limit=3, clock=clock)
    mine = [queue.enter("harvester") for _ in range(3)]  # one running, two waiting
    with caplog.at_level(logging.WARNING, logger="haven.web.sparql.admission"):
        with pytest.raises(ClientOverLimit):
            queue.enter("harvester")
    assert clock.now == 100.0, "refused without waiting"
    assert queue.enter("someone-else").granted
    stats = queue.stats()
    assert (stats.refused_client, stats.waiting) == (1, 2)
    assert any("refused 429: client harvester has 3 queries running or waiting (limit 3)" in r.getMessage()
               for r in caplog.records)
    # once one of its queries is answered, the client may send another
    queue.release("harvester")
    assert mine[1].granted
    assert not queue.enter("harvester").granted


def test_periodic_summary_of_waits(caplog):
    clock = FakeClock()
    queue = admission(slots=2, clock=clock, log_interval=60.0)
    queue.enter("a"), queue.enter("b")
    waiting = queue.enter("c")
    clock.now += 0.5
    queue.release("a")
    with caplog.at_level(logging.INFO, logger="haven.web.sparql.admission"):
        queue.wait(waiting)
        assert not caplog.records, "no summary before the interval has passed"
        clock.now += 60
        queue.release("b")
        queue.wait(queue.enter("d"))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert "4 admitted, 1 of them after a wait (mean 500 ms, longest 500 ms)" in lines[0]
    assert "refused 0 busy (503), 0 over their client's limit (429)" in lines[0]


def test_waiters_are_woken_by_a_release_in_another_thread():
    """The real wait (threading.Event), two threads, every step ordered by events: no sleep decides."""
    queue = Admission(1, max_wait=30.0, client_limit=4)
    assert queue.acquire("a") == 0.0
    entered = threading.Event()
    result = {}

    def second():
        ticket = queue.enter("b")
        entered.set()
        result["waited"] = queue.wait(ticket)

    thread = threading.Thread(target=second)
    thread.start()
    assert entered.wait(10)
    assert queue.stats().waiting == 1
    queue.release("a")
    thread.join(10)
    assert not thread.is_alive()
    assert result["waited"] >= 0.0 and queue.stats().running == 1


@pytest.mark.parametrize("options", [dict(slots=0), dict(client_limit=0), dict(max_wait=-1)])
def test_impossible_settings_are_refused(options):
    with pytest.raises(ValueError):
        admission(**options)
