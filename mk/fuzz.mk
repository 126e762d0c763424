# libFuzzer targets (issue 7): the case loader, the gradient file reader, the report merger.
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_CC=clang]   builds under build/fuzz and runs each target
#       for FUZZ_SECONDS, one after the other, starting from the seed corpus (cases/,
#       tests/data/, tests/fuzz/corpus/) and the crash regressions (tests/fuzz/regress/).
#       New corpus entries go to build/fuzz/corpus/; a crash stops the run and leaves
#       build/fuzz/crash-TARGET-*: fix it, then copy the input to tests/fuzz/regress/TARGET/.
#   make fuzz-build   only builds build/fuzz/fuzz_{case,gradfile,merge}
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_B        = build/fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# Small caps keep accepted cases far below the fuzzer's memory limit (src/case.c honours them).
FUZZ_CFLAGS   = $(STD) $(WARN) -O1 -g $(FUZZ_SAN) $(DEP_CFLAGS) -Isrc \
                -DGC_CASE_MAX_PARAMS="((size_t)1 << 20)" -DGC_CASE_MAX_VALUES="((size_t)1 << 20)"
FUZZ_TARGETS  = case gradfile merge
FUZZ_OBJ      = $(patsubst src/%.c,$(FUZZ_B)/obj/%.o,$(LIB_SRC))
FUZZ_BIN      = $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_TARGETS))
# 1 GiB per input and 10 s per input: a case the loader accepts must stay far below both.
FUZZ_RUN_OPTS = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
                -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1

.PHONY: fuzz fuzz-build
fuzz-build: deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

$(FUZZ_B)/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_cases.h $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(DEP_LIBS)

# Seed directories per target (read only; libFuzzer writes new entries to the first one).
FUZZ_SEEDS_case     = cases tests/data/case tests/fuzz/corpus/case tests/fuzz/regress/case
FUZZ_SEEDS_gradfile = tests/fuzz/corpus/gradfile tests/fuzz/regress/gradfile
FUZZ_SEEDS_merge    = tests/fuzz/corpus/merge tests/fuzz/regress/merge

.SECONDARY: $(FUZZ_OBJ)

# Runs target $(1) for FUZZ_SECONDS; on a crash, shows the end of its log and fails.
fuzz_run = mkdir -p $(FUZZ_B)/corpus/$(1) && echo "== fuzz_$(1) for $(FUZZ_SECONDS) s" && \
	{ $(FUZZ_B)/fuzz_$(1) $(FUZZ_RUN_OPTS) -artifact_prefix=$(FUZZ_B)/crash-$(1)- \
	    $(FUZZ_B)/corpus/$(1) $(wildcard $(FUZZ_SEEDS_$(1))) >$(FUZZ_B)/fuzz_$(1).log 2>&1 \
	  && grep -E "^stat::(number_of_executed_units|peak_rss_mb)" $(FUZZ_B)/fuzz_$(1).log \
	  || { tail -n 60 $(FUZZ_B)/fuzz_$(1).log; echo "fuzz_$(1) failed: see $(FUZZ_B)/fuzz_$(1).log"; exit 1; }; }

# One target after the other (the machine may have few cores); stops at the first crash.
fuzz: fuzz-build
	@$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t)) && ) true
