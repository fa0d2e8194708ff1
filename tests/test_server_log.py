"""The server's log cannot be forged by a client (issue 14, finding 12): text a client sends (paths, queries)
reaches log records, and a newline in it must not start a line that reads as a record of its own."""
from __future__ import annotations

import io
import logging
import re
import socket
from urllib.parse import urlsplit

import pytest

from haven.web.serve import LOG_FORMAT, OneLineFormatter
from plugins.rawhttp import read_until
from plugins.servers import start_live_server

FORGED = "ERROR haven: FORGED"
#: what every line of the log starts with: a record (LEVEL logger: …) or an indented traceback line
LOG_LINE = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: |  \| ")


@pytest.mark.live
@pytest.mark.parametrize("store", ["embedded", "remote"])
def test_request_paths_cannot_forge_log_lines(build_dir, tmp_path, request, store):
    log_path = tmp_path / "server.log"
    remote = {} if store == "embedded" else {"store": request.getfixturevalue("oxigraph_server").query_url}
    with log_path.open("wb") as log:
        server = start_live_server(build_dir, stderr=log, **remote)
        try:
            url = urlsplit(server.url)
            for target in (b"/ontology/x%0aERROR%20haven:%20FORGED%20line", b"/ontology/x%0d%0aERROR%20haven:%20FORGED",
                           b"/ontology/x%1b[2K%0dERROR%20haven:%20FORGED", b"/ontology/x%e2%80%a8FORGED",
                           b"/id/x%0aERROR%20haven:%20FORGED", b"/sparql?query=ASK%7B%7D%0aERROR%20haven:%20FORGED"):
                with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
                    sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    assert read_until(sock, b"\r\n").startswith(b"HTTP/1.1 "), target
        finally:
            server.stop()
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    assert not [line for line in lines if line.startswith(FORGED) or "\x1b" in line], lines
    assert all(LOG_LINE.match(line) for line in lines), lines


def record_text(log) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    logger = logging.getLogger("haven.test-one-line")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        log(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_message_with_control_characters_is_one_line():
    text = record_text(lambda logger: logger.warning("store failure: %s", "x\nERROR haven: FORGED\r\x1b[31m\u2028"))
    assert text == "WARNING haven.test-one-line: store failure: x\\nERROR haven: FORGED\\r\\x1b[31m\\u2028\n"


def test_a_traceback_is_indented_under_its_record():
    def log(logger):
        try:
            raise ValueError("bad IRI <x\nERROR haven: FORGED>")
        except ValueError:
            logger.exception("unhandled error")

    lines = record_text(log).splitlines()
    assert lines[0] == "ERROR haven.test-one-line: unhandled error"
    assert all(line.startswith("  | ") for line in lines[1:]) and len(lines) > 2, lines
    assert not any(line.startswith(FORGED) for line in lines)
