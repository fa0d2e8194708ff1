"""`haven build --validator fast --skip-reasoner`: the build with the SHACL stage on the SPARQL fast path
(haven.pipeline.fastcheck) and without HermiT, kept as a command for bench/run.py's fast-path row.

    python bench/fastbuild.py --root DIR --build-dir BUILD
"""
from __future__ import annotations

import sys

from haven import cli

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "build", "--validator", "fast", "--skip-reasoner", *sys.argv[1:]]
    cli.main()
