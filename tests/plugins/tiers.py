"""The test tiers, and the guard that keeps them honest.

`make test-fast` runs every test that carries none of the markers below: unit tests and Flask test-client
tests, in-process, each well under ~2 s. Everything else is in the slow tier (`make test-slow`):

* ``live``: starts a real process that serves HTTP (`haven serve`, an Oxigraph server, nginx) and talks to it:
  the live-server, hostile-client, limits, fault, replica, remote-store, publish and W3C protocol tests;
* ``browser``: drives headless Chromium;
* ``slow``: in-process but longer than ~2 s: the reasoner, builds of the real data or of generated trees,
  fuzzing, killed builds, pySHACL over the real ontology.

`make test` runs both. The helpers that start servers call `require_marker`, so a test that starts one
without its marker fails at once with a message, instead of quietly slowing the fast tier down; and the end
of a run lists the unmarked tests that took longer than `FAST_TEST_S` (a figure to act on, not a failure:
the machine may be loaded).
"""
from __future__ import annotations

import pytest

#: the markers that take a test out of the fast tier; pyproject.toml registers them (--strict-markers)
SLOW_TIER = ("live", "browser", "slow")
#: an unmarked test slower than this (setup, call and teardown) is listed at the end of the run
FAST_TEST_S = 2.0

_running: pytest.Item | None = None
_SECONDS_KEY = pytest.StashKey[dict]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # before any fixture of `item` is set up, so that a session fixture started for it is checked against it
    global _running
    _running = item


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    global _running
    _running = None


def require_marker(marker: str, doing: str) -> None:
    """Fail the running test unless it carries `marker` (outside a test run, do nothing)."""
    if _running is not None and _running.get_closest_marker(marker) is None:
        pytest.fail(f"{_running.nodeid} {doing}: mark it @pytest.mark.{marker} so that it stays out of "
                    f"`make test-fast` (tiers: tests/plugins/tiers.py)", pytrace=False)


def in_fast_tier(item: pytest.Item) -> bool:
    return not any(item.get_closest_marker(name) for name in SLOW_TIER)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    if in_fast_tier(item):
        seconds = item.config.stash.setdefault(_SECONDS_KEY, {})
        seconds[item.nodeid] = seconds.get(item.nodeid, 0.0) + report.duration
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    slow = sorted(((s, nodeid) for nodeid, s in config.stash.get(_SECONDS_KEY, {}).items() if s > FAST_TEST_S),
                  reverse=True)
    if slow:
        terminalreporter.section(f"fast-tier tests over {FAST_TEST_S:g} s (a marker from tests/plugins/tiers.py?)")
        for seconds, nodeid in slow:
            terminalreporter.write_line(f"{seconds:6.2f} s  {nodeid}")
