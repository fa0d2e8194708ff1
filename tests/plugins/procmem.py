"""Peak memory of a process and its children while something runs: sampled from /proc every few milliseconds
(a child that dies keeps its last sample), plus each live process's own high-water mark (VmHWM)."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

SAMPLE_EVERY_S = 0.02


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM in bytes; {} once the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            return {line.split(":")[0]: int(line.split()[1]) * 1024 for line in handle
                    if line.startswith(("VmRSS:", "VmHWM:"))}
    except (OSError, ValueError, IndexError):
        return {}


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (the embedded store's query workers are children of its worker template)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    # the command name is in parentheses and may hold spaces: the parent pid follows the last ')'
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += sorted(frontier)
    return found


@dataclass
class PeakMemory:
    """`with PeakMemory(pid) as peak:` … `peak.server`, `peak.largest_child`, `peak.total` (bytes)."""

    pid: int
    server: int = 0
    children: dict[int, int] = field(default_factory=dict)
    total: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> "PeakMemory":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def largest_child(self) -> int:
        return max(self.children.values(), default=0)

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(SAMPLE_EVERY_S):
                self.sample()
                return

    def sample(self) -> None:
        own = _status(self.pid)
        self.server = max(self.server, own.get("VmHWM", 0), own.get("VmRSS", 0))
        total = own.get("VmRSS", 0)
        for child in _children(self.pid):
            status = _status(child)
            self.children[child] = max(self.children.get(child, 0), status.get("VmHWM", 0), status.get("VmRSS", 0))
            total += status.get("VmRSS", 0)
        self.total = max(self.total, total)


def mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"
