#!/bin/sh
# browser_test.sh - render an HTML report in headless Chromium and check it.
#
#   tests/html/browser_test.sh [TEST_HTML]         (default: tests/test_html)
#       runs TEST_HTML with GC_HTML_SAMPLE set so that it writes its sample
#       report, then checks that report against tests/html/sample.expect
#   tests/html/browser_test.sh --report FILE.html [EXPECT]
#       checks any report (for example one written by `gradcheck --format html`)
#
# Checks: the DOM as Chromium dumps it (cells per tensor, failing cells, the
# diagnosis text, focusable failing cells, no external references; see
# dom_check.py), a light-mode and a dark-mode screenshot (background, colours of
# known cells), and a printout to PDF.  Exits 0 with "skipped: chromium not
# installed" when there is no Chromium.  Environment: CHROMIUM (default
# /usr/bin/chromium), PYTHON (default /usr/bin/python3), GC_HTML_OUT (a
# directory that keeps the report, DOM, screenshots and PDF; default: a
# temporary directory, removed afterwards).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PYTHON=${PYTHON:-/usr/bin/python3}

if [ ! -x "$CHROMIUM" ]; then
	echo "skipped: chromium not installed"
	exit 0
fi
if [ ! -x "$PYTHON" ]; then
	echo "skipped: $PYTHON not installed"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gc_browser.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
out=${GC_HTML_OUT:-$tmp/out}
mkdir -p "$out"

# Colours the sample must show: W1 of tiny-pass (rel 3e-10) and W2 of scale-bug (rel 0.5).
colours=""
if [ "${1:-}" = "--report" ]; then
	[ $# -ge 2 ] || { echo "usage: $0 --report FILE.html [EXPECT]" >&2; exit 2; }
	cp "$2" "$out/report.html"
	expect=${3:-}
else
	bin=${1:-$root/tests/test_html}
	[ -x "$bin" ] || { echo "$0: $bin: not built (run make check)" >&2; exit 2; }
	GC_HTML_SAMPLE="$out/report.html" CK_FORK=no "$bin" >"$tmp/test.log" 2>&1 ||
		{ cat "$tmp/test.log"; echo "$0: $bin failed" >&2; exit 1; }
	expect=$here/sample.expect
	colours="#2c728e #d8e219"
fi

url="file://$out/report.html"

# One fresh profile per run; everything that could reach the network is off.
chrome() {
	profile=$(mktemp -d "$tmp/profile.XXXXXX")
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-extensions --hide-scrollbars \
		--user-data-dir="$profile" "$@" 2>>"$tmp/chromium.log"
}

status=0
chrome --dump-dom "$url" >"$out/dom.html" || { echo "FAIL: chromium --dump-dom"; status=1; }
"$PYTHON" "$here/dom_check.py" dom "$out/dom.html" ${expect:+"$expect"} || status=1

chrome --window-size=1200,1600 --screenshot="$out/light.png" "$url" >/dev/null ||
	{ echo "FAIL: chromium --screenshot (light)"; status=1; }
# shellcheck disable=SC2086
"$PYTHON" "$here/dom_check.py" png "$out/light.png" light $colours || status=1

chrome --force-dark-mode --window-size=1200,1600 --screenshot="$out/dark.png" "$url" \
	>/dev/null || { echo "FAIL: chromium --screenshot (dark)"; status=1; }
"$PYTHON" "$here/dom_check.py" png "$out/dark.png" dark || status=1

chrome --no-pdf-header-footer --print-to-pdf="$out/print.pdf" "$url" >/dev/null ||
	{ echo "FAIL: chromium --print-to-pdf"; status=1; }
"$PYTHON" "$here/dom_check.py" pdf "$out/print.pdf" || status=1

if [ $status -ne 0 ]; then
	echo "browser test FAILED (chromium log: last lines below)"
	grep -v -e dbus -e 'bytes written to file' "$tmp/chromium.log" 2>/dev/null | tail -n 5 || true
	[ -n "${GC_HTML_OUT:-}" ] && echo "artefacts kept in $out"
else
	echo "browser test passed"
fi
exit $status
