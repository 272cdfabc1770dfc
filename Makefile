# tapio-collector: a thin wrapper around CMake.
#
#   make run    install what running needs, build the agent, run it with the
#               default preset (ARGS="..." passes extra flags)
#   make build  install what building needs, build the agent and tapio-sink
#   make test   install what the tests need too, build the test programs,
#               run the whole test suite
#   make bench  build the benchmark drivers, run the benchmark suite
#               (tests/bench/suite.py): tables, and BENCHMARKS.md
#   make attacks  the attack and benign corpora against the security preset: a report
#   make install [PREFIX=/usr/local] [DESTDIR=...]   binaries, rules, man pages, /etc/tapio
#   make package                                      a Debian package in $(BUILD_DIR)/

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
PRESET ?= default
ARGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps deps-test deps-package configure build run test bench attacks clean format install package

all: build

deps:
	@./scripts/deps.sh build

deps-test:
	@./scripts/deps.sh test

deps-package:
	@./scripts/deps.sh package

# Configured again whenever asked: packages that `make test` just installed
# (cmocka) are found without a clean build.
configure:
	@mkdir -p $(BUILD_DIR)
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > $(BUILD_DIR)/configure.log 2>&1 || \
		{ cat $(BUILD_DIR)/configure.log; exit 1; }

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/tapio-collector --preset $(PRESET) $(ARGS)

test: deps-test configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tapio-collector tapio-sink tests
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# Only what is installed is built for these.
install: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tapio-collector tapio-sink
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD_DIR) --prefix "$(PREFIX)"

package: deps-package configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tapio-collector tapio-sink
	cd $(BUILD_DIR) && cpack -G DEB
	@ls $(BUILD_DIR)/tapio-collector_*.deb

bench: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target benches
	./tests/bench/suite.py $(BUILD_DIR)

attacks: deps-test configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tapio-collector tapio-sink
	./tests/attacks/run.sh $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD_DIR)
