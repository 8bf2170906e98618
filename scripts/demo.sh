#!/usr/bin/env bash
# `make demo`: StreamForge on an embedded demo broker. Starts streamforge-devbroker
# (librdkafka's mock cluster), writes sample JSON records, runs the supervisor with two
# workers mirroring them byte for byte to one topic and, filtered and reshaped, to another,
# shows the records arriving and `streamforgectl status`, then stops everything cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
RECORDS=${DEMO_RECORDS:-2000}
work=$(mktemp -d /tmp/sf-demo-XXXXXX)
broker_pid=""; daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "starting the demo broker (librdkafka mock cluster, 3 brokers)"
mkfifo "$work/broker.in"
"$BIN/streamforge-devbroker" --brokers 3 --partitions 8 --topic orders --topic orders-replica --topic shipments \
  --bootstrap-file "$work/bootstrap" <"$work/broker.in" >"$work/broker.log" 2>&1 &
broker_pid=$!
exec 3>"$work/broker.in"   # keeps the broker's stdin open
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
BOOTSTRAP=$(cat "$work/bootstrap")
echo "bootstrap: $BOOTSTRAP"

say "producing $RECORDS sample JSON records to 'orders'"
produce() { # first last
  for i in $(seq "$1" "$2"); do
    printf 'order-%d\t{"id":%d,"customer":"c-%d","amount":%d.%02d,"status":"%s"}\n' \
      "$i" "$i" $((i % 97)) $((i % 500)) $((i % 100)) "$([ $((i % 3)) -eq 0 ] && echo shipped || echo paid)"
  done | kcat -P -b "$BOOTSTRAP" -t orders -K "$(printf '\t')" -H source=demo
}
produce 1 "$RECORDS"

cat >"$work/config.json" <<JSON
{
  "appid": "streamforge-demo",
  "bootstrap": "$BOOTSTRAP",
  "input": "orders",
  "offset": "earliest",
  "routing": {
    "destinations": [
      {"output": "{source_topic}-replica", "description": "byte-for-byte copy"},
      {"output": "shipments", "description": "shipped orders, reshaped and re-keyed by customer",
       "filter": "/status,==,shipped",
       "transform": "CONSTRUCT:order=/id:customer=/customer:amount=/amount",
       "key_transform": "/customer",
       "headers": {"pipeline": "demo"}}
    ]
  },
  "workers": 2,
  "stats_interval": 2,
  "control_socket": "$work/control.sock",
  "commit_strategy": {"commit_interval_ms": 1000},
  "consumer_properties": {"session.timeout.ms": 6000}
}
JSON
say "the configuration"
cat "$work/config.json"
"$BIN/streamforged" check-config "$work/config.json"

say "starting streamforged with 2 workers"
"$BIN/streamforged" --config "$work/config.json" >"$work/streamforged.log" 2>&1 &
daemon_pid=$!
ctl() { "$BIN/streamforgectl" --socket "$work/control.sock" "$@"; }
for _ in $(seq 300); do
  ctl status --json 2>/dev/null | grep -q '"state" *: *"running"' && break
  sleep 0.1
done

count() { kcat -C -b "$BOOTSTRAP" -t orders-replica -e -q -f 'x\n' 2>/dev/null | wc -l; }
for _ in $(seq 150); do [ "$(count)" -ge "$RECORDS" ] && break; sleep 0.2; done
say "records in 'orders-replica' (first 5: partition, offset, key, value, headers)"
kcat -C -b "$BOOTSTRAP" -t orders-replica -e -q -c 5 -f '%p %o %k %s %h\n'
echo "total in orders-replica: $(count) of $RECORDS"
say "records in 'shipments' (filtered on status, reshaped, keyed by customer; first 5)"
kcat -C -b "$BOOTSTRAP" -t shipments -e -q -c 5 -f '%p %o %k %s %h\n'
echo "total in shipments: $(kcat -C -b "$BOOTSTRAP" -t shipments -e -q -f 'x\n' 2>/dev/null | wc -l) (every third order is shipped)"

say "producing 500 more while it runs"
produce $((RECORDS + 1)) $((RECORDS + 500))
for _ in $(seq 150); do [ "$(count)" -ge $((RECORDS + 500)) ] && break; sleep 0.2; done
echo "total in orders-replica: $(count) of $((RECORDS + 500))"

say "streamforgectl status"
ctl status

say "the supervisor's log"
grep -v 'rdkafka' "$work/streamforged.log" | tail -n 12

say "stopping (SIGTERM: drain, commit, exit)"
kill -TERM "$daemon_pid"; wait "$daemon_pid" && echo "streamforged exited 0"; daemon_pid=""
