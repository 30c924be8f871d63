# The README's quick start: `make demo` and `make test`. Every target does its own set-up
# (scripts/setup is idempotent), so each works on a fresh Debian 12 machine.
BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
JOBS        ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup configure build test test-unit test-e2e test-asan demo fuzz bench format clean

all: build

setup:
	@bash scripts/setup

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

# The whole suite: unit tests, then the end-to-end tests that run the real binary.
test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

test-unit: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -L unit

test-e2e: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -L e2e

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: setup
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON \
	  $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

# Runs everything that exists end to end on the example project.
demo: build
	@bash scripts/demo $(BUILD)

# libFuzzer targets (clang); `make fuzz FUZZ_SECONDS=60` runs each for that long.
FUZZ_SECONDS ?= 30
fuzz: setup
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSLUICE_BUILD_FUZZ=ON -DSLUICE_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_all
	@bash scripts/fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Ingest throughput against DuckDB's plain copy (bench/README.md). BENCH_ROWS=1000000 for a
# quick run. An optimized build of its own, so it never measures a sanitizer or debug build.
BENCH_BUILD ?= build-bench
bench: setup
	@cmake -S . -B $(BENCH_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_BUILD_BENCH=ON \
	  $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BENCH_BUILD) -j$(JOBS) --target sluice duckdb_sql
	@bash bench/ingest_bench.sh $(BENCH_BUILD)

# Point-in-time features: `sluice training-set` against DuckDB window SQL and pandas
# (bench/features/README.md). FBENCH_ROWS=1000000 for a quick run. Its own optimized build.
# (RelWithDebInfo, not Release: GCC 12's -O3 trips -Werror=restrict in src/config.)
.PHONY: bench-features
FBENCH_BUILD ?= build-fbench
bench-features: setup
	@cmake -S . -B $(FBENCH_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_BUILD_BENCH=ON \
	  $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(FBENCH_BUILD) -j$(JOBS) --target sluice duckdb_sql
	@bash bench/features/run.sh $(FBENCH_BUILD)

# Serving: `sluice serve` under wrk (1 and 100 entities x 10 features, RocksDB and Redis, 1M
# entities) beside redis-benchmark GET (bench/serve/README.md). SBENCH_ENTITIES=100000 for a
# quick run. Its own optimized build.
.PHONY: bench-serve
SBENCH_BUILD ?= build-sbench
bench-serve: setup
	@cmake -S . -B $(SBENCH_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(SBENCH_BUILD) -j$(JOBS) --target sluice
	@bash bench/serve/run.sh $(SBENCH_BUILD)

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
