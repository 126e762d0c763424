# install, uninstall, pkg-config, man page (see issue 6)
#   make install   [PREFIX=/usr/local] [DESTDIR=/staging/root]
#   make uninstall [PREFIX=...] [DESTDIR=...]   removes exactly the files install wrote
#   make man        regenerates doc/gradcheck.1 from ./gradcheck --help and doc/gradcheck.h2m
#                   (needs help2man; MAN_OUT=FILE writes elsewhere); commit the result
#   make check-install   installs into a temporary folder and builds examples/logreg
#                        against it with pkg-config (tests/install_test.sh)
# Only the static library is installed (no shared one: it would need a second, -fPIC
# build of every object and a symbol list to keep the internal gc_ helpers out of
# its ABI), so a user links with  pkg-config --cflags --libs --static gradcheck
DESTDIR      ?=
BINDIR       ?= $(PREFIX)/bin
INCLUDEDIR   ?= $(PREFIX)/include
LIBDIR       ?= $(PREFIX)/lib
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR       ?= $(PREFIX)/share/man
INSTALL      ?= install

GC_VERSION_NUM = $(shell sed -n 's/^.define GC_VERSION "\(.*\)"$$/\1/p' src/gradcheck.h)
# A path under PREFIX is written as ${prefix}/... in the .pc file.
# OpenBLAS (GSL's CBLAS, README "Speed") goes into Libs.private as its shared library's
# flags, not as Requires.private: under --static pkg-config would add openblas.pc's own
# private libraries (-lgfortran), which only a static libopenblas needs and which a
# Debian without libgfortran-12-dev cannot link.
gc_pc_path = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
GC_PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' \
                -e 's|@LIBDIR@|$(call gc_pc_path,$(LIBDIR))|g' \
                -e 's|@INCLUDEDIR@|$(call gc_pc_path,$(INCLUDEDIR))|g' \
                -e 's|@VERSION@|$(GC_VERSION_NUM)|g' \
                -e 's|@OPENBLAS_LIBS@|$(shell pkg-config --libs openblas)|g'

GC_INSTALLED = '$(DESTDIR)$(BINDIR)/gradcheck' '$(DESTDIR)$(INCLUDEDIR)/gradcheck.h' \
               '$(DESTDIR)$(INCLUDEDIR)/gradcheck_report.h' \
               '$(DESTDIR)$(LIBDIR)/libgradcheck.a' '$(DESTDIR)$(PKGCONFIGDIR)/gradcheck.pc' \
               '$(DESTDIR)$(MANDIR)/man1/gradcheck.1'

MAN_OUT ?= doc/gradcheck.1
GC_MAN_NAME = check neural-network gradients against finite differences

.PHONY: install uninstall man check-install

install: $(PROGRAM) $(LIB)
	$(INSTALL) -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(INCLUDEDIR)' '$(DESTDIR)$(LIBDIR)' \
	    '$(DESTDIR)$(PKGCONFIGDIR)' '$(DESTDIR)$(MANDIR)/man1'
	$(INSTALL) -m 755 $(PROGRAM) '$(DESTDIR)$(BINDIR)/gradcheck'
	$(INSTALL) -m 644 src/gradcheck.h '$(DESTDIR)$(INCLUDEDIR)/gradcheck.h'
	$(INSTALL) -m 644 src/gradcheck_report.h '$(DESTDIR)$(INCLUDEDIR)/gradcheck_report.h'
	$(INSTALL) -m 644 $(LIB) '$(DESTDIR)$(LIBDIR)/libgradcheck.a'
	$(INSTALL) -m 644 doc/gradcheck.1 '$(DESTDIR)$(MANDIR)/man1/gradcheck.1'
	$(GC_PC_SED) gradcheck.pc.in > '$(DESTDIR)$(PKGCONFIGDIR)/gradcheck.pc.tmp'
	chmod 644 '$(DESTDIR)$(PKGCONFIGDIR)/gradcheck.pc.tmp'
	mv -f '$(DESTDIR)$(PKGCONFIGDIR)/gradcheck.pc.tmp' '$(DESTDIR)$(PKGCONFIGDIR)/gradcheck.pc'

uninstall:
	rm -f $(GC_INSTALLED)

# The page is committed, so installing never needs help2man.  Its date is that of
# the last commit of the help text, so regenerating an unchanged help changes nothing.
# The sed escapes double quotes inside subsection titles (help2man leaves them bare).
man: $(PROGRAM)
	sde=$$(git log -1 --format=%ct -- src/main.c doc/gradcheck.h2m 2>/dev/null); \
	SOURCE_DATE_EPOCH=$${sde:-$$(date +%s)} help2man --no-info --name='$(GC_MAN_NAME)' \
	    --include=doc/gradcheck.h2m --output='$(MAN_OUT).tmp' $(PROGRAM)
	sed -e '/^\.SS ".*"$$/{s/^\.SS "//;s/"$$//;s/"/\\(dq/g;s/^/.SS "/;s/$$/"/;}' \
	    '$(MAN_OUT).tmp' > '$(MAN_OUT)'
	rm -f '$(MAN_OUT).tmp'

check-install: $(PROGRAM) $(LIB)
	@MAKE='$(MAKE)' B='$(B)' CC='$(CC)' CXX='$(CXX)' CFLAGS='$(CFLAGS)' LDFLAGS='$(LDFLAGS)' \
	    sh tests/install_test.sh
