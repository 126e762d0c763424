#!/bin/sh
# install_test.sh - checks `make install` / `make uninstall` and the library as a user
# sees it: builds examples/logreg/logreg.c in a temporary folder, outside the source
# tree, with `pkg-config --cflags --libs --static gradcheck` against the installed
# files, and runs it.  Run from the top folder; `make check-install` does, passing
# MAKE, B, CC, CXX, CFLAGS and LDFLAGS.  Prints one line per test and a summary line.
# shellcheck disable=SC2086 # $flags, $CFLAGS and $LDFLAGS are word lists on purpose
set -u
MAKE=${MAKE:-make}
B=${B:-.}
CC=${CC:-cc}
CXX=${CXX:-c++}
CFLAGS=${CFLAGS:--O2 -g}
LDFLAGS=${LDFLAGS:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gradcheck-install.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM
top=$(pwd)
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
# not_ok NAME [LOG]: counts a failure and shows LOG indented.
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	if [ $# -gt 1 ] && [ -f "$2" ]; then sed -n '1,40s/^/    /p' "$2"; fi
}

gc_make() { $MAKE --no-print-directory -s B="$B" "$@"; }

# The files `make install DESTDIR=$1 PREFIX=$2` must write.
installed_files() {
	echo "$1$2/bin/gradcheck"
	echo "$1$2/include/gradcheck.h"
	echo "$1$2/include/gradcheck_report.h"
	echo "$1$2/lib/libgradcheck.a"
	echo "$1$2/lib/pkgconfig/gradcheck.pc"
	echo "$1$2/share/man/man1/gradcheck.1"
}

# 1. DESTDIR install writes exactly the six files, the program executable.
stage=$tmp/stage
t="make install DESTDIR=... PREFIX=/usr installs program, headers, library, .pc, man page"
if gc_make install DESTDIR="$stage" PREFIX=/usr >"$tmp/install.log" 2>&1; then
	missing=$(installed_files "$stage" /usr | while read -r f; do
		[ -f "$f" ] || echo "missing $f"; done)
	count=$(find "$stage" -type f | wc -l)
	if [ -n "$missing" ]; then
		echo "$missing" >"$tmp/why"; not_ok "$t" "$tmp/why"
	elif [ "$count" -ne 6 ]; then
		find "$stage" -type f >"$tmp/why"; not_ok "$t: $count files, expected 6" "$tmp/why"
	elif [ ! -x "$stage/usr/bin/gradcheck" ]; then
		not_ok "$t: gradcheck is not executable"
	else
		ok "$t"
	fi
else
	not_ok "$t" "$tmp/install.log"
fi

# 2. The .pc names the final prefix (not DESTDIR), is valid, and has the program's version.
pc=$stage/usr/lib/pkgconfig/gradcheck.pc
t="gradcheck.pc: prefix=/usr, valid, same version as gradcheck --version"
if [ -f "$pc" ]; then
	pcver=$(PKG_CONFIG_PATH=$stage/usr/lib/pkgconfig pkg-config --modversion gradcheck 2>&1)
	progver=$("$stage/usr/bin/gradcheck" --version 2>&1)
	if ! grep -qx 'prefix=/usr' "$pc" || grep -q "$stage" "$pc"; then
		not_ok "$t" "$pc"
	elif ! PKG_CONFIG_PATH=$stage/usr/lib/pkgconfig pkg-config --validate gradcheck \
	        >"$tmp/why" 2>&1; then
		not_ok "$t: pkg-config --validate" "$tmp/why"
	elif [ "$progver" != "gradcheck $pcver" ]; then
		not_ok "$t: .pc version '$pcver', program says '$progver'"
	else
		ok "$t"
	fi
else
	not_ok "$t: no $pc"
fi

# 3. The installed man page is a page of section 1 and renders.
page=$stage/usr/share/man/man1/gradcheck.1
t="gradcheck.1 is a section 1 page that renders with EXIT STATUS and the options"
if [ -f "$page" ] && grep -v '^\.\\"' "$page" | head -n 1 | grep -q '^\.TH GRADCHECK "1"'; then
	if command -v man >/dev/null 2>&1; then
		LC_ALL=C MANWIDTH=80 man -l "$page" 2>"$tmp/why" | col -b >"$tmp/page.txt"
	else
		LC_ALL=C groff -man -Tascii "$page" 2>"$tmp/why" | col -b >"$tmp/page.txt"
	fi
	if grep -q '^EXIT STATUS' "$tmp/page.txt" && grep -q -- '--rtol' "$tmp/page.txt" &&
	   grep -q '^EXAMPLES' "$tmp/page.txt" && [ ! -s "$tmp/why" ]; then
		ok "$t"
	else
		cat "$tmp/page.txt" >>"$tmp/why"; not_ok "$t" "$tmp/why"
	fi
else
	not_ok "$t: missing, or no .TH GRADCHECK \"1\" line"
fi

# 4. The committed page is up to date with the program's --help (make man).
t="doc/gradcheck.1 matches what make man writes from ./gradcheck --help"
if command -v help2man >/dev/null 2>&1; then
	if gc_make man MAN_OUT="$tmp/regen.1" >"$tmp/why" 2>&1 &&
	   grep -v -e '^\.\\"' -e '^\.TH ' doc/gradcheck.1 >"$tmp/old.1" &&
	   grep -v -e '^\.\\"' -e '^\.TH ' "$tmp/regen.1" >"$tmp/new.1" &&
	   diff -u "$tmp/old.1" "$tmp/new.1" >>"$tmp/why" 2>&1; then
		ok "$t"
	else
		not_ok "$t (run make man)" "$tmp/why"
	fi
else
	ok "$t # SKIP help2man not installed"
fi

# 5. make uninstall removes every file install wrote.
t="make uninstall removes every installed file"
if gc_make uninstall DESTDIR="$stage" PREFIX=/usr >"$tmp/why" 2>&1; then
	find "$stage" -type f >"$tmp/left"
	if [ -s "$tmp/left" ]; then not_ok "$t: left behind" "$tmp/left"; else ok "$t"; fi
else
	not_ok "$t" "$tmp/why"
fi

# 6. A user's program builds outside the tree against the installed library.
prefix=$tmp/usr
user=$tmp/user
mkdir -p "$user"
cp examples/logreg/logreg.c "$user/"
t="logreg.c builds outside the tree with pkg-config --static gradcheck, no warnings"
built=0
if gc_make install PREFIX="$prefix" >"$tmp/why" 2>&1 &&
   flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs --static gradcheck \
           2>>"$tmp/why"); then
	if (cd "$user" && $CC -std=c11 -Wall -Wextra $CFLAGS $LDFLAGS logreg.c -o logreg $flags) \
	       >"$tmp/cc.log" 2>&1 && [ ! -s "$tmp/cc.log" ]; then
		built=1; ok "$t"
	else
		echo "flags: $flags" >>"$tmp/cc.log"; not_ok "$t" "$tmp/cc.log"
	fi
else
	not_ok "$t" "$tmp/why"
fi

# 6a. ... and asks for no library beyond those the build links: a library that only a
# dependency's static build needs (openblas.pc's -lgfortran) is missing on a minbase
# Debian (make fresh-check).
t="pkg-config --static gradcheck asks only for the libraries the build links"
if [ -n "${flags:-}" ]; then
	build_libs=" -lgradcheck -lpthread -lm $(pkg-config --libs libcjson gsl openblas) "
	extra=""
	for f in $flags; do
		case $f in
		-l*) case $build_libs in *" $f "*) ;; *) extra="$extra $f" ;; esac ;;
		esac
	done
	if [ -z "$extra" ]; then ok "$t"; else echo "not linked by the build:$extra" >"$tmp/why"; not_ok "$t" "$tmp/why"; fi
else
	not_ok "$t: no flags"
fi

# 6b. The installed header stands alone as C11 ...
t="installed gradcheck.h compiles on its own as C11"
printf '#include <gradcheck.h>\nint main(void) { gc_options o; gc_options_init(&o); return o.jobs != 0; }\n' \
	>"$user/alone.c"
cp "$user/alone.c" "$user/alone.cc"
if [ -z "${flags:-}" ]; then
	not_ok "$t: no pkg-config flags"
elif ! (cd "$user" && $CC -std=c11 -Wall -Wextra -pedantic $CFLAGS $LDFLAGS alone.c -o alone $flags &&
        ./alone) >"$tmp/why" 2>&1 || [ -s "$tmp/why" ]; then
	not_ok "$t" "$tmp/why"
else
	ok "$t"
fi

# 6c. ... and as C++ (skipped, not passed, without a C++ compiler).
t="installed gradcheck.h compiles on its own as C++"
if ! command -v "$CXX" >/dev/null 2>&1; then
	ok "$t # SKIP no C++ compiler ($CXX)"
elif [ -z "${flags:-}" ]; then
	not_ok "$t: no pkg-config flags"
elif ! (cd "$user" && $CXX -Wall -Wextra $CFLAGS $LDFLAGS alone.cc -o alonexx $flags &&
        ./alonexx) >"$tmp/why" 2>&1; then
	not_ok "$t" "$tmp/why"
else
	ok "$t"
fi

# 7. It catches its planted bug: exit 1, the scale diagnosis naming the batch size.
t="logreg exits 1 with 'w is 8 x the true gradient (batch: ...' and b passing"
if [ $built = 1 ]; then
	(cd "$user" && ./logreg) >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] &&
	   grep -qE '^  diagnosis \(scale\): w is 8 [^ ]+ the true gradient \(batch: ' "$tmp/out" &&
	   grep -qE '^  b +1 +[0-9.e+-]+ +[0-9.e+-]+ +0 +0$' "$tmp/out" &&
	   [ "$(tail -n 1 "$tmp/out")" = "0 passed, 1 failed" ]; then
		ok "$t"
	else
		{ echo "exit $rc"; cat "$tmp/out" "$tmp/err"; } >"$tmp/why"; not_ok "$t" "$tmp/why"
	fi
else
	not_ok "$t: not built"
fi

# 8. With the bug fixed the same program passes (so 7 is about the bug, not the setup).
t="logreg with the bug fixed exits 0 with '1 passed, 0 failed'"
fix='s|grad\[j\] += g \* d->x\[s\]\[j\];|grad[j] += g * d->x[s][j] / N_SAMPLES;|'
sed "$fix" "$user/logreg.c" >"$user/fixed.c"
if [ $built = 1 ] && grep -qF '/ N_SAMPLES;' "$user/fixed.c" &&
   ! cmp -s "$user/logreg.c" "$user/fixed.c" &&
   (cd "$user" && $CC -std=c11 -Wall -Wextra $CFLAGS $LDFLAGS fixed.c -o fixed $flags) \
       >"$tmp/why" 2>&1; then
	(cd "$user" && ./fixed) >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ] && [ "$(tail -n 1 "$tmp/out")" = "1 passed, 0 failed" ]; then
		ok "$t"
	else
		{ echo "exit $rc"; cat "$tmp/out" "$tmp/err"; } >"$tmp/why"; not_ok "$t" "$tmp/why"
	fi
else
	not_ok "$t: could not apply the fix or build" "$tmp/why"
fi
gc_make uninstall PREFIX="$prefix" >/dev/null 2>&1

cd "$top" || exit 2
echo "install test: $passed passed, $failed failed"
[ $failed -eq 0 ]
