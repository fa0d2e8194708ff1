"""The real waitress process against hostile connections (issue 14): request framing that RFC 9112 says
must end the connection, idle sockets, and clients that trickle a request a byte at a time.

Everything here talks raw bytes over real sockets to `python -m haven.web.serve`, the production entry
point; the attacks are scaled down from the issue's (hundreds of sockets, not thousands) and the server's
limits lowered to match, so that the same mechanism is exercised in seconds.
"""
from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

import pytest

from conftest import start_live_server
from rawhttp import read_until

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
def test_ambiguous_framing_is_refused_and_closes_the_connection(server, request_bytes):
    """Request framings RFC 9112 §6.1 calls faulty, the request-smuggling shapes: a front end and this server
    could disagree on where the next request starts. The server MUST close the connection after answering,
    so whatever follows is never read as a second request (here a /healthz that must not be answered)."""
    with connect(server) as sock:
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
