"""HTTP hygiene shared by every Linked Data document: validators, 304, HEAD, gzip, Link and Vary headers.

A published release never changes, so a document's validator is a function of (release, path, format):
no body has to be built to answer a conditional request, and `Last-Modified` is the release's date.
"""
from __future__ import annotations

import gzip
import hashlib
from datetime import datetime, timezone
from typing import Iterable

from flask import Response, request

#: bodies smaller than this are sent as they are (gzip would barely help and costs a few microseconds)
MIN_GZIP_BYTES = 512
#: a document never changes while its release is served; the hour bounds how long a cache (browser, the
#: nginx in front of the replicas) keeps it once a new release is out, after which the ETag revalidates it
CACHE_CONTROL = "public, max-age=3600"


def etag_for(release_id: str, path: str, media_type: str) -> str:
    digest = hashlib.sha256(f"{release_id}\n{path}\n{media_type}".encode()).hexdigest()[:32]
    return digest


def _client_has(etag: str, modified: datetime | None) -> bool:
    """True when the client's cached copy is current (RFC 9110 §13.2.2: If-None-Match wins over IMS)."""
    if request.if_none_match:
        # weak comparison, and the gzip variant of a tag matches its identity variant
        return request.if_none_match.contains_weak(etag) or request.if_none_match.contains_weak(etag + "-gzip")
    if modified is not None and request.if_modified_since is not None:
        return modified.replace(microsecond=0) <= request.if_modified_since
    return False


def accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0 if request.accept_encodings else False


def link_header(links: Iterable[tuple[str, str, str | None]]) -> str:
    """`Link` value from (url, rel, media type or None)."""
    parts = []
    for url, rel, media_type in links:
        part = f'<{url}>; rel="{rel}"'
        if media_type:
            part += f'; type="{media_type}"'
        parts.append(part)
    return ", ".join(parts)


def as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def gzipped(body: bytes | str) -> bytes | None:
    """`body` gzipped as documents are sent, or None when it is too small to be worth it."""
    body = as_bytes(body)
    return gzip.compress(body, compresslevel=5, mtime=0) if len(body) >= MIN_GZIP_BYTES else None


def document_response(
    build_body,
    media_type: str,
    *,
    release_id: str,
    modified: datetime | None,
    links: Iterable[tuple[str, str, str | None]] = (),
    negotiated: bool = False,
    status: int = 200,
    varies_by_query: bool = False,
    build_gzipped=None,
    variant: str = "",
) -> Response:
    """A cacheable document: 304 when the client is current, else the body (built only then), gzipped when
    the client allows it. `build_body` is a callable returning bytes or str; `build_gzipped`, when given,
    returns `gzipped(build_body())` (kept by the caller, so that a cached document is compressed once).
    `varies_by_query`: the body depends on the query string (/search?q=…), so the validator does too;
    `variant`: what else within the release the body depends on (the VoID on the dump files present)."""
    etag = etag_for(release_id, (request.full_path if varies_by_query else request.path) + variant, media_type)
    compress = accepts_gzip()
    vary = ["Accept-Encoding"] + (["Accept"] if negotiated else [])
    if _client_has(etag, modified):
        response = Response(status=304)
    else:
        packed = (build_gzipped or (lambda: gzipped(build_body())))() if compress else None
        response = Response(status=status)
        if packed is not None:
            response.headers["Content-Encoding"] = "gzip"
        response.set_data(packed if packed is not None else as_bytes(build_body()))
        response.headers["Content-Type"] = _with_charset(media_type)
    # the gzip variant is a different representation and needs its own tag (RFC 9110 §8.8.3)
    sent_gzip = response.headers.get("Content-Encoding") == "gzip" or (response.status_code == 304 and compress)
    response.set_etag(etag + ("-gzip" if sent_gzip else ""))
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Vary"] = ", ".join(vary)
    link = link_header(links)
    if link:
        response.headers["Link"] = link
    return response


def cache_see_other(response: Response) -> Response:
    """Every 303 the app sends (/id/, /data/{slug}, /dataset) depends on the release and at most the Accept
    header (named in its Vary); without a lifetime no cache may keep it, and every lookup of a thing would
    cost a round trip to a replica."""
    if response.status_code == 303 and request.method in {"GET", "HEAD"}:
        response.headers.setdefault("Cache-Control", CACHE_CONTROL)
    return response


def _with_charset(media_type: str) -> str:
    # text/* defaults to US-ASCII without it; the JSON, N-Triples and XML types are UTF-8 by definition
    if media_type.startswith("text/") and "charset" not in media_type:
        return f"{media_type}; charset=utf-8"
    return media_type


def parse_release_date(created: str | None) -> datetime | None:
    """The release's `created` timestamp (ISO 8601) as an aware UTC datetime, or None."""
    if not created:
        return None
    try:
        value = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=0)
