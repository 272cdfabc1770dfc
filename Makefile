# tapio-collector: a thin wrapper around CMake.
#
#   make run    install what is missing, build, run with the default preset
#   make test   install what is missing, build, run the whole test suite
#   make attacks  the attack and benign corpora against the security preset: a report
#
# ARGS="..." passes extra flags to the collector in `make run`.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
PRESET ?= default
ARGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build run test bench attacks clean format

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

bench: build
	./tests/bench/run.sh $(BUILD_DIR)

attacks: build
	./tests/attacks/run.sh $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD_DIR)
