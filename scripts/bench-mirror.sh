#!/usr/bin/env bash
# scripts/bench-mirror.sh — `make bench-mirror`: StreamForge vs a plain librdkafka C loop
# (bench/c-mirror.c) mirroring the same topic on the same broker.
#
# Per run: start a fresh broker (streamforge-devbroker, librdkafka's mock cluster) with topics
# src, dst-c, dst-sf (BENCH_PARTITIONS partitions each); load BENCH_RECORDS x BENCH_SIZE bytes
# into src with out/c-load; mirror src -> dst-c with out/c-mirror (group g-c); mirror
# src -> dst-sf with streamforged (appid bench-sf); optionally verify both copies against src
# with out/c-verify (count + checksum).  Wall time and CPU (user+sys) of both mirrors come from
# /usr/bin/time, so both include process start-up and the consumer-group join.  The best of
# BENCH_RUNS runs (by wall time) is reported for each.
#
# Builds only the C programs (into out/); expects the Swift binaries in .build/release/.
#
# Environment (defaults):
#   BENCH_RECORDS=1000000 BENCH_SIZE=200 BENCH_PARTITIONS=64 BENCH_RUNS=2 BENCH_VERIFY=1
#   DEVBROKER=.build/release/streamforge-devbroker   (any program with the same CLI)
#   STREAMFORGED=.build/release/streamforged         (skipped, C only, if missing)
#   BENCH_KEEP=1 keeps the work directory (configs, logs) and prints its path.
#
# The mock cluster keeps only ~5 MB per partition: 1M x 200 B over 64 partitions is ~3.3 MB
# each (with keys and headers), which fits; scale BENCH_PARTITIONS with the volume.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

N="${BENCH_RECORDS:-1000000}"
SIZE="${BENCH_SIZE:-200}"
PARTS="${BENCH_PARTITIONS:-64}"
RUNS="${BENCH_RUNS:-2}"
VERIFY="${BENCH_VERIFY:-1}"
DEVBROKER="${DEVBROKER:-.build/release/streamforge-devbroker}"
STREAMFORGED="${STREAMFORGED:-.build/release/streamforged}"
TIME=/usr/bin/time
CC="${CC:-cc}"

log() { echo "bench-mirror: $*" >&2; }
die() { log "$*"; exit 1; }

[[ -x "$DEVBROKER" ]] || die "$DEVBROKER not found (build it first: swift build -c release)"
[[ -x "$TIME" ]] || die "$TIME not found (Debian package 'time')"
SF=1
if [[ ! -x "$STREAMFORGED" ]]; then
  log "$STREAMFORGED not found: measuring the C baseline only"
  SF=0
fi

mkdir -p out
for p in c-load c-mirror c-verify; do
  if [[ ! -x out/$p || bench/$p.c -nt out/$p ]]; then
    log "cc bench/$p.c"
    "$CC" -O2 -o "out/$p" "bench/$p.c" -lrdkafka
  fi
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sf-bench.XXXXXX")"
BROKER_PID=""
cleanup() {
  exec 3>&- # closing the broker's stdin stops it
  if [[ -n "$BROKER_PID" ]]; then
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
  fi
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_broker() { # run -> sets BOOTSTRAP, BROKER_PID
  local r="$1" i
  rm -f "$WORK/broker.in" "$WORK/bootstrap.$r"
  mkfifo "$WORK/broker.in"
  "$DEVBROKER" --partitions "$PARTS" --topic src --topic dst-c --topic dst-sf \
    --bootstrap-file "$WORK/bootstrap.$r" <"$WORK/broker.in" >"$WORK/broker.$r.out" \
    2>"$WORK/broker.$r.err" &
  BROKER_PID=$!
  exec 3>"$WORK/broker.in" # keep its stdin open while we run
  BOOTSTRAP=""
  for ((i = 0; i < 300; i++)); do
    kill -0 "$BROKER_PID" 2>/dev/null || die "broker exited: $(cat "$WORK/broker.$r.err")"
    if [[ -s "$WORK/bootstrap.$r" ]]; then
      BOOTSTRAP="$(head -n1 "$WORK/bootstrap.$r" | tr -d '[:space:]')"
    elif [[ -s "$WORK/broker.$r.out" ]]; then
      BOOTSTRAP="$(head -n1 "$WORK/broker.$r.out" | tr -d '[:space:]')"
    fi
    [[ "$BOOTSTRAP" == *:* ]] && break
    BOOTSTRAP=""
    sleep 0.1
  done
  [[ -n "$BOOTSTRAP" ]] || die "broker printed no bootstrap address"
}

stop_broker() {
  exec 3>&-
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
}

# timed OUTFILE CMD... : runs CMD, writes "wall user sys" to OUTFILE
timed() {
  local out="$1"; shift
  "$TIME" -f '%e %U %S' -o "$out" "$@"
}

verify() { # topic expected-checksum
  local v
  v="$(out/c-verify --expect "$N" "$BOOTSTRAP" "$1")" || die "verify $1 failed: $v"
  [[ "$v" == *"\"checksum\":\"$2\""* ]] || die "verify $1: checksum differs from src: $v"
}

best_c="" best_sf=""
for ((r = 1; r <= RUNS; r++)); do
  log "run $r/$RUNS: broker"
  start_broker "$r"
  log "run $r/$RUNS: loading $N x $SIZE B into src ($PARTS partitions) at $BOOTSTRAP"
  out/c-load -q "$BOOTSTRAP" src "$N" "$SIZE" >"$WORK/load.$r.json" ||
    die "c-load failed: $(cat "$WORK/load.$r.json")"
  log "  load: $(cat "$WORK/load.$r.json")"
  SRC_SUM=""
  if [[ "$VERIFY" == 1 ]]; then
    v="$(out/c-verify --expect "$N" "$BOOTSTRAP" src)" || die "src incomplete: $v"
    SRC_SUM="$(sed -n 's/.*"checksum":"\([0-9a-f]*\)".*/\1/p' <<<"$v")"
  fi

  log "run $r/$RUNS: c-mirror src -> dst-c"
  timed "$WORK/c.$r.time" out/c-mirror -q "$BOOTSTRAP" g-c src dst-c "$N" >"$WORK/c.$r.json" ||
    die "c-mirror failed: $(cat "$WORK/c.$r.json")"
  log "  c-mirror: $(cat "$WORK/c.$r.json") time: $(cat "$WORK/c.$r.time")"
  [[ "$VERIFY" == 1 ]] && verify dst-c "$SRC_SUM"
  line="$(cat "$WORK/c.$r.time")"
  if [[ -z "$best_c" ]] || awk -v a="${line%% *}" -v b="${best_c%% *}" 'BEGIN{exit !(a<b)}'; then
    best_c="$line"
  fi

  if [[ "$SF" == 1 ]]; then
    cat >"$WORK/sf.json" <<EOF
{"appid":"bench-sf","bootstrap":"$BOOTSTRAP","input":"src","offset":"earliest","workers":1,
 "routing":{"destinations":[{"output":"dst-sf","partition":"preserve"}]}}
EOF
    log "run $r/$RUNS: streamforged src -> dst-sf"
    # One worker in the foreground, like c-mirror: same partitions, same broker, same run.
    timed "$WORK/sf.$r.time" "$STREAMFORGED" run --config "$WORK/sf.json" --exit-after-records "$N" \
      >"$WORK/sf.$r.out" 2>"$WORK/sf.$r.err" ||
      die "streamforged failed: $(tail -n 20 "$WORK/sf.$r.err")"
    log "  streamforged time: $(cat "$WORK/sf.$r.time")"
    [[ "$VERIFY" == 1 ]] && verify dst-sf "$SRC_SUM"
    line="$(cat "$WORK/sf.$r.time")"
    if [[ -z "$best_sf" ]] || awk -v a="${line%% *}" -v b="${best_sf%% *}" 'BEGIN{exit !(a<b)}'; then
      best_sf="$line"
    fi
  fi
  stop_broker
done

# Table: records/s (wall), CPU seconds per million records, ratios.
awk -v n="$N" -v c="$best_c" -v s="$best_sf" -v runs="$RUNS" -v size="$SIZE" -v parts="$PARTS" '
function row(name, t,   a, rps, cpu) {
  split(t, a, " ");
  rps = (a[1] > 0) ? n / a[1] : 0;
  cpu = (a[2] + a[3]) * 1e6 / n;
  printf "%-14s %10.2f %14.0f %16.3f\n", name, a[1], rps, cpu;
  R[name] = rps; C[name] = cpu;
}
BEGIN {
  printf "mirror %d records x %d B, %d partitions, mock cluster, best of %d run(s)\n", n, size, parts, runs;
  printf "%-14s %10s %14s %16s\n", "", "wall s", "records/s", "CPU s / 1M rec";
  row("c-mirror", c);
  if (s != "") {
    row("streamforged", s);
    printf "ratio sf/c: throughput %.2f, CPU per record %.2f\n",
      R["streamforged"] / R["c-mirror"], C["streamforged"] / C["c-mirror"];
  }
}'
