#!/usr/bin/env bash
# Benchmarks `tether pgcopy --workers 2` against psql's \copy (one stream, and two streams on
# the two halves of the file at once) on the seed workflow's click table: 4,000,000 rows,
# about 350 MB. Runs are interleaved, each into a fresh table; the best of ROUNDS counts.
#
#   bench/pgcopy.sh [ROWS] [ROUNDS]
#
# TETHER=path/to/tether (default build/src/cli/tether, built with `make build` if missing).
# BENCH_DIR caches the generated CSV (default /tmp/tether-bench).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-4000000}
ROUNDS=${2:-3}
TETHER=${TETHER:-$ROOT/build/src/cli/tether}
BENCH_DIR=${BENCH_DIR:-/tmp/tether-bench}

if [ ! -x "$TETHER" ]; then (cd "$ROOT" && make build); fi
mkdir -p "$BENCH_DIR"
CSV=$BENCH_DIR/clicks_$ROWS.csv
if [ ! -s "$CSV" ]; then
  echo "generating $CSV"
  python3 "$ROOT/tools/gen_clicks.py" "$ROWS" "$CSV"
fi
# Headerless copies for psql, whole and in halves.
BODY=$BENCH_DIR/clicks_${ROWS}_body.csv
if [ ! -s "$BODY" ]; then
  tail -n +2 "$CSV" >"$BODY"
  half=$(( (ROWS + 1) / 2 ))
  head -n "$half" "$BODY" >"$BODY.1"
  tail -n +"$((half + 1))" "$BODY" >"$BODY.2"
fi

# Server settings a bulk load is run with; every contender gets the same server.
SERVER_CONF=(
  -c shared_buffers=1GB -c wal_level=minimal -c max_wal_senders=0 -c wal_buffers=64MB
  -c max_wal_size=16GB -c checkpoint_timeout=1h -c autovacuum=off -c synchronous_commit=off
)

bench() {
  local cols=campaign_id,num_clicks,start_time,end_time
  local ddl="(campaign_id uuid, num_clicks integer not null, start_time timestamptz, end_time timestamptz)"
  local opts="format csv, null ''"
  local round method t0 t1 n
  declare -A best
  fresh() { psql -qX -c "SET client_min_messages TO warning; DROP TABLE IF EXISTS $1; CREATE TABLE $1 $ddl; CHECKPOINT"; }
  check() {
    n=$(psql -qXAt -c "SELECT count(*) FROM $1")
    [ "$n" = "$ROWS" ] || { echo "bench: $1 holds $n rows, expected $ROWS" >&2; exit 1; }
  }
  now() { date +%s.%N; }
  record() {  # method seconds
    echo "  $1: $(printf '%.2f' "$2")s, $(printf '%.0f' "$(echo "$ROWS / $2" | bc -l)") rows/s"
    if [ -z "${best[$1]:-}" ] || (( $(echo "$2 < ${best[$1]}" | bc -l) )); then best[$1]=$2; fi
  }
  for round in $(seq 1 "$ROUNDS"); do
    echo "round $round"
    for method in psql1 psql2 tether; do
      fresh "t_$method"
      t0=$(now)
      case $method in
        psql1) psql -qX -c "\\copy t_psql1 ($cols) from '$BODY' with ($opts)" >/dev/null ;;
        psql2)
          psql -qX -c "\\copy t_psql2 ($cols) from '$BODY.1' with ($opts)" >/dev/null &
          psql -qX -c "\\copy t_psql2 ($cols) from '$BODY.2' with ($opts)" >/dev/null
          wait ;;
        tether)
          "$TETHER" pgcopy --connection "$TETHER_PG_CONNINFO" --table t_tether --columns "$cols" \
            --copy-options "CSV NULL ''" --workers 2 --skip-header --file "$CSV" \
            --batch-size 200000 --batch-byte-size 33554432 >/dev/null ;;
      esac
      t1=$(now)
      check "t_$method"
      record "$method" "$(echo "$t1 - $t0" | bc -l)"
      psql -qX -c "DROP TABLE t_$method"
    done
  done
  local r1 r2 rt
  r1=$(echo "$ROWS / ${best[psql1]}" | bc -l)
  r2=$(echo "$ROWS / ${best[psql2]}" | bc -l)
  rt=$(echo "$ROWS / ${best[tether]}" | bc -l)
  echo
  echo "best of $ROUNDS, $ROWS rows ($(du -h "$CSV" | cut -f1)), $(nproc) CPUs:"
  printf '  psql \\copy, 1 stream:    %10.0f rows/s\n' "$r1"
  printf '  psql \\copy, 2 streams:   %10.0f rows/s\n' "$r2"
  printf '  tether pgcopy -workers 2: %9.0f rows/s\n' "$rt"
  printf '  tether / 1 stream:  %.2fx (target >= 2.3x)\n' "$(echo "$rt / $r1" | bc -l)"
  printf '  tether / 2 streams: %.2fx (target >= 0.95x)\n' "$(echo "$rt / $r2" | bc -l)"
}

export -f bench
export ROWS ROUNDS TETHER CSV BODY
exec "$ROOT/tests/testlib/pg_harness.sh" run "${SERVER_CONF[@]}" -- bash -c bench
