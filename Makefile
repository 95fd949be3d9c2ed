# roster: top-level commands. The build itself is CMake; this file installs the Debian
# packages it needs (scripts/deps.sh), configures, builds and runs.
#   make          install deps, build everything into build/ (bin/, lib/)
#   make run      build and start one node in the foreground (dashboard on 127.0.0.1:9100)
#   make test     build, then every test through ctest (plus an ASan+UBSan build of the
#                 unit, integration and fuzz-replay suites)
#   make bench    build and run the benchmarks (bench/), printing figures
#   make install  install rosterd, rosterctl, libroster, roster.h, roster.pc (PREFIX=/usr/local)
#   make fuzz     build libFuzzer targets with clang and run each for FUZZ_SECONDS
#   make sim      run the deterministic cluster simulator over SEEDS seeds
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-asan bench install fuzz sim chaos clean
SEEDS ?= 10000

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

# make run serves the dashboard on loopback (HTTP= turns it off, HTTP=PORT moves it).
HTTP ?= 127.0.0.1:9100
run: build
	./build/bin/rosterd $(if $(HTTP),--http $(HTTP)) $(ARGS)

test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DROSTER_SANITIZE=ON -DROSTER_BENCH=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -L 'unit|api|fuzz|cluster|etcd|strong'

test: build test-asan
	cd build && ctest --output-on-failure -j $(JOBS)

bench: build
	@bash scripts/deps.sh bench
	./bench/run.sh build/bin

install: build
	cmake --install build --prefix $(PREFIX)
	-ldconfig

fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROSTER_FUZZ=ON -DROSTER_BENCH=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@for f in build-fuzz/bin/fuzz_*; do t=$${f##*/fuzz_}; mkdir -p build-fuzz/corpus/$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=70000 build-fuzz/corpus/$$t tests/fuzz/corpus/$$t || exit 1; done

sim: build
	./build/bin/roster_sim --seeds $(SEEDS)

# chaos: strong scopes under faults for SECONDS (default 60) on a real 3-member etcd and 3
# rosterd nodes; every operation's history is checked for linearizability (make test runs
# the same test for 12 s).
chaos: build
	CHAOS_SECONDS=$(or $(SECONDS),60) TEST_TIMEOUT_S=$$(( $(or $(SECONDS),60) + 180 )) ./build/bin/test_chaos

clean:
	rm -rf build build-asan build-fuzz
