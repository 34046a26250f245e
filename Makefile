# Thin front door: everything real is in CMakeLists.txt and scripts/.
#   make demo   set up, build, run the main job on its embedded default
#   make test   set up, build, run the cmocka suites; then again under ASan + UBSan
#   make build  set up and build only
#   make bench  time ferrosolv's backends and, where installed, GROMACS and OpenMM on water-23k (ratios)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
BUILD_SAN ?= build-sanitize
WERROR ?= ON

.PHONY: all bootstrap build build-sanitize test demo bench clean format

all: build

bootstrap:
	@bash scripts/bootstrap

build: bootstrap
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DFS_WERROR=$(WERROR) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-sanitize: bootstrap
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFS_SANITIZE=ON -DFS_WERROR=$(WERROR) >/dev/null
	cmake --build $(BUILD_SAN) -j $(JOBS)

test: build build-sanitize
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

demo: build
	bash scripts/demo $(BUILD)/ferrosolv

bench: build
	FERROSOLV=$(BUILD)/ferrosolv sh scripts/bench

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
