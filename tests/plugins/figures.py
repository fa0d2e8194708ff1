"""Figures and counts the tests measure, printed together at the end of the run (`report_line`)."""
from __future__ import annotations

import pytest


def report_line(config, line: str) -> None:
    """Queue a line for the end-of-run summary (a figure or count a test measured)."""
    config.stash.setdefault(_REPORT_KEY, []).append(line)


_REPORT_KEY = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(_REPORT_KEY, [])
    if lines:
        terminalreporter.section("Haven server figures")
        for line in lines:
            terminalreporter.write_line(line)
