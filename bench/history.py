"""Release history at the build: the time and memory the history stage (`haven.pipeline.history`) takes to
compare a release with the next one, and the size of what it writes.

    .venv/bin/python bench/history.py --release build/current
    .venv/bin/python bench/history.py --release /tmp/haven-search-bench/build-1M-1/current

The next release is made from the given one's N-Quads: one data-graph line in `--every` removed, and as many
new lines added (a new literal on an existing subject), re-sorted as the build sorts them. The stage then
reads the given release folder as the previous one (nothing is written there) and computes the difference,
the changelog, the history and the patch, as `haven build` does.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from haven import buildfolder
from haven.iris import iris_for
from haven.pipeline.history import release_history


def next_release(nquads: bytes, data_graph: str, every: int) -> tuple[bytes, int]:
    lines = nquads.rstrip(b"\n").split(b"\n")
    suffix = f" <{data_graph}> .".encode()
    changed, out = 0, []
    for i, line in enumerate(lines):
        if line.endswith(suffix) and i % every == 0 and not line.startswith(b"_:"):
            subject = line.split(b" ", 1)[0]
            out.append(subject + b' <http://www.w3.org/2000/01/rdf-schema#comment> "bench edit %d"@en' % i + suffix)
            changed += 1
            continue
        out.append(line)
    out.sort()
    return b"\n".join(out) + b"\n", changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--release", type=Path, required=True, help="a release folder (build/current)")
    parser.add_argument("--every", type=int, default=100, help="change one data line in this many (default 100)")
    args = parser.parse_args()
    folder = args.release.resolve()
    manifest = buildfolder.read_manifest(folder)
    base = manifest["base"]
    nquads = (folder / buildfolder.NQUADS).read_bytes()
    following, changed = next_release(nquads, str(iris_for(base).graphs["data"]), args.every)
    del nquads
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = release_history(folder, base, "bench-next", following)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"release {manifest['id']}: {manifest.get('triples', '?'):,} quads, {changed:,} data lines changed")
    print(f"history stage: {elapsed:.2f} s, peak RSS {peak / 1024:.0f} MiB "
          f"(before the stage {before / 1024:.0f} MiB: both releases' N-Quads in memory)")
    for name, body in sorted(result.files.items()):
        print(f"  {name}: {len(body):,} bytes")
    print(f"  {result.note}")


if __name__ == "__main__":
    sys.exit(main())
