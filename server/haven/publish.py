"""`haven publish --to URL`: load a built release into a SPARQL 1.1 store, then switch readers to it in one step.

The store layout (which named graphs hold release R, where the pointer to the served release lives) is
defined once, in :mod:`haven.store.releases`; this module only moves data and sends the layout's updates:

1. read the control graph: if the pointer already names R, its record is there and the store's counts match
   the manifest, stop — publishing the same build twice sends no write at all;
2. otherwise load each of the four graphs into R's own named graphs, which no reader looks at yet (graph
   IRIs inside the triples renamed as the layout says, and the shapes beside them): with the
   SPARQL 1.1 Graph Store HTTP Protocol where the store has it (one PUT per graph streamed from disk, or
   POSTs of bounded size on Virtuoso), else SPARQL Update ``INSERT DATA`` in chunks; then count each graph
   by query;
3. ONE update request records R as fully loaded and moves the pointer (a compare-and-swap on the old
   pointer), so a reader sees the old release or the new one, never a mix;
4. drop the releases older than the previous one (the previous one stays, for a quick switch back).

A failure before step 3 leaves the pointer and the old graphs untouched (and the half-loaded graphs are
dropped when the store still answers); a failure after it leaves the new release served. Errors are
:class:`PublishError` with a message for the operator, which the CLI prints before exiting non-zero.
"""
from __future__ import annotations

import hashlib
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from haven import buildfolder, formats
from haven.credentials import Account, CredentialsError, PASSWORD_ENV, USER_ENV, account, check_basic_transport
from haven.credentials import split_userinfo
from haven.pipeline import BuildError, Progress
from haven.store import releases
from haven.store.remote import engine_named

ENGINES = ("auto", "oxigraph", "virtuoso", "generic")
#: triples per INSERT DATA request when the store has no Graph Store Protocol (bounded request bodies)
DEFAULT_CHUNK_TRIPLES = 20_000
#: most triples in one chunk with blank nodes: Virtuoso turns such a template into SQL and refuses SQL over
#: 10,000 lines (about 1,000 template triples of Haven's data; measured on Virtuoso 7.2.5)
BNODE_CHUNK_TRIPLES = 500
#: seconds to wait for any one request (a big graph PUT included)
DEFAULT_TIMEOUT = 600.0
CONNECT_TIMEOUT = 10.0
_BNODE_LABEL = re.compile(r"_:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")


class PublishError(BuildError):
    """Publishing stopped; ``str()`` is the whole message. The store still serves what it served before,
    unless the message says otherwise."""


@dataclass
class Endpoints:
    engine: str
    query: str
    update: str
    #: Graph Store HTTP Protocol endpoint, None when the store has none (INSERT DATA is used instead)
    graph_store: str | None
    #: name of the GSP parameter naming the graph ("graph" in the standard, "graph-uri" on Virtuoso)
    graph_param: str = "graph"
    #: put before INSERT DATA. Virtuoso compiles constant triples into SQL and refuses SQL over 10,000 lines
    #: (about 1,000 triples); with big-data-const they travel as one parameter (and load ~10x faster)
    insert_data_prefix: str = ""
    #: most triples one update request may carry on this engine (Virtuoso's SPARQL parser runs out of stack
    #: at about 5,000 triples in one request: "memory exhausted")
    max_chunk_triples: int | None = None
    #: load a graph through the GSP in POSTs of at most this many triples instead of one PUT: Virtuoso took
    #: over 600 s for one 900k-triple PUT, 8 s for the same triples in POSTs of 50k
    graph_store_chunk_triples: int | None = None
    #: extra parameters of a graph PUT. Oxigraph's `no_transaction` streams into its bulk loader (~6x faster
    #: at 1M triples): not atomic, which the release's own graphs need not be, as nobody reads them yet
    graph_store_params: dict[str, str] = field(default_factory=dict)


@dataclass
class PublishResult:
    release_id: str
    #: the release the pointer named before (None on a first publish)
    previous: str | None
    #: the graphs were (re)loaded; False when the release was already in the store
    loaded: bool
    #: the pointer moved to `release_id`
    switched: bool
    #: older releases removed from the store
    dropped: list[str]
    #: canonical graph IRI → triples the store holds for it, as verified by query
    counts: dict[str, int]
    #: "graph-store", "insert-data" or "none"
    method: str
    #: write requests sent to the store (0 when nothing changed)
    writes: int
    seconds: float
    endpoints: Endpoints | None = None

    @property
    def changed(self) -> bool:
        return self.writes > 0


# -- endpoints ----------------------------------------------------------------------------------------------

def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def resolve_endpoints(url: str, engine: str, update_url: str | None = None, store_url: str | None = None,
                      server_header: str = "") -> Endpoints:
    """The query, update and graph-store URLs for `engine` ("auto" reads the Server header of the store).

    `url` may be the store's query endpoint or its root: Oxigraph server answers at /query, /update and
    /store; Virtuoso at /sparql, /sparql-auth (digest-authenticated updates) and /sparql-graph-crud-auth.
    A generic store updates at `update_url` (default: the query URL, as Fuseki-style endpoints accept both)
    and uses the Graph Store Protocol only when `store_url` is given."""
    if engine == "auto":
        engine = engine_named(server_header)
    root = _origin(url)
    path = urlsplit(url).path.rstrip("/")
    if engine == "oxigraph":
        query = url if path.endswith("/query") else f"{root}/query"
        found = Endpoints(engine, query, f"{root}/update", f"{root}/store",
                          graph_store_params={"no_transaction": ""})
    elif engine == "virtuoso":
        query = url if path.endswith("/sparql") else f"{root}/sparql"
        found = Endpoints(engine, query, f"{root}/sparql-auth", f"{root}/sparql-graph-crud-auth", "graph-uri",
                          "DEFINE sql:big-data-const 1\n", 2_000, 100_000)
    elif engine == "generic":
        found = Endpoints(engine, url, url, None)
    else:
        raise PublishError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if update_url:
        found.update = update_url
    if store_url:
        found.graph_store = store_url
    return found


# -- HTTP ---------------------------------------------------------------------------------------------------

class StoreClient:
    """The few requests publishing needs, each answering a clean PublishError; counts the writes it sends."""

    def __init__(self, url: str, *, account: Account | None = None, auth: str | None = None,
                 allow_plain_http_auth: bool = False, timeout: float = DEFAULT_TIMEOUT):
        self.url = url
        self.timeout = (CONNECT_TIMEOUT, timeout)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "haven-publish"
        self.session.trust_env = False  # no ~/.netrc password sent where the operator gave none
        self.account, self.auth_scheme, self.allow_plain_http_auth = account, auth, allow_plain_http_auth
        self.writes = 0
        self.endpoints: Endpoints | None = None

    def connect(self, engine: str, update_url: str | None, store_url: str | None) -> Endpoints:
        """Checks that the store answers a query and works out its endpoints."""
        response = self._send("GET", self.url, "the first query", params={"query": "ASK {}"},
                              headers={"Accept": formats.SPARQL_JSON.media_type})
        endpoints = resolve_endpoints(self.url, engine, update_url, store_url, response.headers.get("Server", ""))
        if endpoints.engine == "virtuoso":
            # Virtuoso writes only through its authenticated endpoints, with HTTP digest
            self.auth_scheme = self.auth_scheme or "digest"
            if self.account is None:
                raise PublishError(f"the store at {self.url} is Virtuoso, which takes writes only from an account: "
                                   f"set {USER_ENV} and {PASSWORD_ENV} (or --password-file); no account is assumed")
        self.auth = None
        if self.account is not None:
            if self.auth_scheme != "digest":
                try:
                    check_basic_transport([u for u in (endpoints.update, endpoints.graph_store) if u],
                                          self.allow_plain_http_auth)
                except CredentialsError as exc:
                    raise PublishError(str(exc)) from None
            scheme = HTTPDigestAuth if self.auth_scheme == "digest" else HTTPBasicAuth
            self.auth = scheme(self.account.user, self.account.password)
        self.endpoints = endpoints
        return endpoints

    def select(self, query: str) -> list[dict[str, str]]:
        """Rows of a SELECT as {variable: lexical value or IRI} (what `haven.store.releases` reads)."""
        response = self._send("POST", self.endpoints.query, "a query", data={"query": query},
                              headers={"Accept": formats.SPARQL_JSON.media_type})
        try:
            bindings = response.json()["results"]["bindings"]
        except (ValueError, KeyError, TypeError):
            raise PublishError(f"the store's answer to a query at {self.endpoints.query} is not SPARQL JSON "
                               f"results: {_snippet(response.text)}") from None
        return [{name: term["value"] for name, term in row.items()} for row in bindings]

    def count(self, graph: str) -> int:
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return int(rows[0]["n"]) if rows else 0

    def update(self, text: str, what: str) -> None:
        self.writes += 1
        self._send("POST", self.endpoints.update, what, data={"update": text}, auth=self.auth,
                   headers={"Accept": f"{formats.SPARQL_JSON.media_type}, */*;q=0.1"})

    def put_graph(self, graph: str, path: Path) -> None:
        self.writes += 1
        with open(path, "rb") as body:
            self._send("PUT", self.endpoints.graph_store, f"the load of <{graph}>", data=body, auth=self.auth,
                       params={self.endpoints.graph_param: graph, **self.endpoints.graph_store_params},
                       headers={"Content-Type": formats.N_TRIPLES.media_type})

    def post_triples(self, graph: str, lines: list[str], what: str) -> None:
        """Adds N-Triples lines to a graph (GSP POST); blank-node labels are scoped to this one request."""
        self.writes += 1
        self._send("POST", self.endpoints.graph_store, what, data="".join(lines).encode("utf-8"), auth=self.auth,
                   params={self.endpoints.graph_param: graph, **self.endpoints.graph_store_params},
                   headers={"Content-Type": formats.N_TRIPLES.media_type})

    def _send(self, method: str, url: str, what: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError as exc:
            raise PublishError(f"cannot reach the store at {url} ({what}): {_reason(exc)}") from None
        except requests.Timeout:
            raise PublishError(f"the store at {url} did not answer {what} within {self.timeout[1]:.0f} s") from None
        except requests.RequestException as exc:
            raise PublishError(f"request to {url} failed ({what}): {_reason(exc)}") from None
        if response.status_code == 401:
            raise PublishError(f"the store at {url} refused the credentials for {what} (HTTP 401); give an "
                               f"account: --user (or {USER_ENV}) with {PASSWORD_ENV} or --password-file")
        if response.status_code >= 400:
            raise PublishError(f"the store at {url} answered HTTP {response.status_code} to {what}: "
                               f"{_snippet(response.text)}")
        return response


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "Connection reset",
                   "Remote end closed connection", "Connection aborted"):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _snippet(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return (flat[:limit] + "…") if len(flat) > limit else (flat or "(empty body)")


# -- the release on disk ------------------------------------------------------------------------------------

def read_manifest(release_dir: Path) -> dict:
    """The manifest of the release to publish, with what publishing needs (its graphs, a usable id)."""
    try:
        manifest = buildfolder.read_manifest(release_dir, required=(*buildfolder.REQUIRED, "graphs"))
    except buildfolder.ReleaseFolderError as error:
        raise PublishError(str(error)) from None
    try:
        releases.check_release_id(str(manifest["id"]))
    except ValueError as exc:
        raise PublishError(f"{release_dir / buildfolder.MANIFEST}: {exc}") from None
    return manifest


def split_graphs(release_dir: Path, manifest: dict, into: Path, rename: bool = True) -> dict[str, Path]:
    """Writes each graph of haven.nq as N-Triples to `into`; checks the file against the manifest.

    Each line is cut at its last '<', which starts the graph IRI (an IRI cannot hold '<'), so this streams
    at disk speed without parsing; the store parses what it receives. With `rename`, graph IRIs inside the
    triples take the release's names (`releases.rename_terms`), as the store layout requires."""
    nq = release_dir / buildfolder.NQUADS
    expected_hash = (manifest.get("sha256") or {}).get(buildfolder.NQUADS)
    canonical = releases.canonical_graphs(manifest["base"])
    wanted = {iri: part for part, iri in canonical.items()}
    paths = {iri: into / f"{part}.nt" for iri, part in wanted.items()}
    names = releases.data_renaming(manifest["base"], str(manifest["id"])) if rename else {}
    handles = {iri: open(path, "wb") for iri, path in paths.items()}
    counts = dict.fromkeys(wanted, 0)
    digest = hashlib.sha256()
    try:
        with open(nq, "rb") as source:
            for number, line in enumerate(source, 1):
                digest.update(line)
                body = line.rstrip()
                if not body or body.startswith(b"#"):
                    continue
                cut = body.rfind(b"<")
                graph = body[cut + 1:-1].rstrip().rstrip(b">").decode("utf-8", "replace") if cut > 0 else ""
                if graph not in handles or not body.endswith(b"."):
                    raise PublishError(f"{nq}:{number}: not a triple in one of the release's graphs "
                                       f"({', '.join(wanted)})")
                handles[graph].write(releases.rename_terms(body[:cut] + b".\n", names))
                counts[graph] += 1
    except FileNotFoundError:
        raise PublishError(f"no release at {release_dir}: haven.nq is missing") from None
    finally:
        for handle in handles.values():
            handle.close()
    if expected_hash and digest.hexdigest() != expected_hash:
        raise PublishError(f"{nq} does not match the sha256 in its manifest: the release was changed after "
                           "the build; build it again")
    declared = {iri: int(manifest["graphs"].get(iri, 0)) for iri in wanted}
    if counts != declared:
        diff = ", ".join(f"{iri}: {counts[iri]} in haven.nq, {declared[iri]} in the manifest"
                         for iri in wanted if counts[iri] != declared[iri])
        raise PublishError(f"{release_dir} is inconsistent ({diff}); build it again")
    return paths


def shapes_file(release_dir: Path, into: Path) -> tuple[Path, int] | None:
    """The release's shapes.ttl as N-Triples in `into` and its triple count; None when the build has none."""
    source = release_dir / buildfolder.SHAPES
    if not source.is_file():
        return None
    return _as_ntriples(source, into / "shapes.nt")


def prior_ontology_files(release_dir: Path, into: Path) -> dict[str, tuple[Path, int]]:
    """version → (N-Triples file in `into`, triple count), for each prior version of the ontology the release
    keeps, so that a server with no build folder still resolves every version IRI the release names."""
    return {version: _as_ntriples(release_dir / buildfolder.prior_ontology(version), into / f"ontology-{version}.nt")
            for version in buildfolder.prior_ontology_versions(release_dir)}


def _as_ntriples(source: Path, target: Path) -> tuple[Path, int]:
    try:
        triples = list(ox.parse(path=str(source), format=ox.RdfFormat.TURTLE))
    except (SyntaxError, OSError) as exc:
        raise PublishError(f"{source} does not parse: {exc}") from None
    ox.serialize(triples, output=str(target), format=ox.RdfFormat.N_TRIPLES)
    return target, len(triples)


def triple_chunks(path: Path, chunk_triples: int, bnode_chunk_triples: int = BNODE_CHUNK_TRIPLES):
    """N-Triples lines in chunks of about `chunk_triples`, never splitting the triples around a blank node.

    A blank-node label names one node only within one update request, so a tree of evidence nodes cut in
    two would become two different nodes. Triples without blank nodes stream; those with them are grouped
    (union-find over labels), packed whole into chunks of at most about `bnode_chunk_triples` (they are sent
    as templates, which Virtuoso compiles to SQL of bounded length) and come last."""
    parent: dict[str, str] = {}

    def find(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    chunk: list[str] = []
    linked: list[tuple[str, str]] = []  # (a label of the line, the line)
    with open(path, encoding="utf-8") as source:
        for line in source:
            labels = _bnode_labels(line)
            if not labels:
                chunk.append(line)
                if len(chunk) >= chunk_triples:
                    yield chunk
                    chunk = []
                continue
            for other in labels[1:]:
                parent[find(other)] = find(labels[0])
            linked.append((labels[0], line))
    if chunk:
        yield chunk
        chunk = []
    groups: dict[str, list[str]] = {}
    for label, line in linked:
        groups.setdefault(find(label), []).append(line)
    limit = min(chunk_triples, bnode_chunk_triples)
    for lines in groups.values():
        if chunk and len(chunk) + len(lines) > limit:
            yield chunk
            chunk = []
        chunk.extend(lines)
    if chunk:
        yield chunk


def insert_request(graph: str, lines: list[str], insert_data_prefix: str = "") -> str:
    """INSERT DATA, or for triples with blank nodes the equivalent ``INSERT {...} WHERE {}``: Virtuoso refuses
    blank nodes in INSERT DATA ("not allowed in a constant clause"), while a template with one empty solution
    makes the same fresh nodes on every store."""
    body = "".join(lines)
    if any("_:" in line and _bnode_labels(line) for line in lines):
        return f"INSERT {{ GRAPH <{graph}> {{\n{body}}} }} WHERE {{}}"
    return f"{insert_data_prefix}INSERT DATA {{ GRAPH <{graph}> {{\n{body}}} }}"


def _bnode_labels(line: str) -> list[str]:
    """Blank-node labels in subject or object position (never inside a literal)."""
    labels = []
    subject = line.split(" ", 1)[0]
    if subject.startswith("_:"):
        labels.append(subject)
    tail = line.rstrip().removesuffix(".").rstrip()
    obj = tail.rsplit(" ", 1)[-1]
    if _BNODE_LABEL.fullmatch(obj):
        labels.append(obj)
    return labels


# -- publishing ---------------------------------------------------------------------------------------------

def publish(release_dir: Path | str, url: str, *, engine: str = "auto", update_url: str | None = None,
            store_url: str | None = None, user: str | None = None, password: str | None = None,
            password_file: Path | str | None = None, auth: str | None = None, allow_plain_http_auth: bool = False,
            use_graph_store: bool = True, chunk_triples: int = DEFAULT_CHUNK_TRIPLES,
            timeout: float = DEFAULT_TIMEOUT, force: bool = False,
            progress: Progress | Callable[[str], None] | None = None) -> PublishResult:
    """Publish the release in `release_dir` (a `haven build` output folder) to the store at `url`.

    `url` is the store's query endpoint (or its root); `engine` "auto" tells Oxigraph server and Virtuoso
    from their Server header, anything else is "generic". `update_url`/`store_url` override the derived
    update and Graph Store Protocol endpoints; `use_graph_store=False` loads with INSERT DATA in chunks of
    `chunk_triples`. The writes are authenticated (`auth` "basic" or "digest"; Virtuoso: digest) as
    `user` with `password`, or `password_file`'s first line, or $HAVEN_STORE_PASSWORD; without `user`, as
    $HAVEN_STORE_USER, or the userinfo of a URL (removed from it); without any, not at all
    (`haven.credentials`). Basic auth over plain http goes to loopback hosts only, unless
    `allow_plain_http_auth`. `force` reloads a release that is being served but whose graphs no longer match
    (not atomic: readers may see the reload). `progress` is a Progress, a callable taking one line, or None.
    Raises PublishError; on error before the switch, the store serves what it served before."""
    started = time.perf_counter()
    release_dir = Path(release_dir)
    progress = progress if isinstance(progress, Progress) else Progress(progress or (lambda line: None))
    manifest = read_manifest(release_dir)
    release_id, base = str(manifest["id"]), str(manifest["base"])
    declared = {iri: int(manifest["graphs"].get(iri, 0)) for iri in releases.canonical_graphs(base).values()}
    try:
        found = Account(user, password) if user and password is not None else \
            account(user, password_file, [url, update_url, store_url])
    except CredentialsError as exc:
        raise PublishError(str(exc)) from None
    # the URLs without their userinfo from here on: every message and note quotes them
    url, update_url, store_url = (split_userinfo(u)[0] if u else u for u in (url, update_url, store_url))
    client = StoreClient(url, account=found, auth=auth, allow_plain_http_auth=allow_plain_http_auth,
                         timeout=timeout)

    with progress.stage("store") as notes:
        endpoints = client.connect(engine, update_url, store_url)
        if not use_graph_store:
            endpoints.graph_store = None
        notes += [f"{endpoints.engine} at {endpoints.query}", f"update {endpoints.update}",
                  f"graph store {endpoints.graph_store or 'none (INSERT DATA)'}"]
        try:
            current = releases.current_release(client.select, base)
        except (releases.ReleaseLayoutError, ValueError) as exc:
            raise PublishError(f"the store's control graph is not as Haven writes it: {exc}") from None
        notes.append(f"serving {current or 'nothing yet'}")

    def result(**fields) -> PublishResult:
        return PublishResult(release_id=release_id, previous=current, writes=client.writes,
                             seconds=time.perf_counter() - started, endpoints=endpoints, **fields)

    shapes_declared, prior_declared = _documents_counts(release_dir)
    with progress.stage("check") as notes:
        record = releases.read_release_record(client.select, base, release_id)
        in_store = _store_counts(client, base, release_id) if record else {}
        complete = (record is not None and record["graphs"] == declared and in_store == declared
                    and record["layout"] == releases.LAYOUT and record["shapes"] == shapes_declared
                    and _shapes_in_store(client, base, release_id, shapes_declared) == shapes_declared
                    and record["prior_ontologies"] == prior_declared
                    and _prior_in_store(client, base, release_id, prior_declared) == prior_declared)
        if complete:
            notes.append(f"release {release_id} is already loaded, {sum(declared.values())} triples")
        else:
            notes.append(f"release {release_id} must be loaded")
    if complete and current == release_id:
        progress.say(f"release {release_id} is already published at {url}; nothing changed")
        return result(loaded=False, switched=False, dropped=[], counts=in_store, method="none")
    if current == release_id and not force and record is not None and record["layout"] != releases.LAYOUT:
        raise PublishError(
            f"the store serves release {release_id} in an older layout (graph IRIs inside the data not renamed, "
            "no shapes): servers of this version refuse it; publish another build, or repeat with --force to "
            "reload it in place (not atomic)")
    if current == release_id and not force:
        raise PublishError(
            f"the store serves release {release_id} but its graphs do not match the build "
            f"(store {in_store or 'no record'}, build {declared}); reloading the graphs being served is not "
            "atomic: publish another build first, or repeat with --force to reload them in place")

    method = "none"
    if not complete:
        method = "graph-store" if endpoints.graph_store else "insert-data"
        try:
            in_store, shapes_loaded, prior_loaded = _load(client, release_dir, manifest, progress, chunk_triples)
        except PublishError as exc:
            if current != release_id:
                _forget(client, base, release_id, list(prior_declared), progress)
            raise PublishError(f"{exc}\npublish stopped; the store still serves "
                               f"{current or 'nothing (first publish)'}") from None

    with progress.stage("switch") as notes:
        update = releases.switch_update(base, current, release_id)
        if not complete:
            update = releases.record_release_update(base, manifest, shapes=shapes_loaded,
                                                    prior_ontologies=prior_loaded) + " ;\n" + update
        try:
            client.update(update, "the switch of the release pointer")
            now = releases.current_release(client.select, base)
        except PublishError as exc:
            # the request may or may not have been applied; either way the store serves one whole release
            raise PublishError(f"{exc}\nrelease {release_id} is loaded, but whether the store now serves it or "
                               f"still {current or 'nothing'} is unknown; publish again: it only switches") from None
        if now != release_id:
            raise PublishError(f"release {release_id} is loaded, but the pointer names {now}: another publish "
                               "switched the store meanwhile; publish again to serve this build")
        notes.append(f"{current or '(none)'} → {release_id}")

    dropped = _prune(client, base, keep={release_id, current}, progress=progress)
    progress.say(f"published release {release_id} ({sum(in_store.values())} triples) to {url}")
    return result(loaded=not complete, switched=True, dropped=dropped, counts=in_store, method=method)


def _store_counts(client: StoreClient, base: str, release_id: str) -> dict[str, int]:
    stored = releases.release_graphs(base, release_id)
    return {iri: client.count(stored[part]) for part, iri in releases.canonical_graphs(base).items()}


def _documents_counts(release_dir: Path) -> tuple[int | None, dict[str, int]]:
    """Triples of the release's shapes (None: no shapes.ttl) and of each prior version of the ontology."""
    with tempfile.TemporaryDirectory(prefix="haven-publish-") as tmp:
        found = shapes_file(release_dir, Path(tmp))
        prior = prior_ontology_files(release_dir, Path(tmp))
    return (found[1] if found else None), {version: n for version, (_, n) in prior.items()}


def _prior_in_store(client: StoreClient, base: str, release_id: str, expected: dict[str, int]) -> dict[str, int]:
    return {version: client.count(releases.prior_ontology_graph(base, release_id, version)) for version in expected}


def _shapes_in_store(client: StoreClient, base: str, release_id: str, expected: int | None) -> int | None:
    """Triples in the release's shapes graph (None when none are expected and none are there)."""
    count = client.count(releases.shapes_graph(base, release_id))
    return None if expected is None and count == 0 else count


def _load(client: StoreClient, release_dir: Path, manifest: dict, progress: Progress,
          chunk_triples: int) -> tuple[dict[str, int], int | None, dict[str, int]]:
    """Loads the release's graphs, shapes and prior versions of the ontology; (verified counts by canonical
    graph, shapes triples or None, triples by prior version)."""
    base, release_id = str(manifest["base"]), str(manifest["id"])
    stored = releases.release_graphs(base, release_id)
    canonical = releases.canonical_graphs(base)
    with tempfile.TemporaryDirectory(prefix="haven-publish-") as tmp:
        with progress.stage("split") as notes:
            files = split_graphs(release_dir, manifest, Path(tmp))
            notes.append(f"{len(files)} graphs from {release_dir / buildfolder.NQUADS}")
            shapes = shapes_file(release_dir, Path(tmp))
            notes.append(f"{shapes[1]} shape triples" if shapes else "no shapes.ttl")
            prior = prior_ontology_files(release_dir, Path(tmp))
            notes.append(f"prior ontology versions {', '.join(prior)}" if prior else "no prior ontology versions")
        # whatever an earlier attempt left under this release's names (a stale record, half-loaded graphs)
        # goes first, so the graphs start empty and the record is written once, after the verification
        client.update(" ;\n".join(releases.drop_release_updates(base, release_id, prior)),
                      f"the reset of release {release_id}'s graphs")
        for part in releases.PARTS:
            with progress.stage(f"load {part}") as notes:
                _load_graph(client, stored[part], files[canonical[part]], chunk_triples)
                notes.append(f"{manifest['graphs'].get(canonical[part], 0)} triples into <{stored[part]}>")
        if shapes:
            with progress.stage("load shapes") as notes:
                _load_graph(client, releases.shapes_graph(base, release_id), shapes[0], chunk_triples)
                notes.append(f"{shapes[1]} triples into <{releases.shapes_graph(base, release_id)}>")
        for version, (path, n) in prior.items():
            graph = releases.prior_ontology_graph(base, release_id, version)
            with progress.stage(f"load ontology {version}") as notes:
                _load_graph(client, graph, path, chunk_triples)
                notes.append(f"{n} triples into <{graph}>")
        history_files = {name: (release_dir / name).read_text(encoding="utf-8") for name in HISTORY_FILES
                         if (release_dir / name).is_file()}
        with progress.stage("load history") as notes:
            client.update(releases.history_files_update(base, release_id, history_files),
                          f"the history files of release {release_id}")
            notes.append(", ".join(sorted(history_files)) + f" into <{releases.history_graph(base, release_id)}>")
    shapes_expected = shapes[1] if shapes else None
    prior_expected = {version: n for version, (_, n) in prior.items()}
    with progress.stage("verify") as notes:
        counts = _store_counts(client, base, release_id)
        wrong = {iri: n for iri, n in counts.items() if n != int(manifest["graphs"].get(iri, 0))}
        shapes_found = _shapes_in_store(client, base, release_id, shapes_expected)
        built = {**manifest["graphs"]}
        if shapes_found != shapes_expected:
            wrong[releases.shapes_graph(base, release_id)] = shapes_found
            built[releases.shapes_graph(base, release_id)] = shapes_expected
        for version, n in _prior_in_store(client, base, release_id, prior_expected).items():
            if n != prior_expected[version]:
                wrong[releases.prior_ontology_graph(base, release_id, version)] = n
                built[releases.prior_ontology_graph(base, release_id, version)] = prior_expected[version]
        if wrong:
            raise PublishError("the store holds other triple counts than the build: " + ", ".join(
                f"{iri} {n} (build {built.get(iri, 0)})" for iri, n in wrong.items()))
        notes.append(f"{sum(counts.values())} triples in {len(counts)} graphs, as built")
    return counts, shapes_expected, prior_expected


#: the files of a release folder a server without it needs for the release history (web.releases): the
#: manifest too, whose sha256 of each file the store's record of the release does not keep
HISTORY_FILES = (buildfolder.MANIFEST, buildfolder.HISTORY, buildfolder.CHANGES, buildfolder.PATCH)


def _load_graph(client: StoreClient, graph: str, path: Path, chunk_triples: int) -> None:
    """Loads one N-Triples file into `graph`, which the caller has just emptied."""
    endpoints = client.endpoints
    if endpoints.graph_store and endpoints.graph_store_chunk_triples:
        size = endpoints.graph_store_chunk_triples
        for number, lines in enumerate(triple_chunks(path, size, size), 1):
            client.post_triples(graph, lines, f"the load of <{graph}> (POST {number})")
    elif endpoints.graph_store:
        client.put_graph(graph, path)
    else:
        limit = min(chunk_triples, endpoints.max_chunk_triples or chunk_triples)
        for number, lines in enumerate(triple_chunks(path, limit), 1):
            client.update(insert_request(graph, lines, endpoints.insert_data_prefix),
                          f"INSERT chunk {number} of <{graph}>")


def _forget(client: StoreClient, base: str, release_id: str, prior_versions: list[str], progress: Progress) -> None:
    """Best effort: drop a half-loaded release (never the served one; the caller checks)."""
    try:
        client.update(" ;\n".join(releases.drop_release_updates(base, release_id, prior_versions)),
                      f"the removal of half-loaded release {release_id}")
        progress.say(f"  removed the half-loaded graphs of release {release_id}")
    except PublishError as exc:
        progress.say(f"  could not remove the half-loaded graphs of release {release_id}: {exc}")


def _prune(client: StoreClient, base: str, keep: set, progress: Progress) -> list[str]:
    """Drops loaded releases other than the served and the previous one. The publish has succeeded by now,
    so a failure here is reported, not raised."""
    dropped = []
    with progress.stage("prune") as notes:
        try:
            served = releases.current_release(client.select, base)
            for old in sorted(releases.loaded_releases(client.select, base)):
                if old in keep or old == served:
                    continue
                record = releases.read_release_record(client.select, base, old) or {}
                client.update(" ;\n".join(releases.drop_release_updates(base, old, record.get("prior_ontologies", {}))),
                              f"the removal of release {old}")
                dropped.append(old)
        except (PublishError, releases.ReleaseLayoutError) as exc:
            notes.append(f"stopped: {exc}")
        notes.append(f"dropped {', '.join(dropped)}" if dropped else "nothing to drop")
    return dropped
