#!/usr/bin/env bash
# The main demo: runs real example workflows with the host executor in a throwaway
# TETHER_HOME and shows what argo would show, then the nightly pipeline of
# examples/click-csv-to-pg.yaml against PostgreSQL.
#
#   DEMO_ROWS     clicks the pipeline generates and loads (default 4000000)
#   DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME
#                 an existing server to load into; without DB_HOST a throwaway server is
#                 started (tests/testlib/pg_harness.sh) and removed at the end
set -euo pipefail
tether=${1:-build/src/cli/tether}
tether=$(realpath "$tether")
# Steps inherit the engine's PATH, and the engine starts with the first command below:
# put this tether first so the pipeline's `tether pgcopy` steps find it.
export PATH="$(dirname "$tether"):$PATH"
cd "$(dirname "$0")/.."
export TETHER_HOME=${TETHER_HOME:-$(mktemp -d /tmp/tether-demo.XXXXXX)}
cleanup() { $tether server --stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "== tether $($tether version | head -1 | cut -d' ' -f2), TETHER_HOME=$TETHER_HOME"
echo
echo "== tether lint examples/"
$tether lint examples/
for wf in examples/dag-artifacts.yaml examples/loops.yaml; do
  [ -f "$wf" ] || continue
  echo
  echo "== tether submit $wf --watch"
  $tether submit "$wf" --watch
done

echo
bash scripts/seed_pipeline.sh "$tether" "${DEMO_ROWS:-4000000}"
