# Thin front over Meson + Ninja. Every target installs what it needs first
# (scripts/deps.sh, apt-get on Debian 12), so a fresh machine needs nothing else.
#
#   make          build everything into build/ (binary: build/shenggu)
#   make run      build and start the platform (shenggu serve)
#   make test     build with AddressSanitizer + UBSan and run every test
#   make fuzz     run each libFuzzer target for FUZZ_SECONDS (default 600)
#   make bench    build optimised and run the benchmarks in bench/
#   make format   apply .clang-format to the sources

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600
RUN_ARGS   ?=

.PHONY: all deps run test unit system fuzz fuzz-smoke bench format clean

all: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized -Db_ndebug=false

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) --buildtype=debugoptimized -Dfuzz=true -Db_lundef=false

run: all
	$(BUILD)/shenggu demo $(RUN_ARGS)

# `make test` = every test: unit tests under ASan+UBSan, system tests against the
# real binary (also built with sanitizers), a bounded fuzz run, and the summary.
# It also builds what `make run` runs (optimised: more warnings appear there).
test: deps $(BUILD)/build.ninja $(ASAN_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja
	ninja -C $(BUILD)
	ninja -C $(ASAN_BUILD)
	ninja -C $(FUZZ_BUILD)
	scripts/test-all.sh $(ASAN_BUILD) $(FUZZ_BUILD)

fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Figures come from a release build of their own (build-bench/, set up by run.sh).
bench: deps
	bench/run.sh build-bench

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
