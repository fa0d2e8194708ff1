"""The `haven` command: build, validate, query, serve, publish.

Option defaults are read from :class:`haven.config.Settings` (so from ``HAVEN_*`` variables) when the
command runs, and ``--help`` shows those same values, not a copy that could drift from them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from haven.buildfolder import built_for, current
from haven.config import Settings
from haven.credentials import redact
from haven.pipeline import BuildError, Progress
from haven.publish import DEFAULT_CHUNK_TRIPLES, DEFAULT_TIMEOUT, ENGINES
from haven.publish import publish as run_publish


class SettingOption(click.Option):
    """A click option whose default is a field of ``Settings.from_env()``."""

    def __init__(self, *args, setting: str, **kwargs):
        kwargs.setdefault("show_default", True)
        kwargs["default"] = lambda: getattr(Settings.from_env(), setting)
        super().__init__(*args, **kwargs)

    def get_default(self, ctx, call=True):
        # click shows "(dynamic)" for a callable default; evaluating it shows the value that will be used
        return super().get_default(ctx, call=True)


def setting(*decls, setting: str, **kwargs):
    return click.option(*decls, cls=SettingOption, setting=setting, **kwargs)


def source_options(func):
    func = setting("--base", setting="base", help="Base IRI to publish under (sources are rebased to it).")(func)
    func = setting("--build-dir", setting="build_dir", type=click.Path(file_okay=False, path_type=Path),
                   help="Where releases are written; its `current` symlink is the served release.")(func)
    func = setting("--root", setting="root", type=click.Path(file_okay=False, path_type=Path),
                   help="Source tree holding ontology/, data/ and shapes/.")(func)
    return func


skip_reasoner_option = click.option(
    "--skip-reasoner", is_flag=True, help="Skip the OWL consistency check (quicker; CI always runs it).")
validator_option = click.option(
    "--validator", type=click.Choice(["auto", "pyshacl", "fast"]), default="auto", show_default=True,
    help="SHACL engine: pySHACL, the SPARQL fast path on pyoxigraph, or auto (pySHACL below 200k triples).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Haven: build, check, query and serve the Linked Data publication."""


@main.command()
@source_options
@skip_reasoner_option
@validator_option
def build(root: Path, build_dir: Path, base: str, skip_reasoner: bool, validator: str):
    """Check the sources and publish a new release to BUILD_DIR/current."""
    settings = Settings.from_env(root=root, build_dir=build_dir, base=base)
    built = _run(lambda progress: _build(settings, progress, skip_reasoner, validator))
    click.echo(f"release {built.release.id}" + (" (unchanged)" if built.release.reused else ""), err=True)


@main.command()
@source_options
@skip_reasoner_option
@validator_option
def validate(root: Path, build_dir: Path, base: str, skip_reasoner: bool, validator: str):
    """Run every check of `build` (parse, derive, SHACL, OWL) and write nothing."""
    from haven.pipeline.build import check

    settings = Settings.from_env(root=root, build_dir=build_dir, base=base)
    _run(lambda progress: check(settings, progress, skip_reasoner, validator=validator))
    click.echo("valid", err=True)


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Output: an aligned table (graphs as Turtle), CSV (graphs as N-Triples) or JSON (graphs as JSON-LD).")
@source_options
def query(query: str, fmt: str, root: Path, build_dir: Path, base: str):
    """Run a SPARQL QUERY on the current release (QUERY may be `@file.rq` or `-` for stdin).

    The default graph is the union of the release's named graphs but hg:hedged (the direct triples only hedged
    statements support; read them with GRAPH hg:hedged); the Haven prefixes (haven:, hid:,
    hst:, ...) and the usual vocabulary prefixes are predeclared.
    """
    from haven.query import load_release, run_query

    settings = Settings.from_env(root=root, build_dir=build_dir, base=base)
    text = _query_text(query)
    try:
        store, release_base = load_release(settings.current_release)
        output = run_query(store, text, fmt, release_base)
    except (BuildError, SyntaxError, OSError, ValueError) as exc:
        raise click.ClickException(_one_line(exc)) from None
    click.echo(output, nl=not output.endswith("\n"))


@main.command()
@source_options
@setting("--host", setting="host", help="Interface to listen on (loopback by default).")
@setting("--port", setting="port", type=int, help="TCP port.")
@setting("--store", setting="store", help='"embedded" (pyoxigraph in-process) or the URL of a SPARQL endpoint.')
@setting("--timeout", "query_timeout", setting="query_timeout", type=float, help="Seconds a SPARQL query may run.")
@setting("--result-limit", setting="result_limit", type=int, help="Most rows or triples in one SPARQL response.")
@setting("--max-query-bytes", setting="max_query_bytes", type=int, help="Largest accepted query or request body.")
@setting("--max-concurrent-queries", setting="max_concurrent_queries", type=int,
         help="Queries evaluated at once; more wait for a slot, fairly across clients.")
@setting("--query-queue-timeout", setting="query_queue_timeout", type=click.FloatRange(min=0),
         help="Seconds a query may wait for a slot before it is answered 503.")
@setting("--max-client-queries", setting="max_client_queries", type=click.IntRange(min=1),
         help="Queries one client may have running or waiting; more are answered 429.")
@setting("--threads", setting="threads", type=int, help="WSGI worker threads.")
@setting("--max-connections", setting="max_connections", type=click.IntRange(min=1),
         help="Client connections held at once; at the limit the longest-waiting idle one makes room.")
@setting("--request-read-timeout", setting="request_read_timeout", type=click.FloatRange(min=0, min_open=True),
         help="Seconds a client may take to send a whole request (slow clients are cut off).")
@setting("--idle-timeout", setting="idle_timeout", type=click.FloatRange(min=0, min_open=True),
         help="Seconds a connection may stay open with no request on it.")
@setting("--cors/--no-cors", setting="cors", help="Send CORS headers.")
@setting("--proxy-hops", setting="proxy_hops", type=click.IntRange(min=0),
         help="Reverse proxies in front whose X-Forwarded-Proto/-Host/-For to trust (nginx: 1); 0 ignores them.")
@setting("--allowed-hosts", setting="allowed_hosts",
         help="Host names clients use to reach the server, comma-separated (links and redirects name them); "
              "empty: loopback and the --host address.")
@setting("--metrics-from", setting="metrics_from",
         help="Addresses or networks that may read /metrics, comma-separated (loopback by default; none: nobody).")
@setting("--allow-plain-http-auth/--no-allow-plain-http-auth", setting="allow_plain_http_auth",
         help="With --store http://user:secret@host/..., send that password over plain http to another host.")
@skip_reasoner_option
def serve(skip_reasoner: bool, **options):
    """Serve the current release (building it first when there is none, or it has another base)."""
    settings = Settings.from_env(**options)
    # a remote store serves what was published into it; only the embedded store reads a local build
    if settings.store == "embedded" and _needs_build(settings):
        click.echo(f"no release for base {settings.base} in {settings.build_dir}; building first", err=True)
        _run(lambda progress: _build(settings, progress, skip_reasoner), details=False)
    try:
        from haven.web.serve import run  # written separately, and pulls in the whole web stack
    except ModuleNotFoundError as exc:
        if exc.name != "haven.web.serve":
            raise
        raise click.ClickException("the web server module (haven.web.serve) is not installed in this checkout") from None
    run(settings)


def _refuse_password_argument(ctx, param, value):
    if value is not None:
        raise click.BadParameter("a password on the command line is visible to every user of the machine (ps); "
                                 "set HAVEN_STORE_PASSWORD or give --password-file", ctx=ctx, param=param)


@main.command()
@click.option("--to", "url", required=True, metavar="URL",
              help="The store's SPARQL query endpoint (or its root), e.g. http://127.0.0.1:7878/query.")
@click.option("--release", "release_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Release folder to publish (default: BUILD_DIR/current).")
@setting("--build-dir", setting="build_dir", type=click.Path(file_okay=False, path_type=Path),
         help="Where `haven build` wrote the releases.")
@click.option("--engine", type=click.Choice(ENGINES), default="auto",
              show_default=True, help="How to derive the update and Graph Store URLs (auto reads the Server header).")
@click.option("--update-url", help="SPARQL Update endpoint, when not the one derived from --to.")
@click.option("--store-url", help="Graph Store HTTP Protocol endpoint, when not the one derived from --to.")
@click.option("--no-graph-store", is_flag=True, help="Load with SPARQL Update INSERT DATA in chunks instead of the GSP.")
@click.option("--chunk", "chunk_triples", type=click.IntRange(min=1), default=DEFAULT_CHUNK_TRIPLES,
              show_default=True, help="Triples per INSERT DATA request.")
@click.option("--user", envvar="HAVEN_STORE_USER", help="Account for writes [env HAVEN_STORE_USER].")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File whose first line is the account's password (else env HAVEN_STORE_PASSWORD).")
@click.option("--password", callback=_refuse_password_argument, expose_value=False, hidden=True,
              help="Refused: a password on the command line is visible to every user in `ps`.")
@click.option("--auth", type=click.Choice(["basic", "digest"]), help="HTTP auth scheme (Virtuoso: digest).")
@click.option("--allow-plain-http-auth", is_flag=True,
              help="Send a basic-auth password over plain http to a host other than this machine.")
@click.option("--timeout", type=click.FloatRange(min=1), default=DEFAULT_TIMEOUT,
              show_default=True, help="Seconds to wait for any one request.")
@click.option("--force", is_flag=True, help="Reload the served release in place when its graphs do not match.")
def publish(url: str, release_dir: Path | None, build_dir: Path, no_graph_store: bool, **options):
    """Load a release into a SPARQL 1.1 store and switch its readers to it atomically."""
    release = release_dir or current(build_dir)
    result = _run(lambda progress: run_publish(release, url, use_graph_store=not no_graph_store,
                                               progress=progress, **options))
    click.echo(f"release {result.release_id}" + ("" if result.changed else " (already published)"), err=True)


def _build(settings: Settings, progress: Progress, skip_reasoner: bool, validator: str = "auto"):
    from haven.pipeline.build import build as run_build

    return run_build(settings, progress, skip_reasoner, validator=validator)


def _run(step, details: bool = True):
    progress = Progress(lambda line: click.echo(line, err=True), details)
    try:
        return step(progress)
    except BuildError as exc:
        click.echo(redact(str(exc)), err=True)
        total = sum(progress.timings.values())
        click.echo(f"failed after {total:.2f} s", err=True)
        sys.exit(1)


def _needs_build(settings: Settings) -> bool:
    return built_for(settings.current_release) != settings.base


def _query_text(arg: str) -> str:
    if arg == "-":
        return sys.stdin.read()
    if arg.startswith("@"):
        try:
            return Path(arg[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot read query file {arg[1:]}: {exc.strerror}") from None
    return arg


def _one_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, SyntaxError):
        return f"SPARQL syntax error {text.removeprefix('error ')}"
    return text if isinstance(exc, BuildError) else f"{type(exc).__name__}: {text}"


if __name__ == "__main__":
    main()
