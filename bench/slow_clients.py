"""How long cheap requests wait while idle sockets and slow clients hold the server (issue 14, finding 6).

    .venv/bin/python bench/slow_clients.py [--build-dir build] [--idle 100] [--tricklers 500]
        [--trickle-every 20] [--hold 90] [--probe-timeout 60] [--env NAME=VALUE ...]
        [--server waitress|gunicorn|granian]

Starts `python -m haven.web.serve` (the production entry point) on a free loopback port over
BUILD_DIR/current, with the HAVEN_* settings given by --env; or, to compare WSGI servers (issue 11), the
same app under gunicorn (gthread) or granian with their own slow-client settings (`OTHER_SERVERS`). Opens IDLE connections that send nothing and
TRICKLERS that send a request one byte every TRICKLE_EVERY seconds and never finish it; like an attacker,
it opens a new one whenever the server closes one. After 5 s, for HOLD seconds, it sends cheap requests
one after another (GET /healthz, each on a new connection, waiting at most PROBE_TIMEOUT) and prints how
long they waited: median, maximum, how many got no answer. A command, not a test: nothing here asserts a
figure (tests/test_connections.py runs a scaled-down attack and asserts that requests get through).
"""
from __future__ import annotations

import argparse
import errno
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: never completed: a trickler sends it one byte at a time
TRICKLED_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 4000 + b"\r\n\r\n"


class Attack:
    """`idle` sockets that send nothing and `tricklers` that send one byte every `every` seconds, each
    reopened as soon as the server closes it, until `stop()`."""

    def __init__(self, host: str, port: int, idle: int, tricklers: int, every: float):
        self.address, self.every = (host, port), every
        self.idle = [self._open() for _ in range(idle)]
        self.tricklers = [[self._open(), 0] for _ in range(tricklers)]
        self.reopened = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _open(self) -> socket.socket | None:
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect(self.address)
        except BlockingIOError:
            pass  # completes in the background (the kernel's backlog accepts it even if the server does not)
        except OSError:
            sock.close()
            return None
        return sock

    @staticmethod
    def _closed(sock: socket.socket | None) -> bool:
        """Whether the server closed `sock`: a non-blocking read, since select() cannot watch the thousands
        of descriptors an attack holds."""
        if sock is None:
            return True
        try:
            return sock.recv(65536) == b""
        except BlockingIOError:
            return False  # open, nothing to read
        except OSError as error:
            return error.errno != errno.ENOTCONN  # still connecting: the server's backlog is full

    def _reopen(self, sock: socket.socket | None) -> socket.socket | None:
        if sock is not None:
            sock.close()
        self.reopened += 1
        return self._open()

    def _run(self) -> None:
        next_byte = time.monotonic()
        while not self._stopping.wait(0.2):
            self.idle = [self._reopen(s) if self._closed(s) else s for s in self.idle]
            send_now = time.monotonic() >= next_byte
            if send_now:
                next_byte += self.every
            for pair in self.tricklers:
                if self._closed(pair[0]):
                    pair[0], pair[1] = self._reopen(pair[0]), 0
                elif send_now:
                    try:
                        pair[0].send(TRICKLED_REQUEST[pair[1]:pair[1] + 1])
                        pair[1] = (pair[1] + 1) % (len(TRICKLED_REQUEST) - 4)
                    except (BlockingIOError, OSError):
                        pass  # not connected yet, or closed: seen on the next round

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        for sock in self.idle + [pair[0] for pair in self.tricklers]:
            if sock is not None:
                sock.close()


def probe(host: str, port: int, timeout: float) -> float | None:
    """Seconds until a cheap request (GET /healthz on a new connection) was answered, None if not within
    `timeout` or refused."""
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(max(0.1, timeout - (time.monotonic() - started)))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = sock.recv(64)
    except OSError:
        return None
    return time.monotonic() - started if head.startswith(b"HTTP/1.1 200") else None


#: the other WSGI servers measured against waitress: 2 processes (the machine's cores), 8 threads each, and
#: the closest each has to Haven's rules (haven.web.connections): gunicorn's keep-alive (idle) timeout,
#: granian's header-read timeout. Neither bounds how long a request body may trickle, nor evicts idle
#: connections at a limit.
OTHER_SERVERS = {
    "gunicorn": lambda port: [str(Path(sys.executable).parent / "gunicorn"), "-k", "gthread", "-w", "2",
                              "--threads", "8", "--keep-alive", "30", "-b", f"127.0.0.1:{port}",
                              "haven.web.app:create_app()"],
    "granian": lambda port: [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "--workers", "2",
                             "--blocking-threads", "8", "--http1-header-read-timeout", "10000", "--port", str(port),
                             "--factory", "haven.web.app:create_app"],
}


def start_server(build_dir: Path, env_overrides: dict[str, str], server: str = "waitress"
                 ) -> tuple[subprocess.Popen, str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update({"HAVEN_BUILD_DIR": str(build_dir), "HAVEN_HOST": "127.0.0.1", "HAVEN_PORT": "0"})
    env.update(env_overrides)
    if server == "waitress":
        process = subprocess.Popen([sys.executable, "-m", "haven.web.serve"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, env=env)
        line = process.stdout.readline().decode()
        host_port = line.split()[2].removeprefix("http://").rstrip("/")
        host, port = host_port.rsplit(":", 1)
    else:
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            host, port = free.getsockname()
        process = subprocess.Popen(OTHER_SERVERS[server](port), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while probe(host, int(port), 5) is None:
        if time.monotonic() > deadline:
            raise SystemExit("the server never answered /healthz")
        time.sleep(0.2)
    return process, host, int(port)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=REPO / "build")
    parser.add_argument("--idle", type=int, default=100)
    parser.add_argument("--tricklers", type=int, default=500)
    parser.add_argument("--trickle-every", type=float, default=20.0)
    parser.add_argument("--hold", type=float, default=90.0)
    parser.add_argument("--probe-timeout", type=float, default=60.0)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--server", choices=("waitress", *OTHER_SERVERS), default="waitress",
                        help="the WSGI server (gunicorn and granian must be installed: pip install gunicorn granian)")
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.env)
    process, host, port = start_server(args.build_dir, overrides, args.server)
    attack = Attack(host, port, args.idle, args.tricklers, args.trickle_every)
    try:
        time.sleep(5)
        waits, unanswered = [], 0
        end = time.monotonic() + args.hold
        while time.monotonic() < end:
            waited = probe(host, port, args.probe_timeout)
            if waited is None:
                unanswered += 1
            else:
                waits.append(waited)
    finally:
        attack.stop()
        process.terminate()
        process.wait(timeout=30)
    settings = " ".join([args.server] + args.env)
    summary = (f"median {statistics.median(waits):.3f} s, max {max(waits):.3f} s" if waits else "none answered")
    print(f"slow clients ({settings}): {args.idle} idle + {args.tricklers} tricklers (1 byte / {args.trickle_every:g} s, "
          f"reopened {attack.reopened} times) held {args.hold:g} s: {len(waits)} cheap requests answered, "
          f"{unanswered} not within {args.probe_timeout:g} s; {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
