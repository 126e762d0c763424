# gradcheck - plain make, C11.  `make`, `make check`, `make demo`, `make bench`.
# B is the output folder: `make` builds ./gradcheck and ./libgradcheck.a; `make sanitize`
# builds the same under build/sanitize with AddressSanitizer and UBSan.
CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=
PREFIX  ?= /usr/local
B       ?= .
WARN     = -Wall -Wextra
STD      = -std=c11 -D_DEFAULT_SOURCE
PKGS     = libcjson gsl openblas
# Recursively expanded on purpose: evaluated when a recipe runs, after `deps`.
# GSL is linked with Debian's OpenBLAS as its CBLAS instead of GSL's reference
# -lgslcblas (README "Speed").
DEP_CFLAGS = $(shell pkg-config --cflags $(PKGS))
DEP_LIBS   = $(filter-out -lgslcblas,$(shell pkg-config --libs $(PKGS))) -lpthread -lm
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)
ALL_CFLAGS = $(STD) $(WARN) $(CFLAGS) $(DEP_CFLAGS) -Isrc

LIB_SRC  = $(filter-out src/main.c src/mpi_dist.c,$(wildcard src/*.c))
LIB_OBJ  = $(patsubst src/%.c,$(B)/obj/%.o,$(LIB_SRC))
HEADERS  = $(wildcard src/*.h)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(patsubst tests/%.c,$(B)/tests/bin/%,$(TEST_SRC))
LIB      = $(B)/libgradcheck.a
PROGRAM  = $(B)/gradcheck

# Debian packages, by what needs them.  `deps` installs the missing ones of BUILD_PACKAGES,
# `deps-check` those of BUILD_PACKAGES and TEST_PACKAGES (as root, with apt-get; otherwise
# they name them and stop).  A fresh Debian 12 needs nothing else (make fresh-check).
# To add a package, append it to the list of the target that needs it, here or in your
# mk/*.mk file:
#   BUILD_PACKAGES += libfoo-dev     a plain `make` (keep this list to what compiling needs)
#   TEST_PACKAGES  += bubblewrap     only `make check` (tests, doc test, install test)
#   BENCH_PACKAGES += python3-torch  only `make bench`
# (conditional ones inside ifeq, e.g. `ifeq ($(MPI),1)` BUILD_PACKAGES += libopenmpi-dev).
# A new target that runs tests depends on deps-check; one that only builds, on deps.
BUILD_PACKAGES = gcc libc6-dev pkg-config libcjson-dev libgsl-dev libopenblas-dev
#                check: the test framework; python3-numpy: examples/*.py; libxml2-utils:
#                xmllint (JUnit schema); groff-base, bsdextrautils: man page rendering (col);
#                procps: pgrep; g++: the installed header compiled as C++; bubblewrap: bwrap,
#                the sandbox of --sandbox and grade (which refuses to run without it)
TEST_PACKAGES  = check python3-numpy libxml2-utils groff-base bsdextrautils procps g++ bubblewrap
BENCH_PACKAGES =

# OpenBLAS picks its kernels by processor, and their rounding differs in the last
# bits; the tests pin its plain SSE3 kernels so that the byte-for-byte report
# fixtures hold on every x86-64 processor (ignored elsewhere).
TEST_BLAS_CORE = Prescott

.PHONY: all deps deps-check deps-bench check check-headers check-core demo clean sanitize
all: deps
	@$(MAKE) --no-print-directory $(PROGRAM) $(LIB)

# $(call gc_install_missing,PACKAGES): plain shell (it runs before anything is compiled).
gc_install_missing = missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q ' installed$$' || \
	    missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (install them, e.g. sudo apt-get install$$missing)"; exit 1; fi; \
	fi

deps:
	@$(call gc_install_missing,$(BUILD_PACKAGES))
deps-check:
	@$(call gc_install_missing,$(BUILD_PACKAGES) $(TEST_PACKAGES))
deps-bench:
	@$(call gc_install_missing,$(BUILD_PACKAGES) $(BENCH_PACKAGES))

$(B)/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# the kernel's body, included once per instruction set (README "Speed")
$(B)/obj/net_kernel.o: src/net_kernel_body.inc

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# make MPI=1: the MPI build (mk/mpi.mk sets PROGRAM_LIBS).
MAIN_OBJ     = $(if $(filter 1,$(MPI)),$(B)/obj/main-mpi.o $(B)/obj/mpi_dist.o,$(B)/obj/main.o)
PROGRAM_LIBS = $(DEP_LIBS)
$(PROGRAM): $(MAIN_OBJ) $(LIB) $(B)/obj/program-flavor
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(LIB) $(PROGRAM_LIBS)

$(B)/tests/bin/%: tests/%.c $(wildcard tests/*.h) $(LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(CHECK_LIBS) $(DEP_LIBS)

# Test programs run from the top folder; GRADCHECK names the program they drive.
check: deps-check
	@$(MAKE) --no-print-directory $(PROGRAM) $(LIB) $(TEST_BIN) $(BENCH_BIN) $(MPI_CHECK_BIN)
	@status=0; for t in $(TEST_BIN); do echo "== $$t"; \
	  OPENBLAS_CORETYPE=$(TEST_BLAS_CORE) GRADCHECK=$(PROGRAM) $(MPI_CHECK_ENV) $$t || status=1; done; \
	echo "== every header on its own"; $(MAKE) --no-print-directory check-headers || status=1; \
	echo "== the core without cJSON"; $(MAKE) --no-print-directory check-core || status=1; \
	echo "== html in a browser"; tests/html/browser_test.sh $(B)/tests/bin/test_html || status=1; \
	echo "== install"; $(MAKE) --no-print-directory check-install || status=1; exit $$status

# Every header of src/ compiles on its own, warnings as errors (a header includes what it uses).
check-headers:
	@for h in $(HEADERS); do printf '#include "%s"\n' "$${h#src/}" | \
	  $(CC) $(ALL_CFLAGS) -Werror -fsyntax-only -x c - || { echo "$$h does not compile on its own"; exit 1; }; \
	done; echo "ok - $(words $(HEADERS)) headers compile on their own"

# The checking core (gradcheck.h: check.c, diagnose.c, names.c) builds and links without
# cJSON: tests/core/test_core_only.c, compiled without cJSON's flags, linked with only
# the core's objects, GSL, check and pthreads.
CORE_OBJ = $(patsubst %,$(B)/obj/%.o,check diagnose names)
$(B)/tests/bin/test_core_only: tests/core/test_core_only.c tests/testutil.h $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(STD) $(WARN) $(CFLAGS) $(shell pkg-config --cflags gsl) $(CHECK_CFLAGS) -Isrc -Itests \
	    $(LDFLAGS) -o $@ $< $(CORE_OBJ) $(shell pkg-config --libs gsl) $(CHECK_LIBS) -lpthread -lm

check-core: $(B)/tests/bin/test_core_only
	$(B)/tests/bin/test_core_only

demo: deps
	@$(MAKE) --no-print-directory $(PROGRAM)
	$(PROGRAM) cases/

SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The README doc test's C examples link the plain ./libgradcheck.a, so it is built too.
# The sanitizers slow the tests about threefold: check's per-test timeouts are scaled.
sanitize: deps-check
	@$(MAKE) --no-print-directory $(LIB)
	@CK_TIMEOUT_MULTIPLIER=4 $(MAKE) --no-print-directory B=build/sanitize CFLAGS="-O1 -g $(SAN)" \
	  LDFLAGS="$(SAN)" check

-include mk/*.mk

clean:
	rm -rf gradcheck libgradcheck.a obj tests/bin build
