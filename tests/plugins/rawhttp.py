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


def timed_exchange(server, method: str, path: str, body=None, headers=None, *, timeout: float):
    """(response, body, seconds) of one request on its own connection."""
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read(), time.monotonic() - started
    finally:
        connection.close()
