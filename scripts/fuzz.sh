#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/*) with AddressSanitizer and runs each for a while on its
# committed seed corpus (Fuzz/corpus/<target>). `make fuzz` runs them long, `make test` short.
#
#   scripts/fuzz.sh [--seconds N] [target...]    (default: every target, 25 s each)
#
# A crash, a sanitizer report, a hang (-timeout) or a broken property (the targets trap on a
# disagreement) stops that target with a non-zero exit; the input is kept as
# .build-fuzz/crashes/<target>/crash-* (or timeout-*, oom-*). Reproduce it with
#   .build-fuzz/release/<target> .build-fuzz/crashes/<target>/crash-...
# New inputs that reach new code go to .build-fuzz/corpus/<target>; the committed corpus is only
# read. To add a useful one to it: copy it into Fuzz/corpus/<target>/ under a readable name.
#
# libFuzzer itself comes with the Swift toolchain (--sanitize=fuzzer); this script only builds,
# runs and reports, which no tool does for a SwiftPM package. The targets are declared in
# Package.swift only when STREAMFORGE_FUZZ is set (they have no main() without libFuzzer), and
# they build in their own scratch path, so the normal .build is never invalidated.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=25
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    fuzz-*) targets+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 64 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-json fuzz-language fuzz-config fuzz-protocol)

SWIFT=${SWIFT:-swift}
scratch=.build-fuzz
# -enable-testing: the JSON target compares the scanner's internal fast and slow functions.
# -Xswiftc -sanitize=fuzzer,address: SwiftPM passes each --sanitize to swiftc as its own
# -sanitize= flag, in no fixed order, and swiftc keeps only the last one: the Swift code would
# get either coverage or AddressSanitizer, not both (clang, for the C code, takes every one).
build_flags=(-c release --scratch-path "$scratch" --sanitize=fuzzer --sanitize=address
             -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -warnings-as-errors)

start=$(date +%s)
mkdir -p "$scratch"
for t in "${targets[@]}"; do
  if ! STREAMFORGE_FUZZ=1 "$SWIFT" build "${build_flags[@]}" --product "$t" >"$scratch/build.log" 2>&1; then
    cat "$scratch/build.log" >&2
    echo "fuzz: unable to build $t" >&2
    exit 1
  fi
done
echo "fuzz: built ${targets[*]} in $(( $(date +%s) - start )) s"

bin="$scratch/release"
failed=()
for t in "${targets[@]}"; do
  work="$scratch/corpus/$t" crashes="$scratch/crashes/$t"
  mkdir -p "$work" "$crashes"
  log="$scratch/$t.log"
  echo "fuzz: $t for $seconds s (log: $log)"
  # The Swift runtime's own crash reporter would print a backtrace and wait instead of letting
  # libFuzzer save the input; ASan's report is enough.
  set +e
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 \
    "$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "Fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb" "$log" | tr '\n' ' ' | sed "s/^/fuzz: $t: /"
  echo
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $rc); the end of its log:" >&2
    grep -v "^#[0-9]" "$log" | tail -40 >&2
    ls -1 "$crashes"/* 2>/dev/null | sed 's/^/fuzz: reproducer: /' >&2 || true
  fi
done
echo "fuzz: done in $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failing targets: ${failed[*]}" >&2
  exit 1
fi
