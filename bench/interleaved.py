"""The competency questions on Haven and on Oxigraph server at the same time, request by request.

    .venv/bin/python bench/interleaved.py [--build-dir build] [--runs 31] [--json FILE]

bench/run.py measures one server after the other, minutes apart; on a machine shared with other work the
load changes in between, and on the real release, where every question takes about a millisecond, that
change is larger than the difference measured (issue 11: the same run gave 0.78× and 2.34×). Here both
servers run together over the same release (`haven serve` over BUILD_DIR/current, `oxigraph serve-read-only
--union-default-graph` over its haven.nq) and each question is asked of one then the other, alternately,
RUNS times after a warm-up: both medians come from the same seconds. Printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402

ACCEPT = "application/sparql-results+json"


def interleaved(haven: str, oxigraph: str, queries: dict[str, str], runs: int) -> dict[str, dict]:
    """{question: {"haven": median ms, "oxigraph": median ms, "ratio": haven ÷ oxigraph}}."""
    out = {}
    for name, text in queries.items():
        urls = {"haven": haven + "/sparql?query=" + urllib.parse.quote(text),
                "oxigraph": oxigraph + "/query?query=" + urllib.parse.quote(text)}
        times: dict[str, list[float]] = {"haven": [], "oxigraph": []}
        statuses = {side: run.fetch(url, ACCEPT, timeout=30)[1] for side, url in urls.items()}  # warm-up
        if set(statuses.values()) != {200}:
            out[name] = {"error": f"HTTP {statuses}"}
            continue
        for i in range(runs):
            order = ("haven", "oxigraph") if i % 2 == 0 else ("oxigraph", "haven")
            for side in order:
                times[side].append(run.fetch(urls[side], ACCEPT, timeout=30)[0])
        h, o = statistics.median(times["haven"]), statistics.median(times["oxigraph"])
        out[name] = {"haven": h, "oxigraph": o, "ratio": h / o}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=run.REPO / "build")
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--skip", default="17", help="questions left out (17 runs for seconds on every engine)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    release = (args.build_dir / "current").resolve()
    base = json.loads((release / "manifest.json").read_text())["base"]
    queries = {cq.stem[:2]: cq.read_text() for cq in sorted(run.CQ_DIR.glob("*.rq"))
               if cq.stem[:2] not in args.skip.split(",")}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "oxigraph"
        run.subprocess.run([run.oxigraph_bin(), "load", "--location", str(db), "--file", str(release / "haven.nq")],
                           check=True, capture_output=True)
        port = run.free_port()
        oxigraph = run.Server("oxigraph", [run.oxigraph_bin(), "serve-read-only", "--location", str(db),
                                           "--union-default-graph", "--bind", f"127.0.0.1:{port}"],
                              port, "/query?query=ASK%7B%7D")
        try:
            port = run.free_port()
            haven = run.Server("haven", [run.PY, "-m", "haven.cli", "serve", "--build-dir", str(args.build_dir),
                                         "--port", str(port)], port, "/healthz", env={"HAVEN_BASE": base})
            try:
                run.settle(haven)
                figures = interleaved(haven.url, oxigraph.url, queries, args.runs)
            finally:
                haven.stop()
        finally:
            oxigraph.stop()
    for name, f in figures.items():
        print(f"CQ {name}: " + (f["error"] if "error" in f else
                                f"Haven {f['haven']:.2f} ms, Oxigraph {f['oxigraph']:.2f} ms, {f['ratio']:.2f}×"))
    ratios = [f["ratio"] for f in figures.values() if "ratio" in f]
    print(f"median of the ratios: {statistics.median(ratios):.2f}× over {len(ratios)} questions, {args.runs} "
          f"alternating runs each; load average {Path('/proc/loadavg').read_text().split()[:3]}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
