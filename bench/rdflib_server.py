"""The naive baseline: a release loaded into rdflib's in-memory Dataset, answering SPARQL over HTTP.

    python bench/rdflib_server.py RELEASE_DIR PORT

GET /sparql?query=... answers with rdflib's own SPARQL engine (Turtle for graphs, JSON for solutions), under
waitress with 8 threads like Haven: what a Python stack that recomputes every answer delivers. /healthz says
when the data is loaded.
"""
from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs

from rdflib import Dataset
from waitress import serve


def main() -> int:
    release, port = Path(sys.argv[1]), int(sys.argv[2])
    dataset = Dataset(default_union=True)
    dataset.parse(release / "haven.nq", format="nquads")

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        query = parse_qs(environ.get("QUERY_STRING", "")).get("query", [""])[0]
        try:
            result = dataset.query(query)
        except Exception as exc:  # a benchmark baseline: report, don't crash
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [str(exc).encode()]
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            body, media = result.serialize(format="turtle"), "text/turtle"
        else:
            body, media = result.serialize(format="json"), "application/sparql-results+json"
        start_response("200 OK", [("Content-Type", media)])
        return [body]

    print(f"Serving on http://127.0.0.1:{port}/", flush=True)
    serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
