#!/usr/bin/env bash
# Run K `haven serve` replicas of one build behind nginx with deploy/nginx/haven.conf, all on loopback.
#
#   scripts/replicas.sh start [-n K] [-b BUILD_DIR] [-d STATE_DIR]   start; print the URLs, one NAME=VALUE a line
#   scripts/replicas.sh stop STATE_DIR                              stop nginx and every replica, remove STATE_DIR
#   scripts/replicas.sh render LISTEN CACHE_DIR HOST:PORT...        print the config for production use
#
# Everything of a run (nginx.conf, pid files, logs, nginx's temp and cache folders) lives in STATE_DIR, a
# fresh temporary folder unless -d is given, so that it runs without root and leaves nothing behind. The
# replicas pick free ports themselves (`--port 0`, read back from their first line of output); nginx gets
# a free port the OS hands out. When run as root, nginx's workers still run as nobody, as they would under
# the Debian service, and only the folders they write are given to that user.
#
# `start` prints, for the caller to read:
#   STATE_DIR=/tmp/haven-replicas.XXXX
#   NGINX_URL=http://127.0.0.1:PORT/
#   REPLICA_1_URL=http://127.0.0.1:PORT/   REPLICA_1_PID=1234   (one pair per replica)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATE=$ROOT/deploy/nginx/haven.conf
HAVEN=${HAVEN:-$ROOT/.venv/bin/haven}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
#: seconds a replica may take to print its port (loading a 1M-triple build takes a few)
START_TIMEOUT=${START_TIMEOUT:-60}

die() { echo "replicas.sh: $*" >&2; exit 1; }

render() {  # render LISTEN CACHE_DIR UPSTREAM...
    local listen=$1 cache_dir=$2; shift 2
    local servers="" upstream
    for upstream in "$@"; do
        servers+="server $upstream max_fails=1 fail_timeout=5s;"$'\n    '
    done
    local conf
    conf=$(<"$TEMPLATE")
    conf=${conf//@LISTEN@/$listen}
    conf=${conf//@CACHE_DIR@/$cache_dir}
    conf=${conf//@UPSTREAMS@/${servers%$'\n    '}}
    printf '%s\n' "$conf"
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_line() {  # wait_for_line FILE PID: the replica's "Serving on http://HOST:PORT/ ..." line
    local file=$1 pid=$2 deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if grep -q '^Serving on ' "$file" 2>/dev/null; then
            awk '/^Serving on /{print $3; exit}' "$file"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

start() {
    local count=2 build=$ROOT/build dir=""
    while getopts "n:b:d:" opt; do
        case $opt in
            n) count=$OPTARG ;;
            b) build=$OPTARG ;;
            d) dir=$OPTARG ;;
            *) die "usage: start [-n K] [-b BUILD_DIR] [-d STATE_DIR]" ;;
        esac
    done
    [[ $count =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive number, got '$count'"
    [[ -f $build/current/manifest.json ]] || die "no release in $build (run \`haven build\` first: every replica serves that one build)"
    [[ -x $HAVEN ]] || die "haven not found at $HAVEN (run \`make install\`, or set HAVEN)"
    [[ -x $NGINX ]] || die "nginx not found (Debian: apt-get install nginx, or \`make system-deps\`)"
    if [[ -z $dir ]]; then dir=$(mktemp -d "${TMPDIR:-/tmp}/haven-replicas.XXXXXX"); fi
    mkdir -p "$dir/nginx/temp" "$dir/nginx/cache"
    dir=$(cd "$dir" && pwd)
    # if anything below fails, leave nothing running
    trap 'stop "$dir" >/dev/null 2>&1 || true' ERR

    local i upstreams=() urls=() pids=()
    for ((i = 1; i <= count; i++)); do
        # one proxy (the nginx below) in front: its X-Forwarded-Proto/-Host name the URL clients used
        "$HAVEN" serve --build-dir "$build" --host 127.0.0.1 --port 0 --proxy-hops 1 \
            >"$dir/replica-$i.out" 2>"$dir/replica-$i.log" </dev/null &
        echo $! >"$dir/replica-$i.pid"
        pids+=($!)
    done
    for ((i = 1; i <= count; i++)); do
        local url
        url=$(wait_for_line "$dir/replica-$i.out" "${pids[i - 1]}") \
            || { tail -5 "$dir/replica-$i.log" >&2; false; }
        urls+=("$url")
        url=${url#http://}
        upstreams+=("${url%/}")
    done

    local user_line=""
    if [[ $(id -u) == 0 ]]; then
        # root starts the master (ports, logs); the workers that touch cache and temp files do not need it
        user_line="user nobody nogroup;"
        chown -R nobody:nogroup "$dir/nginx"
        chmod 755 "$dir"
        # (not `die`: an exit would skip the ERR trap and leave the replicas running)
        runuser -u nobody -- test -w "$dir/nginx/cache" || {
            echo "replicas.sh: nginx's workers (nobody) cannot reach $dir/nginx: use a state folder outside private ones (-d)" >&2
            false
        }
    fi
    local port attempt
    for attempt in 1 2 3; do
        port=$(free_port)
        {
            echo "# rendered by scripts/replicas.sh from deploy/nginx/haven.conf"
            echo "$user_line"
            echo "worker_processes auto;"
            echo "pid $dir/nginx.pid;"
            echo "error_log $dir/nginx-error.log warn;"
            echo "events { worker_connections 1024; }"
            echo "http {"
            echo "    client_body_temp_path $dir/nginx/temp/body;"
            echo "    proxy_temp_path $dir/nginx/temp/proxy;"
            echo "    fastcgi_temp_path $dir/nginx/temp/fastcgi;"
            echo "    uwsgi_temp_path $dir/nginx/temp/uwsgi;"
            echo "    scgi_temp_path $dir/nginx/temp/scgi;"
            render "127.0.0.1:$port" "$dir/nginx/cache" "${upstreams[@]}" | sed 's/^/    /'
            echo "    access_log $dir/nginx-access.log haven_upstream;"
            echo "}"
        } >"$dir/nginx.conf"
        # a port taken between free_port and here is the only expected failure: pick another
        if "$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" 2>>"$dir/nginx-error.log"; then
            break
        fi
        grep -q "Address already in use" "$dir/nginx-error.log" && ((attempt < 3)) \
            || { tail -5 "$dir/nginx-error.log" >&2; false; }
    done
    trap - ERR

    echo "STATE_DIR=$dir"
    echo "NGINX_URL=http://127.0.0.1:$port/"
    for ((i = 1; i <= count; i++)); do
        echo "REPLICA_${i}_URL=${urls[i - 1]}"
        echo "REPLICA_${i}_PID=${pids[i - 1]}"
    done
}

running() {  # a zombie (exited, not yet reaped by whoever adopted it) counts as stopped
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $state != Z* ]]
}

stop_pids() {  # stop_pids PIDFILE...: SIGTERM to all, then SIGKILL to any still running after 10 s
    local file pids=() pid
    for file in "$@"; do
        [[ -f $file ]] || continue
        pid=$(<"$file")
        kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
        rm -f "$file"
    done
    local deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
        while running "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}

stop() {
    local dir=${1:?usage: stop STATE_DIR}
    [[ -f $dir/nginx.conf ]] || [[ -n $(compgen -G "$dir/replica-*.pid") ]] || die "$dir is not a replicas.sh state folder"
    # nginx first, so that no new request reaches a replica that is going away
    stop_pids "$dir/nginx.pid"
    stop_pids "$dir"/replica-*.pid
    rm -rf "$dir"
}

case ${1:-} in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    render) shift; (($# >= 3)) || die "usage: render LISTEN CACHE_DIR HOST:PORT..."; render "$@" ;;
    *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
