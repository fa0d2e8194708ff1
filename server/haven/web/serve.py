"""Production serving: the app under waitress (a real multi-threaded WSGI server, not Flask's dev server).

`run(settings)` is what `haven serve` calls. With ``port=0`` the OS picks a free port; the first line on
stdout is always ``Serving on http://HOST:PORT/`` with the real port, so that tests and scripts can find it.
``python -m haven.web.serve`` does the same from HAVEN_* environment variables alone.
"""
from __future__ import annotations

import logging
import signal
import sys

from waitress import create_server

from haven.web.app import create_app
from haven.config import Settings

#: bodies up to this many times max_query_bytes reach the app (which answers 413 past 1x); larger are cut off
BODY_READ_FACTOR = 4
from haven.store.base import StoreError


def run(settings: Settings) -> None:
    try:
        app = create_app(settings)
    except StoreError as error:
        # a store that cannot be reached or holds no release: say so and exit non-zero, no traceback
        raise SystemExit(f"haven serve: cannot open the store {settings.store}: {error}") from None
    store = app.extensions["haven"]
    # start the query workers now, not during the first client's request; in the background, so that the
    # server answers (pages, documents, /healthz) while they load their copies of a large release
    warm_up = getattr(store, "warm_up", None)
    if warm_up is not None:
        warm_up(background=True)
    # waitress reads a whole body (spooling past 512 KiB to a temporary file) before the app sees it, up to
    # 1 GiB by default: clients announcing huge bodies would fill memory and disk. The app refuses anything
    # over max_query_bytes (with its own explanation and CORS headers); waitress stops what is far beyond.
    # X-Forwarded-* are honoured by the app itself (ProxyFix, settings.proxy_hops, see haven.web.app._trust_proxies)
    # so that every WSGI server and the test client agree, hence no trusted_proxy here: waitress doing it too
    # would apply the same headers twice. But waitress (3.x) deletes every X-Forwarded-* header from a peer it
    # does not trust before the app sees it, which would leave ProxyFix nothing to read: keep that only while
    # no proxy is trusted, where it is a second guard against a client choosing the links' scheme and host.
    server = create_server(app, host=settings.host, port=settings.port, threads=settings.threads,
                           max_request_body_size=BODY_READ_FACTOR * settings.max_query_bytes,
                           clear_untrusted_proxy_headers=settings.proxy_hops == 0)
    host, port = server.effective_host, server.effective_port
    print(f"Serving on http://{host}:{port}/ (release {store.release_id})", flush=True)
    try:
        server.run()
    finally:
        store.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM (service managers, test fixtures) unwinds through run()'s finally, which stops the workers
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        run(Settings.from_env())
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
