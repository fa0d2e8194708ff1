"""Content negotiation: one Accept-matching function over the formats of `haven.formats` (pure, no Flask).

Matching follows RFC 9110 §12.5.1 the way Oxigraph does it: each offer takes the q of the *most specific*
media range that matches it (exact type with parameters > exact type > ``type/*`` > ``*/*``), ``q=0`` excludes
it, the highest q wins and ties go to the order of the offers (the server's preference). A missing or empty
Accept header means "anything", i.e. the first offer. Werkzeug's ``best_match`` was not used because it
returns None for a missing header and cannot tell a specific ``q=0`` from a wildcard one.

As lenient as Oxigraph and Fuseki, never wrong: a range may name an offer by one of the types it is also
known as (`Format.accepted_as`: ``application/json`` is SPARQL JSON for SELECT and JSON-LD for a graph,
``application/xhtml+xml`` is HTML, ``text/n3`` is Turtle), and ``format=`` is an alternative to Accept, not an
override of it (`choose`). docs/http.md states the rules for clients.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from haven.formats import Format, by_name


#: the request parameters that name a format: ``format`` (Haven, Virtuoso, SPARQLWrapper) and Fuseki's ``output``
FORMAT_PARAMS = ("format", "output")


def format_values(params) -> list[str]:
    """Every format-naming value of a request's parameters (a Werkzeug MultiDict), in the order they came."""
    return [value for name in FORMAT_PARAMS for value in params.getlist(name)]


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float

    def specificity(self, offer: Format) -> int:
        """How precisely this range names `offer`: -1 no match, 0 ``*/*``, 1 ``type/*``, 2 exact, 3 exact+params."""
        otype, _, osub = offer.media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != otype and f"{self.type}/{self.subtype}" not in offer.accepted_as:
            return -1
        if self.subtype == "*":
            return 1
        if self.subtype != osub and f"{self.type}/{self.subtype}" not in offer.accepted_as:
            return -1
        if not self.params:
            return 2
        # a charset other than UTF-8 cannot be produced; other parameters (profile...) are not served
        for key, value in self.params:
            if key != "charset" or value.lower() not in {"utf-8", "utf8"}:
                return -1
        return 3


def parse_accept(header: str | None) -> list[MediaRange]:
    """Split an Accept header into media ranges; malformed items are skipped, as RFC 9110 allows."""
    ranges: list[MediaRange] = []
    for item in (header or "").split(","):
        parts = [p.strip() for p in item.split(";")]
        mtype, _, msub = parts[0].lower().partition("/")
        if not mtype or not msub or (mtype == "*" and msub != "*"):
            continue
        q = 1.0
        params: list[tuple[str, str]] = []
        for part in parts[1:]:
            key, _, value = part.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
                break  # parameters after q are accept-extensions, not media type parameters
            if key:
                params.append((key, value))
        ranges.append(MediaRange(mtype, msub, tuple(params), q))
    return ranges


def negotiate(accept: str | None, offers: Sequence[Format]) -> Format | None:
    """The offer the client prefers, or None when every offer is excluded (answer 406)."""
    if not offers:
        return None
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    best: Format | None = None
    best_q = 0.0
    for offer in offers:
        q = _quality(offer, ranges)
        if q > best_q:
            best, best_q = offer, q
    return best


def _quality(offer: Format, ranges: Iterable[MediaRange]) -> float:
    chosen_q, chosen_rank = 0.0, -1
    for media_range in ranges:
        rank = media_range.specificity(offer)
        if rank > chosen_rank:
            chosen_q, chosen_rank = media_range.q, rank
    return chosen_q


def choose(accept: str | None, format_params: str | Sequence[str] | None, offers: Sequence[Format]) -> Format | None:
    """The offer to answer with: ``format=`` picks among what Accept allows; Accept decides otherwise.

    ``format=`` (one value or several: SPARQLWrapper sends ``format=rdf+xml&format=application/rdf+xml``, and
    ``output=`` too, Fuseki's other name) is how a browser link asks for a format. It is an alternative to the
    Accept header, not an override of it:

    1. the first ``format=`` value that names an offer the Accept header allows (q > 0) wins;
    2. otherwise the Accept header decides, as `negotiate` does: a ``format=`` value for another query form
       (``format=turtle`` with a SELECT, which SPARQLWrapper sends with ``Accept: */*``) or one that names
       nothing (a typo) never turns an acceptable request into a refusal;
    3. when Accept allows no offer, a ``format=`` value that names one is the client's explicit choice;
    4. else None (406).
    """
    values = [format_params] if isinstance(format_params, str) else list(format_params or ())
    named = [fmt for fmt in (by_name(value, offers) for value in values) if fmt is not None]
    ranges = parse_accept(accept)
    for fmt in named:
        if not ranges or _quality(fmt, ranges) > 0:
            return fmt
    best = negotiate(accept, offers)
    if best is not None:
        return best
    return named[0] if named else None


def offers_message(offers: Sequence[Format]) -> str:
    """A human line listing what can be asked for, for 406 answers."""
    listed = ", ".join(f"{o.media_type} (format={o.name})" for o in offers)
    return f"This resource is available as: {listed}."
