"""Haven's OpenAPI 3.1 description, built from the hand-written openapi.yaml beside this module.

Why one YAML file rather than text next to each route: the description is read as a whole (by people, by
validators, by Schemathesis), so it lives as a whole and reviews like documentation; what keeps it true to
the routes is tests/test_openapi.py, which compares its paths and methods with the Flask app's URL map.
What another module already knows is filled in here, never copied into the file: a key ``haven.module:NAME``
of a ``content`` map stands for the media types of that `Format` or tuple of Formats (from haven.formats,
or the offers tuple a route negotiates over), a value ``haven.module:NAME`` is that limit of the code (the
largest page, the most search hits), and the version comes from the package.
"""
from __future__ import annotations

import copy
import importlib
import re
from functools import lru_cache
from pathlib import Path

import yaml

from haven import __version__
from haven.formats import Format

SOURCE = Path(__file__).with_name("openapi.yaml")
#: a ``content`` key that names formats: ``haven.formats:GRAPH_FORMATS``, ``haven.web.search.routes:SEARCH_OFFERS``
FORMATS_KEY = re.compile(r"(haven(?:\.\w+)*):(\w+)")
#: what `rule_path` turns a Flask rule's ``<converter:name>`` into
_RULE_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
#: the operations an OpenAPI path item may hold
OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@lru_cache(maxsize=1)
def description() -> dict:
    """The description without `servers` (the request's host adds it); built once per process."""
    source = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    built = _expand(source)
    built["info"]["version"] = __version__
    return built


def for_server(url_root: str) -> dict:
    """The description for a client that reached the server at `url_root`."""
    return {**description(), "servers": [{"url": url_root.rstrip("/") or "/"}]}


def media_types(key: str) -> list[str]:
    """The media types a ``content`` key stands for: its formats', or the key itself when it is one."""
    match = FORMATS_KEY.fullmatch(key)
    if match is None:
        return [key]
    found = constant(key)
    formats = found if isinstance(found, tuple) else (found,)
    if not formats or not all(isinstance(fmt, Format) for fmt in formats):
        raise ValueError(f"{key} in {SOURCE.name} names no Format or tuple of Formats")
    return [fmt.media_type for fmt in formats]


def rule_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``/id/<path:slug>`` → ``/id/{slug}``."""
    return _RULE_VARIABLE.sub(r"{\1}", rule)


def operations(spec: dict) -> set[tuple[str, str]]:
    """(path, METHOD) of every operation the description has."""
    return {(path, method.upper()) for path, item in spec["paths"].items() for method in item if method in OPERATIONS}


def constant(reference: str):
    """The value a ``haven.module:NAME`` reference names (a Format, a tuple of them, a limit)."""
    module, name = FORMATS_KEY.fullmatch(reference).groups()
    return getattr(importlib.import_module(module), name)


def _expand(node):
    if isinstance(node, list):
        return [_expand(item) for item in node]
    if isinstance(node, str) and FORMATS_KEY.fullmatch(node):
        # a limit the code holds (``maximum: haven.web.search.routes:MAX_LIMIT``), never a copy of it
        value = constant(node)
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            raise ValueError(f"{node} in {SOURCE.name} is no number or text")
        return value
    if not isinstance(node, dict):
        return node
    expanded = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            # a schema's properties are names, never content keys
            expanded[key] = {name: _expand(schema) for name, schema in value.items()}
        elif key == "content" and isinstance(value, dict):
            expanded[key] = _content(value)
        else:
            expanded[key] = _expand(value)
    return expanded


def _content(content: dict) -> dict:
    """A content map with its format keys replaced by media types; a later key overrides an earlier one (a
    group of offers first, then a schema for one of them)."""
    out: dict = {}
    for key, value in content.items():
        media = _expand(value or {})
        for media_type in media_types(key):
            out[media_type] = copy.deepcopy(media)
    return out
