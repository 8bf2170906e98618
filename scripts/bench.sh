#!/usr/bin/env bash
# scripts/bench.sh — the comparison of `make bench`: StreamForge against the fastest
# at-least-once C loop on librdkafka and the usual alternatives, on one broker per run.
#
# Each run starts two fresh devbrokers (librdkafka's mock cluster, one after the other) and
# measures, on the same broker and the same loaded source topic:
#
#  200-byte records (BENCH_RECORDS over BENCH_PARTITIONS), the mirror:
#    fast      out/c-fast: batch consumption, zero copy, tuned fetch and producer (bench/c-fast.c)
#    cmirror   out/c-mirror with StreamForge's librdkafka defaults (ClientProperties.swift)
#    kcat      kcat -C | kcat -P, keys carried with -K (no headers, timestamps or partitions;
#              no consumer group, no commits: not at-least-once)
#    sf1, sf2  streamforged as users run it (the supervisor, `--config FILE`) with 1 and 2
#              workers, destination `partition: preserve`
#    run       streamforged run --exit-after-records (one process, no supervisor)
#  ~1 KB JSON records (BENCH_JSON_RECORDS over BENCH_JSON_PARTITIONS, c-load --json), the
#  language path:
#    jfast     out/c-fast on these records
#    jcmirror  out/c-mirror with StreamForge's librdkafka defaults on these records
#    jsf1      streamforged, 1 worker, pure mirror
#    lang1, lang2  streamforged, 1 and 2 workers: filter /status,==,confirmed (90 % pass),
#              CONSTRUCT of 5 fields, key HASH:SHA256 of /user/email
#    fan1      streamforged, 1 worker: fan-out to 3 destinations (two filters, one filter with
#              a CONSTRUCT of 2 fields), as `make bench-dsl`'s fan-out case
#
# Every program is timed the same way, by out/c-watch polling the target's high watermarks:
# records/s from the first record arriving to the last, so process start-up and the group join
# do not count. For a filtering configuration the rate is in SOURCE records per second.
# CPU: /usr/bin/time (user+sys) for programs that exit; for the daemon, utime+stime of the
# supervisor and of each worker from /proc/PID/stat once the last record arrived, before it is
# stopped (tick resolution, 10 ms). Peak RSS: /usr/bin/time's max RSS, or VmHWM.
# In each program's first undisturbed run (BENCH_VERIFY=1) its target is read back with
# out/c-verify: exact record count, and for the mirrors that keep partitions the checksum of the
# source (keys, values, headers, timestamps, order per partition). A program that loses a record
# fails the benchmark. A daemon run with a rebalance (a late joiner, lost partitions, a worker
# restart; seen in its log) is reported and left out of the figures.
#
# Each program's figures are the median of BENCH_RUNS runs, with min and max; ratios are taken
# within each run (same broker, same moment) and then the median. The order of the programs
# rotates from run to run.
#
# Environment (defaults):
#   BENCH_RUNS=3  BENCH_RECORDS=1000000 BENCH_SIZE=200 BENCH_PARTITIONS=64
#   BENCH_JSON_RECORDS=300000 BENCH_JSON_SIZE=1024 BENCH_JSON_PARTITIONS=128
#   BENCH_VERIFY=1 (first run; "all": every run; 0: never)
#   BENCH_ONLY=fast,sf1,...   only these programs (a section runs if any of its programs does)
#   BENCH_REPORT=docs/benchmarks/results.md   the markdown report ("" for none)
#   BIN=.build/release   the StreamForge binaries (built by `make build`)
#   BENCH_KEEP=1 keeps the work directory (configs, logs)
#
# The mock cluster keeps only ~5 MB per partition: 1 M x 200 B over 64 partitions is ~3.3 MB
# each and 300 k x 1 KB over 128 partitions ~2.5 MB; scale the partitions with the volume.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RUNS="${BENCH_RUNS:-3}"
N="${BENCH_RECORDS:-1000000}"
SIZE="${BENCH_SIZE:-200}"
PARTS="${BENCH_PARTITIONS:-64}"
JN="${BENCH_JSON_RECORDS:-300000}"
JSIZE="${BENCH_JSON_SIZE:-1024}"
JPARTS="${BENCH_JSON_PARTITIONS:-128}"
VERIFY="${BENCH_VERIFY:-1}"
ONLY="${BENCH_ONLY:-}"
REPORT="${BENCH_REPORT-docs/benchmarks/results.md}"
BIN="${BIN:-.build/release}"
TIME=/usr/bin/time
KCAT="${KCAT:-kcat}"
CC="${CC:-cc}"
WATCH_TIMEOUT="${BENCH_WATCH_TIMEOUT:-240}"

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

for b in streamforge-devbroker streamforged streamforgectl; do
  [[ -x "$BIN/$b" ]] || die "$BIN/$b not found (make build)"
done
[[ -x "$TIME" ]] || die "$TIME not found (Debian package 'time')"
command -v "$KCAT" >/dev/null || die "kcat not found (Debian package 'kcat')"

mkdir -p out
for p in c-load c-fast c-mirror c-verify c-watch; do
  if [[ ! -x out/$p || bench/$p.c -nt out/$p || bench/c-track.h -nt out/$p ]]; then
    log "cc bench/$p.c"
    "$CC" -O2 -Wall -o "out/$p" "bench/$p.c" -lrdkafka
  fi
done

# The offset tracking the C mirrors rely on, checked before anything is measured.
if [[ ! -x out/c-track-test || bench/c-track-test.c -nt out/c-track-test || bench/c-track.h -nt out/c-track-test ]]; then
  "$CC" -O2 -Wall -o out/c-track-test bench/c-track-test.c
fi
out/c-track-test >&2 || die "c-track-test failed"

WORK="$(mktemp -d /tmp/sfbench.XXXXXX)"
RESULTS="$WORK/results"
: >"$RESULTS"
BROKER_PID="" DAEMON_PID="" WATCH_PID="" BG_PIDS=()
cleanup() {
  local p
  for p in "$DAEMON_PID" "${BG_PIDS[@]}" "$WATCH_PID"; do
    [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null || true
  done
  for p in "$DAEMON_PID" "${BG_PIDS[@]}" "$WATCH_PID"; do
    [[ -n "$p" ]] && wait "$p" 2>/dev/null || true
  done
  stop_broker
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wanted() { [[ -z "$ONLY" || ",$ONLY," == *",$1,"* ]]; }

# count_mod N M R: how many i in [0, N) have i % M == R
count_mod() { echo $(( ($1 + $2 - 1 - $3) / $2 )); }

start_broker() { # partitions topic... -> BOOTSTRAP, BROKER_PID
  local parts="$1" t args=() i
  shift
  for t in "$@"; do args+=(--topic "$t"); done
  rm -f "$WORK/broker.in" "$WORK/bootstrap"
  mkfifo "$WORK/broker.in"
  "$BIN/streamforge-devbroker" --partitions "$parts" "${args[@]}" --bootstrap-file "$WORK/bootstrap" \
    <"$WORK/broker.in" >>"$WORK/broker.out" 2>>"$WORK/broker.err" &
  BROKER_PID=$!
  exec 3>"$WORK/broker.in" # keeps its stdin open
  BOOTSTRAP=""
  for ((i = 0; i < 300; i++)); do
    kill -0 "$BROKER_PID" 2>/dev/null || die "broker exited: $(tail -n 5 "$WORK/broker.err")"
    [[ -s "$WORK/bootstrap" ]] && BOOTSTRAP="$(head -n1 "$WORK/bootstrap" | tr -d '[:space:]')"
    [[ "$BOOTSTRAP" == *:* ]] && return 0
    sleep 0.1
  done
  die "broker printed no bootstrap address"
}

stop_broker() {
  exec 3>&-
  if [[ -n "$BROKER_PID" ]]; then
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
  fi
}

# watch_start EXPECTED TOPICS: c-watch in the background, returns once its baseline is known.
watch_start() {
  rm -f "$WORK/watch.ready" "$WORK/watch.json"
  out/c-watch --timeout "$WATCH_TIMEOUT" --ready "$WORK/watch.ready" "$BOOTSTRAP" "$1" "$2" \
    >"$WORK/watch.json" 2>"$WORK/watch.err" &
  WATCH_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    [[ -s "$WORK/watch.ready" ]] && return 0
    kill -0 "$WATCH_PID" 2>/dev/null || die "c-watch failed: $(cat "$WORK/watch.err")"
    sleep 0.05
  done
  die "c-watch not ready"
}

# watch_wait [PID] -> WATCH_OK (1/0), WATCH_SECS, WATCH_RATE (target records/s). PID is the
# program under test (none: it has exited already); once it is gone, c-watch gets 10 s more to
# see the last records, so a program that loses records fails fast instead of at the timeout.
watch_wait() {
  local pid="${1:-}" gone=""
  while kill -0 "$WATCH_PID" 2>/dev/null; do
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
      [[ -n "$gone" ]] || gone=$SECONDS
      if ((SECONDS - gone >= 10)); then
        kill -TERM "$WATCH_PID" 2>/dev/null || true
        break
      fi
    fi
    sleep 0.2
  done
  WATCH_OK=1
  wait "$WATCH_PID" || WATCH_OK=0
  WATCH_PID=""
  local j
  j="$(cat "$WORK/watch.json")"
  WATCH_SECS="$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' <<<"$j")"
  WATCH_RATE="$(sed -n 's/.*"records_per_sec":\([0-9.]*\).*/\1/p' <<<"$j")"
  [[ "$WATCH_OK" == 1 ]] || log "  c-watch: $(cat "$WORK/watch.err") $j"
}

# proc_cpu PID: utime+stime in seconds; proc_hwm PID: VmHWM in KB
proc_cpu() { sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($12 + $13) / hz}'; }
proc_hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# record ID RUN SRC_RECORDS OK RATE CPU_TOTAL CPU_SUP RSS_MAX_KB RSS_SUP_KB (DISTURBED is the
# tenth field: the run had a rebalance or a worker restart, and is left out of the figures)
record() {
  echo "$* $DISTURBED" >>"$RESULTS"
  awk -v id="$1" -v n="$3" -v ok="$4" -v rate="$5" -v cpu="$6" -v sup="$7" -v rss="$8" -v srss="$9" \
    -v dist="$DISTURBED" 'BEGIN {
    printf "bench:   %-8s %s  %9.0f rec/s  CPU %6.3f s/M rec", id, ok == 1 ? "ok  " : "FAIL", rate, cpu * 1e6 / n;
    if (sup != "-") printf " (supervisor %.3f)", sup * 1e6 / n;
    printf "  RSS %.0f MB", rss / 1024;
    if (srss != "-") printf " (supervisor %.0f MB)", srss / 1024;
    if (dist == 1) printf "  DISTURBED (rebalance or worker restart): left out";
    printf "\n" }' >&2
}

# time_fields FILE -> "wall user+sys maxrss_kb"
time_fields() { awk '{printf "%s %.2f %s", $1, $2 + $3, $4}' "$1"; }

# verify TOPIC EXPECTED [CHECKSUM]: exact count (and the source's checksum); clears VOK unless
# it holds. More records than expected after a disturbed run are the redeliveries at-least-once
# allows, not a loss: that program is verified again in a later run. Fewer, or a wrong checksum
# otherwise, fail the benchmark.
VERIFY_FAILED=0
declare -A VERIFIED=()
verify() {
  local topic="$1" exp="$2" sum="${3:-}" v got
  v="$(out/c-verify --expect "$exp" "$BOOTSTRAP" "$topic" 2>&1)" || true
  got="$(sed -n 's/.*"records":\([0-9]*\).*/\1/p' <<<"$v")"
  if [[ "$got" == "$exp" && ( -z "$sum" || "$v" == *"\"checksum\":\"$sum\""* ) ]]; then
    log "  verified $topic: $exp records${sum:+, checksum of the source}"
  elif [[ "$DISTURBED" == 1 && -n "$got" && "$got" -gt "$exp" ]]; then
    log "  $topic: $got records for $exp after a rebalance (redeliveries): verified again in a later run"
    VOK=0
  else
    log "  VERIFY FAILED: $topic: expected $exp records${sum:+ and the checksum of the source}: $v"
    VERIFY_FAILED=1
    VOK=bad
  fi
}
# verified ID: after its verify calls
verified() {
  case "$VOK" in
    1) VERIFIED[$1]=ok ;;
    bad) VERIFIED[$1]=bad ;;
  esac
}
should_verify() { [[ "$VERIFY" == all || ("$VERIFY" == 1 && -z "${VERIFIED[$1]:-}") ]]; }

# --- the programs -------------------------------------------------------------------------

# StreamForge's librdkafka defaults (Sources/StreamForgeWorker/ClientProperties.swift), for
# c-mirror; bootstrap, group and the offset-store/commit settings are c-mirror's own.
SF_PROPS=(
  -C queued.max.messages.kbytes=32768 -C queued.min.messages=200000
  -C enable.partition.eof=false -C session.timeout.ms=10000
  -C topic.metadata.refresh.interval.ms=30000
  -P enable.idempotence=true -P max.in.flight.requests.per.connection=1
  -P partitioner=murmur2_random -P linger.ms=5 -P message.timeout.ms=0
  -P queue.buffering.max.kbytes=65536
)

# run_exiting ID RUN SRC_N EXPECTED TOPICS CMD...: a program that exits by itself
run_exiting() {
  local id="$1" r="$2" n="$3" exp="$4" topics="$5"
  shift 5
  watch_start "$exp" "$topics"
  local ok=1
  "$TIME" -f '%e %U %S %M' -o "$WORK/$id.$r.time" "$@" >"$WORK/$id.$r.out" 2>"$WORK/$id.$r.err" || ok=0
  watch_wait
  [[ "$ok" == 1 ]] || log "  $id failed: $(tail -n 5 "$WORK/$id.$r.err")"
  [[ "$WATCH_OK" == 1 ]] || ok=0
  local cpu rss
  read -r _ cpu rss <<<"$(time_fields "$WORK/$id.$r.time")"
  record "$id" "$r" "$n" "$ok" "$(awk -v a="$WATCH_RATE" -v n="$n" -v e="$exp" 'BEGIN{print a * n / e}')" \
    "$cpu" - "$rss" -
}

run_kcat() { # RUN
  local r="$1" ok=1
  watch_start "$N" dst-kcat
  set +e
  "$TIME" -f '%e %U %S %M' -o "$WORK/kcat-c.$r.time" \
    "$KCAT" -C -b "$BOOTSTRAP" -t src -o beginning -e -q -K $'\t' 2>"$WORK/kcat-c.$r.err" |
    "$TIME" -f '%e %U %S %M' -o "$WORK/kcat-p.$r.time" \
      "$KCAT" -P -b "$BOOTSTRAP" -t dst-kcat -K $'\t' 2>"$WORK/kcat-p.$r.err"
  local st=("${PIPESTATUS[@]}")
  set -e
  [[ "${st[0]}" == 0 && "${st[1]}" == 0 ]] || { ok=0; log "  kcat failed: $(cat "$WORK/kcat-c.$r.err" "$WORK/kcat-p.$r.err" | tail -n 5)"; }
  watch_wait
  [[ "$WATCH_OK" == 1 ]] || ok=0
  local c1 r1 c2 r2
  read -r _ c1 r1 <<<"$(time_fields "$WORK/kcat-c.$r.time")"
  read -r _ c2 r2 <<<"$(time_fields "$WORK/kcat-p.$r.time")"
  record kcat "$r" "$N" "$ok" "$WATCH_RATE" "$(awk -v a="$c1" -v b="$c2" 'BEGIN{print a + b}')" - \
    "$(( r1 > r2 ? r1 : r2 ))" -
}

# sf_config FILE APPID WORKERS DESTINATIONS_JSON
sf_config() {
  cat >"$1" <<EOF
{"appid":"$2","bootstrap":"$BOOTSTRAP","input":"src","offset":"earliest","workers":$3,
 "metrics":"off","control_socket":"$WORK/$2.sock",
 "routing":{"destinations":$4}}
EOF
}

# run_daemon ID RUN SRC_N EXPECTED TOPICS WORKERS DESTINATIONS_JSON: the supervisor, as users run it
run_daemon() {
  local id="$1" r="$2" n="$3" exp="$4" topics="$5" workers="$6" dests="$7"
  local cfg="$WORK/$id.$r.json" ok=1
  sf_config "$cfg" "b-$id-$r" "$workers" "$dests"
  watch_start "$exp" "$topics"
  "$BIN/streamforged" --config "$cfg" >"$WORK/$id.$r.log" 2>&1 &
  DAEMON_PID=$!
  watch_wait "$DAEMON_PID"
  [[ "$WATCH_OK" == 1 ]] || ok=0
  local sup_cpu=0 sup_rss=0 wcpu=0 wrss=0 w kids
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    kids="$(pgrep -P "$DAEMON_PID" || true)"
    sup_cpu="$(proc_cpu "$DAEMON_PID")"
    sup_rss="$(proc_hwm "$DAEMON_PID")"
    local nk=0
    for w in $kids; do
      wcpu="$(awk -v a="$wcpu" -v b="$(proc_cpu "$w")" 'BEGIN{print a + b}')"
      local h
      h="$(proc_hwm "$w")"
      (( h > wrss )) && wrss=$h
      nk=$((nk + 1))
    done
    [[ "$nk" == "$workers" ]] || { log "  $id: $nk worker processes, expected $workers"; ok=0; }
    # A steady run assigns each worker once and restarts none; anything else (a member that
    # joined late, lost partitions, a worker killed for not reporting) redelivers records and
    # spends the run rebalancing: such a run is reported and left out of the figures.
    local assigned started lost
    assigned="$(grep -c 'partitions assigned' "$WORK/$id.$r.log" || true)"
    started="$(grep -c 'worker started sf.worker.pid' "$WORK/$id.$r.log" || true)"
    lost="$(grep -c -E 'partitions (lost|revoked)' "$WORK/$id.$r.log" || true)"
    if ((assigned > workers || started > workers || lost > 0)); then
      DISTURBED=1
      log "  $id: $assigned assignments, $started worker starts, $lost losses or revocations for $workers worker(s):"
      grep -E 'partitions (lost|revoked)|killed|exited|worker started sf|unresponsive' "$WORK/$id.$r.log" |
        grep -v rdkafka | cut -c1-200 | sed 's/^/bench:     /' >&2 || true
    fi
    kill -TERM "$DAEMON_PID"
    local st=0
    wait "$DAEMON_PID" || st=$?
    [[ "$st" == 0 ]] || { log "  $id: streamforged exited $st"; ok=0; }
  else
    log "  $id: streamforged exited early: $(grep -v rdkafka "$WORK/$id.$r.log" | tail -n 5)"
    ok=0
  fi
  DAEMON_PID=""
  record "$id" "$r" "$n" "$ok" "$(awk -v a="$WATCH_RATE" -v n="$n" -v e="$exp" 'BEGIN{print a * n / e}')" \
    "$(awk -v a="$sup_cpu" -v b="$wcpu" 'BEGIN{print a + b}')" "$sup_cpu" "$wrss" "$sup_rss"
}

PRESERVE='[{"output":"DST","partition":"preserve"}]'
LANG_DEST='[{"output":"DST","filter":"/status,==,confirmed","transform":"CONSTRUCT:id=/order/id:user=/user/id:total=/order/total:city=/user/address/city:tier=/user/tier","key_transform":"HASH:SHA256,/user/email"}]'
FAN_DEST='[{"output":"DST-a","filter":"/eventType,==,order.created"},{"output":"DST-b","filter":"/order/total,>,1000","transform":"CONSTRUCT:id=/order/id:total=/order/total"},{"output":"DST-c","filter":"/user/tier,==,silver"}]'

# What the language configurations let through, from c-load --json's definition of its fields.
LANG_EXP=$(( JN - $(count_mod "$JN" 10 9) ))
FAN_A=$(( JN - $(count_mod "$JN" 5 4) ))
FAN_B=$(( JN / 2000 * 1000 + ( JN % 2000 > 1000 ? JN % 2000 - 1000 : 0 ) ))
FAN_C=$(count_mod "$JN" 3 1)
FAN_EXP=$(( FAN_A + FAN_B + FAN_C ))

MIRROR_IDS=(fast cmirror kcat sf1 sf2 run)
JSON_IDS=(jfast jcmirror jsf1 lang1 lang2 fan1)

run_mirror_program() { # ID RUN
  local id="$1" r="$2"
  DISTURBED=0
  case "$id" in
    fast) run_exiting fast "$r" "$N" "$N" dst-fast out/c-fast -q "$BOOTSTRAP" "g-fast-$r" src dst-fast "$N" ;;
    cmirror) run_exiting cmirror "$r" "$N" "$N" dst-cmirror \
      out/c-mirror -q "${SF_PROPS[@]}" "$BOOTSTRAP" "g-cmirror-$r" src dst-cmirror "$N" ;;
    kcat) run_kcat "$r" ;;
    sf1) run_daemon sf1 "$r" "$N" "$N" dst-sf1 1 "${PRESERVE/DST/dst-sf1}" ;;
    sf2) run_daemon sf2 "$r" "$N" "$N" dst-sf2 2 "${PRESERVE/DST/dst-sf2}" ;;
    run)
      sf_config "$WORK/run.$r.json" "b-run-$r" 1 "${PRESERVE/DST/dst-run}"
      run_exiting run "$r" "$N" "$N" dst-run "$BIN/streamforged" run --config "$WORK/run.$r.json" \
        --exit-after-records "$N" ;;
  esac
  if should_verify "$id"; then
    VOK=1
    case "$id" in
      kcat) verify dst-kcat "$N" ;; # keys and values only: no checksum
      *) verify "dst-$id" "$N" "$SRC_SUM" ;;
    esac
    verified "$id"
  fi
}

run_json_program() { # ID RUN
  local id="$1" r="$2"
  DISTURBED=0
  case "$id" in
    jfast) run_exiting jfast "$r" "$JN" "$JN" dst-jfast out/c-fast -q "$BOOTSTRAP" "g-jfast-$r" src dst-jfast "$JN" ;;
    jcmirror) run_exiting jcmirror "$r" "$JN" "$JN" dst-jcmirror \
      out/c-mirror -q "${SF_PROPS[@]}" "$BOOTSTRAP" "g-jcmirror-$r" src dst-jcmirror "$JN" ;;
    jsf1) run_daemon jsf1 "$r" "$JN" "$JN" dst-jsf1 1 "${PRESERVE/DST/dst-jsf1}" ;;
    lang1 | lang2) run_daemon "$id" "$r" "$JN" "$LANG_EXP" "dst-$id" "${id#lang}" "${LANG_DEST/DST/dst-$id}" ;;
    fan1) run_daemon fan1 "$r" "$JN" "$FAN_EXP" fan1-a,fan1-b,fan1-c 1 "${FAN_DEST//DST/fan1}" ;;
  esac
  if should_verify "$id"; then
    VOK=1
    case "$id" in
      jfast | jcmirror | jsf1) verify "dst-$id" "$JN" "$SRC_SUM" ;;
      lang1 | lang2) verify "dst-$id" "$LANG_EXP" ;;
      fan1) verify fan1-a "$FAN_A"; verify fan1-b "$FAN_B"; verify fan1-c "$FAN_C" ;;
    esac
    verified "$id"
  fi
}

# load COUNT SIZE [--json]: fills src, sets SRC_SUM when verifying
load_src() {
  local r="$1" count="$2" size="$3"
  shift 3
  out/c-load -q "$@" "$BOOTSTRAP" src "$count" "$size" >"$WORK/load.json" ||
    die "c-load failed: $(cat "$WORK/load.json")"
  log "  loaded: $(cat "$WORK/load.json")"
  SRC_SUM=""
  local id need=0
  for id in "${ids[@]}"; do should_verify "$id" && need=1; done
  if [[ "$need" == 1 ]]; then
    local v
    v="$(out/c-verify --expect "$count" "$BOOTSTRAP" src)" || die "src incomplete (broker dropped records? use more partitions): $v"
    SRC_SUM="$(sed -n 's/.*"checksum":"\([0-9a-f]*\)".*/\1/p' <<<"$v")"
  fi
}

# rotate RUN IDS...: the ids, starting at (RUN-1) mod count
rotate() {
  local r="$1"
  shift
  local a=("$@") i k=${#a[@]}
  for ((i = 0; i < k; i++)); do echo "${a[$(((i + r - 1) % k))]}"; done
}

T_START=$(date +%s)
for ((r = 1; r <= RUNS; r++)); do
  ids=()
  for id in $(rotate "$r" "${MIRROR_IDS[@]}"); do wanted "$id" && ids+=("$id"); done
  if ((${#ids[@]})); then
    log "run $r/$RUNS: $N x $SIZE B over $PARTS partitions: ${ids[*]}"
    start_broker "$PARTS" src $(for id in "${ids[@]}"; do echo "dst-$id"; done)
    load_src "$r" "$N" "$SIZE"
    for id in "${ids[@]}"; do run_mirror_program "$id" "$r"; done
    stop_broker
  fi
  ids=()
  for id in $(rotate "$r" "${JSON_IDS[@]}"); do wanted "$id" && ids+=("$id"); done
  if ((${#ids[@]})); then
    log "run $r/$RUNS: $JN x $JSIZE B JSON over $JPARTS partitions: ${ids[*]}"
    start_broker "$JPARTS" src dst-jfast dst-jcmirror dst-jsf1 dst-lang1 dst-lang2 fan1-a fan1-b fan1-c
    load_src "$r" "$JN" "$JSIZE" --json
    for id in "${ids[@]}"; do run_json_program "$id" "$r"; done
    stop_broker
  fi
done
ELAPSED=$(( $(date +%s) - T_START ))
VSTATUS=""
for id in "${!VERIFIED[@]}"; do VSTATUS+="$id=${VERIFIED[$id]},"; done

# --- the table ----------------------------------------------------------------------------
MACHINE="$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), kernel $(uname -r), librdkafka $(dpkg-query -W -f='${Version}' librdkafka1 2>/dev/null || echo '?'), $(swift --version 2>/dev/null | head -n1 | sed 's/ (.*//' || echo 'Swift ?'), kcat $("$KCAT" -V 2>&1 | sed -n 's/^Version \([0-9][0-9.]*\).*/\1/p' | head -n1)"
LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"

awk -v runs="$RUNS" -v n="$N" -v size="$SIZE" -v parts="$PARTS" -v jn="$JN" -v jsize="$JSIZE" \
  -v jparts="$JPARTS" -v machine="$MACHINE" -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" \
  -v load="$LOAD" -v elapsed="$ELAPSED" -v report="$REPORT" -v verified="$VERIFY" \
  -v lang_exp="$LANG_EXP" -v fan_exp="$FAN_EXP" -v vstatus="$VSTATUS" '
function med(a, k,   i, j, t, b) { # median of a[1..k] (sorted copy)
  for (i = 1; i <= k; i++) b[i] = a[i];
  for (i = 2; i <= k; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
  return k % 2 ? b[(k + 1) / 2] : (b[k / 2] + b[k / 2 + 1]) / 2;
}
function mn(a, k,   i, m) { m = a[1]; for (i = 2; i <= k; i++) if (a[i] < m) m = a[i]; return m }
function mx(a, k,   i, m) { m = a[1]; for (i = 2; i <= k; i++) if (a[i] > m) m = a[i]; return m }
# stat(id, field) -> "median [min-max]" over runs; fields: rate cpu sup rss srss
function collect(id, f, arr,   r, k, v) {
  k = 0;
  for (r = 1; r <= runs; r++) {
    if (!((id, r) in OK)) continue;
    if (f == "rate") v = RATE[id, r];
    else if (f == "cpu") v = CPU[id, r] * 1e6 / NREC[id, r];
    else if (f == "sup") { if (SUP[id, r] == "-") return 0; v = SUP[id, r] * 1e6 / NREC[id, r] }
    else if (f == "wcpu") v = (CPU[id, r] - (SUP[id, r] == "-" ? 0 : SUP[id, r])) * 1e6 / NREC[id, r];
    else if (f == "supshare") { if (SUP[id, r] == "-" || CPU[id, r] <= 0) return 0; v = 100 * SUP[id, r] / CPU[id, r] }
    else if (f == "rss") v = RSS[id, r] / 1024;
    else if (f == "srss") { if (SRSS[id, r] == "-") return 0; v = SRSS[id, r] / 1024 }
    arr[++k] = v;
  }
  return k;
}
# ratio(id, ref, f) per run, into arr
function ratios(id, ref, f, arr,   r, k, a, b) {
  k = 0;
  for (r = 1; r <= runs; r++) {
    if (!((id, r) in OK) || !((ref, r) in OK)) continue;
    if (f == "rate") { a = RATE[id, r]; b = RATE[ref, r] }
    else { a = CPU[id, r] / NREC[id, r]; b = CPU[ref, r] / NREC[ref, r] }
    if (b > 0) arr[++k] = a / b;
  }
  return k;
}
function fmt3(a, k, p) { # "med [min-max]" with printf format p
  if (k == 0) return "-";
  return sprintf(p " [" p "–" p "]", med(a, k), mn(a, k), mx(a, k));
}
function out(s) { print s; if (report != "") print s >> tmp }
{
  id = $1; r = $2; NREC[id, r] = $3;
  if ($4 != 1) FAILED[id]++; else if ($10 == 1) DIST[id]++; else OK[id, r] = 1;
  RATE[id, r] = $5; CPU[id, r] = $6; SUP[id, r] = $7; RSS[id, r] = $8; SRSS[id, r] = $9; SEEN[id] = 1;
}
END {
  tmp = report ".tmp";
  nv = split(vstatus, VV, ",");
  for (i = 1; i <= nv; i++) { split(VV[i], kv, "="); VER[kv[1]] = kv[2] }
  if (report != "") printf "" > tmp;
  name["fast"] = "(a) c-fast: fastest at-least-once C loop";
  name["cmirror"] = "(b) c-mirror, StreamForge librdkafka defaults";
  name["kcat"] = "(c) kcat -C piped to kcat -P (not at-least-once)";
  name["sf1"] = "(d) streamforged, 1 worker";
  name["sf2"] = "(d) streamforged, 2 workers";
  name["run"] = "(d) streamforged run (no supervisor)";
  name["jfast"] = "(a) c-fast";
  name["jcmirror"] = "(b) c-mirror, StreamForge librdkafka defaults";
  name["jsf1"] = "(e) streamforged, 1 worker, pure mirror";
  name["lang1"] = "(e) filter + CONSTRUCT 5 + HASH key, 1 worker";
  name["lang2"] = "(e) filter + CONSTRUCT 5 + HASH key, 2 workers";
  name["fan1"] = "(e) fan-out to 3 destinations, 1 worker";
  split("fast cmirror kcat sf1 sf2 run", S1, " ");
  split("jfast jcmirror jsf1 lang1 lang2 fan1", S2, " ");

  out("# StreamForge benchmark results");
  out("");
  out("Written by `make bench` (scripts/bench.sh) on " date ".");
  out("");
  out("Machine: " machine "; load average at the end " load ". Broker: streamforge-devbroker (librdkafka mock cluster), one per section and run, on the same machine.");
  out("Median of " runs " runs, [min–max]. records/s from the first record arriving on the target to the last (c-watch), in source records. CPU: user+system seconds per million source records, all processes of the program (the supervisor also shown alone). RSS: peak, of the largest process (a worker for streamforged; the supervisor in parentheses). Ratios are per run, against (a) of the same section and run, then the median. Whole comparison: " elapsed " s.");
  out("");
  for (sec = 1; sec <= 2; sec++) {
    if (sec == 1) { ref = "fast"; out("## Mirror: " n " records × " size " B, " parts " partitions"); }
    else { ref = "jfast"; out("## Language path: " jn " JSON records × " jsize " B, " jparts " partitions"); }
    out("");
    out("| program | records/s | CPU s / M records | supervisor CPU s / M (% of total) | peak RSS MB (supervisor median) | records/s ÷ (a) | CPU ÷ (a) |");
    out("|---|---:|---:|---:|---:|---:|---:|");
    for (i = 1; i <= 6; i++) {
      id = sec == 1 ? S1[i] : S2[i];
      if (!(id in SEEN)) continue;
      k = collect(id, "rate", A); rate = fmt3(A, k, "%.0f");
      k = collect(id, "cpu", A); cpu = fmt3(A, k, "%.2f");
      k = collect(id, "sup", A); sup = k ? fmt3(A, k, "%.3f") : "–";
      if (k) { k = collect(id, "supshare", A); sup = sup " (" sprintf("%.2f", med(A, k)) " %)"; }
      k = collect(id, "rss", A); rss = fmt3(A, k, "%.0f");
      k = collect(id, "srss", A); if (k) rss = rss " (" sprintf("%.0f", med(A, k)) ")";
      if (id == ref) { rr = "1"; cr = "1" }
      else { k = ratios(id, ref, "rate", A); rr = fmt3(A, k, "%.2f"); k = ratios(id, ref, "cpu", A); cr = fmt3(A, k, "%.2f"); }
      label = name[id] (id in FAILED ? " — **" FAILED[id] " run(s) FAILED**" : "") \
        (id in DIST ? " — " DIST[id] " run(s) disturbed by a rebalance, left out" : "") \
        (VER[id] == "ok" ? "" : VER[id] == "bad" ? " — **records lost or wrong**" : verified == "0" ? "" : " — not verified");
      out("| " label " | " rate " | " cpu " | " sup " | " rss " | " rr " | " cr " |");
    }
    out("");
  }

  out("## Targets");
  out("");
  out("| target | measured (median [min–max]) | |");
  out("|---|---|---|");
  # pure mirror vs (a): throughput and CPU
  for (j = 1; j <= 2; j++) {
    id = j == 1 ? "sf1" : "run";
    if (!(id in SEEN) || !("fast" in SEEN)) continue;
    k = ratios(id, "fast", "rate", A);
    if (k) out("| pure mirror (" (j == 1 ? "streamforged, 1 worker" : "streamforged run") ") ≥ 0.9× (a) records/s | " fmt3(A, k, "%.2f") "× | " (med(A, k) >= 0.9 ? "met" : "**not met**") " |");
    k = ratios(id, "fast", "cpu", A);
    if (k) out("| pure mirror (" (j == 1 ? "streamforged, 1 worker" : "streamforged run") ") ≤ 1.2× (a) CPU per record | " fmt3(A, k, "%.2f") "× | " (med(A, k) <= 1.2 ? "met" : "**not met**") " |");
  }
  for (j = 1; j <= 2; j++) {
    id = j == 1 ? "lang1" : "fan1";
    if (!(id in SEEN) || !("jsf1" in SEEN)) continue;
    k = ratios(id, "jsf1", "cpu", A);
    if (k) out("| language path (" (j == 1 ? "filter + CONSTRUCT + HASH key" : "fan-out of 3") ") ≤ 1.5× the pure mirror CPU per record (1 KB, 1 worker) | " fmt3(A, k, "%.2f") "× | " (med(A, k) <= 1.5 ? "met" : "**not met**") " |");
  }
  if (("lang1" in SEEN) && ("lang2" in SEEN)) {
    k = ratios("lang2", "lang1", "rate", A);
    if (k) out("| 2 workers ≥ 1.6× 1 worker records/s, language path | " fmt3(A, k, "%.2f") "× | " (med(A, k) >= 1.6 ? "met" : "**not met**") " |");
  }
  worst = -1; wid = "";
  split("sf1 sf2 jsf1 lang1 lang2 fan1", D, " ");
  for (i = 1; i <= 6; i++) { if (!(D[i] in SEEN)) continue; k = collect(D[i], "supshare", A); if (k && med(A, k) > worst) { worst = med(A, k); wid = D[i] } }
  if (wid != "") out("| supervisor ≤ 1 % of total CPU | worst program median " sprintf("%.2f", worst) " % (" name[wid] ") | " (worst <= 1 ? "met" : "**not met**") " |");
  worst = -1; wid = "";
  split("sf1 sf2 run jsf1 lang1 lang2 fan1", D, " ");
  for (i = 1; i <= 7; i++) { if (!(D[i] in SEEN)) continue; k = collect(D[i], "rss", A); if (k && mx(A, k) > worst) { worst = mx(A, k); wid = D[i] } }
  if (wid != "") out("| worker peak RSS ≤ 150 MB | largest " sprintf("%.0f", worst) " MB (" name[wid] ") | " (worst <= 150 ? "met" : "**not met**") " |");
  out("");
  out("A run is disturbed when a worker was assigned partitions more than once, lost or gave up partitions, or was restarted before the last record arrived (a rebalance: records read again, time spent rebalancing); such runs are listed and left out of the figures.");
  out("");
  if (verified != "0") out("Every program'"'"'s target was read back in " (verified == "all" ? "every run" : "its first undisturbed run") " (c-verify), unless marked otherwise above: exact count (" n ", " jn ", " lang_exp " after the filter, " fan_exp " over the fan-out'"'"'s 3 topics), and the source'"'"'s checksum for the mirrors that keep partitions (all but kcat).");
  if (report != "") { close(tmp); system("mv \"" tmp "\" \"" report "\""); }
}' "$RESULTS"
[[ -n "$REPORT" ]] && log "report written to $REPORT"

status=0
if [[ "$VERIFY_FAILED" == 1 ]]; then log "a target did not hold every record: these figures are not valid"; status=1; fi
if awk '$4 != 1 {exit 1}' "$RESULTS"; then :; else log "some runs failed (see above)"; status=1; fi
exit "$status"
