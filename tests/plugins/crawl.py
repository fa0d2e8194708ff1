"""A crawler of the whole site through a Flask test client (issue 10, item 6): from the landing page it follows
every link of every page (anchors, `<link>`, scripts, images, the `Link` header) and every IRI under the base
found in any RDF document Haven serves, and reports each address that answers 4xx/5xx and each fragment
(`/ontology#Stated`, `…/dataset#build`) whose page has no element of that id.

It honours /robots.txt as a crawler does (no query links: each costs an evaluation). An IRI under the base is
dereferenced the way a browser would (its Accept header, redirects followed, the
fragment kept); a negotiated page (`Vary: Accept`) is also read as Turtle, so the IRIs of the ontology, the
shapes, the VoID and the service description are followed too. Entity documents are read in Turtle only (the
other formats hold the same triples; tests/test_client_conformance.py parses them all).
"""
from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from rdflib import Dataset, Graph, URIRef

HOST = "http://localhost/"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TURTLE = "text/turtle"
RDF_PARSERS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
               "application/n-quads": "nquads"}
#: what the crawl finds that other parts of issue 10 still have to fix: pattern → whose it is. Each must still
#: occur (a fixed one must leave the list), and nothing else may.
KNOWN: dict[str, str] = {}
#: how often a 503 with Retry-After (a dump being written) is asked again, 0.2 s apart
RETRIES = 300


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id",) + (("name",) if tag == "a" else ()):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and tag in {"a", "link", "script", "img", "iframe", "area"}:
                self.links.append(attrs[key])


@dataclass
class Crawl:
    visited: dict[tuple[str, str], int] = field(default_factory=dict)  # (path, accept) → final status
    problems: list[str] = field(default_factory=list)
    fragments_checked: int = 0
    rdf_documents: int = 0


def crawl(client, base: str, start: str = "/", limit: int = 20_000, one_hop: tuple[str, ...] = ()) -> Crawl:
    """Crawls the site from `start`. Under a prefix of `one_hop` (`/fragments`), every page another page links
    to is read and its links followed, except those to pages under the same prefix: the Triple Pattern
    Fragments link every term of every triple to its own fragment, so following them enumerates the whole
    dataset three times over (12,000 pages of the project's release), where one hop in already reads every
    kind of page and link that part of the site makes."""
    result = Crawl()
    queue: deque[tuple[str, str, str]] = deque([(start, BROWSER, "(start)")])
    wanted: dict[str, dict[str, str]] = defaultdict(dict)  # final path → fragment → a referrer
    ids: dict[str, set[str] | None] = {}  # final path → ids of its HTML (None: not HTML)
    finals: dict[tuple[str, str], str] = {}
    disallowed = _disallowed(client)

    def local(url: str, referrer: str) -> tuple[str, str] | None:
        """(path with query, fragment) of a URL on this host or an IRI under the base; None for others."""
        if url.startswith(base):
            url = HOST + url[len(base):]
        url = urljoin(urljoin(HOST, referrer.split("#")[0]) if referrer.startswith("/") else HOST, url)
        if not url.startswith(HOST):
            return None
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else ""), parts.fragment

    def enqueue(url: str, accept: str, referrer: str) -> None:
        target = local(url, referrer)
        if target is None:
            return
        path, fragment = target
        if any(path.startswith(prefix) for prefix in disallowed):
            return
        if path != referrer and any(path.startswith(prefix) and referrer.startswith(prefix) for prefix in one_hop):
            return
        if fragment:
            queue.append((path, accept, referrer + "#" + fragment))  # the fragment is checked on the final page
        elif (path, accept) not in result.visited:
            queue.append((path, accept, referrer))

    while queue and len(result.visited) < limit:
        path, accept, referrer = queue.popleft()
        referrer, _, fragment = referrer.partition("#")
        if (path, accept) in result.visited:
            if fragment and (path, accept) in finals:
                wanted[finals[(path, accept)]].setdefault(fragment, referrer)
            continue
        final, response = _fetch(client, path, accept)
        result.visited[(path, accept)] = response.status_code
        finals[(path, accept)] = final
        if fragment:
            wanted[final].setdefault(fragment, referrer)
        if response.status_code >= 400:
            result.problems.append(f"{response.status_code} {path} (Accept {accept.split(',')[0]}; from {referrer})")
            continue
        for link in _link_header(response.headers.get("Link", "")):
            url, media_type = link
            if media_type in (None, "text/html", TURTLE):
                enqueue(url, TURTLE if media_type == TURTLE else BROWSER, final)
        mimetype = response.mimetype
        if mimetype == "text/html":
            page = _Page()
            page.feed(response.get_data(as_text=True))
            ids[final] = page.ids
            for href in page.links:
                if not href.startswith(("javascript:", "mailto:", "data:")):
                    enqueue(href, BROWSER, final)
            if "Accept" in response.headers.get("Vary", ""):
                enqueue(final, TURTLE, final)  # the same resource as RDF: its IRIs are followed too
        elif mimetype in RDF_PARSERS:
            result.rdf_documents += 1
            for iri in _iris(response.get_data(as_text=True), RDF_PARSERS[mimetype], base):
                enqueue(iri, BROWSER, final)
        else:
            ids.setdefault(final, None)

    for final, fragments in wanted.items():
        present = ids.get(final)
        if present is None:
            continue  # not an HTML page: a fragment of a data document names a node, not an element
        for fragment, referrer in sorted(fragments.items()):
            result.fragments_checked += 1
            if fragment not in present:
                result.problems.append(f"no element #{fragment} in {final} (from {referrer})")
    if queue:
        result.problems.append(f"stopped after {limit} addresses with {len(queue)} still queued")
    return result


def unexpected(problems: list[str], known: dict[str, str]) -> tuple[list[str], list[str]]:
    """The problems no `known` pattern (a regular expression → who owns its fix) matches, and the patterns that
    matched nothing: a known problem that is gone must leave the list (pySHACL's ALLOWABLE_FAILURES habit)."""
    import re

    left = [p for p in problems if not any(re.search(pattern, p) for pattern in known)]
    stale = [pattern for pattern in known if not any(re.search(pattern, p) for p in problems)]
    return left, stale


def _disallowed(client) -> list[str]:
    """The Disallow prefixes /robots.txt gives every user agent."""
    response = client.get("/robots.txt")
    if response.status_code != 200:
        return []
    prefixes, applies = [], False
    for line in response.get_data(as_text=True).splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            applies = value == "*"
        elif key == "disallow" and applies and value:
            prefixes.append(value)
    return prefixes


def _fetch(client, path: str, accept: str):
    """The final answer for `path` (redirects followed, a 503 with Retry-After asked again) and its path."""
    for _ in range(10):
        for _ in range(RETRIES):
            response = client.get(path, headers={"Accept": accept})
            if response.status_code != 503 or "Retry-After" not in response.headers:
                break
            time.sleep(0.2)
        if response.status_code not in (301, 302, 303, 307, 308):
            return path, response
        location = urljoin(HOST + path.lstrip("/"), response.headers["Location"])
        if not location.startswith(HOST):
            return path, response
        parts = urlsplit(location)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path, response


def _link_header(value: str):
    for part in value.split(","):
        part = part.strip()
        if not part.startswith("<"):
            continue
        url, _, params = part[1:].partition(">")
        media_type = None
        for param in params.split(";"):
            key, _, val = param.strip().partition("=")
            if key == "type":
                media_type = val.strip('"')
        yield url, media_type


def _iris(text: str, parser: str, base: str) -> set[str]:
    graph = Dataset() if parser == "nquads" else Graph()
    graph.parse(data=text, format=parser)
    quads = graph.quads((None, None, None, None)) if parser == "nquads" else ((*t, None) for t in graph)
    found = set()
    for quad in quads:
        for term in quad:
            if isinstance(term, URIRef) and str(term).startswith(base):
                found.add(str(term))
            elif isinstance(term, Graph) and str(term.identifier).startswith(base):
                found.add(str(term.identifier))
    return found
