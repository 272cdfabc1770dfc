# tapio-collector: a thin wrapper around CMake.
#
#   make run    install what is missing, build, run with the default preset
#   make test   install what is missing, build, run the whole test suite
#   make bench  the benchmark suite (tests/bench/suite.py): tables, and BENCHMARKS.md
#   make attacks  the attack and benign corpora against the security preset: a report
#   make install [PREFIX=/usr/local] [DESTDIR=...]   binaries, rules, man pages, /etc/tapio
#   make package                                      a Debian package in $(BUILD_DIR)/
#
# ARGS="..." passes extra flags to the collector in `make run`.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
PRESET ?= default
ARGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps build run test bench attacks clean format install package

all: build

deps:
	@./scripts/deps.sh

$(BUILD_DIR)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/Makefile
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/tapio-collector --preset $(PRESET) $(ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# Only what is installed is built for these.
install: deps $(BUILD_DIR)/Makefile
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tapio-collector tapio-sink
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD_DIR) --prefix "$(PREFIX)"

package: deps $(BUILD_DIR)/Makefile
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tapio-collector tapio-sink
	cd $(BUILD_DIR) && cpack -G DEB
	@ls $(BUILD_DIR)/tapio-collector_*.deb

bench: build
	./tests/bench/suite.py $(BUILD_DIR)

attacks: build
	./tests/attacks/run.sh $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD_DIR)
