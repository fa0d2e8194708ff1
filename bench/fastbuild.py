"""`haven build` with the SHACL stage swapped for the fast SPARQL path (bench/fastshacl.py).

    python bench/fastbuild.py --root DIR --build-dir BUILD

Same stages, same progress lines, same release; only `validate` differs, and the OWL consistency stage is
skipped (HermiT does not scale to these sizes; see docs/benchmarks.md). A benchmark harness, not a
publishing path: a release it writes was checked by the compiled shapes only.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fastshacl  # noqa: E402
from haven import cli  # noqa: E402
from haven.pipeline import build  # noqa: E402

if __name__ == "__main__":
    build.validate = fastshacl.validate
    # the per-file size limit guards hand-written sources; generated trees are cut below it anyway
    sys.argv = [sys.argv[0], "build", "--skip-reasoner", *sys.argv[1:]]
    cli.main()
