"""waitress with Haven's rules for connections: what a client may do with a socket before it has sent a
request, while it sends one, and between two (issue 14).

waitress serves connections from one event loop and answers requests from a pool of threads, so a socket
that sends nothing costs no thread, only one of `connection_limit` slots; at the limit waitress stops
accepting, and new clients wait in the kernel's backlog. Its one timeout, `channel_timeout` (120 s, checked
every 30 s), counts from a connection's last byte, so a client that sends one byte every few seconds keeps
its slot forever, and a hundred idle sockets stopped the server for two minutes. Here instead:

* a request must arrive whole within `request_read_timeout` of its first byte, however it trickles;
* a connection with no request in progress is closed after `idle_timeout`;
* at `max_connections` a new client is still accepted: the connection that has waited longest without a
  request being answered on it (idle, or a request still arriving) is closed to make room, as nginx drops
  idle keep-alive connections when it runs out. Only if every connection has a request being answered does
  the server stop accepting until one finishes.

These are waitress internals (3.x: `HTTPChannel.request`, `requests`, `last_activity`, the server's
`active_channels` and `maintenance`), hence the version bound in pyproject.toml; tests/test_connections.py
runs the attacks against the real process.
"""
from __future__ import annotations

import logging
import os
import resource
import time

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from haven.config import Settings

log = logging.getLogger(__name__)

#: bodies up to this many times max_query_bytes reach the app (which answers 413 past 1x); larger are cut off
BODY_READ_FACTOR = 4
#: how often (seconds) the deadlines are checked: the granularity of every timeout below
CHECK_INTERVAL_S = 1
#: file descriptors kept for everything but client connections (store files, worker pipes, logs)
SPARE_FILE_DESCRIPTORS = 256
#: most clients accepted in one turn of waitress's event loop
ACCEPT_BATCH = 64


class FramingCheckedParser(HTTPRequestParser):
    """waitress's request parser, refusing the framings RFC 9112 §6.1 calls faulty instead of guessing.

    waitress (3.0.2) frames a request that carries both Content-Length and Transfer-Encoding: chunked by
    its chunks, keeps the connection open and reads whatever follows the last chunk as the next request:
    the request-smuggling shape, where a front end that believes Content-Length and this server disagree
    on where one request ends. The RFC lets a server refuse such a request and requires it to close the
    connection either way, as for Transfer-Encoding in an HTTP/1.0 request. Raising ParsingError here
    makes waitress answer 400 with `Connection: close` and drop everything queued behind it on the
    connection.
    """

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        # waitress removes the Transfer-Encoding header of an HTTP/1.1 request and sets `chunked` instead
        transfer_coded = self.chunked or "TRANSFER_ENCODING" in self.headers
        if transfer_coded and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Content-Length and Transfer-Encoding together (RFC 9112 section 6.1)")
        if transfer_coded and self.version == "1.0":
            raise ParsingError("Transfer-Encoding in an HTTP/1.0 request (RFC 9112 section 6.1)")


class HavenChannel(HTTPChannel):
    """A connection that knows when the request it is reading began."""

    parser_class = FramingCheckedParser
    #: time.time() of the first byte of the request being read (None between requests)
    request_started: float | None = None

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.time()
        handled = super().received(data)
        if self.request is None:
            # every request that began has arrived whole (and is queued or answered)
            self.request_started = None
        return handled

    def waiting_since(self) -> float | None:
        """Since when this connection has held a slot without a request being answered on it, or None while
        one is (the app's own limits bound that). A request still arriving counts from its first byte."""
        if self.requests or self.will_close:
            return None
        return self.request_started if self.request is not None else self.last_activity


class HavenServer(TcpWSGIServer):
    channel_class = HavenChannel

    def __init__(self, *args, request_read_timeout: float, idle_timeout: float, **kwargs):
        self.request_read_timeout, self.idle_timeout = request_read_timeout, idle_timeout
        super().__init__(*args, **kwargs)

    def maintenance(self, now: float) -> None:
        """Replaces waitress's idle check (last byte + channel_timeout) with the two deadlines."""
        for channel in list(self.active_channels.values()):
            since = channel.waiting_since()
            if since is None:
                continue
            limit = self.request_read_timeout if channel.request is not None else self.idle_timeout
            if now - since > limit:
                channel.will_close = True

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        # at the limit, accept only when a connection can make room (see handle_accept)
        return len(self._map) < self.adj.connection_limit or any(
            channel.waiting_since() is not None for channel in self.active_channels.values())

    def handle_accept(self) -> None:
        """Accept up to ACCEPT_BATCH waiting clients (waitress takes one per turn of its loop, and a turn
        costs time in proportion to the open connections: under attack the new clients queued in the
        backlog faster than one a turn), closing the longest-waiting connection for each one past the
        limit."""
        victims = None
        for _ in range(ACCEPT_BATCH):
            try:
                accepted = self.accept()
            except OSError:
                if self.adj.log_socket_errors:
                    log.warning("accept() failed", exc_info=True)
                return
            if accepted is None:
                return  # nobody waiting
            conn, addr = accepted
            try:
                self.set_socket_options(conn)
            except OSError:
                conn.close()  # the client left before we got to it
                continue
            if len(self._map) >= self.adj.connection_limit:
                if victims is None:
                    victims = iter(sorted((c for c in self.active_channels.values() if c.waiting_since() is not None),
                                          key=HavenChannel.waiting_since))
                victim = next(victims, None)
                if victim is not None and victim.waiting_since() is not None:
                    victim.handle_close()
            self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)
            if len(self._map) > self.adj.connection_limit:
                return  # nothing left to close: wait for a request to finish (readable() says when)


def create_server(app, settings: Settings):
    """waitress's `create_server` for TCP with Haven's channel, parser and server classes (its own function
    offers no way to choose them) and the connection settings."""
    connections = connection_limit(settings.max_connections)
    # waitress reads a whole body (spooling past 512 KiB to a temporary file) before the app sees it, up to
    # 1 GiB by default: clients announcing huge bodies would fill memory and disk. The app refuses anything
    # over max_query_bytes (with its own explanation and CORS headers); waitress stops what is far beyond.
    # X-Forwarded-* are honoured by the app itself (ProxyFix, settings.proxy_hops, see haven.web.app._trust_proxies)
    # so that every WSGI server and the test client agree, hence no trusted_proxy here: waitress doing it too
    # would apply the same headers twice. But waitress (3.x) deletes every X-Forwarded-* header from a peer it
    # does not trust before the app sees it, which would leave ProxyFix nothing to read: keep that only while
    # no proxy is trusted, where it is a second guard against a client choosing the links' scheme and host.
    adj = Adjustments(host=settings.host, port=settings.port, threads=settings.threads,
                      max_request_body_size=BODY_READ_FACTOR * settings.max_query_bytes,
                      clear_untrusted_proxy_headers=settings.proxy_hops == 0,
                      connection_limit=connections, cleanup_interval=CHECK_INTERVAL_S,
                      # select() fails outright on descriptors past 1023; poll() has no such bound
                      asyncore_use_poll=True)
    socket_map: dict = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    servers = [HavenServer(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=sockinfo,
                           request_read_timeout=settings.request_read_timeout, idle_timeout=settings.idle_timeout)
               for sockinfo in adj.listen]
    if len(servers) == 1:
        return servers[0]
    # a host name that resolves to several addresses (localhost: 127.0.0.1 and ::1) listens on each
    return MultiSocketServer(socket_map, adj, [(s.effective_host, s.effective_port) for s in servers],
                             dispatcher, servers[-1].log_info)


def connection_limit(wanted: int) -> int:
    """`wanted`, after raising this process's open-file limit to hold that many sockets besides what it has
    open already; less, with a warning, when the hard limit does not allow it. Past the limit accept()
    fails, and waitress would retry it in a busy loop."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = _open_file_descriptors() + SPARE_FILE_DESCRIPTORS + wanted
    if needed > soft:
        new_soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
            soft = new_soft
        except (ValueError, OSError):
            pass
    available = soft - _open_file_descriptors() - SPARE_FILE_DESCRIPTORS
    if available < wanted:
        log.warning("max_connections %d lowered to %d: the open-file limit is %d (raise it, e.g. LimitNOFILE=)",
                    wanted, max(available, 16), soft)
        return max(available, 16)
    return wanted


def _open_file_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 64  # not Linux: a guess on the safe side
