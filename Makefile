# gradcheck - plain make, C11.  `make`, `make check`, `make demo`, `make bench`.
CC      ?= cc
PREFIX  ?= /usr/local
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra
STD      = -std=c11 -D_DEFAULT_SOURCE
PKGS     = libcjson gsl
# Recursively expanded on purpose: evaluated when a recipe runs, after `deps`.
DEP_CFLAGS = $(shell pkg-config --cflags $(PKGS))
DEP_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)
ALL_CFLAGS = $(STD) $(WARN) $(CFLAGS) $(DEP_CFLAGS) -Isrc

LIB_SRC  = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  = $(LIB_SRC:.c=.o)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(TEST_SRC:.c=)
HEADERS  = $(wildcard src/*.h)

DEBIAN_PACKAGES = libcjson-dev libgsl-dev check pkg-config python3-numpy

.PHONY: all deps check demo clean bench
all: deps gradcheck libgradcheck.a

# Installs whichever Debian packages are missing (as root, with apt-get).
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (install them, e.g. sudo apt-get install$$missing)"; exit 1; fi; \
	fi

src/%.o: src/%.c $(HEADERS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

libgradcheck.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

gradcheck: src/main.o libgradcheck.a
	$(CC) $(CFLAGS) -o $@ src/main.o libgradcheck.a $(DEP_LIBS)

tests/test_%: tests/test_%.c tests/testutil.h libgradcheck.a $(HEADERS)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -o $@ $< libgradcheck.a $(CHECK_LIBS) $(DEP_LIBS)

check: deps
	@$(MAKE) --no-print-directory gradcheck libgradcheck.a $(TEST_BIN)
	@status=0; for t in $(TEST_BIN); do echo "== $$t"; ./$$t || status=1; done; exit $$status

demo: deps
	@$(MAKE) --no-print-directory gradcheck
	./gradcheck cases/

clean:
	rm -f gradcheck libgradcheck.a src/*.o $(TEST_BIN)
