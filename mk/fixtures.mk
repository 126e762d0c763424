# Report fixtures (issue 15):
#   make fixtures   regenerates tests/data/fixtures/*.{text,json,junit,tap,html}, the
#                   reports tests/test_fixtures.c compares byte for byte; run it after a
#                   change that is meant to change a report, and review the git diff
.PHONY: fixtures
fixtures: deps
	@$(MAKE) --no-print-directory $(PROGRAM) $(B)/tests/bin/test_fixtures
	OPENBLAS_CORETYPE=$(TEST_BLAS_CORE) GC_FIXTURES_WRITE=1 GRADCHECK=$(PROGRAM) $(B)/tests/bin/test_fixtures
