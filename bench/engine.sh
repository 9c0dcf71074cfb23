#!/usr/bin/env bash
# Times tether against GNU make -j2 on the same graphs of no-op steps (`true`): 1,000
# independent steps, a chain of 1,000, and 10 layers of 100 (each step depends on the whole
# layer before it). The two tools run interleaved, several rounds, and the ratio is what to
# quote: this machine is shared and noisy.
#
# Wall time is what a user waits. CPU time (user+system of the tool and everything it
# starts, from `perf stat`, when perf is installed) is printed beside it: on a loaded
# machine it moves far less than wall time, so its ratio is the steadier figure.
#
# On ext4 without a journal the inode allocator passes over inodes freed in the last two
# minutes or so, and every step creates three (its directory, its /tmp and its state file):
# a pass run right after a mass deletion (the test suite, or this script's own clean-up of an
# earlier pass) runs 1.2-1.5x slower, for tether and for any other tool that creates files
# (make here creates none). Leave a few minutes between passes.
#
# Usage: bench/engine.sh [TETHER_BIN] [ROUNDS] [STEPS]
set -euo pipefail
tether=$(realpath "${1:-build/src/cli/tether}")
rounds=${2:-3}
steps=${3:-1000}
work=$(mktemp -d /tmp/tether-bench-engine.XXXXXX)
export TETHER_HOME=$work/home
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
have_perf=0
perf stat -e task-clock -x, -o /dev/null true 2>/dev/null && have_perf=1

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
cpu_of() {  # cpu_of PERF_CSV -> seconds of task-clock
  awk -F, '/task-clock/ {printf "%.3f", $1 / 1000}' "$1"
}

# An engine in the foreground of this script, so that perf counts it and every process it
# starts (launcher, supervisors, steps) until it is stopped.
start_server() {
  if [ "$have_perf" = 1 ]; then
    perf stat -e task-clock -x, -o "$work/tether.perf" "$tether" server >"$work/server.log" 2>&1 &
  else
    "$tether" server >"$work/server.log" 2>&1 &
  fi
  server_pid=$!
  for _ in $(seq 1 200); do [ -S "$TETHER_HOME/engine.sock" ] && return; sleep 0.05; done
  echo "the engine did not start: $(cat "$work/server.log")" >&2
  exit 1
}
stop_server() {
  # The engine itself, not perf (which waits for it): its pid is in its lock file.
  kill -TERM "$(cat "$TETHER_HOME/engine.lock")" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

mkdir -p "$TETHER_HOME"
printf '%-12s %5s  %12s %10s %8s' shape round "make -j2 (s)" "tether (s)" ratio
[ "$have_perf" = 1 ] && printf '   %12s %12s %8s' "make cpu (s)" "tether cpu" "cpu ratio"
echo
for shape in independent chain layers; do
  gen "$shape"
  for r in $(seq 1 "$rounds"); do
    t0=$(now)
    if [ "$have_perf" = 1 ]; then
      perf stat -e task-clock -x, -o "$work/make.perf" make -s -j2 -f "$work/$shape.mk" all >/dev/null
    else
      make -s -j2 -f "$work/$shape.mk" all >/dev/null
    fi
    t1=$(now)
    start_server
    t2=$(now)
    "$tether" submit "$work/$shape.yaml" --wait -o name >/dev/null
    t3=$(now)
    stop_server
    line=$(python3 -c "m=$t1-$t0; t=$t3-$t2; print(f'{\"$shape\":12} {$r:5}  {m:12.3f} {t:10.3f} {t/m:7.1f}x', end='')")
    if [ "$have_perf" = 1 ]; then
      mc=$(cpu_of "$work/make.perf"); tc=$(cpu_of "$work/tether.perf")
      line+=$(python3 -c "print(f'   {$mc:12.3f} {$tc:12.3f} {$tc/$mc:7.1f}x', end='')")
    fi
    echo "$line"
  done
done
