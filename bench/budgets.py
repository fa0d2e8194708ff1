"""The time budgets that used to be assertions inside tests, measured and printed beside their budget.

    .venv/bin/python bench/budgets.py [--build-dir build] [--only hermit,shacl,select]

The tests keep what they check (HermiT finds the ontology consistent, 300 statements conform, a keep-alive
connection answers every SELECT); how long that takes depends on the machine and on what else runs on it,
so it is a figure, measured here: a figure over its budget is a regression to look into, not a red test.

  hermit   the build's consistency stage (HermiT, JVM start-up included) over ontology/haven.ttl alone
  shacl    pySHACL over the shape fixtures' background plus 300 generated sanctuary statements (the fixtures
           and the generator are the tests' own: tests/plugins/shacl.py)
  select   median and p95 of a small SELECT over loopback on one keep-alive connection, 100 requests after
           20 warm-up ones, against `haven serve` over --build-dir/current (run `haven build` first)

Exit status 0 whatever the figures are: this is a measurement, not a check.
"""
from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

#: (figure, budget, unit, why the budget is what it is)
BUDGETS = {
    "hermit": (60.0, "s", "about 1 s measured with JVM start-up; a big regression means a costly axiom"),
    "shacl": (60.0, "s", "the limit the test asserted until the figure moved here"),
    "select": (100.0, "ms", "median; a SPARQL client's small query on a warm keep-alive connection"),
}
SELECT_ORGS = "SELECT ?s WHERE { ?s a <https://w3id.org/haven/ontology#MilitantOrganization> } ORDER BY ?s"


def measure_hermit() -> tuple[float, str]:
    from rdflib import Graph

    from haven.config import DEFAULT_BASE
    from haven.pipeline.consistency import check_consistency

    ontology = Graph().parse(REPO / "ontology" / "haven.ttl")
    started = time.perf_counter()
    result = check_consistency(ontology, Graph(), Graph(), DEFAULT_BASE)
    return time.perf_counter() - started, f"{result.axioms} axioms, consistent"


def measure_shacl() -> tuple[float, str]:
    from plugins import shacl

    shapes, background = shacl.read_shapes(), shacl.read_background()
    data = background + shacl.sanctuary_statements(300)
    started = time.perf_counter()
    conforms, _ = shacl.run(data, shapes)
    return time.perf_counter() - started, f"{len(data)} triples, {'conforms' if conforms else 'DOES NOT CONFORM'}"


def measure_select(build_dir: Path) -> tuple[float, str]:
    import load  # bench/load.py: its server starter

    if not (build_dir / "current").exists():
        raise SystemExit(f"no release in {build_dir}: run `haven build` first")
    server = load.start_server(build_dir)
    try:
        url = urlsplit(server.url)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        path = "/sparql?" + urlencode({"query": SELECT_ORGS})
        samples = []
        for _ in range(120):
            started = time.perf_counter()
            connection.request("GET", path, headers={"Accept": "application/sparql-results+json"})
            response = connection.getresponse()
            response.read()
            samples.append(time.perf_counter() - started)
            if response.status != 200:
                raise SystemExit(f"/sparql answered {response.status}")
        connection.close()
    finally:
        server.stop()
    samples = sorted(samples[20:])  # the first requests warm caches
    p95 = samples[int(len(samples) * 0.95)] * 1000
    return statistics.median(samples) * 1000, f"p95 {p95:.2f} ms over {len(samples)} requests"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=REPO / "build", help="served for `select`")
    parser.add_argument("--only", default=",".join(BUDGETS), help="comma-separated figures to measure")
    args = parser.parse_args(argv)
    measures = {"hermit": measure_hermit, "shacl": measure_shacl, "select": lambda: measure_select(args.build_dir)}
    print(f"{'figure':8} {'measured':>12} {'budget':>10}  verdict  notes")
    for name in args.only.split(","):
        budget, unit, why = BUDGETS[name]
        value, notes = measures[name]()
        verdict = "within" if value <= budget else "OVER"
        print(f"{name:8} {value:9.2f} {unit:2} {budget:7.0f} {unit:2}  {verdict:7}  {notes} ({why})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
