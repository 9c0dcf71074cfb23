#!/usr/bin/env bash
# The main demo: runs real example workflows with the host executor in a throwaway
# TETHER_HOME and shows what argo would show.
set -euo pipefail
tether=${1:-build/src/cli/tether}
tether=$(realpath "$tether")
cd "$(dirname "$0")/.."
export TETHER_HOME=${TETHER_HOME:-$(mktemp -d /tmp/tether-demo.XXXXXX)}
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
echo "== tether list"
$tether list
$tether server --stop
