"""Settings shared by the CLI, the build pipeline and the server.

Every setting has a default, can be set from the environment (``HAVEN_<NAME>``) and is overridden by
CLI options. The defaults are the safe ones: loopback only, short timeouts, bounded results.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from haven import buildfolder

DEFAULT_BASE = "https://w3id.org/haven/"
#: seconds a query may run, client or Haven's own, unless the settings say otherwise
DEFAULT_QUERY_TIMEOUT = 10.0
#: host names a server answers for when `allowed_hosts` is not set: this machine's own names
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
#: bind addresses that name every interface, not one host a client could use
_WILDCARD_ADDRESSES = {"", "0.0.0.0", "::"}
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def normalise_base(base: str) -> str:
    """The base as every IRI is built from it: ending with '/' (``https://example.org/h`` names the folder
    ``https://example.org/h/``, whose entities are ``…/h/id/…``)."""
    return base if base.endswith("/") else base + "/"


def _env(name: str, default, cast=str):
    raw = os.environ.get(f"HAVEN_{name.upper()}")
    if raw is None or raw == "":
        return default
    if cast is bool:
        return raw.lower() in {"1", "true", "yes", "on"}
    return cast(raw)


@dataclass(frozen=True)
class Settings:
    #: canonical IRI base of everything Haven publishes (ends with '/')
    base: str = DEFAULT_BASE
    #: where the sources live (ontology/, data/, shapes/)
    root: Path = PROJECT_ROOT
    #: where `haven build` writes releases; `build_dir/current` is the served release
    build_dir: Path = PROJECT_ROOT / "build"
    #: "embedded" (pyoxigraph in-process) or the URL of a SPARQL 1.1 query endpoint
    store: str = "embedded"
    host: str = "127.0.0.1"
    port: int = 8080
    #: seconds a SPARQL query may run before it is stopped and answered 503
    query_timeout: float = DEFAULT_QUERY_TIMEOUT
    #: most rows (or triples) a SPARQL response carries; the response says when it was capped
    result_limit: int = 10_000
    #: largest accepted request body / query string, in bytes
    max_query_bytes: int = 64 * 1024
    #: largest SPARQL answer, in bytes: a larger one is refused whole (503 with a message), never cut, and
    #: never held whole by the server
    max_answer_bytes: int = 16 * 1024 * 1024
    #: memory one client query may take in an embedded query worker, in MiB, beyond the release the worker
    #: holds; a query that needs more is stopped (503 with a message) and the worker replaced
    query_memory_mb: int = 1024
    #: most queries evaluated at once (the embedded store's query workers); more wait for a slot. As many as the
    #: WSGI threads: the workers are forks sharing one copy of the release, so a slot costs little memory (1M
    #: triples: server and 4 workers 639 MiB PSS, with 8 workers 650 MiB), and with fewer slots than threads
    #: one expensive query per slot made cheap ones wait past the queue's limit (docs/reliability.md)
    max_concurrent_queries: int = 8
    #: seconds a query may wait for a slot, in its client's queue (haven.web.sparql.admission); past it, 503
    #: with Retry-After
    query_queue_timeout: float = 5.0
    #: most queries one client (address, or X-Forwarded-For behind `proxy_hops` proxies) may have running or
    #: waiting at once; the next is answered 429 with Retry-After at once
    max_client_queries: int = 4
    #: WSGI worker threads
    threads: int = 8
    #: client connections held open at once; at the limit the one that has waited longest without a request
    #: being answered on it is closed to let a new client in (haven.web.connections)
    max_connections: int = 1000
    #: seconds a client may take to send one whole request once its first byte arrived, however it trickles
    request_read_timeout: float = 10.0
    #: seconds a connection may stay open with no request on it (keep-alive between requests)
    idle_timeout: float = 30.0
    #: send CORS headers (YASGUI and browser apps on other origins)
    cors: bool = True
    #: reverse proxies in front of the server whose X-Forwarded-For/-Proto/-Host are believed; 0 ignores
    #: them, because from a client that reaches the server directly they are lies about scheme and host
    proxy_hops: int = 0
    #: host names (comma-separated, port ignored, ".example.org" for every subdomain) that clients may use to
    #: reach the server; links and redirects are built from the request's host, so any other is refused
    #: with 400. Empty: the loopback names and the address the server is bound to.
    allowed_hosts: str = ""
    #: addresses and networks (comma-separated; "none": nobody) that may read /metrics, directly and never
    #: through a proxy (haven.web.metrics); a Prometheus on another host needs its address here
    metrics_from: str = "127.0.0.0/8,::1"
    #: with a store URL naming an account (`http://user:secret@host/...`), send its basic-auth password over plain
    #: http to a host other than this machine (the default refuses: anyone on the path reads it)
    allow_plain_http_auth: bool = False

    def __post_init__(self):
        # normalised here, once, whatever set it (environment, CLI, create_app's dict, a Settings(...) call)
        object.__setattr__(self, "base", normalise_base(self.base))

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        values = {}
        for f in fields(cls):
            default = f.default if f.default is not field else None
            cast = type(default) if default is not None else str
            if isinstance(default, Path):
                cast = Path
            values[f.name] = _env(f.name, default, cast)
        settings = cls(**values)
        return settings.with_overrides(**overrides)

    def with_overrides(self, **overrides) -> "Settings":
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **clean)

    @property
    def trusted_hosts(self) -> list[str]:
        """`allowed_hosts` as a list (Flask's TRUSTED_HOSTS), or the default for a server on `host`."""
        named = [name.strip() for name in self.allowed_hosts.split(",") if name.strip()]
        if named:
            return named
        hosts = list(LOOPBACK_HOSTS)
        if self.host not in _WILDCARD_ADDRESSES and self.host not in hosts:
            hosts.append(self.host)  # e.g. 10.0.0.11: reachable, and named, by that address
        return hosts

    @property
    def metrics_networks(self) -> list:
        """`metrics_from` as ip_network objects ("none": an empty list), or ValueError naming the bad part."""
        if self.metrics_from.strip().lower() == "none":
            return []
        networks = []
        for part in filter(None, (p.strip() for p in self.metrics_from.split(","))):
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"metrics_from (HAVEN_METRICS_FROM, --metrics-from): {part!r} is neither an "
                                 "address nor a network; give e.g. 127.0.0.1,10.0.0.0/24, or none") from None
        return networks

    @property
    def current_release(self) -> Path:
        return buildfolder.current(self.build_dir)
