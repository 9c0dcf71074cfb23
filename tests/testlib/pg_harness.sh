#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, benchmarks and demos.
#
#   pg_harness.sh run [-c name=value ...] -- CMD ARGS...
#       starts a fresh server, runs CMD with PGHOST/PGPORT/PGUSER/PGDATABASE and
#       TETHER_PG_CONNINFO set, stops the server and deletes it (also on failure or Ctrl-C),
#       and exits with CMD's status.
#   pg_harness.sh start DIR [-c name=value ...]
#       creates and starts a server in DIR (must not exist), prints the same variables as
#       shell assignments (eval them); stop it with:
#   pg_harness.sh stop DIR
#
# The server listens on 127.0.0.1 on a free port with trust authentication for user
# postgres. As root, initdb and postgres run as the `postgres` system user (or `nobody`).
# PG_BIN overrides where initdb/pg_ctl are found (default: /usr/lib/postgresql/15/bin, then PATH).
set -euo pipefail

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  done
  local initdb
  initdb=$(command -v initdb || true)
  if [ -z "$initdb" ]; then echo "pg_harness: initdb not found (install postgresql or set PG_BIN)" >&2; exit 1; fi
  dirname "$initdb"
}

BIN=$(find_bin)
RUN_AS=()
OWNER=""
if [ "$(id -u)" -eq 0 ]; then
  for u in postgres tether-test nobody; do
    if id "$u" >/dev/null 2>&1; then OWNER=$u; break; fi
  done
  RUN_AS=(runuser -u "$OWNER" --)
fi

as_owner() { "${RUN_AS[@]}" "$@"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

print_env() {
  local port=$1
  echo "PGHOST=127.0.0.1"
  echo "PGPORT=$port"
  echo "PGUSER=postgres"
  echo "PGDATABASE=postgres"
  echo "TETHER_PG_CONNINFO='host=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=disable'"
}

# start DIR [-c name=value ...]: initdb, then start on a free port; retries if the port was taken.
start() {
  local dir=$1; shift
  local conf=()
  while [ $# -gt 0 ]; do
    case "$1" in
      -c) conf+=(-c "$2"); shift 2 ;;
      *) echo "pg_harness: unknown option $1" >&2; exit 2 ;;
    esac
  done
  if [ -e "$dir" ]; then echo "pg_harness: $dir already exists" >&2; exit 1; fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  [ -n "$OWNER" ] && chown "$OWNER" "$dir"
  as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  mkdir -p "$dir/sock"
  [ -n "$OWNER" ] && chown "$OWNER" "$dir/sock"
  local attempt port opts
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    opts="-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    opts+=" -c max_connections=50 ${conf[*]:-}"
    if as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" start >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      print_env "$port"
      return 0
    fi
    if ! grep -q "Address already in use" "$dir/server.log" 2>/dev/null; then break; fi
  done
  echo "pg_harness: postgres did not start; its log:" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
}

stop() {
  local dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

run() {
  local conf=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in
      -c) conf+=(-c "$2"); shift 2 ;;
      *) echo "pg_harness: unknown option $1" >&2; exit 2 ;;
    esac
  done
  [ "${1:-}" = "--" ] && shift
  [ $# -gt 0 ] || { echo "pg_harness run: no command" >&2; exit 2; }
  # Globals: the EXIT trap runs after this function has returned.
  HARNESS_BASE=$(mktemp -d "${TMPDIR:-/tmp}/pg_harness.XXXXXX")
  chmod 755 "$HARNESS_BASE"
  local dir="$HARNESS_BASE/pg"
  trap 'stop "$HARNESS_BASE/pg"; rm -rf "$HARNESS_BASE"' EXIT
  trap 'exit 130' INT TERM
  local envs
  envs=$(start "$dir" "${conf[@]}")
  eval "$envs"
  export PGHOST PGPORT PGUSER PGDATABASE TETHER_PG_CONNINFO
  local rc=0
  "$@" || rc=$?
  return $rc
}

cmd=${1:-}
shift || true
case "$cmd" in
  run) run "$@" ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) sed -n '2,16p' "$0" >&2; exit 2 ;;
esac
