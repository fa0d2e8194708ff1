"""haven.history on small hand-written N-Quads (fast tier): the difference, whose each line is, the changelog
and the history (the CLI-built releases are in test_history.py)."""
from __future__ import annotations

from haven import history

BASE = "https://w3id.org/haven/"
HID, HAVEN = BASE + "id/", BASE + "ontology#"
DATA = f"<{BASE}graph/data>"


def quad(s: str, p: str, o: str, graph: str = DATA) -> bytes:
    return f"{s} {p} {o} {graph} .".encode()


def document(*lines: bytes) -> bytes:
    return b"\n".join(sorted(set(lines))) + b"\n"


PREF = "<http://www.w3.org/2004/02/skos/core#prefLabel>"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
EVIDENCE, LOCATOR = f"<{HAVEN}evidence>", f"<{HAVEN}locator>"
SUBJECT, SUMMARY = f"<{HAVEN}subject>", f"<{HAVEN}summary>"

OLD = document(
    quad(f"<{HID}a>", TYPE, f"<{HAVEN}Person>"), quad(f"<{HID}a>", PREF, '"A"@en'),
    quad(f"<{HID}b>", TYPE, f"<{HAVEN}Person>"), quad(f"<{HID}b>", PREF, '"B"@en'),
    quad(f"<{HID}statement/s>", SUBJECT, f"<{HID}b>"), quad(f"<{HID}statement/s>", SUMMARY, '"B did it"@en'),
    quad(f"<{HID}statement/s>", EVIDENCE, "_:dataold"), quad("_:dataold", LOCATOR, '"bullet 1"@en'),
)
NEW = document(
    quad(f"<{HID}a>", TYPE, f"<{HAVEN}Person>"), quad(f"<{HID}a>", PREF, '"A"@en'),
    quad(f"<{HID}b>", TYPE, f"<{HAVEN}Person>"), quad(f"<{HID}b>", PREF, '"B"@en'),
    quad(f"<{HID}statement/s>", SUBJECT, f"<{HID}b>"), quad(f"<{HID}statement/s>", SUMMARY, '"B did it"@en'),
    # the evidence node changed: a new canonical label
    quad(f"<{HID}statement/s>", EVIDENCE, "_:datanew"), quad("_:datanew", LOCATOR, '"bullet 2"@en'),
    quad(f"<{HID}c>", TYPE, f"<{HAVEN}Person>"), quad(f"<{HID}c>", PREF, '"C"@en'),
    quad(f"<{HID}a>", "<http://www.w3.org/2002/07/owl#deprecated>",
         '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'),
    quad(f"<{BASE}dataset>", "<http://purl.org/dc/terms/modified>", '"2026"', f"<{BASE}graph/metadata>"),
)


def test_difference_of_two_canonical_documents():
    removed, added = history.difference(OLD, NEW)
    assert removed == sorted(line for line in OLD.split(b"\n") if line and line not in NEW.split(b"\n"))
    assert len(removed) == 2 and len(added) == 6


def test_difference_of_unsorted_documents_is_the_set_difference():
    old = b"<a> <p> <c> <g> .\n<a> <p> <b> <g> .\n<a> <p> <b> <g> .\n"
    new = b"<a> <p> <d> <g> .\n<a> <p> <b> <g> .\n"
    assert history.difference(old, new) == ([b"<a> <p> <c> <g> ."], [b"<a> <p> <d> <g> ."])
    assert history.difference(new, new) == ([], [])


def test_a_blank_node_belongs_to_the_iri_at_the_root_of_its_tree():
    described = history.describe(NEW, BASE)
    assert described.owner_of_blank == {"_:datanew": "statement/s"}
    assert described.labels == {"a": "A", "b": "B", "c": "C", "statement/s": "B did it"}
    assert described.moved == {"a": {"deprecated": True}}
    assert described.about == {"statement/s": {"b"}}


def test_changelog_and_history_from_the_difference():
    removed, added = history.difference(OLD, NEW)
    old, new = history.describe(OLD, BASE), history.describe(NEW, BASE)
    changes = history.changelog(BASE, "r2", "r1", removed, added, old, new)
    slugs = {kind: {what: [item["slug"] for item in items] for what, items in changes[kind].items()}
             for kind in ("entities", "statements")}
    # b changed through the statement about it, whose evidence changed; a was deprecated
    assert slugs["entities"] == {"added": ["c"], "changed": ["b"], "deprecated": ["a"], "removed": []}
    assert slugs["statements"] == {"added": [], "changed": ["statement/s"], "deprecated": [], "removed": []}
    assert changes["graphs"]["metadata"] == {"added": 1, "removed": 0}
    first = history.history("r1", None, None, old, None)
    assert first["entities"] == {"a": ["r1", "r1"], "b": ["r1", "r1"], "statement/s": ["r1", "r1"]}
    second = history.history("r2", {"id": "r1", "created": "2026-01-01"}, first, new, changes)
    assert second["entities"] == {"a": ["r1", "r2"], "b": ["r1", "r2"], "c": ["r2", "r2"],
                                  "statement/s": ["r1", "r2"]}
    assert second["earlier"] == [{"id": "r1", "created": "2026-01-01", "previous": None}]


def test_patch_deletes_then_adds_in_one_transaction():
    patch = history.rdf_patch(BASE, "r2", "r1", [b"<a> <p> <b> <g> ."], [b"<a> <p> <c> <g> ."]).decode()
    assert patch.splitlines() == [f"H id <{BASE}releases/r2> .", f"H prev <{BASE}releases/r1> .", "TX .",
                                  "D <a> <p> <b> <g> .", "A <a> <p> <c> <g> .", "TC ."]
