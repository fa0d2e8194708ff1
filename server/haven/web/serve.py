"""Production serving: the app under waitress (a real multi-threaded WSGI server, not Flask's dev server).

`run(settings)` is what `haven serve` calls. With ``port=0`` the OS picks a free port; the first line on
stdout is always ``Serving on http://HOST:PORT/`` with the real port, so that tests and scripts can find it.
``python -m haven.web.serve`` does the same from HAVEN_* environment variables alone.
"""
from __future__ import annotations

import logging
import re
import signal
import sys

from waitress.server import MultiSocketServer

from haven.web.app import create_app
from haven.web.search import index as search_index
from haven.web.connections import create_server
from haven.config import Settings
from haven.credentials import redact
from haven.store.base import StoreError


def run(settings: Settings) -> None:
    configure_logging()
    try:
        app = create_app(settings)
    except StoreError as error:
        # a store that cannot be reached or holds no release: say so and exit non-zero, no traceback
        raise SystemExit(redact(f"haven serve: cannot open the store {settings.store}: {error}")) from None
    except ValueError as error:  # a setting no server can run with (create_app says which)
        raise SystemExit(f"haven serve: {error}") from None
    store = app.extensions["haven"]
    # start the query workers now, not during the first client's request; in the background, so that the
    # server answers (pages, documents, /healthz) while they load their copies of a large release
    store.warm_up(background=True)
    search_index.warm_up(app)
    server = create_server(app, settings)
    if isinstance(server, MultiSocketServer):
        host, port = server.effective_listen[0]
    else:
        host, port = server.effective_host, server.effective_port
    print(f"Serving on http://{host}:{port}/ (release {store.release_id})", flush=True)
    try:
        server.run()
    finally:
        store.close()


#: C0 and C1 controls (newline, carriage return, escape...) and the Unicode line and paragraph separators
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def escape_controls(text: str) -> str:
    """`text` with every control character written as a Python escape (``\\n``, ``\\x1b``, ``\\u2028``)."""
    return _CONTROL_CHARACTERS.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class OneLineFormatter(logging.Formatter):
    """Log records that a client cannot split or recolour.

    Much of what the server logs carries client text: a request path (waitress's "Exception while serving
    /…", rdflib's warnings about a malformed IRI), a query (the remote store's notes about cut answers), a
    store's error message quoting either. A newline in it would start a line that looks like a record of its
    own (``ERROR haven: …``); an escape sequence would rewrite the terminal. So the message is escaped, and
    a traceback, the one thing that spans lines, has every line indented under its record.
    """

    def format(self, record: logging.LogRecord) -> str:
        # logging caches a record's traceback text on the record, maybe formatted by another handler's
        # formatter; this one must format (and indent) it itself
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei) -> str:
        return self._indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return self._indented(super().formatStack(stack_info))

    @staticmethod
    def _indented(text: str) -> str:
        return "\n".join("  | " + escape_controls(line) for line in text.split("\n"))


def configure_logging() -> None:
    """INFO and above to stderr, one record per line whatever a client sent (see OneLineFormatter).
    Replaces the handlers of a previous call, so that `haven serve` and `python -m` configure the same way."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def main() -> int:
    # SIGTERM (service managers, test fixtures) unwinds through run()'s finally, which stops the workers
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        run(Settings.from_env())
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
