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

.PHONY: deps build build-debug check-boundaries test fuzz test-sanitizers demo bench bench-mirror bench-dsl chaos deb test-deb test-systemd clean

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

bench: bench-mirror bench-dsl

bench-mirror: build
	@scripts/bench-mirror.sh

bench-dsl: deps
	$(SWIFT) build -c release --product streamforge-bench-dsl
	$(BIN_RELEASE)/streamforge-bench-dsl

clean:
	rm -rf .build .build-deb .build-fuzz .build-asan .build-tsan out
