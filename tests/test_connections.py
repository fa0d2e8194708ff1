"""The real waitress process against hostile connections (issue 14): request framing that RFC 9112 says
must end the connection, idle sockets, and clients that trickle a request a byte at a time.

Everything here talks raw bytes over real sockets to `python -m haven.web.serve`, the production entry
point; the attacks are scaled down from the issue's (hundreds of sockets, not thousands) and the server's
limits lowered to match, so that the same mechanism is exercised in seconds.
"""
from __future__ import annotations

import re
import select
import socket
import time
from urllib.parse import urlsplit

import pytest

from plugins.bench import bench_module
from plugins.figures import report_line
from plugins.rawhttp import read_until
from plugins.servers import start_live_server

pytestmark = pytest.mark.live

TIMEOUT = 10.0


@pytest.fixture(scope="module")
def server(build_dir):
    server = start_live_server(build_dir)
    yield server
    server.stop()


def connect(server, timeout: float = TIMEOUT) -> socket.socket:
    url = urlsplit(server.url)
    return socket.create_connection((url.hostname, url.port), timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes (or the socket times out: then what came so far)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            return data
        if not chunk:
            return data
        data += chunk


# -- framing: RFC 9112 §6.1 -----------------------------------------------------------------------------------

SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
QUERY_HEAD = b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"


@pytest.mark.parametrize("request_bytes", [
    # both framings: chunks say the body is empty, Content-Length says the next request is body too
    QUERY_HEAD + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % (5 + len(SMUGGLED))
    + SMUGGLED,
    # chunked in HTTP/1.0, which has no chunked coding: framing unknown
    QUERY_HEAD.replace(b"HTTP/1.1", b"HTTP/1.0") + b"Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
    + SMUGGLED,
], ids=["content-length-and-chunked", "chunked-in-http-1.0"])
def test_ambiguous_framing_is_refused_and_closes_the_connection(guarded, request_bytes):
    """Request framings RFC 9112 §6.1 calls faulty, the request-smuggling shapes: a front end and this server
    could disagree on where the next request starts. The server MUST close the connection after answering,
    so whatever follows is never read as a second request (here a /healthz that must not be answered)."""
    with connect(guarded) as sock:
        sock.sendall(request_bytes)
        answer = read_all(sock)
    assert re.findall(rb"HTTP/1\.[01] (\d{3}) ", answer) == [b"400"], answer[:2000]
    assert b"Connection: close" in answer
    assert b'"status"' not in answer


def test_chunked_alone_keeps_the_connection(server):
    """The guard is about the ambiguous combination only: a chunked request on its own is valid HTTP/1.1
    and the connection stays usable for the next request."""
    query = b"ASK {}"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(query), query)
    head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Accept: application/sparql-results+json\r\nTransfer-Encoding: chunked\r\n\r\n")
    with connect(server) as sock:
        sock.sendall(head + chunked + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = read_all(sock)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", answer) == [b"200", b"200"], answer[:2000]
    assert b'"boolean": true' in answer or b'"boolean":true' in answer


# -- idle and slow clients ------------------------------------------------------------------------------------

slow_clients = bench_module("slow_clients")

#: the guarded server's limits, scaled down from the defaults (1000, 10 s, 30 s) so the attacks take seconds
MAX_CONNECTIONS, READ_TIMEOUT, IDLE_TIMEOUT = 40, 1.5, 3.0
#: what a client waits before deciding the server will not answer; the old 120 s idle timeout is far beyond
PATIENCE = 20.0


@pytest.fixture(scope="module", params=["embedded", "remote"])
def guarded(request, build_dir):
    """A server with small limits, on the embedded store or over a real Oxigraph server: connections are
    handled before any store is involved, and must be the same on both."""
    store = {} if request.param == "embedded" else {"store": request.getfixturevalue("oxigraph_server").query_url}
    server = start_live_server(build_dir, max_connections=MAX_CONNECTIONS, request_read_timeout=READ_TIMEOUT,
                               idle_timeout=IDLE_TIMEOUT, **store)
    server.store_kind = request.param
    yield server
    server.stop()


def closed_by_server(sock: socket.socket, send_every: float, payload: bytes) -> bool:
    """Send `payload` one byte every `send_every` seconds until the server closes the connection (True) or
    the payload runs out (False)."""
    sock.setblocking(False)
    for i in range(len(payload)):
        readable, _, _ = select.select([sock], [], [], send_every)
        if readable:
            try:
                if sock.recv(65536) == b"":
                    return True
            except OSError:
                return True
        try:
            sock.send(payload[i:i + 1])
        except OSError:
            return True
    return False


def test_a_trickling_request_is_cut_off_at_its_deadline(guarded):
    """waitress's idle timeout restarted with every byte: one byte every few seconds held a slot forever.
    Here the whole request must arrive within READ_TIMEOUT of its first byte."""
    payload = slow_clients.TRICKLED_REQUEST[:int(PATIENCE / 0.1)]
    with connect(guarded, timeout=PATIENCE) as sock:
        assert closed_by_server(sock, 0.1, payload), "still open after the whole trickle"


def test_an_idle_connection_is_closed(guarded):
    with connect(guarded, timeout=PATIENCE) as sock:
        try:
            assert sock.recv(1) == b""
        except ConnectionResetError:
            pass


def test_a_connection_between_requests_is_closed_when_idle(guarded):
    with connect(guarded, timeout=PATIENCE) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = read_until(sock, b'"ok"}')
        assert answer.startswith(b"HTTP/1.1 200"), answer
        try:
            assert sock.recv(1) == b""  # keep-alive, then closed after IDLE_TIMEOUT
        except ConnectionResetError:
            pass


def test_cheap_requests_get_through_idle_and_trickling_sockets(guarded, pytestconfig):
    """The issue's attacks at once, scaled down: more idle sockets and tricklers than the server holds
    connections (and than waitress's default 100), each reopened as soon as it is closed. Every cheap
    request is still answered, far within the patience that waitress's own timeout (120 s) would exceed."""
    url = urlsplit(guarded.url)
    attack = slow_clients.Attack(url.hostname, url.port, idle=80, tricklers=80, every=0.25)
    try:
        time.sleep(READ_TIMEOUT + 2 * IDLE_TIMEOUT)  # the attack's sockets fill every slot, again and again
        waits = [slow_clients.probe(url.hostname, url.port, PATIENCE) for _ in range(10)]
    finally:
        attack.stop()
    assert None not in waits, waits
    assert attack.reopened > 0  # the server did close attack sockets to make room
    report_line(pytestconfig, f"slow clients ({guarded.store_kind} store): 80 idle + 80 tricklers on a "
                              f"{MAX_CONNECTIONS}-connection server, "
                              f"reopened {attack.reopened} times: 10 of 10 cheap requests answered, "
                              f"max wait {max(waits):.2f} s")
