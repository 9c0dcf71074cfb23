#!/usr/bin/env bash
# Times a burst of RUNS workflows of three no-op steps (`true`, one after another), sent by
# SUBMITTERS concurrent `tether submit` processes to one engine, from the first submit to the
# last run's completion; beside it GNU make -j2 running the same 3 x RUNS recipes as RUNS
# independent three-step chains. The two alternate, ROUNDS times, each tether round in a
# fresh TETHER_HOME; the ratio is what to quote, as the machine is shared and noisy. CPU
# time (task-clock of each side and everything it starts, engine, submitters and steps
# included, from `perf stat` when perf is installed) is printed beside it: on a loaded
# machine its ratio is the steadier figure. The engine's peak RSS is printed too.
#
#   bench/load.sh [ROUNDS] [RUNS] [SUBMITTERS]
#
# TETHER=path/to/tether (default build/src/cli/tether, a release build; built with
# `make build` if missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-3}
RUNS=${2:-1000}
SUBMITTERS=${3:-16}
TETHER=${TETHER:-$ROOT/build/src/cli/tether}
if [ ! -x "$TETHER" ]; then (cd "$ROOT" && make build); fi

work=$(mktemp -d /tmp/tether-bench-load.XXXXXX)
trap 'rm -rf "$work"' EXIT
export TETHER RUNS SUBMITTERS work
have_perf=0
perf stat -e task-clock -x, -o /dev/null true 2>/dev/null && have_perf=1

cat >"$work/load.yaml" <<'YAML'
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: load-
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: noop}
    - - {name: b, template: noop}
    - - {name: c, template: noop}
  - name: noop
    container: {image: busybox, command: ["true"]}
YAML
python3 - "$RUNS" "$work/load.mk" <<'PY'
import sys
runs, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write(".PHONY: all " + " ".join(f"r{i}{s}" for i in range(runs) for s in "abc") + "\n")
    f.write("all: " + " ".join(f"r{i}c" for i in range(runs)) + "\n")
    for i in range(runs):
        f.write(f"r{i}a:\n\t@true\nr{i}b: r{i}a\n\t@true\nr{i}c: r{i}b\n\t@true\n")
PY

now() { date +%s.%N; }
cpu_of() {  # cpu_of PERF_CSV -> seconds of task-clock
  awk -F, '/task-clock/ {printf "%.3f", $1 / 1000}' "$1"
}

# One round of tether, in a shell of its own so that perf counts everything it starts: a
# fresh home and engine, the burst, `tether wait` for every run. Prints the seconds from the
# first submit to the end of the wait, and the engine's peak RSS in MiB.
tether_round() {
  set -euo pipefail
  export TETHER_HOME=$work/home
  rm -rf "$TETHER_HOME"
  mkdir -p "$TETHER_HOME"
  "$TETHER" server --no-http >"$work/server.log" 2>&1 &
  server=$!  # not local: the EXIT trap runs after the function has returned
  local t0 i share seconds rss submitters=()
  trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 1 200); do [ -S "$TETHER_HOME/engine.sock" ] && break; sleep 0.05; done
  [ -S "$TETHER_HOME/engine.sock" ] || { echo "the engine did not start: $(cat "$work/server.log")" >&2; exit 1; }
  t0=$(now)
  for i in $(seq 0 $((SUBMITTERS - 1))); do
    share=$((RUNS / SUBMITTERS + (i < RUNS % SUBMITTERS)))
    # shellcheck disable=SC2046  # one file argument a run
    "$TETHER" submit $(yes "$work/load.yaml" | head -n "$share") -o name >"$work/names.$i" &
    submitters+=($!)
  done
  for i in "${submitters[@]}"; do wait "$i"; done
  # shellcheck disable=SC2046
  "$TETHER" wait $(cat "$work"/names.*) >/dev/null
  seconds=$(python3 -c "print($(now) - $t0)")
  rss=$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$server/status")
  echo "$seconds $rss"
}
export -f now tether_round

echo "tether: $TETHER; $(nproc) cores; $RUNS runs x 3 steps, $SUBMITTERS concurrent submitters"
printf '%5s  %12s %10s %8s %8s %9s' round "make -j2 (s)" "tether (s)" ratio steps/s "peak RSS"
[ "$have_perf" = 1 ] && printf '   %12s %12s %8s' "make cpu (s)" "tether cpu" "cpu ratio"
echo
ratios=() cpu_ratios=()
for r in $(seq 1 "$ROUNDS"); do
  if [ "$have_perf" = 1 ]; then
    m0=$(now)
    perf stat -e task-clock -x, -o "$work/make.perf" make -s -j2 -f "$work/load.mk" all >/dev/null
    m1=$(now)
    perf stat -e task-clock -x, -o "$work/tether.perf" bash -c tether_round >"$work/round"
  else
    m0=$(now)
    make -s -j2 -f "$work/load.mk" all >/dev/null
    m1=$(now)
    bash -c tether_round >"$work/round"
  fi
  read -r seconds rss <"$work/round"
  ratio=$(python3 -c "print(f'{$seconds / ($m1 - $m0):.1f}')")
  ratios+=("$ratio")
  line=$(python3 -c "m=$m1-$m0; t=$seconds; print(f'{$r:5}  {m:12.3f} {t:10.3f} {$ratio:7.1f}x {3*$RUNS/t:8.0f} {$rss:5} MiB', end='')")
  if [ "$have_perf" = 1 ]; then
    mc=$(cpu_of "$work/make.perf"); tc=$(cpu_of "$work/tether.perf")
    cpu_ratios+=("$(python3 -c "print(f'{$tc / $mc:.1f}')")")
    line+=$(python3 -c "print(f'   {$mc:12.3f} {$tc:12.3f} {$tc/$mc:7.1f}x', end='')")
  fi
  echo "$line"
done
median() { python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.1f}x')" "$@"; }
summary="median ratio $(median "${ratios[@]}")"
[ "$have_perf" = 1 ] && summary+=", cpu $(median "${cpu_ratios[@]}")"
echo "$summary"
