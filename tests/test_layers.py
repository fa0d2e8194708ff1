"""The package's layers: the store at the bottom (it imports neither Flask nor the web layer), leaf modules
that the query worker loads without rdflib, and a pinned view of a remote store's release per request."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import haven
from haven.config import Settings
from haven.store.remote import RemoteStore

PACKAGE = Path(haven.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_store_and_the_pipeline_never_import_the_web_layer():
    for layer in ("store", "pipeline"):
        for path in (PACKAGE / layer).rglob("*.py"):
            upward = {m for m in imported_modules(path) if m.split(".")[0] == "flask" or m.startswith("haven.web")}
            assert not upward, f"{path.relative_to(PACKAGE)} imports {sorted(upward)}"


def test_the_query_worker_starts_without_rdflib_or_flask():
    """`python -m haven.store.worker` is what a replacement worker runs: it must not pay for rdflib."""
    probe = ("import sys, runpy; sys.argv = ['worker', '--help']\n"
             "import haven.store.worker\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in {'rdflib', 'flask', 'werkzeug'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_leaf_modules_import_nothing_of_haven_but_leaves():
    leaves = {"haven.terms": set(), "haven.formats": set(), "haven.buildfolder": set(),
              "haven.sparqltext": set(), "haven.config": {"haven.buildfolder"}}
    for module, allowed in leaves.items():
        path = PACKAGE / (module.split(".", 1)[1] + ".py")
        ours = {m for m in imported_modules(path) if m.startswith("haven")}
        assert ours <= allowed | {"haven"}, (module, ours)


class PointerOnly(RemoteStore):
    """A remote store whose control graph is a variable: only the pointer and an empty record are read."""

    pointer = "release-1"

    def _pointer_rows(self, query: str):
        return [{"release": self.pointer}] if "hasVersion" in query else []


def test_a_pinned_view_keeps_its_release_while_the_pointer_moves():
    """The per-request view the store offers (Flask's g is no longer read inside the store)."""
    store = PointerOnly("http://127.0.0.1:9/sparql", Settings(), pointer_ttl=0)
    view = store.pinned()
    store.pointer = "release-2"
    assert store.release_id == "release-2"
    assert view.release_id == view.manifest["id"] == "release-1"
    assert store.pinned().release_id == "release-2"


def test_the_code_map_names_every_module():
    """docs/architecture.md's code map has one line per module (15 modules were missing from it before)."""
    code_map = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [str(path.relative_to(PACKAGE.parent)) for path in sorted(PACKAGE.rglob("*.py"))
               if f"server/{path.relative_to(PACKAGE.parent)}" not in code_map]
    assert missing == []
