"""What the Prometheus metrics cost (haven.web.metrics): per request, and per scrape.

    PYTHONPATH=server .venv/bin/python bench/metrics.py [--build-dir build] [--requests 3000] [--scrapes 200]

In process, over the build's current release (the Flask app as `haven serve` makes it, without waitress):
the same cached document (`/data/{slug}.ttl`, a hit in the release cache: the cheapest request Haven
answers, so the counting's share is the largest) requested in rounds with the metrics' before/after-request
hooks in place and removed, interleaved so that a busy machine slows both alike, in CPU time; then `/metrics` scraped
after that traffic: time, bytes and samples. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from haven.config import Settings
from haven.web import metrics
from haven.web.app import create_app

SLUG = "al-qaeda"
ROUNDS = 10


def per_request_us(client, path: str, count: int) -> float:
    """CPU time of this process per request: on a shared machine the wall clock mostly measures the others."""
    started = time.process_time()
    for _ in range(count):
        client.get(path)
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=Path("build"))
    parser.add_argument("--requests", type=int, default=3000, help="requests each way, over all rounds")
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()

    app = create_app(Settings.from_env(build_dir=args.build_dir.resolve()))
    client = app.test_client()
    path = f"/data/{SLUG}.ttl"
    assert client.get(path).status_code == 200  # rendered once: every later request is a cache hit
    hooks = ((app.before_request_funcs[None], metrics._started), (app.after_request_funcs[None], metrics._answered))

    counted, bare = [], []
    per_round = max(1, args.requests // ROUNDS)
    for _ in range(ROUNDS):
        counted.append(per_request_us(client, path, per_round))
        for funcs, hook in hooks:
            funcs.remove(hook)
        bare.append(per_request_us(client, path, per_round))
        for funcs, hook in hooks:
            funcs.insert(0, hook)  # where install() put it: the after-request hook runs last
    with_us, without_us = statistics.median(counted), statistics.median(bare)

    times, body = [], ""
    for _ in range(args.scrapes):
        started = time.perf_counter()
        response = client.get("/metrics")
        times.append(time.perf_counter() - started)
        body = response.get_data(as_text=True)
    samples = sum(len(family.samples) for family in text_string_to_metric_families(body))
    app.extensions["haven"].close()

    print(f"release {app.extensions['haven'].release_id}, {path}, {ROUNDS} rounds of {per_round} requests each way")
    print(f"CPU per request (median of rounds): {with_us:.0f} µs counted, {without_us:.0f} µs without the hooks: "
          f"{with_us - without_us:+.0f} µs ({(with_us - without_us) / without_us * 100:+.1f} %)")
    print(f"/metrics after that traffic: p50 {statistics.median(times) * 1000:.2f} ms, "
          f"max {max(times) * 1000:.2f} ms over {args.scrapes} scrapes; {len(body.encode()):,} bytes, "
          f"{samples} samples")


if __name__ == "__main__":
    main()
