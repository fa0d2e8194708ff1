"""What reading client SPARQL costs the server per query (issue 14, findings 1-5; issue 9, defect 1).

    PYTHONPATH=server .venv/bin/python bench/query_text.py [--repeat 2000]

Prints, per text: the cost of `haven.web.sparql.safety.inspect` (the one tokenizer pass every /sparql
query takes in the request thread, outside the query slots), and for the remote store the round trip to a
syntax checker process (`haven.store.worker --check`) beside what the former in-process check cost (a
parse, plan and, for ASK, evaluation on an empty pyoxigraph store in the server). Also how long the
3,000-group query that used to kill a replica takes to be refused. A command, not a test: nothing here
asserts a figure.
"""
from __future__ import annotations

import argparse
import statistics
import time

import pyoxigraph as ox

from haven.store.base import QueryTooComplex
from haven.store.embedded import WorkerPool
from haven.web.sparql import safety

SMALL = ("PREFIX haven: <https://w3id.org/haven/ontology#> SELECT ?org ?name WHERE { ?org a haven:MilitantOrganization ; "
         "<http://www.w3.org/2000/01/rdf-schema#label> ?name . FILTER(LANG(?name) = 'en') } ORDER BY ?name LIMIT 50")
VALUES = ("SELECT (COUNT(*) AS ?n) WHERE { VALUES (?s ?i) { "
          + " ".join(f"(<https://w3id.org/haven/id/x{i}> {i})" for i in range(1500)) + " } OPTIONAL { ?s ?p ?o } }")
DEEP = "SELECT * WHERE " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000


def per_call(function, repeat: int) -> float:
    """Median seconds of one call, over `repeat` calls in 5 batches."""
    batches = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            function()
        batches.append((time.perf_counter() - started) / repeat)
    return statistics.median(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    repeat = parser.parse_args().repeat
    checkers = WorkerPool(None, size=1)
    checkers.start()
    empty = ox.Store()
    try:
        for name, text in (("ASK {}", "ASK {}"), (f"a 5-line SELECT ({len(SMALL)} B)", SMALL),
                           (f"1,500-row VALUES ({len(VALUES)} B)", VALUES)):
            n = repeat if len(text) < 1000 else max(1, repeat // 100)
            inspect = per_call(lambda: safety.inspect(text), n)
            checker = per_call(lambda: checkers.run({"query": text, "base_iri": None}, 10.0), max(1, n // 10))
            in_process = per_call(lambda: empty.query(text), max(1, n // 10))
            print(f"{name}: safety.inspect {inspect * 1e6:,.0f} µs; remote syntax check in a checker process "
                  f"{checker * 1e6:,.0f} µs (in the server process before: {in_process * 1e6:,.0f} µs)")

        def refuse_deep():
            try:
                safety.inspect(DEEP)
            except QueryTooComplex:
                return
            raise AssertionError("the 3,000-group query was not refused")

        print(f"3,000 nested groups ({len(DEEP)} B): refused 400 after {per_call(refuse_deep, repeat // 10) * 1e6:,.0f} µs "
              f"of tokenizing, before any parser")
    finally:
        checkers.close()


if __name__ == "__main__":
    main()
