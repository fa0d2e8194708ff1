"""The same app under each WSGI server, side by side (issue 11: "measure waitress, gunicorn and granian").

    .venv/bin/python bench/wsgi_servers.py [--build-dir build] [--duration 10] [--only waitress,granian-2]

Needs the `bench` extra (`pip install -e '.[bench]'`: gunicorn, granian; measuring tools, not dependencies: Haven serves with waitress, whose
slow-client rules live in haven.web.connections; bench/slow_clients.py --server runs the attack against the
others). For each server: sequential latency of a trivial request (GET /healthz) and of `ASK {}` through
/sparql, the median over the competency questions of their sequential medians, and wrk at c=16 on the entity
documents and on the sweep's cheap query (req/s, answers 200 / 503). Every figure printed, none asserted.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402

BIN = Path(sys.executable).parent


def servers(build_dir: Path, port: int) -> dict[str, list[str]]:
    """Each server as it would be deployed on this machine's two cores: 8 threads a process, as `haven serve`."""
    gunicorn = [str(BIN / "gunicorn"), "-k", "gthread", "--threads", "8", "-b", f"127.0.0.1:{port}",
                "haven.web.app:create_app()"]
    granian = [str(BIN / "granian"), "--interface", "wsgi", "--blocking-threads", "8", "--port", str(port),
               "--factory", "haven.web.app:create_app"]
    return {
        "waitress (haven serve, 8 threads)": [run.PY, "-m", "haven.cli", "serve", "--build-dir", str(build_dir),
                                              "--port", str(port)],
        "gunicorn gthread, 1 process": gunicorn + ["-w", "1"],
        "gunicorn gthread, 2 processes": gunicorn + ["-w", "2"],
        "granian, 1 process": granian + ["--workers", "1"],
        "granian, 2 processes": granian + ["--workers", "2"],
    }


def measure(url: str, paths: list[str], duration: int) -> dict:
    seq = lambda path, accept: statistics.median(run.fetch(url + path, accept)[0] for _ in range(200))  # noqa: E731
    cheap = "/sparql?query=" + urllib.parse.quote(run.CHEAP_QUERY)
    out = {"healthz_ms": seq("/healthz", "*/*"),
           "ask_ms": seq("/sparql?query=ASK%7B%7D", "application/sparql-results+json")}
    medians = [run.query_latency(url + "/sparql?query=" + urllib.parse.quote(cq.read_text()), 11,
                                 "application/sparql-results+json", 5).get("median")
               for cq in sorted(run.CQ_DIR.glob("*.rq")) if not cq.stem.startswith("17")]  # 17 runs for seconds
    out["cq_ms"] = statistics.median(m for m in medians if m is not None)
    out["documents_c16"] = run.wrk(url, paths, "text/turtle", 16, duration, statuses=True)
    run.quiesce(url + cheap)
    out["sparql_c16"] = run.wrk(url, [cheap], "application/sparql-results+json", 16, duration, statuses=True)
    run.quiesce(url + cheap)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=run.REPO / "build")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--only", default="", help="comma-separated name fragments of the servers to measure")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    slugs = run.release_facts(args.build_dir)["sample_entities"]
    paths = [f"/data/{slug}.ttl" for slug in slugs]
    env = {"HAVEN_BUILD_DIR": str(args.build_dir.resolve())}
    results = {}
    for name in servers(args.build_dir, 0):
        if args.only and not any(part in name for part in args.only.split(",")):
            continue
        port = run.free_port()
        try:
            server = run.Server(name, servers(args.build_dir, port)[name], port, "/healthz", env=env, timeout=120)
        except (RuntimeError, OSError) as error:
            results[name] = {"error": f"not measured: {error}"}
            print(f"{name}: {results[name]['error']}", flush=True)
            continue
        try:
            run.settle(server)
            for path in paths:  # every document rendered once, as in bench/run.py
                run.fetch(server.url + path, "text/turtle")
            results[name] = figures = measure(server.url, paths, args.duration)
        finally:
            server.stop()
        docs, sparql = figures["documents_c16"], figures["sparql_c16"]
        print(f"{name}: /healthz {figures['healthz_ms']:.2f} ms, ASK {figures['ask_ms']:.2f} ms, CQ median "
              f"{figures['cq_ms']:.2f} ms; c=16 documents {docs.get('rps', 0):,.0f} req/s {docs.get('statuses')}, "
              f"cheap query {sparql.get('rps', 0):,.0f} req/s {sparql.get('statuses')}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print(f"load average at the end: {Path('/proc/loadavg').read_text().split()[:3]} ({time.strftime('%H:%M UTC', time.gmtime())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
