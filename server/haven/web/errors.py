"""Error answers: short plain-text messages with the right status, never a stack trace or exception text.

Blueprints return `plain(...)` for protocol errors they detect themselves; `register_error_handlers` turns
Werkzeug's HTTP exceptions (404, 405, 413...) and store failures raised anywhere into the same shape.
"""
from __future__ import annotations

from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException

from haven.formats import PLAIN_TEXT
from haven.store.base import AnswerTooLarge, QueryOutOfMemory, QueryTimeout, StoreBusy, StoreError
from haven.web.metrics import count_store_failure

#: seconds a client should wait before retrying when no query slot was free (or it has its share of them)
RETRY_AFTER_SECONDS = 1


def plain(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = Response(message.rstrip("\n") + "\n", status=status, content_type=PLAIN_TEXT.content_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def busy() -> Response:
    return plain(
        503,
        "The server is answering as many queries as it allows at once; retry shortly.",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def too_many(limit: int) -> Response:
    return plain(
        429,
        f"This client already has as many queries running or waiting as one client may ({limit}); wait for "
        "their answers, or send fewer at once.",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def timed_out(seconds: float) -> Response:
    return plain(
        503,
        f"The query ran past the {seconds:g} s time limit and was stopped. Narrow it (filters, LIMIT) and retry.",
    )


def answer_too_large(max_bytes: int) -> Response:
    return plain(503, f"The answer is over the {max_bytes:,} bytes this endpoint sends; none of it was sent. "
                      "Ask for less (fewer variables, LIMIT, no long strings) and retry.")


def out_of_memory(memory_mb: int) -> Response:
    return plain(503, f"The query needed more than the {memory_mb:,} MiB of memory a query may use and was "
                      "stopped. Narrow it (filters, LIMIT, fewer joins) and retry.")


def store_failure(error: StoreError) -> Response:
    """The answer to a store failure, wherever it is caught (the app's handlers, the query page)."""
    settings = current_app.config["HAVEN_SETTINGS"]
    count_store_failure(error)
    if isinstance(error, StoreBusy):
        return busy()
    if isinstance(error, QueryTimeout):
        return timed_out(settings.query_timeout)
    if isinstance(error, AnswerTooLarge):
        return answer_too_large(settings.max_answer_bytes)
    if isinstance(error, QueryOutOfMemory):
        return out_of_memory(settings.query_memory_mb)
    current_app.logger.error("store failure: %s", error)
    return plain(503, "The data store could not answer this request; retry shortly.", {"Retry-After": "5"})


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StoreError, store_failure)
    app.register_error_handler(Exception, _internal_error)


def _http_error(error: HTTPException) -> Response:
    # keep Werkzeug's headers (Allow on 405, Location on redirects) but answer in plain text
    original = error.get_response()
    headers = {k: v for k, v in original.headers.items() if k.lower() not in {"content-type", "content-length"}}
    return plain(error.code or 500, f"{error.code} {error.name}: {error.description}", headers)


def _internal_error(error: Exception) -> Response:
    current_app.logger.exception("unhandled error")
    return plain(500, "500 Internal Server Error: the server could not answer this request.")
