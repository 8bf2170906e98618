#!/usr/bin/env bash
# Target outage with injected Produce errors (reliability issue, item 6), one run:
# a source devbroker (1 broker) and a separate target devbroker (3 brokers), 32 partitions,
# streamforged with 2 workers mirroring src -> dst while c-load writes RATE records/s.
# After the first batch: every target broker down for DOWN_S seconds, up again, then
# `error 0 50 6` (50 Produce requests fail with NOT_LEADER_OR_FOLLOWER) while more records
# flow. Then drain, and count the records of src that never reached dst.
#
#   scripts/repro-target-outage.sh WORKDIR      (prints one result line; exit 1 on loss)
# Environment: RATE=2000 FIRST=80000 SECOND=20000 DOWN_S=25 DEBUG=msg,eos,protocol (producer)
#              LATENCY_MS (target round trip after the outage) PRODUCER_EXTRA ('"key": value' pairs)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=${BIN:-$ROOT/.build/release}
W=${1:?workdir}
RATE=${RATE:-2000}; FIRST=${FIRST:-80000}; SECOND=${SECOND:-20000}; DOWN_S=${DOWN_S:-25}
DEBUG=${DEBUG:-}
PRODUCER_EXTRA=${PRODUCER_EXTRA:-}
mkdir -p "$W"; rm -rf "${W:?}"/*
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

broker() { # name brokers topic
  mkfifo "$W/$1.in"
  "$BIN/streamforge-devbroker" --brokers "$2" --partitions 32 --topic "$3" --bootstrap-file "$W/$1.bootstrap" \
    --control-socket "$W/$1.sock" <"$W/$1.in" >"$W/$1.log" 2>&1 &
  pids+=($!)
  exec {fd}>"$W/$1.in"
  for _ in $(seq 100); do [ -s "$W/$1.bootstrap" ] && break; sleep 0.1; done
}
broker src 1 src
broker dst 3 dst
S=$(cat "$W/src.bootstrap"); T=$(cat "$W/dst.bootstrap")
tcmd() { python3 - "$W/dst.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2] + "\n").encode())
print(s.recv(100).decode().strip())
PY
}

producer_props="\"linger.ms\": 5"
[ -n "$DEBUG" ] && producer_props="$producer_props, \"debug\": \"$DEBUG\""
[ -n "$PRODUCER_EXTRA" ] && producer_props="$producer_props, $PRODUCER_EXTRA"
cat >"$W/config.json" <<JSON
{"appid": "repro", "bootstrap": "$S", "target_broker": "$T", "input": "src", "output": "dst",
 "offset": "earliest", "workers": 2, "stats_interval": 5, "control_socket": "$W/control.sock",
 "commit_strategy": {"commit_interval_ms": 1000},
 "consumer_properties": {"session.timeout.ms": 6000},
 "producer_properties": {$producer_props}}
JSON
STREAMFORGE_LOG_LEVEL=${DEBUG:+debug} "$BIN/streamforged" --config "$W/config.json" >"$W/sf.log" 2>&1 &
sf=$!; pids+=($sf)
ctl() { "$BIN/streamforgectl" --socket "$W/control.sock" "$@"; }
for _ in $(seq 300); do ctl status --json 2>/dev/null | grep -q '"workersUp":2' && break; sleep 0.1; done

"$ROOT/out/c-load" -q --rate "$RATE" "$S" src "$FIRST" 200 >"$W/load1.json" &
load=$!
sleep $(( FIRST / RATE / 4 ))
for b in 1 2 3; do tcmd "down $b" >/dev/null; done
sleep "$DOWN_S"
for b in 1 2 3; do tcmd "up $b" >/dev/null; done
# LATENCY_MS: a slower target keeps several Produce requests of a partition in flight.
if [ -n "${LATENCY_MS:-}" ]; then for b in 1 2 3; do tcmd "latency $b $LATENCY_MS" >/dev/null; done; fi
tcmd "error 0 50 6" >/dev/null
wait $load
"$ROOT/out/c-load" -q --rate "$RATE" --first "$FIRST" "$S" src "$SECOND" 200 >"$W/load2.json"
total=$((FIRST + SECOND))
# Wait until the workers completed everything (lag 0 and nothing in flight), then drain.
for _ in $(seq 240); do
  n=$(kcat -C -b "$T" -t dst -e -q -f 'x\n' 2>/dev/null | wc -l)
  [ "$n" -ge "$total" ] && break
  sleep 1
done
sleep 3
ctl status --json >"$W/status.json" 2>/dev/null || true
kill -TERM "$sf"; wait "$sf" || true
kcat -C -b "$S" -t src -e -q -f '%p %o %h\n' 2>/dev/null | sed -E 's/^([0-9]+) ([0-9]+) .*sf-seq=([0-9]+).*/\3 \1 \2/' | sort -n >"$W/src.seq"
kcat -C -b "$T" -t dst -e -q -f '%p %o %h\n' 2>/dev/null | sed -E 's/^([0-9]+) ([0-9]+) .*sf-seq=([0-9]+).*/\3 \1 \2/' | sort -n >"$W/dst.seq"
missing=$(join -v1 <(cut -d' ' -f1 "$W/src.seq" | sort -u) <(cut -d' ' -f1 "$W/dst.seq" | sort -u) | sort -n)
srcn=$(wc -l <"$W/src.seq"); dstn=$(wc -l <"$W/dst.seq"); lost=$(printf '%s' "$missing" | grep -c . || true)
echo "$missing" >"$W/missing"
echo "source=$srcn target=$dstn lost=$lost duplicates=$((dstn - srcn + lost)) missing=[$(echo $missing | tr ' ' ',' | cut -c1-200)]"
[ "$lost" -eq 0 ]
