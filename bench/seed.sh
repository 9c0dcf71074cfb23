#!/usr/bin/env bash
# The whole nightly pipeline (examples/click-csv-to-pg.yaml) with ROWS clicks (default
# 4,000,000) against a throwaway PostgreSQL, in a fresh TETHER_HOME: prints each step's wall
# time and the total from submit to completion.
#
#   bench/seed.sh [ROWS]
#
# TETHER=path/to/tether (default build/src/cli/tether, built with `make build` if missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-4000000}
TETHER=${TETHER:-$ROOT/build/src/cli/tether}
if [ ! -x "$TETHER" ]; then (cd "$ROOT" && make build); fi

export TETHER_HOME=$(mktemp -d /tmp/tether-bench-seed.XXXXXX)
cleanup() {
  "$TETHER" server --stop >/dev/null 2>&1 || true
  rm -rf "$TETHER_HOME"
}
trap cleanup EXIT
unset DB_HOST  # always a fresh local server, so runs are comparable
echo "tether: $TETHER ($("$TETHER" version | head -1)); $(nproc) cores"
bash "$ROOT/scripts/seed_pipeline.sh" "$TETHER" "$ROWS" | sed -n '/== SELECT/,$p'
