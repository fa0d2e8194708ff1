"""What the SHACL fast path (haven.pipeline.fastcheck) covers on a source tree, and how long each check takes.

    python bench/fastshacl.py DIR
"""
from __future__ import annotations

import argparse
import sys
import time

from haven.config import DEFAULT_BASE
from haven.pipeline import fastcheck, graphs
from haven.pipeline.derive import derive
from haven.pipeline.sources import load_sources


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="source tree with ontology/, data/, shapes/")
    args = parser.parse_args(argv)
    sources = load_sources(args.root, DEFAULT_BASE, max_bytes=1 << 40)
    derivation = derive(sources.store, DEFAULT_BASE)
    compiled = fastcheck.compile_shapes(sources.shapes)
    started = time.perf_counter()
    union = [sources.graph_name("ontology"), sources.graph_name("data"), derivation.name]
    with graphs.merged(sources.store, union) as checked:  # as haven build runs it
        result = fastcheck.run(sources.store, compiled, checked)
    violations = [f for f in result.findings if f.severity == "Violation"]
    print(f"{len(compiled.checks)} checks in {time.perf_counter() - started:.2f} s; "
          f"{len(violations)} violations, {len(result.findings) - len(violations)} warnings")
    for check, seconds in sorted(result.seconds.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {seconds:6.2f} s  {check}")
    print("not covered: " + ("; ".join(compiled.uncovered) or "nothing"))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
