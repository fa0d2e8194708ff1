"""Small HTTP helpers for the tests that talk to a live server below the level of a client library."""
from __future__ import annotations

import http.client
import socket
import time
from urllib.parse import urlsplit


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    """What the server sends until `marker` appears, it closes, or it resets the connection."""
    data = b""
    while marker not in data:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def timed_exchange(server, method: str, path: str, body=None, headers=None, *, timeout: float,
                   address: str | None = None):
    """(response, body, seconds) of one request on its own connection; from the local `address` if given
    (another loopback address, 127.0.0.N, is another client to the server)."""
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout,
                                            source_address=(address, 0) if address else None)
    started = time.monotonic()
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read(), time.monotonic() - started
    finally:
        connection.close()
