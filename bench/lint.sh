#!/usr/bin/env bash
# Times `tether lint` over all of Argo's examples (../shared/argo-examples): load, strict
# decode and validate every document, cross-file templateRefs included. Best of ROUNDS.
#
#   bench/lint.sh [ROUNDS]
#
# TETHER=path/to/tether (default build/src/cli/tether, a release build; built with
# `make build` if missing). EXAMPLES overrides the folder.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-5}
TETHER=${TETHER:-$ROOT/build/src/cli/tether}
EXAMPLES=${EXAMPLES:-$ROOT/../shared/argo-examples}

if [ ! -x "$TETHER" ]; then (cd "$ROOT" && make build); fi
[ -d "$EXAMPLES" ] || { echo "no examples at $EXAMPLES" >&2; exit 1; }

files=$(find "$EXAMPLES" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | wc -l)
bytes=$(find "$EXAMPLES" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -exec cat {} + | wc -c)
best=""
for _ in $(seq "$ROUNDS"); do
  start=$(date +%s%N)
  # --strict=false: one example writes a key twice, which strict mode (rightly) refuses.
  "$TETHER" lint --strict=false -o simple "$EXAMPLES" >/dev/null
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
echo "tether lint: $files files, $bytes bytes of Argo examples in ${best} ms (best of $ROUNDS)"
