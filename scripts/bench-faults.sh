#!/usr/bin/env bash
# scripts/bench-faults.sh — `make bench-faults` (also run by `make bench`): the C mirrors of the
# benchmark keep their at-least-once guarantee when a delivery fails.
#
# For out/c-fast and out/c-mirror in turn, on a fresh devbroker: load FAULT_RECORDS keyed
# records into src (8 partitions), make the broker fail the next Produce request with a
# non-retriable error (MESSAGE_TOO_LARGE), run the mirror: it must report the failed delivery and
# exit 1 after committing only the unbroken delivered runs. Then run it again in the same group
# until every key of src is in the target: if the first run had committed past a failed record
# (as "store the highest delivered offset" does), that record is never read again and the check
# fails after FAULT_WAIT seconds.
#
# Environment: FAULT_RECORDS=20000 FAULT_WAIT=30 BIN=.build/release
#   FAULT_PROGRAMS="c-fast c-mirror"  (any program with c-mirror's command line)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

N="${FAULT_RECORDS:-20000}"
WAIT="${FAULT_WAIT:-30}"
BIN="${BIN:-.build/release}"
PROGRAMS="${FAULT_PROGRAMS:-c-fast c-mirror}"
CC="${CC:-cc}"

log() { echo "bench-faults: $*" >&2; }
die() { log "$*"; exit 1; }

[[ -x "$BIN/streamforge-devbroker" ]] || die "$BIN/streamforge-devbroker not found (make build)"
command -v kcat >/dev/null || die "kcat not found"
mkdir -p out
for p in c-load c-fast c-mirror; do
  if [[ ! -x out/$p || bench/$p.c -nt out/$p || bench/c-track.h -nt out/$p ]]; then
    "$CC" -O2 -Wall -o "out/$p" "bench/$p.c" -lrdkafka
  fi
done

WORK="$(mktemp -d /tmp/sffault.XXXXXX)"
BROKER_PID="" MIRROR_PID=""
cleanup() {
  [[ -n "$MIRROR_PID" ]] && { kill -TERM "$MIRROR_PID" 2>/dev/null || true; wait "$MIRROR_PID" 2>/dev/null || true; }
  exec 3>&-
  [[ -n "$BROKER_PID" ]] && { kill -TERM "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

keys() { # distinct keys in a topic
  kcat -C -b "$BOOTSTRAP" -t "$1" -o beginning -e -q -f '%k\n' 2>/dev/null | sort -u | wc -l
}

failed=0
for prog in $PROGRAMS; do
  rm -f "$WORK/broker.in" "$WORK/bootstrap"
  mkfifo "$WORK/broker.in"
  "$BIN/streamforge-devbroker" --partitions 8 --topic src --topic dst --bootstrap-file "$WORK/bootstrap" \
    <"$WORK/broker.in" >"$WORK/broker.out" 2>"$WORK/broker.err" &
  BROKER_PID=$!
  exec 3>"$WORK/broker.in"
  for _ in $(seq 100); do [[ -s "$WORK/bootstrap" ]] && break; sleep 0.1; done
  BOOTSTRAP="$(head -n1 "$WORK/bootstrap")"
  out/c-load -q "$BOOTSTRAP" src "$N" 100 >/dev/null

  # The next Produce request (ApiKey 0) fails with MESSAGE_TOO_LARGE (10), not retried.
  echo "error 0 1 10" >&3
  st=0
  out/"$prog" -q "$BOOTSTRAP" g-fault src dst "$N" >"$WORK/first.json" 2>"$WORK/first.err" || st=$?
  first="$(cat "$WORK/first.json")"
  if [[ "$st" == 0 ]]; then
    log "$prog: the injected error did not fail a delivery ($first): nothing checked"
    failed=1
  else
    log "$prog: first run exited $st after a failed delivery: $first"
    # Again, same group: it must read every record that was not delivered.
    out/"$prog" -q "$BOOTSTRAP" g-fault src dst 999999999 >"$WORK/second.json" 2>"$WORK/second.err" &
    MIRROR_PID=$!
    have=0
    for ((t = 0; t < WAIT; t++)); do
      sleep 1
      have="$(keys dst)"
      ((have >= N)) && break
    done
    kill -TERM "$MIRROR_PID" 2>/dev/null || true
    wait "$MIRROR_PID" 2>/dev/null || true
    MIRROR_PID=""
    if ((have >= N)); then
      log "$prog: ok: every one of $N keys in the target after the restart"
    else
      log "$prog: LOST RECORDS: $have of $N keys in the target $WAIT s after the restart (an offset was committed past a failed delivery)"
      failed=1
    fi
  fi
  exec 3>&-
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
done
exit "$failed"
