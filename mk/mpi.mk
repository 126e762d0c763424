# The MPI build (issue 16, README "On a cluster"), with Debian's Open MPI:
#   make MPI=1        ./gradcheck linked with MPI: under mpirun or srun the ranks share
#                     every check (src/mpi_dist.c, compiled only here).  The library is
#                     the same in both builds; only main.c (-DGC_MPI) and mpi_dist.c differ.
#   make check        when Open MPI is installed, also builds $(MPI_CHECK_BIN) and runs
#                     tests/test_mpi.c against it (otherwise that test prints SKIP);
#                     .ci/run installs the packages with make deps MPI=1.
MPI_PKG       = ompi-c
MPI_CFLAGS    = $(shell pkg-config --cflags $(MPI_PKG))
MPI_LIBS      = $(shell pkg-config --libs $(MPI_PKG))
MPI_OBJ       = $(B)/obj/main-mpi.o $(B)/obj/mpi_dist.o
MPI_CHECK_BIN = $(if $(MPI_FOUND),$(B)/tests/bin/gradcheck-mpi)
MPI_CHECK_ENV = $(if $(MPI_FOUND),GRADCHECK_MPI=$(B)/tests/bin/gradcheck-mpi)
MPI_FOUND     = $(shell command -v mpirun >/dev/null 2>&1 && pkg-config --exists $(MPI_PKG) && echo yes)

ifeq ($(MPI),1)
# libopenmpi-dev: mpi.h and libmpi; openmpi-bin: mpirun, which runs the program
BUILD_PACKAGES += libopenmpi-dev openmpi-bin
PROGRAM_LIBS    = $(DEP_LIBS) $(MPI_LIBS)
endif

# ./gradcheck is relinked whenever the build switches between MPI and plain.
PROGRAM_FLAVOR = $(if $(filter 1,$(MPI)),mpi,plain)
$(B)/obj/program-flavor: FORCE
	@mkdir -p $(@D)
	@echo $(PROGRAM_FLAVOR) | cmp -s - $@ || echo $(PROGRAM_FLAVOR) > $@

$(B)/obj/main-mpi.o: src/main.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -DGC_MPI -c -o $@ $<

$(B)/obj/mpi_dist.o: src/mpi_dist.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -c -o $@ $<

$(B)/tests/bin/gradcheck-mpi: $(MPI_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(MPI_OBJ) $(LIB) $(DEP_LIBS) $(MPI_LIBS)

.PHONY: FORCE
FORCE:

# make bench: also the MPI part (tests/bench/mpi_bench.sh, README "On a cluster") when
# Open MPI is installed: np 2 against the plain program on this machine, and the model of
# a 1M-parameter --model check on 1, 8 and 64 nodes from measured costs; SKIP otherwise.
# The plain side is $(MPI_BENCH_PLAIN), MPI-free whatever MPI= says.
MPI_BENCH_PLAIN = $(B)/tests/bin/gradcheck-plain

.PHONY: bench-mpi
bench: bench-mpi
bench-mpi: deps-bench
	@if [ -n "$(MPI_FOUND)" ]; then \
	  $(MAKE) --no-print-directory $(MPI_BENCH_PLAIN) $(B)/tests/bin/gradcheck-mpi && \
	  sh tests/bench/mpi_bench.sh $(MPI_BENCH_PLAIN) $(B)/tests/bin/gradcheck-mpi $(BENCH_PYTHON) \
	    $(filter --quick,$(BENCH_ARGS)); \
	else echo "SKIP MPI bench: Open MPI is not installed (make deps MPI=1 installs it)"; fi

$(MPI_BENCH_PLAIN): $(B)/obj/main.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(B)/obj/main.o $(LIB) $(DEP_LIBS)
