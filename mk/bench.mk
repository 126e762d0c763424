# Benchmark (issue 5):
#   make bench                the table of tests/bench/bench.c: seconds of a full gradient check
#                             of MLPs from [4,8,1] to [128,256,256,10], naive full-forward
#                             differences against the incremental check on 1 and all threads,
#                             and torch.autograd.gradcheck where python3 can import torch
#                             (about 2 minutes on 2 cores; BENCH_ARGS=--quick: seconds)
#                             then the loss protocol's rows (tests/bench/model_bench.c, see
#                             mk/model.mk; about 15 s)
#   BENCH_PYTHON=...          the python with torch (default: Debian's /usr/bin/python3)
BENCH_BIN    = $(B)/tests/bin/bench
BENCH_PYTHON ?= $(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3)
BENCH_ARGS   ?=

.PHONY: bench
bench: deps-bench
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	$(BENCH_BIN) --torch tests/bench/torch_bench.py --python $(BENCH_PYTHON) $(BENCH_ARGS)
	@$(MAKE) --no-print-directory $(MODEL_BENCH_BIN)
	$(MODEL_BENCH_BIN) --python $(BENCH_PYTHON) $(filter --quick,$(BENCH_ARGS))

$(BENCH_BIN): tests/bench/bench.c $(LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(DEP_LIBS)
