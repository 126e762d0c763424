#!/usr/bin/python3
"""Checks a gradcheck HTML report as Chromium rendered it (standard library only).

    dom_check.py dom DUMPED_DOM.html [EXPECT]
    dom_check.py png SCREENSHOT.png light|dark [#rrggbb ...]
    dom_check.py pdf PRINTED.pdf

dom: generic checks that hold for every report (cells per tensor match its shape
and block size, failing cells account for the tensor's failures, every cell has
an index and a tooltip, failing and kink cells are focusable, no external
resources), then the lines of EXPECT (see tests/html/sample.expect).
png: the screenshot decodes, its top-left pixel is light or dark as asked, and
each colour given appears in it.  pdf: the printout looks like a PDF.
Prints what failed and exits 1, or prints "ok ..." and exits 0.
"""
import math
import re
import struct
import sys
import zlib
from html.parser import HTMLParser

errors = []

# Every element the report writer emits; anything else came from unescaped text.
ALLOWED_TAGS = set("""html head meta title style body header h1 h2 h3 p nav ol ul li a main
section figure figcaption div span code strong table thead tbody tr th td script svg defs
pattern rect g text circle""".split())


def fail(msg):
    errors.append(msg)


class Report(HTMLParser):
    """Collects cases, tensor figures, cells, diagnoses and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []          # (tag, attrs) of open elements
        self.cases = []          # dicts: id, name, status
        self.figures = []        # dicts: attrs, case, cells: [dict]
        self.diags = []          # dicts: case, kind, tensor, text
        self.scripts = 0
        self.external = []
        self.text = []
        self.summary = None
        self.unknown = []
        self._capture = None     # (kind, dict, key) collecting text

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append((tag, a))
        if tag not in ALLOWED_TAGS:
            self.unknown.append(tag)
        if tag == "h2" and self.cases:
            self._capture = ("heading", self.cases[-1])
        for k in ("src", "href", "xlink:href"):
            v = a.get(k)
            if v and not v.startswith("#"):
                self.external.append("%s=%s" % (k, v))
        if tag == "link":
            self.external.append("link")
        if tag == "script":
            self.scripts += 1
        if tag == "section" and "case" in a.get("class", "").split():
            self.cases.append({"id": a.get("id"), "name": a.get("data-name"),
                               "status": a.get("data-status"), "heading": ""})
        elif tag == "figure" and "tensor" in a.get("class", "").split():
            self.figures.append({"attrs": a, "case": self.cases[-1]["id"] if self.cases
                                 else None, "cells": []})
        elif tag == "rect" and a.get("class") == "c":
            parent_tag, parent = self.stack[-2] if len(self.stack) > 1 else (None, {})
            focusable = parent_tag == "g" and parent.get("tabindex") == "0"
            cell = {"attrs": a, "focusable": focusable,
                    "title": parent.get("_title", "") if focusable else ""}
            if self.figures:
                self.figures[-1]["cells"].append(cell)
            else:
                fail("cell outside a tensor figure: %r" % a)
        elif tag == "title" and len(self.stack) > 1 and self.figures:
            cells = self.figures[-1]["cells"]
            ptag, pa = self.stack[-2]
            if ptag == "rect" and cells and cells[-1]["attrs"] is pa:
                self._capture = ("title", cells[-1])
            elif ptag == "g":
                self._capture = ("gtitle", pa)
        elif tag == "li" and "diag" in a.get("class", "").split():
            d = {"case": self.cases[-1]["id"] if self.cases else None,
                 "kind": a.get("data-kind"), "tensor": a.get("data-tensor"), "text": ""}
            self.diags.append(d)
            self._capture = ("diag", d)
        elif tag == "p" and a.get("id") == "summary":
            self.summary = ""
            self._capture = ("summary", None)

    def handle_endtag(self, tag):
        if self._capture:
            kind = self._capture[0]
            if (kind in ("title", "gtitle") and tag == "title") or \
               (kind == "diag" and tag == "li") or (kind == "summary" and tag == "p") or \
               (kind == "heading" and tag == "h2"):
                self._capture = None
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_data(self, data):
        self.text.append(data)
        if not self._capture:
            return
        kind, obj = self._capture
        if kind == "title":
            obj["title"] += data
        elif kind == "gtitle":
            obj["_title"] = obj.get("_title", "") + data
        elif kind == "diag":
            obj["text"] += data
        elif kind == "summary":
            self.summary += data
        elif kind == "heading":
            obj["heading"] += data


def cell_fails(cell):
    a = cell["attrs"]
    if "data-fails" in a:
        return int(a["data-fails"])
    return 1 if a.get("data-verdict") == "fail" else 0


def generic(rep):
    if not rep.cases:
        fail("no cases in the report")
    if rep.summary is None or not re.fullmatch(r"\d+ passed, \d+ failed", rep.summary.strip()):
        fail("summary line missing or malformed: %r" % rep.summary)
    if rep.scripts > 1:
        fail("%d <script> elements (only the report's own is allowed)" % rep.scripts)
    for e in rep.external:
        fail("external reference: %s" % e)
    for t in sorted(set(rep.unknown)):
        fail("unexpected element <%s> (unescaped text?)" % t)
    for c in rep.cases:
        words = c["heading"].split(None, 2)
        if len(words) < 2 or words[1] != c["status"].upper() or \
                (c["name"] and (len(words) < 3 or words[2].strip() != c["name"].strip())):
            fail("%s: heading %r does not show status %s and name %r" %
                 (c["id"], c["heading"], c["status"], c["name"]))
    for f in rep.figures:
        a = f["attrs"]
        name = "%s %s" % (f["case"], a.get("data-tensor"))
        rows, cols = int(a["data-rows"]), int(a["data-cols"])
        br, bc = int(a["data-block-rows"]), int(a["data-block-cols"])
        want = math.ceil(rows / br) * math.ceil(cols / bc)
        if math.ceil(rows / br) > 60 or math.ceil(cols / bc) > 60:
            fail("%s: %d x %d cells, more than 60 a side" % (name, math.ceil(rows / br),
                                                              math.ceil(cols / bc)))
        if len(f["cells"]) != want or int(a["data-cells"]) != want:
            fail("%s: %d cells drawn, data-cells %s, shape wants %d" %
                 (name, len(f["cells"]), a["data-cells"], want))
        fails = sum(cell_fails(c) for c in f["cells"])
        if fails != int(a["data-failed"]):
            fail("%s: cells show %d failures, the tensor has %s" % (name, fails, a["data-failed"]))
        for c in f["cells"]:
            ca = c["attrs"]
            if not ca.get("data-index") or ca.get("data-verdict") not in \
                    ("pass", "fail", "kink", "skipped"):
                fail("%s: cell without index or verdict: %r" % (name, ca))
                break
            if ca["data-verdict"] in ("fail", "kink") and not c["focusable"]:
                fail("%s: %s cell %s is not focusable" % (name, ca["data-verdict"],
                                                           ca["data-index"]))
                break
            if not c["title"].startswith(ca["data-index"]):
                fail("%s: cell %s has no tooltip" % (name, ca["data-index"]))
                break


def expectations(rep, path):
    text = " ".join("".join(rep.text).split())
    figs = {(f["case"], f["attrs"].get("data-tensor")): f for f in rep.figures}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, rest = line.partition(" ")
            where = "%s:%d" % (path, lineno)
            if key == "summary":
                if (rep.summary or "").strip() != rest:
                    fail("%s: summary %r, expected %r" % (where, rep.summary, rest))
            elif key == "cases":
                if len(rep.cases) != int(rest):
                    fail("%s: %d cases, expected %s" % (where, len(rep.cases), rest))
            elif key == "status":
                cid, st = rest.split()
                got = [c["status"] for c in rep.cases if c["id"] == cid]
                if got != [st]:
                    fail("%s: %s status %r, expected %s" % (where, cid, got, st))
            elif key == "name":
                cid, name = rest.split(" ", 1)
                got = [c["name"] for c in rep.cases if c["id"] == cid]
                if got != [name]:
                    fail("%s: %s name %r, expected %r" % (where, cid, got, name))
            elif key in ("cells", "fail", "kink", "skipped"):
                cid, tensor, n = rest.split()
                f = figs.get((cid, tensor))
                if f is None:
                    fail("%s: no heatmap for %s %s" % (where, cid, tensor))
                    continue
                cells = f["cells"] if key == "cells" else \
                    [c for c in f["cells"] if c["attrs"].get("data-verdict") == key]
                if len(cells) != int(n):
                    fail("%s: %s %s has %d %s cells, expected %s" %
                         (where, cid, tensor, len(cells), key, n))
            elif key == "fail-total":
                n = sum(1 for f in rep.figures for c in f["cells"]
                        if c["attrs"].get("data-verdict") == "fail")
                if n != int(rest):
                    fail("%s: %d failing cells in all, expected %s" % (where, n, rest))
            elif key == "cell":
                # cell CASE DATA-INDEX VERDICT [title text after the verdict]
                cid, index, verdict, *title = rest.split(" ", 3)
                cells = [c for f in rep.figures if f["case"] == cid for c in f["cells"]
                         if c["attrs"].get("data-index") == index]
                if len(cells) != 1 or cells[0]["attrs"].get("data-verdict") != verdict:
                    fail("%s: %s cell %s: %r, expected one %s" %
                         (where, cid, index, [c["attrs"] for c in cells], verdict))
                elif title and title[0] not in " ".join(cells[0]["title"].split()):
                    fail("%s: %s cell %s tooltip %r lacks %r" %
                         (where, cid, index, cells[0]["title"], title[0]))
            elif key == "diag":
                cid, kind, tensor, *words = rest.split(" ", 3)
                ds = [d for d in rep.diags if d["case"] == cid and d["kind"] == kind
                      and d["tensor"] == tensor]
                if not ds or (words and words[0] not in " ".join(ds[0]["text"].split())):
                    fail("%s: diagnosis %s %s %s %r not found in %r" %
                         (where, cid, kind, tensor, words, rep.diags))
            elif key == "text":
                if rest not in text:
                    fail("%s: text %r not on the page" % (where, rest))
            elif key == "scripts":
                if rep.scripts != int(rest):
                    fail("%s: %d <script> elements, expected %s" % (where, rep.scripts, rest))
            else:
                fail("%s: unknown expectation %r" % (where, key))


def check_dom(path, expect):
    rep = Report()
    with open(path, encoding="utf-8") as fh:
        rep.feed(fh.read())
    rep.close()
    generic(rep)
    if expect:
        expectations(rep, expect)
    cells = sum(len(f["cells"]) for f in rep.figures)
    return "ok dom: %d cases, %d heatmaps, %d cells" % (len(rep.cases), len(rep.figures), cells)


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA non-interlaced PNG."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unsupported PNG (depth %d, colour type %d)" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev, rows, i = bytearray(stride), [], 0
    for _ in range(h):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_png(path, mode, colours):
    w, h, bpp, rows = png_pixels(path)
    r, g, b = rows[2][6:9]
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    if (mode == "light") != (lum > 128):
        fail("%s: background (%d,%d,%d) is not %s" % (path, r, g, b, mode))
    present = set()
    for row in rows:
        for x in range(0, len(row), bpp):
            present.add(row[x:x + 3])
    for c in colours:
        rgb = bytes.fromhex(c.lstrip("#"))
        if rgb not in present:
            fail("%s: colour %s not in the screenshot" % (path, c))
    if len(present) < 20:
        fail("%s: only %d colours, the page looks blank" % (path, len(present)))
    return "ok png: %s %dx%d, %s, %d colours" % (path, w, h, mode, len(present))


def check_pdf(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if not data.startswith(b"%PDF") or len(data) < 2000:
        fail("%s: not a printed PDF (%d bytes)" % (path, len(data)))
    return "ok pdf: %s, %d bytes" % (path, len(data))


def main(argv):
    if len(argv) >= 3 and argv[1] == "dom":
        msg = check_dom(argv[2], argv[3] if len(argv) > 3 else None)
    elif len(argv) >= 4 and argv[1] == "png":
        msg = check_png(argv[2], argv[3], argv[4:])
    elif len(argv) == 3 and argv[1] == "pdf":
        msg = check_pdf(argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    if errors:
        for e in errors:
            print("FAIL: " + e)
        return 1
    print(msg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
