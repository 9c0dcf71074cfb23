#!/usr/bin/env bash
# The nightly click pipeline (examples/click-csv-to-pg.yaml) once, in $TETHER_HOME: creates
# the secret, submits with --watch, then prints the row count of the `clicks` view, the table
# it reads, and each step's duration. Used by scripts/demo.sh and bench/seed.sh.
#
#   scripts/seed_pipeline.sh TETHER ROWS
#
# With DB_HOST (and DB_PORT, DB_USER, DB_PASSWORD, DB_NAME, DB_SSLMODE) set it loads into that
# server; otherwise it starts a throwaway PostgreSQL (tests/testlib/pg_harness.sh) and
# removes it at the end.
set -euo pipefail
tether=$(realpath "$1")
rows=$2
cd "$(dirname "$0")/.."
# Steps run commands from the engine's PATH; the pipeline calls `tether pgcopy`.
export PATH="$(dirname "$tether"):$PATH"
pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then bash tests/testlib/pg_harness.sh stop "$pg_dir"; fi
}
trap cleanup EXIT

echo "== the nightly click pipeline (examples/click-csv-to-pg.yaml, $rows rows)"
if [ -z "${DB_HOST:-}" ]; then
  pg_dir=$(mktemp -u /tmp/tether-demo-pg.XXXXXX)
  eval "$(bash tests/testlib/pg_harness.sh start "$pg_dir")"
  DB_HOST=$PGHOST DB_PORT=$PGPORT DB_USER=$PGUSER DB_NAME=$PGDATABASE
  DB_PASSWORD=${DB_PASSWORD:-unused-with-trust-auth} DB_SSLMODE=disable
  echo "   throwaway PostgreSQL on $DB_HOST:$DB_PORT"
fi
echo "== tether secret create secrets-for-click-analysis"
$tether secret create secrets-for-click-analysis \
  --from-literal "DB_HOST=$DB_HOST" --from-literal "DB_PORT=${DB_PORT:-5432}" \
  --from-literal "DB_USER=$DB_USER" --from-literal "DB_PASSWORD=${DB_PASSWORD:-}" \
  --from-literal "DB_NAME=$DB_NAME" --from-literal "DB_SSLMODE=${DB_SSLMODE:-prefer}"
$tether secret get secrets-for-click-analysis
echo
echo "== tether submit examples/click-csv-to-pg.yaml -p rows=$rows --watch"
start=$(date +%s.%N)
$tether submit examples/click-csv-to-pg.yaml -p "rows=$rows" --watch
end=$(date +%s.%N)

psql_q() { PGPASSWORD=${DB_PASSWORD:-} psql -X -At -h "$DB_HOST" -p "${DB_PORT:-5432}" -U "$DB_USER" -d "$DB_NAME" -c "$1"; }
echo
echo "== SELECT count(*) FROM clicks"
psql_q "SELECT count(*) FROM clicks"
echo "== the table the view clicks reads"
psql_q "SELECT DISTINCT c.relname FROM pg_rewrite r JOIN pg_depend d ON d.objid = r.oid
        JOIN pg_class c ON c.oid = d.refobjid
        WHERE r.ev_class = 'clicks'::regclass AND c.relname <> 'clicks'"
echo "== step durations"
$tether get @latest -o json | python3 scripts/step_durations.py
python3 -c "import sys; print(f'   total (submit to done): {float(sys.argv[2]) - float(sys.argv[1]):.1f}s')" "$start" "$end"
