#!/usr/bin/env bash
# Times tether against GNU make -j2 on the same graphs of no-op steps (`true`): 1,000
# independent steps, a chain of 1,000, and 10 layers of 100 (each step depends on the whole
# layer before it). The two tools run interleaved, several rounds, and the ratio is what to
# quote: this machine is shared and noisy.
# Usage: bench/engine.sh [TETHER_BIN] [ROUNDS] [STEPS]
set -euo pipefail
tether=$(realpath "${1:-build/src/cli/tether}")
rounds=${2:-3}
steps=${3:-1000}
work=$(mktemp -d /tmp/tether-bench-engine.XXXXXX)
trap 'TETHER_HOME=$work/home "$tether" server --stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export TETHER_HOME=$work/home

gen() {  # gen SHAPE -> writes $work/SHAPE.yaml and $work/SHAPE.mk
  python3 - "$1" "$steps" "$work" <<'PY'
import sys
shape, n, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
deps = {}
names = [f"s{i}" for i in range(n)]
if shape == "independent":
    deps = {s: [] for s in names}
elif shape == "chain":
    deps = {s: ([names[i - 1]] if i else []) for i, s in enumerate(names)}
else:  # layers: 10 layers, each task depends on every task of the layer before
    width = n // 10
    for i, s in enumerate(names):
        layer = i // width
        deps[s] = names[(layer - 1) * width: layer * width] if layer else []
with open(f"{work}/{shape}.yaml", "w") as f:
    f.write(f"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: bench-{shape}-\n"
            "spec:\n  entrypoint: main\n  templates:\n  - name: noop\n    container:\n      image: busybox\n"
            "      command: [\"true\"]\n  - name: main\n    dag:\n      tasks:\n")
    for s in names:
        d = f"\n        dependencies: [{', '.join(deps[s])}]" if deps[s] else ""
        f.write(f"      - name: {s}\n        template: noop{d}\n")
with open(f"{work}/{shape}.mk", "w") as f:
    f.write(".PHONY: all " + " ".join(names) + "\nall: " + " ".join(names) + "\n")
    for s in names:
        f.write(f"{s}: {' '.join(deps[s])}\n\t@true\n")
PY
}

now() { date +%s.%N; }

"$tether" server --stop >/dev/null 2>&1 || true
echo "shape        round  make -j2 (s)  tether (s)  tether/make"
for shape in independent chain layers; do
  gen "$shape"
  # Warm the engine once so both sides start from a running tool.
  "$tether" submit "$work/$shape.yaml" --wait -o name >/dev/null
  for r in $(seq 1 "$rounds"); do
    t0=$(now); make -s -j2 -f "$work/$shape.mk" all >/dev/null; t1=$(now)
    "$tether" submit "$work/$shape.yaml" --wait -o name >/dev/null; t2=$(now)
    python3 -c "m=$t1-$t0; t=$t2-$t1; print(f'{\"$shape\":12} {$r:5}  {m:12.3f}  {t:10.3f}  {t/m:10.1f}x')"
  done
done
