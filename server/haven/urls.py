"""Canonical IRIs ⇄ the URLs that serve them, in one place.

Haven's IRIs live under the configured base (``https://w3id.org/haven/`` by default), but a server may answer
on any host (``http://127.0.0.1:8080/``). RDF keeps the canonical IRIs; HTML links point at the host that
served the page so that a reader can keep browsing there. The path below the base is the same on both
sides (``{base}id/al-qaeda`` ⇄ ``{host}id/al-qaeda``), which is also what the w3id redirect rules rely on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import URIRef

# One or more path segments of lowercase ASCII words joined by '-': the slug grammar of the contract, with
# '/' allowed between segments (``statement/taliban-sanctuary-to-al-qaeda``). Anything else is not one of
# our entities, so it never reaches a query: this pattern is the guard that makes IRIs safe to embed.
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*){0,3}")
MAX_SLUG_LENGTH = 200

# IRIs read back from the store are embedded in follow-up queries; an IRI containing characters that are
# illegal in SPARQL's IRIREF production would end the IRI early, so such IRIs are never embedded.
_SAFE_IRI = re.compile(r"[^\s<>\"{}|^`\\]+")


def is_web_url(iri: str) -> bool:
    """True for an absolute http(s) IRI, the only kind a page may make clickable: a browser runs a
    ``javascript:`` link and renders a ``data:`` one as a page of the attacker's making. Matched on the raw
    text, so leading blanks or a tab inside the scheme (which browsers strip) cannot slip one past."""
    return iri[:8].lower().startswith(("http://", "https://"))


def is_valid_slug(slug: str) -> bool:
    return len(slug) <= MAX_SLUG_LENGTH and SLUG_PATTERN.fullmatch(slug) is not None


def sparql_iri(iri: str) -> str:
    """`<iri>` for a query, refusing anything that could break out of the IRI."""
    if not _SAFE_IRI.fullmatch(iri):
        raise ValueError(f"not embeddable in SPARQL: {iri!r}")
    return f"<{iri}>"


def is_embeddable(iri: str) -> bool:
    return _SAFE_IRI.fullmatch(iri) is not None


@dataclass(frozen=True)
class UrlMap:
    """The mapping for one request: canonical base (from Settings) and the root URL it arrived at."""

    base: str
    host_root: str  # e.g. "http://127.0.0.1:8080/" (Flask's request.url_root: scheme, host and script root)

    # -- canonical IRIs (what RDF says) --------------------------------------------------------------

    def entity_iri(self, slug: str) -> URIRef:
        if not is_valid_slug(slug):
            raise ValueError(f"not a slug: {slug!r}")
        return URIRef(f"{self.base}id/{slug}")

    def slug_of(self, iri: str) -> str | None:
        """The slug when `iri` is one of our entity IRIs (``{base}id/<slug>``), else None."""
        prefix = f"{self.base}id/"
        if not iri.startswith(prefix):
            return None
        slug = iri[len(prefix):]
        return slug if is_valid_slug(slug) else None

    def document_iri(self, slug: str, ext: str | None = None) -> URIRef:
        """The canonical IRI of the document about an entity (generic when `ext` is None)."""
        return URIRef(f"{self.base}data/{slug}" + (f".{ext}" if ext else ""))

    def page_iri(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}page/{slug}")

    @property
    def ontology_iri(self) -> str:
        return f"{self.base}ontology"

    @property
    def term_namespace(self) -> str:
        return f"{self.base}ontology#"

    @property
    def shapes_iri(self) -> str:
        return f"{self.base}shapes"

    @property
    def dataset_iri(self) -> str:
        return f"{self.base}dataset"

    # -- served URLs (what HTML links to) ------------------------------------------------------------

    def served(self, iri: str) -> str | None:
        """Where a browser on this host finds `iri`: ours → this host, anyone else's → unchanged, and None
        for an IRI that is not http(s), which a page shows as text, never as a link."""
        if iri.startswith(self.base):
            return self.host_root + iri[len(self.base):]
        return iri if is_web_url(iri) else None

    def page_url(self, slug: str) -> str:
        return f"{self.host_root}page/{slug}"

    def data_url(self, slug: str, ext: str) -> str:
        return f"{self.host_root}data/{slug}.{ext}"

    def link(self, iri: str) -> str | None:
        """The HTML link for a resource: an entity's page directly (skipping the 303), else `served`."""
        slug = self.slug_of(iri)
        if slug is not None:
            return self.page_url(slug)
        return self.served(iri)
