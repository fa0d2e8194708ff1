"""Throughput of Turtle entity documents: one `haven serve` replica directly vs replicas behind nginx's cache.

    .venv/bin/python bench/replicas_bench.py [--build-dir build] [--replicas 2] [--connections 16] [--seconds 10]

Starts the replica set with scripts/replicas.sh (nginx with deploy/nginx/haven.conf), lists the entities of
the served release, fetches every `/data/{slug}.ttl` once through nginx and once from replica 1 (so both
measure warm caches: nginx's on disk, the replica's rendered-body cache in memory), then runs wrk (Debian
`wrk`) against each, cycling over all the documents, and prints one line per target. wrk shares the CPUs
with the servers, as in docs/benchmarks.md. A command, not a test: nothing here asserts a figure.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "replicas.sh"

ENTITIES_QUERY = """SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s a ?type } FILTER(STRSTARTS(STR(?s), "%sid/")) }"""
#: wrk's Lua hook: each request takes the next document of the list (each wrk thread walks it on its own)
WRK_SCRIPT = """
paths = {%s}
i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Accept"] = "text/turtle"})
end
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=str(REPO / "build"))
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")

    started = subprocess.run([str(SCRIPT), "start", "-n", str(args.replicas), "-b", args.build_dir],
                             capture_output=True, text=True)
    if started.returncode != 0:
        sys.exit(started.stderr)
    env = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
    try:
        nginx, replica = env["NGINX_URL"], env["REPLICA_1_URL"]
        paths = document_paths(replica, Path(args.build_dir))
        for root in (nginx, replica):
            for path in paths:
                fetch(root + path.lstrip("/"))
        log = Path(env["STATE_DIR"]) / "nginx-access.log"
        rows = [(f"1 replica, direct ({replica})", run_wrk(replica, paths, args))]
        warm_lines = len(log.read_text().splitlines())
        rows.append((f"nginx cache over {args.replicas} replicas ({nginx})", run_wrk(nginx, paths, args)))
        cache = cache_statuses(log.read_text().splitlines()[warm_lines:])
    finally:
        subprocess.run([str(SCRIPT), "stop", env.get("STATE_DIR", "")], capture_output=True)

    print(f"Turtle entity documents: {len(paths)} distinct /data/{{slug}}.ttl, wrk -t{args.threads} "
          f"-c{args.connections} -d{args.seconds}s, {platform.node()} ({os.cpu_count()} CPUs), "
          f"{nginx_version()}")
    print(f"{'target':<58} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, figures in rows:
        print(f"{name:<58} {figures['rps']:>9,.0f} {figures['p50']:>8.2f} {figures['p99']:>8.2f} "
              f"{figures['errors']:>8}")
    direct, cached = rows[0][1]["rps"], rows[1][1]["rps"]
    print(f"nginx ÷ direct: {cached / direct:.1f}x; nginx cache statuses during the run: {cache}")
    return 0


def document_paths(replica: str, build_dir: Path) -> list[str]:
    """`/data/{slug}.ttl` of every typed entity of the served release."""
    base = json.loads((build_dir / "current" / "manifest.json").read_text())["base"]
    url = replica + "sparql?" + urllib.parse.urlencode({"query": ENTITIES_QUERY % base})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        rows = json.load(response)["results"]["bindings"]
    slugs = sorted({row["s"]["value"][len(base) + 3:] for row in rows})
    return [f"/data/{slug}.ttl" for slug in slugs if re.fullmatch(r"[a-z0-9/-]+", slug)]


def fetch(url: str) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "text/turtle"}), timeout=30) as r:
        r.read()


def run_wrk(root: str, paths: list[str], args) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % ", ".join(f'"{p}"' for p in paths))
        script.flush()
        done = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
                               "--latency", "--timeout", "10s", "-s", script.name, root],
                              capture_output=True, text=True, timeout=args.seconds + 30, check=True)
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> dict:
    def latency(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50": latency("50"), "p99": latency("99"), "errors": int(errors.group(1)) if errors else 0}


def cache_statuses(lines: list[str]) -> dict:
    counts: dict[str, int] = {}
    for line in lines:
        status = re.search(r"cache=(\S+)", line).group(1)
        counts[status] = counts.get(status, 0) + 1
    return counts


def nginx_version() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip().replace("nginx version: ", "")


if __name__ == "__main__":
    sys.exit(main())
