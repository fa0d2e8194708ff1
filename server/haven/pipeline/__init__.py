"""The build pipeline: sources → derive → validate → consistency → metadata → release.

Each stage is its own module and takes plain rdflib graphs, so a stage can be run and tested alone;
:mod:`haven.pipeline.build` chains them. A stage that finds a problem raises :class:`BuildError` with a
message written for the person who edits the Turtle files, never a traceback.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator


class BuildError(Exception):
    """A problem that stops the build; ``str()`` is the complete message shown to the user."""


class Progress:
    """Prints one line per stage (name, what it counted, seconds) and keeps the timings. With `details` off (the
    build `haven serve` runs before its first start), a report prints its first line only."""

    def __init__(self, echo: Callable[[str], None] | None = None, details: bool = True):
        self._echo = echo or (lambda line: print(line, file=sys.stderr, flush=True))
        self.details = details
        self.timings: dict[str, float] = {}

    def say(self, line: str) -> None:
        self._echo(line)

    def report(self, text: str, hint: str) -> None:
        """A multi-line report (SHACL warnings): whole, or its first line and `hint` saying where the rest is."""
        self._echo(text if self.details else f"{text.splitlines()[0]} ({hint})")

    @contextmanager
    def stage(self, name: str) -> Iterator[list[str]]:
        notes: list[str] = []
        started = time.perf_counter()
        try:
            yield notes
        except BuildError:
            self.timings[name] = time.perf_counter() - started
            self._echo(f"[{name}] FAILED ({self.timings[name]:.2f} s)")
            raise
        self.timings[name] = time.perf_counter() - started
        summary = ", ".join(notes)
        self._echo(f"[{name}] {summary}{' ' if summary else ''}({self.timings[name]:.2f} s)")
