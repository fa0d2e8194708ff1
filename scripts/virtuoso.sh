#!/usr/bin/env bash
# A throw-away Virtuoso Open Source for tests and benchmarks.
#
#   scripts/virtuoso.sh start DIR   install the Debian package if missing, create a fresh database in DIR,
#                                   start virtuoso-t on free loopback ports, wait until /sparql answers and
#                                   print the endpoint URLs (also written to DIR/urls.env)
#   scripts/virtuoso.sh stop DIR    stop that server (the database in DIR is left for inspection)
#
# The packaged /etc/virtuoso-opensource-7/virtuoso.ini is copied and edited, never used in place, so a
# system Virtuoso (if any) and its database are untouched. Writes need the `dba` account, whose password
# in a fresh database is `dba`.
set -euo pipefail

INI=/etc/virtuoso-opensource-7/virtuoso.ini
PACKAGED_DB=/var/lib/virtuoso-opensource-7/db/
# pages of 8 KiB; 64000 is about 0.5 GiB, enough for a few million triples without paging
BUFFERS=${VIRTUOSO_BUFFERS:-64000}
WAIT_SECONDS=${VIRTUOSO_WAIT_SECONDS:-120}
# the store's own limit on a SPARQL query (the packaged 60 s), so that nothing a client sends through Haven
# runs on in the store long after Haven gave up on it: Haven's default query timeout (10 s). Haven also sends
# each query's own limit (the `timeout` parameter, in ms), which Virtuoso applies below this cap.
MAX_QUERY_SECONDS=${VIRTUOSO_MAX_QUERY_SECONDS:-10}

die() { echo "virtuoso.sh: $*" >&2; exit 1; }

install_if_missing() {
    command -v virtuoso-t >/dev/null 2>&1 && [ -f "$INI" ] && return 0
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "installing virtuoso-opensource (about a minute)..." >&2
    # `env` because sudo drops DEBIAN_FRONTEND from the environment; without it debconf may stop and ask
    # for the dba password. The keep-old-conffile options answer dpkg's own questions the same way.
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold virtuoso-opensource </dev/null >/dev/null
    command -v virtuoso-t >/dev/null 2>&1 || die "virtuoso-t not found after installing virtuoso-opensource"
}

# python3 rather than curl: a fresh machine that runs the suite has python3, not necessarily curl
answers() {
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2).close()' "$1" 2>/dev/null
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/virtuoso.pid" ] && kill -0 "$(cat "$dir/virtuoso.pid")" 2>/dev/null; then
        die "a Virtuoso started from $dir is already running (pid $(cat "$dir/virtuoso.pid")); stop it first"
    fi
    install_if_missing
    rm -f "$dir"/virtuoso.db "$dir"/virtuoso.trx "$dir"/virtuoso.log "$dir"/virtuoso.lck \
          "$dir"/virtuoso-temp.* "$dir"/virtuoso.pxa
    local sql_port http_port
    sql_port=$(free_port)
    http_port=$(free_port)
    while [ "$http_port" = "$sql_port" ]; do http_port=$(free_port); done
    # Both listeners bound to loopback: a test database with the default dba password must not be reachable
    # from the network. The Zero Config name is emptied so that it does not announce itself either.
    sed -e "s|^ServerPort\( *\)= *1111|ServerPort\1= 127.0.0.1:$sql_port|" \
        -e "s|^ServerPort\( *\)= *8890|ServerPort\1= 127.0.0.1:$http_port|" \
        -e "s|$PACKAGED_DB|$dir/|g" \
        -e "s|^DefaultHost *=.*|DefaultHost  = 127.0.0.1:$http_port|" \
        -e "s|^NumberOfBuffers *=.*|NumberOfBuffers          = $BUFFERS|" \
        -e "s|^MaxDirtyBuffers *=.*|MaxDirtyBuffers          = $((BUFFERS * 3 / 4))|" \
        -e "s|^ServerName *= *virtuoso|ServerName =|" \
        -e "s|^DirsAllowed *=.*|DirsAllowed              = ., $dir, /usr/share/virtuoso-opensource-7/vad|" \
        -e "s|^MaxQueryExecutionTime *=.*|MaxQueryExecutionTime      = $MAX_QUERY_SECONDS\t; in seconds|" \
        "$INI" > "$dir/virtuoso.ini"
    grep -q "127.0.0.1:$http_port" "$dir/virtuoso.ini" || die "could not set the HTTP port in $dir/virtuoso.ini"
    grep -q "^MaxQueryExecutionTime *= *$MAX_QUERY_SECONDS\b" "$dir/virtuoso.ini" \
        || die "could not set MaxQueryExecutionTime in $dir/virtuoso.ini"
    (cd "$dir" || exit 1; nohup virtuoso-t -f -c "$dir/virtuoso.ini" >"$dir/stdout.log" 2>&1 & echo $! >"$dir/virtuoso.pid")
    local pid base=http://127.0.0.1:$http_port
    pid=$(cat "$dir/virtuoso.pid")
    local deadline=$((SECONDS + WAIT_SECONDS))
    until answers "$base/sparql?query=ASK%7B%7D"; do
        kill -0 "$pid" 2>/dev/null || { tail -20 "$dir/virtuoso.log" "$dir/stdout.log" >&2 2>/dev/null; die "virtuoso-t exited"; }
        [ $SECONDS -lt $deadline ] || { stop "$dir"; die "no answer from $base/sparql after $WAIT_SECONDS s"; }
        sleep 0.5
    done
    cat >"$dir/urls.env" <<URLS
VIRTUOSO_SPARQL_URL=$base/sparql
VIRTUOSO_UPDATE_URL=$base/sparql-auth
VIRTUOSO_GSP_URL=$base/sparql-graph-crud-auth
VIRTUOSO_SQL_PORT=$sql_port
VIRTUOSO_PID=$pid
URLS
    cat "$dir/urls.env"
}

stop() {
    local dir=$1 pid
    [ -f "$dir/virtuoso.pid" ] || die "no virtuoso.pid in $dir"
    pid=$(cat "$dir/virtuoso.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$dir/virtuoso.pid"
    echo "stopped virtuoso (pid $pid)" >&2
}

case "${1:-}" in
    start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
    stop)  [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
    *) echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac
