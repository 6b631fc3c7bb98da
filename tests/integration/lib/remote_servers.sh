# remote_servers.sh -- cache servers for the remote-store integration tests (source it after
# common.sh and wc_setup). Each server runs on a free 127.0.0.1 port chosen at start, in the
# test's temp dir, and is stopped when the script exits (or by remote_stop).
#
#   remote_start_seed MODE [DELAY [ROOT]]  the seed's POST protocol (lib/seed_http_server.py);
#                                   MODE ok, hang, 500, truncate, garbage, slow, huge,
#                                   endless; ROOT: serve another server's files
#                                   -> SEED_URL, SEED_PID, SEED_ROOT
#   remote_start_nginx              nginx WebDAV (PUT mode) -> NGINX_URL, NGINX_PID
#   remote_start_s3rver             s3rver behind the SigV4 check of the unit tests
#                                   (tests/unit/data/sigv4/s3rver-sigv4.js), bucket wafcache-test
#                                   -> S3_ENDPOINT, S3_PID; installed with npm on first use into
#                                   $WC_S3RVER_DIR (default ~/.cache/wafcache-tests/s3rver)
#   remote_stop PID                 stop one server
#   remote_scope                    first line of a run_case case: its servers stop with it
#   remote_machine NAME             a fresh "machine": its own HOME (default cache dir, memo),
#                                   TMPDIR (down markers, staging) and no WAFCACHE_LOCAL
#
# Without nginx, python3 or node/npm, the test exits 77 (skipped) with a message, except under
# CI=true, where it fails: CI installs them.

REMOTE_PIDS=
REMOTE_HOME0=${HOME:-/root}

remote_stop_all() {
    local _p
    for _p in $REMOTE_PIDS; do
        kill "$_p" 2>/dev/null || true
    done
    for _p in $REMOTE_PIDS; do
        wait "$_p" 2>/dev/null || true
    done
    REMOTE_PIDS=
}

# A case of run_case runs in a subshell, which does not inherit the EXIT trap: its first line
# is `remote_scope`, so that the servers it starts stop with it.
remote_scope() {
    trap remote_stop_all EXIT
}

remote_cleanup() {
    remote_stop_all
    if [ "${WC_KEEP:-}" = 1 ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
}
trap remote_cleanup EXIT

remote_need() {
    local _t
    for _t in "$@"; do
        if ! command -v "$_t" >/dev/null 2>&1; then
            [ "${CI:-}" != true ] || fail "$_t is not installed (CI must install it)"
            skip "required tool '$_t' is not installed"
        fi
    done
}

remote_stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# _remote_wait_file FILE WHAT: until FILE is non-empty (10 s at most).
_remote_wait_file() {
    local _i
    _i=0
    while [ ! -s "$1" ]; do
        _i=$((_i + 1))
        [ "$_i" -lt 200 ] || fail "$2 did not start"
        sleep 0.05
    done
}

# A free port: bind port 0, read it, close (the race with other tests is harmless on loopback).
_remote_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

remote_start_seed() {
    local _d
    remote_need python3
    _d=$(mktemp -d "$T/seed.XXXXXX")
    SEED_ROOT=${3:-$_d/root}
    python3 "$WC_TESTS/lib/seed_http_server.py" --root "$SEED_ROOT" --port-file "$_d/port" \
        --mode "$1" --delay "${2:-1}" >"$_d/log" 2>&1 &
    SEED_PID=$!
    REMOTE_PIDS="$REMOTE_PIDS $SEED_PID"
    _remote_wait_file "$_d/port" "the seed server"
    SEED_URL=http://127.0.0.1:$(cat "$_d/port")/cache
}

remote_start_nginx() {
    local _d _port _user _i
    remote_need nginx python3
    _d=$(mktemp -d "$T/nginx.XXXXXX")
    mkdir -p "$_d/www/cache" "$_d/t"
    _port=$(_remote_free_port)
    _user=
    [ "$(id -u)" != 0 ] || _user='user root;'
    cat >"$_d/nginx.conf" <<EOF
$_user
daemon off;
master_process off;
pid $_d/nginx.pid;
error_log $_d/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_max_body_size 0;
  client_body_temp_path $_d/t/body;
  proxy_temp_path $_d/t/proxy;
  fastcgi_temp_path $_d/t/fcgi;
  uwsgi_temp_path $_d/t/uwsgi;
  scgi_temp_path $_d/t/scgi;
  server {
    listen 127.0.0.1:$_port;
    root $_d/www;
    dav_methods PUT DELETE;
    create_full_put_path on;
    dav_access user:rw group:r all:r;
  }
}
EOF
    nginx -p "$_d" -c "$_d/nginx.conf" -e "$_d/error.log" >"$_d/log" 2>&1 &
    NGINX_PID=$!
    REMOTE_PIDS="$REMOTE_PIDS $NGINX_PID"
    _i=0
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $_port), 1)" 2>/dev/null; do
        _i=$((_i + 1))
        kill -0 "$NGINX_PID" 2>/dev/null || { cat "$_d/log" "$_d/error.log" >&2; fail "nginx exited at start"; }
        [ "$_i" -lt 200 ] || fail "nginx did not start"
        sleep 0.05
    done
    NGINX_URL=http://127.0.0.1:$_port/cache
    NGINX_ROOT=$_d/www/cache
}

_remote_s3rver_home() {
    echo "${WC_S3RVER_DIR:-$REMOTE_HOME0/.cache/wafcache-tests/s3rver}"
}

_remote_s3rver_install() {
    local _h
    _h=$(_remote_s3rver_home)
    [ -f "$_h/node_modules/s3rver/package.json" ] && [ -f "$_h/node_modules/aws4/package.json" ] && return 0
    remote_need node npm
    note "installing s3rver into $_h"
    mkdir -p "$_h"
    HOME=$REMOTE_HOME0 timeout 300 npm install --prefix "$_h" --no-audit --no-fund --loglevel=error \
        s3rver@3.7.1 aws4@1.13.2 >&2 || fail "npm install s3rver failed"
}

remote_start_s3rver() {
    local _d _i
    remote_need node
    _remote_s3rver_install
    _d=$(mktemp -d "$T/s3rver.XXXXXX")
    mkdir -p "$_d/data"
    NODE_PATH=$(_remote_s3rver_home)/node_modules node "$WC_SRC/tests/unit/data/sigv4/s3rver-sigv4.js" \
        "$_d/data" wafcache-test >"$_d/out" 2>"$_d/err" &
    S3_PID=$!
    REMOTE_PIDS="$REMOTE_PIDS $S3_PID"
    _i=0
    until grep -q '^listening on ' "$_d/out" 2>/dev/null; do
        _i=$((_i + 1))
        kill -0 "$S3_PID" 2>/dev/null || { cat "$_d/err" >&2; fail "s3rver exited at start"; }
        [ "$_i" -lt 300 ] || fail "s3rver did not start"
        sleep 0.05
    done
    S3_ENDPOINT=http://$(sed -n 's/^listening on //p' "$_d/out" | head -n 1)
    S3_DATA=$_d/data
}

# The S3 client settings for s3rver (keys S3RVER/S3RVER).
remote_s3_env() {
    AWS_ENDPOINT_URL_S3=$S3_ENDPOINT
    AWS_ACCESS_KEY_ID=S3RVER
    AWS_SECRET_ACCESS_KEY=S3RVER
    AWS_REGION=us-east-1
    export AWS_ENDPOINT_URL_S3 AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
    unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_DEFAULT_REGION AWS_PROFILE
}

remote_machine() {
    mkdir -p "$T/m-$1/home/.cache" "$T/m-$1/tmp"
    HOME=$T/m-$1/home
    TMPDIR=$T/m-$1/tmp
    export HOME TMPDIR
    unset WAFCACHE_LOCAL
}

# remote_project NAME: a fresh copy of the generated project at $T/NAME (the template is made
# once); cd into it, with its own base dir.
remote_project() {
    [ -d "$T/tmpl" ] || gen_project "$T/tmpl"
    NCMDS=$(sed -n 's/^NCMDS=//p' "$T/tmpl/project.env")
    EXPECTED=$(cat "$T/tmpl/expected-output.txt")
    rm -rf "${T:?}/$1"
    cp -a "$T/tmpl" "$T/$1"
    cd "$T/$1"
    default_basedir "$T/$1"
}

# remote_files DIR: how many files are stored below DIR.
remote_files() {
    find "$1" -type f | wc -l
}
