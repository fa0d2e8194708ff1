"""The W3C Reconciliation Service API 0.2 (the Entity Reconciliation Community Group's, as OpenRefine speaks
it) over a release's search index: reconciliation queries with type and property constraints, suggest,
data extension and property proposals. No Flask here: `haven.web.search.reconcile` maps HTTP onto these.

Identifiers: an entity's id is its slug (identifierSpace ``{base}id/`` + id is its IRI); a type's or a
property's id is its local name in the ontology (schemaSpace ``{base}ontology#`` + id), and the full IRI for
a term of another vocabulary. Clients may also send full IRIs or CURIEs (``haven:Person``) anywhere.

Property values are read from the store (`Values`), one bounded SELECT per property and batch, with the
client's identifiers turned into IRIs only after they are checked (`haven.iris.sparql_iri`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from rdflib import BNode, Literal, URIRef

from haven import terms
from haven.iris import Iris, is_valid_slug, is_web_url, sparql_iri
from haven.search import names as nm
from haven.search.index import SearchIndex

#: a candidate is a certain match when every word of the query is in its best name, its score is at least
#: this, and the next candidate is at least MATCH_GAP below it (two equally good candidates: no match)
MATCH_SCORE = 80.0
MATCH_GAP = 8.0
#: with property constraints, the name counts for this share of the score and the properties for the rest
NAME_WEIGHT = 0.7
DEFAULT_LIMIT = 5
MAX_LIMIT = 50
#: bounds on what one request may ask for (a larger batch is refused, never truncated silently)
MAX_QUERIES = 200
MAX_PROPERTIES = 10
MAX_VALUES = 20
MAX_EXTEND_IDS = 500
MAX_EXTEND_PROPERTIES = 20
#: values read per entity and property (data extension); the `limit` setting may ask for fewer
MAX_VALUES_PER_PROPERTY = 100
TYPE_STRICT = ("any", "should", "all")
#: the classes offered as default types, in this order, when the ontology has them
DEFAULT_TYPES = ("Actor", "Organization", "MilitantOrganization", "Person", "State", "Place", "Event", "Ideology")
_LOCAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


class RequestError(ValueError):
    """The client's request is malformed; ``str()`` says how (answered 400)."""


@dataclass(frozen=True)
class Ids:
    """Identifiers of the API ⇄ IRIs of one base."""

    iris: Iris
    prefixes: dict

    def entity_iri(self, value) -> str | None:
        if not isinstance(value, str):
            return None
        if value.startswith(str(self.iris.hid)):
            return value if self.iris.slug_of(value) is not None else None
        return str(self.iris.hid) + value if is_valid_slug(value) else None

    def entity_id(self, iri: str) -> str:
        return self.iris.slug_of(iri) or iri

    def term_iri(self, value) -> str | None:
        """The IRI of a type or property id: a local name of the ontology, a CURIE, or a full http(s) IRI."""
        if not isinstance(value, str) or not value:
            return None
        if is_web_url(value):
            iri = value
        elif ":" in value:
            prefix, _, local = value.partition(":")
            if prefix not in self.prefixes or not _LOCAL_NAME.fullmatch(local):
                return None
            iri = self.prefixes[prefix] + local
        elif _LOCAL_NAME.fullmatch(value):
            iri = str(self.iris.haven) + value
        else:
            return None
        try:
            sparql_iri(iri)
        except ValueError:
            return None
        return iri

    def term_id(self, iri: str) -> str:
        haven = str(self.iris.haven)
        return iri[len(haven):] if iri.startswith(haven) else iri


@dataclass(frozen=True)
class Value:
    """One value of a property: an IRI, or a literal with its datatype."""

    text: str
    is_iri: bool
    datatype: str = ""


#: `values(entity_iris, property_iri)` → {entity IRI: [Value, ...]}, read from the release
Values = Callable[[list[str], str], dict[str, list[Value]]]


def property_values(rows, entity_iris: list[str], property_iri: str, limit: int = MAX_VALUES_PER_PROPERTY) -> dict:
    """A `Values` over a store: `rows(query)` is `Store.rows` (rdflib terms) of the pinned release."""
    if not entity_iris:
        return {}
    subjects = " ".join(sparql_iri(iri) for iri in entity_iris)
    query = (f"SELECT ?s ?o WHERE {{ VALUES ?s {{ {subjects} }} ?s {sparql_iri(property_iri)} ?o }} "
             f"LIMIT {limit * len(entity_iris)}")
    found: dict[str, list[Value]] = {}
    for row in rows(query):
        term = row["o"]
        if isinstance(term, BNode):  # evidence nodes and the like: nothing a client can use as a value
            continue
        datatype = term.datatype if isinstance(term, Literal) else None
        values = found.setdefault(str(row["s"]), [])
        if len(values) < limit:
            values.append(Value(str(term), isinstance(term, URIRef), str(datatype) if datatype else ""))
    return found


# -- the manifest --------------------------------------------------------------------------------------------

def manifest(index: SearchIndex, ids: Ids, *, name: str, version: str, urls: dict[str, str]) -> dict:
    """The service manifest. `urls`: root (no trailing slash), view, preview, documentation and the paths
    of suggest (entity/type/property), flyout and propose_properties, each starting with '/'."""
    types = [{"id": local, "name": index.classes[iri]["label"] or local}
             for local in DEFAULT_TYPES for iri in [str(ids.iris.haven) + local] if iri in index.classes]
    suggest = {kind: {"service_url": urls["root"], "service_path": urls[f"suggest_{kind}"]}
               for kind in ("entity", "type", "property")}
    suggest["entity"]["flyout_service_path"] = urls["flyout_entity"] + "?id=${id}"
    return {
        "versions": ["0.2"],
        "name": name,
        "identifierSpace": str(ids.iris.hid),
        "schemaSpace": str(ids.iris.haven),
        "documentation": urls["documentation"],
        "serviceVersion": version,
        "view": {"url": urls["view"] + "{{id}}"},
        "preview": {"url": urls["preview"] + "?id={{id}}", "width": 400, "height": 140},
        "defaultTypes": types,
        "suggest": suggest,
        "extend": {
            "propose_properties": {"service_url": urls["root"], "service_path": urls["propose_properties"]},
            "property_settings": [{"name": "limit", "label": "Limit", "type": "number", "default": 0,
                                   "help_text": "Most values to return per entity (0: all, up to "
                                                f"{MAX_VALUES_PER_PROPERTY})"}],
        },
    }


# -- reconciliation queries ------------------------------------------------------------------------------

def reconcile_batch(index: SearchIndex, batch, ids: Ids, values: Values) -> dict:
    if not isinstance(batch, dict):
        raise RequestError("queries must be a JSON object of queries by key")
    if len(batch) > MAX_QUERIES:
        raise RequestError(f"{len(batch)} queries in one batch; at most {MAX_QUERIES} are answered")
    return {str(key): {"result": reconcile(index, query, ids, values)} for key, query in batch.items()}


def reconcile(index: SearchIndex, query, ids: Ids, values: Values) -> list[dict]:
    """The candidates for one query (a JSON object as the specification has it), best first."""
    text, type_iris, type_strict, limit, wanted = _parse_query(query, ids)
    if not text.strip():
        return []  # no name: property-only reconciliation would scan the store; not offered
    hits = index.search(text, limit=max(limit * 3, 10), types=type_iris if type_strict != "should" else None)
    constraints = resolve_constraints(wanted, [h.entity.iri for h in hits], values) if wanted and hits else []
    scored = []
    for hit in hits:
        features = [{"id": "name", "value": hit.score}]
        score, agreed = hit.score, True
        if type_iris and type_strict == "should":
            in_type = bool(hit.entity.all_types & set(type_iris))
            features.append({"id": "type", "value": in_type})
            score = score if in_type else score * 0.8
        if type_iris and type_strict == "all" and not set(type_iris) <= hit.entity.all_types:
            continue
        if constraints:
            verdicts = [_agrees(wanted, values_of.get(hit.entity.iri, []), ids, index)
                        for _, wanted, values_of in constraints]
            features += [{"id": f"property:{pid}", "value": ok} for (pid, _, _), ok in zip(constraints, verdicts)]
            agreed = all(verdicts)
            score = score * (NAME_WEIGHT + (1 - NAME_WEIGHT) * sum(verdicts) / len(verdicts))
        scored.append((round(score, 1), hit, features, agreed))
    scored.sort(key=lambda item: (-item[0], -item[1].coverage, item[1].entity.label.casefold()))
    results = []
    for position, (score, hit, features, agreed) in enumerate(scored[:limit]):
        runner_up = scored[position + 1][0] if position + 1 < len(scored) else 0.0
        match = (position == 0 and agreed and hit.coverage >= 1.0 and score >= MATCH_SCORE
                 and score - runner_up >= MATCH_GAP)
        results.append({
            "id": ids.entity_id(hit.entity.iri), "name": hit.entity.label, "description": hit.entity.description,
            "score": score, "match": match, "features": features,
            "type": [{"id": ids.term_id(t), "name": index.classes[t]["label"] or ids.term_id(t)}
                     for t in hit.entity.types],
        })
    return results


def _parse_query(query, ids: Ids):
    if isinstance(query, str):
        query = {"query": query}
    if not isinstance(query, dict):
        raise RequestError("a query must be a JSON object or a string")
    unknown = set(query) - {"query", "type", "limit", "properties", "type_strict"}
    if unknown:
        raise RequestError(f"unknown query field(s): {', '.join(sorted(map(str, unknown)))}")
    text = query.get("query", "")
    if not isinstance(text, str):
        raise RequestError("query must be a string")
    wanted = query.get("type", [])
    wanted = [wanted] if isinstance(wanted, str) else wanted
    if not isinstance(wanted, list) or not all(isinstance(t, str) for t in wanted):
        raise RequestError("type must be a type id or a list of type ids")
    type_iris = [ids.term_iri(t) for t in wanted]
    if None in type_iris:
        raise RequestError(f"not a type id: {wanted[type_iris.index(None)]!r}")
    type_strict = query.get("type_strict", "any")
    if type_strict not in TYPE_STRICT:
        raise RequestError(f"type_strict must be one of {', '.join(TYPE_STRICT)}")
    limit = query.get("limit", DEFAULT_LIMIT)
    # finite: a number too large for a float (1e400) is infinite, and int() of it raises
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not math.isfinite(limit) or limit < 1:
        raise RequestError("limit must be a positive number")
    properties = query.get("properties", [])
    if not isinstance(properties, list) or len(properties) > MAX_PROPERTIES:
        raise RequestError(f"properties must be a list of at most {MAX_PROPERTIES} {{pid, v}} objects")
    constraints = []
    for item in properties:
        if not isinstance(item, dict) or "pid" not in item or "v" not in item:
            raise RequestError("each property must be an object with pid and v")
        iri = ids.term_iri(item["pid"])
        if iri is None:
            raise RequestError(f"not a property id: {item['pid']!r}")
        wanted_values = item["v"] if isinstance(item["v"], list) else [item["v"]]
        if not wanted_values or len(wanted_values) > MAX_VALUES:
            raise RequestError(f"v must hold 1 to {MAX_VALUES} values")
        for value in wanted_values:
            if not isinstance(value, (str, int, float, bool)) and not (isinstance(value, dict) and "id" in value):
                raise RequestError("a property value is a string, a number, a boolean or an object with id")
        constraints.append((item["pid"], iri, wanted_values))
    return text, type_iris, type_strict, min(int(limit), MAX_LIMIT), constraints


def resolve_constraints(query_constraints, candidates: list[str], values: Values):
    """(pid, wanted values, {entity IRI: [Value]}) for each constraint, the store read once per property."""
    return [(pid, wanted, values(candidates, iri)) for pid, iri, wanted in query_constraints]


def _agrees(wanted: list, found: list[Value], ids: Ids, index: SearchIndex) -> bool:
    """True when any wanted value is among the entity's values: the same IRI (by id or IRI), the same name
    (an IRI's label, or a literal, compared as names), or the same number or boolean."""
    for value in wanted:
        if isinstance(value, dict):
            target = ids.entity_iri(value["id"]) or ids.term_iri(value["id"])
            if any(v.is_iri and v.text == target for v in found):
                return True
            value = value.get("name", "")
            if not isinstance(value, str) or not value:
                continue
        if isinstance(value, bool):
            if any(v.text.lower() == str(value).lower() for v in found if not v.is_iri):
                return True
            continue
        if isinstance(value, (int, float)):
            if any(_same_number(v.text, value) for v in found if not v.is_iri):
                return True
            continue
        for v in found:
            if v.is_iri:
                if value in (v.text, ids.entity_id(v.text), ids.term_id(v.text)):
                    return True
                label = index.label_of(v.text)
                if label and index.same_name(value, label):
                    return True
                entity = index.by_iri.get(v.text)
                if entity and any(index.same_name(value, name) for name, _ in entity.names):
                    return True
            elif v.text == value or index.same_name(value, v.text):
                return True
    return False


def _same_number(text: str, number) -> bool:
    try:
        return float(text) == float(number)
    except ValueError:
        return False


# -- suggest and flyout ------------------------------------------------------------------------------------

def suggest_entities(index: SearchIndex, prefix: str, ids: Ids, types: Iterable[str] = (), limit: int = 10) -> dict:
    hits = index.search(prefix, limit=limit, types=list(types) or None, prefix=True)
    return {"result": [{"id": ids.entity_id(h.entity.iri), "name": h.entity.label,
                        "description": h.entity.description,
                        "notable": [{"id": ids.term_id(t), "name": index.classes[t]["label"] or ids.term_id(t)}
                                    for t in h.entity.types]} for h in hits]}


def suggest_terms(table: dict[str, dict], prefix: str, ids: Ids, limit: int = 10, with_broader: bool = False) -> dict:
    """Classes or properties whose label or id has words starting with the words of `prefix`."""
    wanted = nm.words(prefix)
    found = []
    for iri, term in table.items():
        label = term.get("label") or ids.term_id(iri)
        words = nm.words(label) + nm.words(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", ids.term_id(iri)))
        if all(any(w.startswith(q) for w in words) for q in wanted):
            exact = nm.fold(label) == nm.fold(prefix)
            found.append((not exact, len(label), label.casefold(), iri, label, term))
    found.sort()
    result = []
    for *_, iri, label, term in found[:limit]:
        item = {"id": ids.term_id(iri), "name": label}
        if term.get("description"):
            item["description"] = term["description"]
        if with_broader and term.get("broader"):
            item["broader"] = [{"id": ids.term_id(b), "name": table.get(b, {}).get("label") or ids.term_id(b)}
                               for b in term["broader"]]
        result.append(item)
    return {"result": result}


# -- data extension ----------------------------------------------------------------------------------------

def extend(index: SearchIndex, request, ids: Ids, values: Values) -> dict:
    if not isinstance(request, dict) or not isinstance(request.get("ids"), list) \
            or not isinstance(request.get("properties"), list):
        raise RequestError("extend must be a JSON object with ids (a list) and properties (a list)")
    wanted_ids, wanted_properties = request["ids"], request["properties"]
    if len(wanted_ids) > MAX_EXTEND_IDS or len(wanted_properties) > MAX_EXTEND_PROPERTIES:
        raise RequestError(f"at most {MAX_EXTEND_IDS} ids and {MAX_EXTEND_PROPERTIES} properties per request")
    if not all(isinstance(i, str) for i in wanted_ids):
        raise RequestError("ids must be strings")
    entities = {i: ids.entity_iri(i) for i in wanted_ids}
    known = sorted({iri for iri in entities.values() if iri is not None and iri in index.by_iri})
    meta, columns = [], []
    for item in wanted_properties:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise RequestError("each property must be an object with an id")
        iri = ids.term_iri(item["id"])
        if iri is None:
            raise RequestError(f"not a property id: {item['id']!r}")
        settings = item.get("settings") or {}
        limit = _limit_setting(settings.get("limit", 0) if isinstance(settings, dict) else 0)
        meta.append({"id": item["id"], "name": index.label_of(iri) or item["id"]})
        columns.append((item["id"], values(known, iri) if known else {}, limit))
    rows = {}
    for given, iri in entities.items():
        rows[given] = {pid: [_cell(v, ids, index) for v in found.get(iri, [])][:limit or None]
                       for pid, found, limit in columns}
    return {"meta": meta, "rows": rows}


def _limit_setting(value) -> int:
    try:
        limit = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float (1e400)
        raise RequestError("the limit setting must be a number") from None
    return max(0, min(limit, MAX_VALUES_PER_PROPERTY))


_INTEGERS = {terms.XSD + t for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger",
                                     "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong")}
_FLOATS = {terms.XSD + t for t in ("decimal", "double", "float")}
_DATE = re.compile(r"-?\d{4,}-\d{2}-\d{2}")


def _cell(value: Value, ids: Ids, index: SearchIndex) -> dict:
    if value.is_iri:
        label = index.label_of(value.text)
        if value.text in index.by_iri:
            return {"id": ids.entity_id(value.text), "name": label}
        if label:
            return {"id": ids.term_id(value.text), "name": label}
        return {"str": value.text}
    if value.datatype in _INTEGERS:
        try:
            return {"int": int(value.text)}
        except ValueError:
            pass
    if value.datatype in _FLOATS:
        try:
            return {"float": float(value.text)}
        except ValueError:
            pass
    if value.datatype == terms.XSD + "date" and _DATE.fullmatch(value.text):
        return {"date": value.text + "T00:00:00Z"}
    return {"str": value.text}


def propose_properties(index: SearchIndex, used: list[str], type_id: str, ids: Ids, limit: int) -> dict:
    """The properties `used` by entities of the type (most used first), those the index has a label for."""
    properties = [{"id": ids.term_id(iri), "name": index.properties[iri]["label"] or ids.term_id(iri),
                   **({"description": index.properties[iri]["description"]}
                      if index.properties[iri].get("description") else {})}
                  for iri in used if iri in index.properties][:limit]
    return {"type": type_id, "limit": limit, "properties": properties}


def used_properties_query(type_iri: str) -> str:
    return (f"SELECT ?p (COUNT(?s) AS ?n) WHERE {{ ?s a {sparql_iri(type_iri)} ; ?p ?o }} "
            "GROUP BY ?p ORDER BY DESC(?n) ?p LIMIT 500")
