"""The search index of a release: every entity with all its names, its types and a one-line description, and
the lookup that ranks entities for a name however it is spelled (`haven.search.names`).

The index is made by the build (stage "search", `pipeline.build`) with the queries below and written into the
release folder (`buildfolder.SEARCH_INDEX`, JSON). A server reads that file; a server that has no such file
for the release it serves (a remote store's release built elsewhere, or a release built before the index
existed) runs the same queries on its store, so both ways give the same index. The queries read the default
graph, so hedged triples never name an entity.

Only the extraction is done at build time; the posting lists are made when the file is read (under a second
at a million triples, bench/search.py), so the folding rules may improve without rebuilding releases.
"""
from __future__ import annotations

import bisect
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from haven import terms
from haven.search import names as nm

#: the version of the file's layout; a file of another version is ignored and the index is made from the store
FILE_VERSION = 1
#: the longest description kept for a hit (the first sentence, cut at a word)
DESCRIPTION_CHARS = 160
#: a query longer than this is cut (a name is a few words; nothing a client sends makes the lookup slow)
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
#: most names a prefix (the unfinished last word typed into the search box) adds to the candidates: two
#: letters begin thousands of names at a million triples, and any few of them are as good a suggestion
MAX_PREFIX_NAMES = 200

#: kinds of name, in the order a hit prefers to show the one that matched
NAME_KINDS = ("pref", "label", "alt", "dated")


def _names_query(hid: str, hst: str, haven: str) -> str:
    return f"""PREFIX skos: <{terms.SKOS}>
PREFIX rdfs: <{terms.RDFS}>
PREFIX haven: <{haven}>
SELECT ?entity ?name ?kind WHERE {{
  {{ ?entity skos:prefLabel ?name BIND("pref" AS ?kind) }}
  UNION {{ ?entity rdfs:label ?name BIND("label" AS ?kind) }}
  UNION {{ ?entity skos:altLabel ?name BIND("alt" AS ?kind) }}
  UNION {{ ?usage a haven:NameUsage ; haven:subject ?entity ; haven:name ?name BIND("dated" AS ?kind) }}
  FILTER(isIRI(?entity) && isLiteral(?name) && STRSTARTS(STR(?entity), "{hid}") && !STRSTARTS(STR(?entity), "{hst}"))
}}"""


def _facts_query(hid: str, hst: str) -> str:
    return f"""PREFIX skos: <{terms.SKOS}>
PREFIX rdfs: <{terms.RDFS}>
SELECT ?entity ?type ?definition ?comment WHERE {{
  ?entity a ?type .
  FILTER(isIRI(?type) && STRSTARTS(STR(?entity), "{hid}") && !STRSTARTS(STR(?entity), "{hst}"))
  OPTIONAL {{ ?entity skos:definition ?definition }}
  OPTIONAL {{ ?entity rdfs:comment ?comment }}
}}"""


def _terms_query(haven: str) -> str:
    """The ontology's classes and properties with their labels, definitions and direct superclasses."""
    return f"""PREFIX skos: <{terms.SKOS}>
PREFIX rdfs: <{terms.RDFS}>
PREFIX owl: <{terms.OWL}>
SELECT ?term ?kind ?label ?definition ?super WHERE {{
  {{ ?term a owl:Class BIND("class" AS ?kind) }}
  UNION {{ ?term a owl:ObjectProperty BIND("property" AS ?kind) }}
  UNION {{ ?term a owl:DatatypeProperty BIND("property" AS ?kind) }}
  FILTER(STRSTARTS(STR(?term), "{haven}"))
  OPTIONAL {{ ?term rdfs:label ?label FILTER(LANG(?label) = "en" || LANG(?label) = "") }}
  OPTIONAL {{ ?term skos:definition ?definition FILTER(LANG(?definition) = "en" || LANG(?definition) = "") }}
  OPTIONAL {{ ?term rdfs:subClassOf ?super FILTER(isIRI(?super) && STRSTARTS(STR(?super), "{haven}")) }}
}}"""


#: external properties offered beside the ontology's own (OpenRefine fetches names and definitions too)
EXTERNAL_PROPERTIES = {
    terms.SKOS + "prefLabel": ("preferred label", "The standard English name."),
    terms.SKOS + "altLabel": ("alternative label", "Another spelling or name the source or common usage has."),
    terms.SKOS + "definition": ("definition", "What the thing is, in Haven's words."),
}


def extract(select: Callable[[str], Iterable[dict]], base_iris) -> dict:
    """The index's content from a store: `select(query)` runs a SELECT over the release's default graph and
    yields one dict per solution (variable → IRI or lexical form; unbound variables absent or None).
    `base_iris` is `haven.iris.iris_for(base)`."""
    hid, hst, haven = str(base_iris.hid), str(base_iris.hst), str(base_iris.haven)
    entities: dict[str, dict] = {}
    for row in select(_names_query(hid, hst, haven)):
        record = entities.setdefault(row["entity"], {"iri": row["entity"], "names": [], "types": [], "description": ""})
        pair = [row["name"], row["kind"]]
        if pair not in record["names"]:
            record["names"].append(pair)
    descriptions: dict[str, tuple[str, str]] = {}
    for row in select(_facts_query(hid, hst)):
        record = entities.get(row["entity"])
        if record is None:
            continue
        if row["type"] not in record["types"]:
            record["types"].append(row["type"])
        found = descriptions.get(row["entity"], ("", ""))
        descriptions[row["entity"]] = (found[0] or row.get("definition") or "", found[1] or row.get("comment") or "")
    classes: dict[str, dict] = {}
    properties: dict[str, dict] = {iri: {"label": label, "description": text}
                                   for iri, (label, text) in EXTERNAL_PROPERTIES.items()}
    for row in select(_terms_query(haven)):
        table = classes if row["kind"] == "class" else properties
        term = table.setdefault(row["term"], {"label": "", "description": "", **({"broader": []} if table is classes else {})})
        term["label"] = term["label"] or row.get("label") or ""
        term["description"] = term["description"] or row.get("definition") or ""
        if table is classes and row.get("super") and row["super"] not in term["broader"]:
            term["broader"].append(row["super"])
    for iri, record in entities.items():
        definition, comment = descriptions.get(iri, ("", ""))
        record["description"] = one_line(definition or comment)
        record["names"].sort(key=lambda pair: (NAME_KINDS.index(pair[1]) if pair[1] in NAME_KINDS else 9, pair[0]))
        record["types"].sort()
        record["label"] = record["names"][0][0]
    return {"version": FILE_VERSION, "entities": [entities[iri] for iri in sorted(entities)],
            "classes": {iri: classes[iri] for iri in sorted(classes)},
            "properties": {iri: properties[iri] for iri in sorted(properties)}}


def one_line(text: str) -> str:
    """The first sentence of `text`, cut at a word boundary to DESCRIPTION_CHARS."""
    text = " ".join(text.split())
    end = text.find(". ")
    if end != -1:
        text = text[:end + 1]
    if len(text) > DESCRIPTION_CHARS:
        text = text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text


def to_bytes(content: dict) -> bytes:
    return (json.dumps(content, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def read_file(path: Path) -> dict | None:
    """The content of an index file, or None when it is missing, unreadable or of another version."""
    try:
        content = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) and content.get("version") == FILE_VERSION else None


# -- the lookup ------------------------------------------------------------------------------------------

def letter_pairs(text: str) -> frozenset[str]:
    padded = f" {text} "
    return frozenset(padded[i:i + 2] for i in range(len(padded) - 1))


@dataclass
class Entity:
    iri: str
    label: str
    names: list[tuple[str, str]]
    #: the asserted types that are classes of the ontology, most specific first
    types: list[str]
    #: the asserted types and all their superclasses (what a type filter matches)
    all_types: frozenset[str]
    description: str


@dataclass
class _Name:
    entity: int
    text: str
    kind: str
    words: list[str]
    keys: list[str]
    weights: list[float]
    compact: str
    #: the compact form's letter pairs, for how close two spellings look (Dice coefficient)
    grams: frozenset[str]
    #: the largest share of the name's (weighted) words that k query words can cover, for k = 1, 2...
    shares: tuple[float, ...] = ()


@dataclass
class Hit:
    entity: Entity
    #: 0-100: how well the query matches the entity's best-matching name
    score: float
    #: the name that matched best
    name: str
    #: the share of the query's words found in that name (1.0: every word)
    coverage: float = 0.0
    details: dict = field(default_factory=dict)


class SearchIndex:
    def __init__(self, content: dict):
        self.classes: dict[str, dict] = content.get("classes", {})
        self.properties: dict[str, dict] = content.get("properties", {})
        self._ancestors = {iri: self._closure(iri) for iri in self.classes}
        self.entities: list[Entity] = []
        self.by_iri: dict[str, Entity] = {}
        self._names: list[_Name] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._near: dict[str, set[str]] = defaultdict(set)
        self._prefixes: dict[str, list[int]] = defaultdict(list)
        for record in content.get("entities", []):
            self._add(record)
        self._keys = sorted(self._postings)
        self._words = sorted(self._prefixes)

    def __len__(self) -> int:
        return len(self.entities)

    def _closure(self, iri: str) -> frozenset[str]:
        seen, todo = {iri}, [iri]
        while todo:
            for parent in self.classes.get(todo.pop(), {}).get("broader", []):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return frozenset(seen)

    def _add(self, record: dict) -> None:
        known = [t for t in record.get("types", []) if t in self.classes]
        all_types = frozenset().union(*(self._ancestors[t] for t in known), record.get("types", []))
        # most specific first: a type that is a superclass of another asserted type goes after it
        known.sort(key=lambda t: (sum(t in self._ancestors[o] for o in known if o != t), t))
        entity = Entity(record["iri"], record["label"], [tuple(n) for n in record["names"]], known, all_types,
                        record.get("description", ""))
        position = len(self.entities)
        self.entities.append(entity)
        self.by_iri[entity.iri] = entity
        for text, kind in entity.names:
            significant = nm.significant_words(text)
            if not significant:
                continue
            name = _Name(position, text, kind, significant, [nm.token_key(w) for w in significant],
                         [0.3 if nm.is_title(w) else 1.0 for w in significant], " ".join(significant),
                         letter_pairs(" ".join(significant)))
            heaviest = sorted(name.weights, reverse=True)
            name.shares = tuple(sum(heaviest[:k]) / sum(heaviest) for k in range(1, len(heaviest) + 1))
            index = len(self._names)
            self._names.append(name)
            for key in set(name.keys):
                first = key not in self._postings
                self._postings[key].append(index)
                if first and len(key) >= 4:
                    self._near[key].add(key)
                    for shorter in nm.deletions(key):
                        self._near[shorter].add(key)
            for word in set(significant):
                self._prefixes[word].append(index)

    # -- candidates and scores --------------------------------------------------------------------------
    #
    # Candidate names are gathered from the posting lists with, per query word, the best a name can score on
    # it (1 same key, 0.9 a word it begins, 0.75 a key one letter away by the deletion neighbourhood, which
    # `_token_score` confirms). That gives each name a bound on its score; names are scored in the order of
    # their bounds and scoring stops when no remaining bound can enter the first `limit` entities.

    def _candidates(self, variants: list[list[str]], words: list[str], weights: list[float],
                    prefix: bool, near: bool) -> dict[int, float]:
        gathered: dict[int, float] = defaultdict(float)
        last = len(words) - 1
        for i, keys in enumerate(variants):
            best: dict[int, float] = {}
            for key in keys:
                if near and len(key) >= 4:
                    close = {other for shorter in ({key} | nm.deletions(key)) for other in self._near.get(shorter, ())}
                    for other in close - {key}:
                        for name in self._postings[other]:
                            best[name] = 0.75
                for name in self._postings.get(key, ()):
                    best[name] = 1.0
            if prefix and i == last:
                for sorted_list, table, start in ((self._words, self._prefixes, words[-1]), (self._keys, self._postings, keys[0])):
                    if sorted_list is self._keys and len(words[-1]) < 4:
                        continue
                    at, added = bisect.bisect_left(sorted_list, start), 0
                    while at < len(sorted_list) and sorted_list[at].startswith(start) and added < MAX_PREFIX_NAMES:
                        for name in table[sorted_list[at]]:
                            if best.get(name, 0.0) < 0.9:
                                best[name] = 0.9
                                added += 1
                        at += 1
            for name, value in best.items():
                gathered[name] += weights[i] * value
        return gathered

    @staticmethod
    def _token_score(variants: list[str], word: str, is_last: bool, prefix: bool, name: _Name, j: int) -> float:
        key = name.keys[j]
        if key in variants:
            return 1.0
        if prefix and is_last and len(word) >= 2 and name.words[j].startswith(word):
            return 0.9
        if prefix and is_last and len(word) >= 4 and key.startswith(variants[0]):
            return 0.8
        if len(key) >= 4 and any(len(v) >= 4 and nm.within_one_edit(v, key) for v in variants):
            return 0.75
        return 0.0

    def _score(self, name: _Name, words: list[str], variants: list[list[str]], weights: list[float],
               compact: str, grams: frozenset[str], prefix: bool) -> tuple[float, float]:
        matched_name = [0.0] * len(name.keys)
        covered = 0.0
        for i, (word, keys) in enumerate(zip(words, variants)):
            best, best_j = 0.0, -1
            for j in range(len(name.keys)):
                s = self._token_score(keys, word, i == len(words) - 1, prefix, name, j)
                if s > best:
                    best, best_j = s, j
            covered += weights[i] * best
            if best_j >= 0:
                matched_name[best_j] = max(matched_name[best_j], best)
        coverage = covered / sum(weights)
        name_coverage = sum(w * m for w, m in zip(name.weights, matched_name)) / sum(name.weights)
        if compact == name.compact:
            return 100.0, 1.0
        surface = 2 * len(grams & name.grams) / ((len(grams) + len(name.grams)) or 1)
        return round(100 * (0.6 * coverage + 0.25 * name_coverage + 0.15 * surface), 1), coverage

    def search(self, query: str, limit: int = 10, types: Iterable[str] | None = None,
               prefix: bool = False) -> list[Hit]:
        """Entities ranked for `query`, best first, at most `limit`; `types` (class IRIs) keeps the entities
        of any of them (superclasses count); `prefix` treats the last word as unfinished (suggestions)."""
        words = nm.significant_words(query[:MAX_QUERY_CHARS])[:MAX_QUERY_WORDS]
        if not words or limit <= 0:
            return []
        variants = [nm.query_variants(word) for word in words]
        weights = [0.3 if nm.is_title(word) else 1.0 for word in words]
        compact = " ".join(words)
        grams = letter_pairs(compact)
        wanted = frozenset(types) if types else None
        # words spelt with a known key need no typo tolerance: names one letter away are looked at only when
        # the best name found so far lacks a word of the query
        hits = self._ranked(words, variants, weights, compact, grams, wanted, limit, prefix, near=False)
        if not hits or hits[0].coverage < 1.0:
            hits = self._ranked(words, variants, weights, compact, grams, wanted, limit, prefix, near=True)
        return hits

    def _ranked(self, words, variants, weights, compact, grams, wanted, limit: int, prefix: bool,
                near: bool) -> list[Hit]:
        total = sum(weights)
        bounds = []
        for index, gathered in self._candidates(variants, words, weights, prefix, near).items():
            name = self._names[index]
            # the query's words can cover at most as many of the name's words as there are query words
            name_share = name.shares[min(len(words), len(name.shares)) - 1]
            bounds.append((100 * (0.6 * gathered / total + 0.25 * name_share + 0.15), index))
        bounds.sort(reverse=True)
        best: dict[int, Hit] = {}
        floor, stale = 0.0, False
        for scored, (bound, index) in enumerate(bounds):
            if len(best) >= limit and scored % 16 == 0 and stale:
                floor, stale = sorted(h.score for h in best.values())[-limit], False
            if len(best) >= limit and bound < floor:
                break
            name = self._names[index]
            entity = self.entities[name.entity]
            if wanted is not None and not (entity.all_types & wanted):
                continue
            score, coverage = self._score(name, words, variants, weights, compact, grams, prefix)
            if score <= 0:
                continue
            found = best.get(name.entity)
            rank = (score, -NAME_KINDS.index(name.kind) if name.kind in NAME_KINDS else -9)
            if found is None or rank > (found.score, found.details["kind_rank"]):
                best[name.entity] = Hit(entity, score, name.text, coverage, {"kind_rank": rank[1]})
                stale = True
        hits = sorted(best.values(), key=lambda h: (-h.score, -h.coverage, h.entity.label.casefold(), h.entity.iri))
        return hits[:limit]

    def label_of(self, iri: str) -> str | None:
        entity = self.by_iri.get(iri)
        if entity is not None:
            return entity.label
        term = self.classes.get(iri) or self.properties.get(iri)
        return term["label"] if term and term.get("label") else None

    def same_name(self, a: str, b: str) -> bool:
        """True when `a` and `b` are spellings of the same name (the keys of their significant words agree)."""
        return bool(nm.token_keys(a)) and nm.token_keys(a) == nm.token_keys(b)
