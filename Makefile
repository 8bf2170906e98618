# StreamForge — `make demo` runs it on a demo broker, `make test` runs every test.
SWIFT ?= swift
# Warnings are errors (dependencies are built with warnings suppressed, so this is ours only).
WERROR = -Xswiftc -warnings-as-errors
RELEASE_FLAGS = -c release --static-swift-stdlib $(WERROR)
BIN_RELEASE = .build/release
BIN_DEBUG = .build/debug
# Seconds per fuzz target: `make fuzz`, and the short run in `make test`.
FUZZ_SECONDS ?= 600
FUZZ_SHORT_SECONDS ?= 20

.PHONY: deps build build-debug check-boundaries test fuzz test-sanitizers demo bench bench-mirror bench-dsl bench-faults chaos deb test-deb test-systemd clean

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build $(RELEASE_FLAGS)

build-debug: deps
	$(SWIFT) build --build-tests $(WERROR) --explicit-target-dependency-import-check=error

# The module boundaries of docs/architecture.md: one-way dependencies, each C module seen by
# one module (scripts/check-boundaries.py).
check-boundaries: deps
	scripts/check-boundaries.py

# Unit, component and system tests (the system tests run the built binaries against the
# devbroker, librdkafka's mock cluster, and Tansu), a short run of every fuzz target, the short
# form of `make chaos`, then the package test: the .deb is built, installed on this machine,
# exercised and purged (needs root).
test: check-boundaries build-debug
	STREAMFORGE_BIN_DIR=$(CURDIR)/$(BIN_DEBUG) $(SWIFT) test --skip-build --no-parallel $(WERROR)
	scripts/fuzz.sh --seconds $(FUZZ_SHORT_SECONDS)
	scripts/chaos.py --short --bin $(CURDIR)/$(BIN_DEBUG)
	@if [ "$$(id -u)" -eq 0 ]; then scripts/test-deb.sh; \
	else echo "make test: the package test installs the .deb with dpkg and needs root; run 'sudo make test-deb'"; fi

# libFuzzer targets (Fuzz/) with AddressSanitizer, FUZZ_SECONDS each; a failure leaves its input
# in .build-fuzz/crashes/<target>/.
fuzz: deps
	scripts/fuzz.sh --seconds $(FUZZ_SECONDS)

# The unit and component tests under AddressSanitizer, then ThreadSanitizer (.build-asan,
# .build-tsan).
test-sanitizers: deps
	scripts/sanitizers.sh

# out/streamforge_<version>_<arch>.deb: release binaries with the Swift runtime linked statically.
deb: deps
	@packaging/build-deb.sh

test-deb: deps
	@scripts/test-deb.sh

# The unit under a real systemd 252 (PID 1 in systemd-nspawn); needs root, ~3 min, ~5 more the
# first time (debootstrap of a bookworm root, cached in /var/tmp/streamforge-nspawn).
test-systemd: deps
	@scripts/test-systemd.sh

# Hard faults while records flow (worker kills, SIGSTOP, supervisor kills, target outages with
# injected errors): lost must be 0. About 8 minutes; `make test` runs a short form.
chaos: build
	scripts/chaos.py

demo: build
	@scripts/demo.sh

# The benchmarks (not part of `make test`; ~15 minutes on the 2-core development machine):
# bench-mirror, bench-dsl, bench-faults, then scripts/bench.sh, which runs StreamForge
# (supervisor with 1 and 2 workers, `streamforged run`, the language path on 1 KB JSON) against
# the fastest at-least-once C loop (bench/c-fast.c), c-mirror with StreamForge's librdkafka
# defaults and kcat, on the same devbroker, and ends with the table and the targets met or not;
# it writes docs/benchmarks/results.md (docs/benchmarks/README.md says how it measures). Knobs: BENCH_RUNS (3), BENCH_RECORDS, BENCH_SIZE,
# BENCH_PARTITIONS, BENCH_JSON_RECORDS, BENCH_JSON_SIZE, BENCH_JSON_PARTITIONS, BENCH_ONLY,
# BENCH_VERIFY, BENCH_REPORT (see the script's header).
bench: build bench-mirror bench-dsl bench-faults
	@scripts/bench.sh

# StreamForge (`streamforged run`) against c-mirror with librdkafka's defaults, 1 M x 200 B.
bench-mirror: build
	@scripts/bench-mirror.sh

# The language's cost per record (ns), parse included; the binary comes with `make build`.
bench-dsl: build
	$(BIN_RELEASE)/streamforge-bench-dsl

# The C mirrors of the benchmark stay at-least-once when a delivery fails (~30 s).
bench-faults: build
	@scripts/bench-faults.sh

clean:
	rm -rf .build .build-deb .build-fuzz .build-asan .build-tsan out
