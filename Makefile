# roster: top-level commands. The build itself is CMake; this file installs the Debian
# packages it needs (scripts/deps.sh), configures, builds and runs.
#   make          install deps, build everything into build/ (bin/, lib/)
#   make run      build and start one node in the foreground (dashboard on 127.0.0.1:9100)
#   make test     build, then every test through ctest (plus an ASan+UBSan build of the
#                 unit, integration and fuzz-replay suites)
#   make bench    build and run the benchmarks (bench/), printing figures
#   make deb      Debian packages into build-deb/ (debhelper), checked with lintian
#   make install  install rosterd, rosterctl, libroster, roster.h, roster.pc, the systemd unit,
#                 man pages, shell completion, the Python binding (PREFIX=/usr/local)
#   make fuzz     build libFuzzer targets with clang and run each for FUZZ_SECONDS
#   make sim      run the deterministic cluster simulator over SEEDS seeds on every core
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-asan bench install deb fuzz sim chaos clean
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

# install: also the systemd unit, sysusers and tmpfiles entries, man pages, completion and
# the Python binding (docs/OPERATIONS.md). On a machine booted with systemd, as root and not
# into DESTDIR, it creates the roster user, /run/roster.sock's link and reloads systemd;
# the service is not enabled or started (`systemctl enable --now rosterd`).
install: build
	cmake --install build --prefix $(PREFIX)
	-ldconfig
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && [ -d /run/systemd/system ]; then \
	  systemd-sysusers $(PREFIX)/lib/sysusers.d/roster.conf && \
	  systemd-tmpfiles --create $(PREFIX)/lib/tmpfiles.d/roster.conf && \
	  systemctl daemon-reload && \
	  echo "install: rosterd.service installed: systemctl enable --now rosterd"; \
	else echo "install: systemd not running here (or not root): no user created, no daemon-reload"; fi

# deb: Debian packages (rosterd, rosterctl, libroster1, libroster-dev, python3-roster) in
# build-deb/, built by debhelper from a copy of the tree, then checked by lintian.
deb: deps
	@bash scripts/deps.sh deb
	JOBS=$(JOBS) bash scripts/make_deb.sh .

fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROSTER_FUZZ=ON -DROSTER_BENCH=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@for f in build-fuzz/bin/fuzz_*; do t=$${f##*/fuzz_}; mkdir -p build-fuzz/corpus/$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=70000 build-fuzz/corpus/$$t tests/fuzz/corpus/$$t || exit 1; done

# sim: SEEDS seeds from FIRST (default 1) on every core (JOBS processes); NODES=LO-HI sets
# the cluster sizes drawn (default 3-5; at most 20), e.g. make sim SEEDS=100000 NODES=10-20.
FIRST ?= 1
sim: build
	./build/bin/roster_sim --seeds $(SEEDS) --first $(FIRST) --jobs $(JOBS) $(if $(NODES),--nodes $(NODES))

# chaos: SECONDS (default 60) of each soak: eventual scopes on 5 rosterd nodes with real
# client processes, partitions, loss, kill -9 and SIGSTOP, checked after every heal
# (test_soak; SOAK_SEED=S replays a schedule), then strong scopes on a real 3-member etcd and
# 3 rosterd nodes, every operation's history checked for linearizability (test_chaos).
# make test runs test_soak for 60 s and test_chaos for 12 s.
chaos: build
	SOAK_SECONDS=$(or $(SECONDS),60) TEST_TIMEOUT_S=$$(( $(or $(SECONDS),60) + 300 )) ./build/bin/test_soak
	CHAOS_SECONDS=$(or $(SECONDS),60) TEST_TIMEOUT_S=$$(( $(or $(SECONDS),60) + 180 )) ./build/bin/test_chaos

clean:
	rm -rf build build-asan build-fuzz build-deb
