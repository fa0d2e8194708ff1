"""The build folder on disk, the one module that knows its layout and reads its manifests (as
`haven.store.releases` knows how a release is laid out in a remote store):

    <build_dir>/
      releases/<id>/            one folder per release, never changed once renamed into place
        haven.nq                the release: its four named graphs as canonical N-Quads
        haven.ttl|nt|jsonld     its dumps
        ontology.ttl, shapes.ttl
        search.json             the search index: every entity's names, types and description (haven.search)
        history.json            the earlier releases and each IRI's first and last release (haven.history)
        changes.json, changes.rdfp   what it changed against the previous release: changelog, RDF Patch
        ontology-<version>.ttl  each prior version of the ontology (ontology/versions/), served at its version IRI
        manifest.json           written last: a folder without one is not a release
      current -> releases/<id>  the served release (a relative symlink, switched atomically)
      cache/<id>/               what a release's readers make for it: oxigraph/ (the on-disk store), and the
                                dumps of a release that was not built here (a replica over a remote store),
                                search.json of a release built before releases held one
      .lock                     held by a running build

The build (`haven.pipeline.release`) writes this layout, continuity and `haven query` read the current
release, the embedded store serves it, the web layer finds its shapes and dumps in it, `haven publish` sends
it, and the CLI checks which base it was built for: all through the names and `read_manifest` below.
Standard library only, so that every layer (the store at the bottom included) may use it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

RELEASES = "releases"
CURRENT = "current"
CACHE = "cache"
LOCK = ".lock"
NQUADS = "haven.nq"
MANIFEST = "manifest.json"
ONTOLOGY = "ontology.ttl"
#: a version string as the ontology's owl:versionInfo writes it (semantic versioning), safe in a file name
VERSION_PATTERN = r"[0-9]+\.[0-9]+\.[0-9]+"
SHAPES = "shapes.ttl"
#: the release's search index (`haven.search.index`)
SEARCH_INDEX = "search.json"
#: the release's history and its difference from the previous release (`haven.history`); a first release
#: has a history and no difference
HISTORY = "history.json"
CHANGES = "changes.json"
PATCH = "changes.rdfp"
#: the on-disk pyoxigraph store of a release, inside its cache folder
STORE = "oxigraph"
#: what every manifest holds (the build writes more: created, version, triples, graphs, sha256)
REQUIRED = ("id", "base")


def prior_ontology(version: str) -> str:
    """The file of a release that holds a prior version of the ontology."""
    return f"ontology-{version}.ttl"


def prior_ontology_versions(release: Path) -> list[str]:
    """The prior versions of the ontology whose files the release folder keeps, oldest first."""
    versions = [path.name[len("ontology-"):-len(".ttl")] for path in Path(release).glob(prior_ontology("*"))]
    return sorted((v for v in versions if re.fullmatch(VERSION_PATTERN, v)),
                  key=lambda v: tuple(int(n) for n in v.split(".")))


class ReleaseFolderError(Exception):
    """A folder that is not a readable release; ``str()`` names it and says what is wrong."""


def releases_folder(build_dir: Path) -> Path:
    return Path(build_dir) / RELEASES


def release_folder(build_dir: Path, release_id: str) -> Path:
    return releases_folder(build_dir) / release_id


def current(build_dir: Path) -> Path:
    return Path(build_dir) / CURRENT


def cache_root(build_dir: Path) -> Path:
    return Path(build_dir) / CACHE


def release_cache(cache: Path, release_id: str) -> Path:
    """What readers of release `release_id` keep for it, under the cache root `cache`."""
    return Path(cache) / release_id


def store_folder(cache: Path, release_id: str) -> Path:
    """Where a release's on-disk store lives: made by `haven build`, or by the first server that lacks it."""
    return release_cache(cache, release_id) / STORE


def is_release(folder: Path) -> bool:
    """A complete release: its manifest is written last, so a folder with one holds everything."""
    return (Path(folder) / MANIFEST).is_file()


def read_manifest(folder: Path, required: tuple[str, ...] = REQUIRED) -> dict:
    """The release's manifest.json, holding at least `required`; raises ReleaseFolderError saying why not.

    The one reader and the one error: whether a missing release is fatal (publish, query), means "build
    first" (serve) or "nothing to compare with" (continuity) is the caller's to say."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReleaseFolderError(f"no release at {folder}: {MANIFEST} is missing (run `haven build` first)") from None
    except OSError as error:
        raise ReleaseFolderError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise ReleaseFolderError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise ReleaseFolderError(f"{path} is not a JSON object; is it a Haven release?")
    missing = [key for key in required if key not in manifest]
    if missing:
        raise ReleaseFolderError(f"{path} lacks {', '.join(missing)}; is it a Haven release?")
    return manifest


def built_for(folder: Path) -> str | None:
    """The base the release in `folder` was built for; None when there is no readable release."""
    try:
        return str(read_manifest(folder)["base"])
    except ReleaseFolderError:
        return None
