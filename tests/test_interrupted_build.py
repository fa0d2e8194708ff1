"""A build killed at any point (SIGKILL: no cleanup runs) leaves the last good release published.

`haven build` runs as a subprocess on a copy of a tree whose first release is published, with a change that
makes a new release. It is killed after each progress line, at seeded random delays, and at every
durable step of the release write: each is marked by a wrapper that announces an `os.fsync` (the file or
folder it is about to flush) and pauses there until the kill arrives. After every kill `build/current` must
be the old release or the complete new one (every file matching its manifest's sha256), the old release
byte for byte intact; finally an ordinary build succeeds and leaves no temporary folder or link behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plugins.builds import CORPUS, build, make_tree, overlay
from plugins.figures import report_line

pytestmark = pytest.mark.slow  # builds in child processes, killed and run again

#: the CLI with os.fsync wrapped: before flushing the file or folder HAVEN_TEST_PAUSE_AT names, it says so and waits
WRAPPER = r"""
import os, sys, time
target = os.environ.get("HAVEN_TEST_PAUSE_AT", "")
real_fsync = os.fsync
def announced_fsync(fd):
    path = os.readlink(f"/proc/self/fd/{fd}")
    if target and (path.endswith("/" + target) or os.path.basename(path).startswith(target)):
        print(f"PAUSED before flushing {path}", file=sys.stderr, flush=True)
        time.sleep(30)
    real_fsync(fd)
os.fsync = announced_fsync
from haven.cli import main
sys.argv[0] = "haven"
main()
"""
RUN_TIMEOUT_S = 60
#: kills at random moments; the documented long run raises it (docs/reliability.md)
RANDOM_KILLS = int(os.environ.get("HAVEN_RANDOM_KILLS", "2"))


def run_and_kill(root: Path, build_dir: Path, *, after_line: str | None = None, pause_at: str | None = None,
                 delay: float | None = None) -> str:
    """Start a build; SIGKILL it when a stderr line starts with `after_line`, or after `delay` seconds.
    Returns what it printed; says "completed" if it finished before the kill point."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    if pause_at:
        env["HAVEN_TEST_PAUSE_AT"] = pause_at
    process = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, "build", "--root", str(root), "--build-dir", str(build_dir),
         "--skip-reasoner"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    output, buffer = [], b""
    deadline = time.monotonic() + (delay if delay is not None else RUN_TIMEOUT_S)
    killed = False
    try:
        while not killed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                assert delay is not None, f"no {after_line!r} line within {RUN_TIMEOUT_S} s: {output}"
                break
            if not selector.select(timeout=remaining):
                continue
            chunk = os.read(process.stderr.fileno(), 65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in (part.decode() for part in lines):
                output.append(line)
                if after_line and line.startswith(after_line):
                    killed = True
                    break
    finally:
        finished = process.poll() is not None
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        process.stderr.close()
        selector.close()
    if finished and not killed:
        output.append("completed")
    return "\n".join(output)


def check_published(build_dir: Path, allowed: set[str], old: str, old_bytes: dict[str, bytes]) -> str:
    current = build_dir / "current"
    assert current.is_symlink()
    release = current.readlink().name
    assert release in allowed
    manifest = json.loads((current / "manifest.json").read_text())
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((current / name).read_bytes()).hexdigest() == digest, name
    assert {p.name: p.read_bytes() for p in (build_dir / "releases" / old).iterdir()} == old_bytes
    return release


@pytest.fixture
def scene(tmp_path):
    """(changed source tree, build folder publishing the old release, old id, new id)."""
    root = make_tree(tmp_path / "src")
    build_dir = tmp_path / "build"
    assert build(root, build_dir, "--skip-reasoner").exit_code == 0
    old = (build_dir / "current").readlink().name
    overlay(root, CORPUS / "_accepted" / "slug-changed-deprecated")
    scratch = tmp_path / "scratch"
    shutil.copytree(build_dir, scratch, symlinks=True)
    started = time.monotonic()
    assert build(root, scratch, "--skip-reasoner").exit_code == 0  # the id the interrupted builds aim at
    duration = time.monotonic() - started
    new = (scratch / "current").readlink().name
    assert new != old
    return root, build_dir, old, new, duration


def test_build_killed_anywhere_leaves_the_last_good_release(scene, pytestconfig):
    root, build_dir, old, new, duration = scene
    old_bytes = {p.name: p.read_bytes() for p in (build_dir / "releases" / old).iterdir()}
    kills = []

    # 1. after each progress line: before anything is written, and (after [release]) with the new release
    #    written but its on-disk store still loading, so not yet current
    for stage in ("[sources]", "[derive]", "[validate]", "[metadata]", "[release]"):
        output = run_and_kill(root, build_dir, after_line=stage)
        assert "completed" not in output
        assert check_published(build_dir, {old}, old, old_bytes) == old
        kills.append(stage)

    # 2. at seeded random moments of the whole run (start-up included)
    rng = random.Random(int(os.environ.get("HAVEN_RANDOM_SEED", "20240605")))
    for _ in range(RANDOM_KILLS):
        delay = rng.uniform(0.2, duration + 1.0)
        output = run_and_kill(root, build_dir, delay=delay)
        if "completed" in output:  # it finished first: then it must have published the new release
            assert check_published(build_dir, {new}, old, old_bytes) == new
            back_to(build_dir, old, new)
            continue
        check_published(build_dir, {old, new}, old, old_bytes)
        kills.append(f"random {delay:.2f} s")

    # 3. inside the release write, at each flush: first file, last file, the temporary folder (all three
    #    before the rename), the releases folder (renamed, not yet current), the build folder (switched).
    #    Each starts from the old release alone, whatever the previous kill left.
    for point, expect in (("releases", old), (build_dir.name, new), ("haven.nq", old), ("manifest.json", old),
                          (".tmp-", old)):
        if point != build_dir.name:  # that one needs the renamed release the previous kill left
            back_to(build_dir, old, new)
        output = run_and_kill(root, build_dir, after_line="PAUSED", pause_at=point)
        assert "completed" not in output
        assert check_published(build_dir, {old, new}, old, old_bytes) == expect, output
        kills.append(f"flush of {point}")
        if expect == old and point != "releases":
            assert list((build_dir / "releases").glob(".tmp-*")), "a kill mid-write leaves its temporary folder"

    # 4. an ordinary build afterwards: no stale lock, leftovers cleared, the new release published
    result = subprocess.run([sys.executable, "-m", "haven.cli", "build", "--root", str(root), "--build-dir",
                             str(build_dir), "--skip-reasoner"], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    assert "leftover(s) of an interrupted build" in result.stderr
    assert check_published(build_dir, {new}, old, old_bytes) == new
    assert not [p for p in (build_dir / "releases").iterdir() if p.name.startswith(".")]
    assert not list(build_dir.glob(".current-*"))
    report_line(pytestconfig, f"interrupted build: {len(kills)} SIGKILLs ({', '.join(kills)}); "
                              f"current always the old or the complete new release; rebuild clean")


def back_to(build_dir: Path, old: str, new: str) -> None:
    """The state before the interrupted builds: current is the old release and the new one does not exist."""
    link = build_dir / ".test-current"
    os.symlink(Path("releases") / old, link)
    os.replace(link, build_dir / "current")
    shutil.rmtree(build_dir / "releases" / new, ignore_errors=True)
