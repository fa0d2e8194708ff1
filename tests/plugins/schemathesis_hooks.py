"""Schemathesis hooks for fuzzing Haven (tests/schemathesis.toml loads them; docs/http.md shows the command).

* SPARQL request bodies (`application/sparql-query`, `application/sparql-update`) go on the wire as UTF-8
  text: Schemathesis has no serializer for these media types.
* `only_deliberate_503s` replaces Schemathesis's `not_a_server_error`: a 5xx is a defect unless it is one of
  the 503s Haven gives on purpose (a query past its time limit or memory, an answer over the byte cap, no
  query slot free, a dump being written, a failed remote store), each with its reason in the body.
"""
from __future__ import annotations

import schemathesis

#: the reasons Haven's deliberate 503s give (haven/web/errors.py, the dump route); any other 5xx is a defect
DELIBERATE_503 = ("time limit", "bytes this endpoint sends", "MiB of memory", "as many queries as it allows",
                  "dumps of this release are being written", "could not answer this request")


@schemathesis.serializer("application/sparql-query", "application/sparql-update")
def sparql_text(ctx, value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


@schemathesis.check
def only_deliberate_503s(ctx, response, case):
    if response.status_code < 500:
        return None
    if response.status_code != 503 or not any(reason in response.text for reason in DELIBERATE_503):
        raise AssertionError(f"{response.status_code} is no deliberate 503: {response.text[:300]}")
    return None
