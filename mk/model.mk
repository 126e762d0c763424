# --model (README, "Check any model"): the C example model, built against src/gradcheck.h
# and examples/model/gc_serve.h; tests/test_model.c runs it with the numpy and PyTorch
# examples (python3-torch: the PyTorch adapter's tests, which print SKIP without it).
MODEL_EXAMPLES = $(B)/examples/model/softmax_c
TEST_PACKAGES += python3-torch

$(B)/examples/model/softmax_c: examples/model/softmax_c.c examples/model/gc_serve.h src/gradcheck.h
	@mkdir -p $(@D)
	$(CC) $(STD) $(WARN) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< -lm

$(B)/tests/bin/test_model: $(MODEL_EXAMPLES)

# make bench: the protocol's own cost per evaluation and a 20k-parameter numpy model's
# full check against its own loss evaluations (tests/bench/model_bench.c).
MODEL_BENCH_BIN = $(B)/tests/bin/model_bench

$(MODEL_BENCH_BIN): tests/bench/model_bench.c $(LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(DEP_LIBS)
