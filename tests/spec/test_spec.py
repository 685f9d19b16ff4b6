#!/usr/bin/env python3
"""The public Markdown specs as round trips (TAP), per tracker dialect.

Every example of the CommonMark spec (npm "commonmark-spec", pinned by
tests/contract/package-lock.json) and of the GFM spec (Debian's cmark-gfm,
/usr/share/doc/cmark-gfm/spec.txt.gz) goes Markdown -> Productboard HTML
(h1) -> Markdown (md1) -> HTML (h2) -> Markdown (md2) -> HTML (h3), through
tests/spec/spec_trip, for GitLab (a newline is a space) and GitHub (a
newline is a line break).  Four checks per example:
  subset  h1 and h2 hold only Productboard's tags (tests/unit/conv_check.h);
  render  h1 shows what the spec's own HTML shows;
  trip    h2 shows what h1 shows;
  fixed   md2 is md1 and h3 is h2.
"Shows" compares the renderings as a reader sees them (norm()): text,
white space as a browser lays it out, links and their addresses, emphasis
levels, code, headings, lists, quotes, tables.  What differs on purpose is
in tests/data/spec-differences.txt, each with its reason; the suite fails
on a difference not listed there and on a listed one that is gone.
"""
import gzip
import html.parser
import os
import re
import subprocess
import sys
import time
import urllib.parse

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("top_builddir") or TOP
NODE = os.environ.get("PBSYNC_NODE_MODULES") or os.path.join(
    TOP, "tests", "contract", "node_modules")
SPECS = {
    "commonmark": os.path.join(NODE, "commonmark-spec", "spec.txt"),
    "gfm": "/usr/share/doc/cmark-gfm/spec.txt.gz",
}
DIALECTS = {"gitlab": "l", "github": "h"}
CHECKS = ("subset", "render", "trip", "fixed")
LISTING = os.path.join(TOP, "tests", "data", "spec-differences.txt")
EXAMPLE = re.compile(r"^`{32} example([^\n]*)\n(.*?)^\.\n(.*?)^`{32}$",
                     re.M | re.S)


def examples(path):
    """[(number, markdown, html)] of a spec file; disabled ones are out."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        text = f.read().replace("\r\n", "\n")
    text = text.split("<!-- END TESTS -->")[0]
    out = []
    for i, m in enumerate(EXAMPLE.finditer(text), 1):
        if "disabled" in m.group(1).split():
            continue
        out.append((i, m.group(2).replace("\u2192", "\t"),
                    m.group(3).replace("\u2192", "\t")))
    return out


BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol",
          "li", "table", "thead", "tbody", "tr", "th", "td", "pre", "hr"}
LEAVES = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "th", "td"}
INLINE = {"em": "i", "i": "i", "strong": "b", "b": "b", "del": "s",
          "s": "s", "strike": "s", "ins": "u", "u": "u", "code": "code"}
BR = "\x00"


class Norm(html.parser.HTMLParser):
    """What a reader sees of a piece of HTML, one line per block part.

    Browsers collapse white space outside <pre>, show an emphasis nested
    in the same emphasis as one, and lay out a list item's text the same
    with or without <p>; a newline in text is a line break where the
    tracker makes it one (breaks).  Hrefs are compared decoded.
    """

    def __init__(self, breaks):
        super().__init__(convert_charrefs=True)
        self.breaks = breaks
        self.lines = []
        self.inline = []        # pieces of the current run of inline content
        self.stack = []         # open block tags
        self.marks = []         # open inline tags, by kind
        self.pre = None

    def flush(self, leaf=None):
        """Ends a run of inline content: its own line, in leaf's tags."""
        s = "".join(self.inline)
        self.inline = []
        s = re.sub(r"[ \t\n\r\f]+", " ", s)
        s = re.sub(r" ?%s ?" % BR, BR, s).strip(" " + BR)
        for kind in ("i", "b", "s", "u"):
            s = s.replace("</%s><%s>" % (kind, kind), "")
        s = re.sub(r"<(i|b|s|u|code)></\1>", "", s).replace(BR, "<br>")
        if leaf is None and s:
            leaf = "<p>"
        if s or (leaf is not None and leaf[1:3] in ("th", "td")):
            self.lines.append(leaf + s + "</" + leaf[1:].split()[0].rstrip(
                ">") + ">")

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.pre is not None:
            if tag == "code" and a.get("class", "").startswith("language-"):
                self.pre[0] = a["class"][9:]
            return
        if tag in BLOCKS:
            self.flush()
            if tag == "pre":
                self.pre = [None, []]
                return
            attr = ""
            if tag == "ol" and a.get("start", "1") != "1":
                attr = " start=" + a["start"]
            if tag in ("th", "td") and a.get("align"):
                attr = " align=" + a["align"]
            if tag in LEAVES:
                self.stack.append("<%s%s>" % (tag, attr))
                return
            self.lines.append("<%s%s>" % (tag, attr))
            if tag != "hr":
                self.stack.append(tag)
        elif tag in INLINE:
            kind = INLINE[tag]
            self.marks.append(kind)
            if self.marks.count(kind) == 1:
                self.inline.append("<%s>" % kind)
        elif tag == "a":
            href = urllib.parse.unquote(a.get("href") or "")
            title = a.get("title")
            self.marks.append("a")
            self.inline.append("<a %s%s>" % (href, "" if title is None else
                                             " title=" + title))
        elif tag == "img":
            self.inline.append("<img %s alt=%s>" % (urllib.parse.unquote(
                a.get("src") or ""), a.get("alt")))
        elif tag == "br":
            self.inline.append(BR)
        elif tag == "input" and a.get("type") == "checkbox":
            self.inline.append("[x] " if "checked" in a else "[ ] ")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in INLINE or tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self.pre is not None:
            if tag == "pre":
                lang, text = self.pre
                self.pre = None
                self.lines.append("<pre%s>%s</pre>" % (
                    "" if lang is None else " " + lang,
                    "".join(text).rstrip("\n")))
            return
        if tag in BLOCKS and tag != "hr":
            top = self.stack[-1] if self.stack else ""
            self.flush(top if top[1:].split(">")[0].split()[0:1] == [tag]
                       else None)
            names = [t.strip("<>").split()[0] for t in self.stack]
            if tag in names:
                while names.pop() != tag:
                    self.stack.pop()
                self.stack.pop()
            if tag not in LEAVES:
                self.lines.append("</%s>" % tag)
        elif (tag in INLINE or tag == "a") and self.marks:
            kind = INLINE.get(tag, "a")
            if kind in self.marks:
                i = len(self.marks) - 1 - self.marks[::-1].index(kind)
                del self.marks[i]
                if kind == "a" or kind not in self.marks:
                    self.inline.append("</%s>" % kind)

    def handle_data(self, data):
        if self.pre is not None:
            self.pre[1].append(data)
            return
        data = data.replace("&", "&amp;").replace("<", "&lt;")
        if self.breaks:
            # A newline is a break, but the one after <br> is layout.
            done = "".join(self.inline).rstrip(" \t")
            if done.endswith(BR):
                data = re.sub(r"^[ \t]*\n", "", data)
            data = data.replace("\n", BR)
        self.inline.append(data)


def norm(text, breaks):
    """The lines a reader sees of HTML text (see Norm)."""
    n = Norm(breaks)
    n.feed(text)
    n.close()
    n.flush()
    return n.lines


def listing(path):
    """{(spec, dialect, check, number): reason} of the differences file."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            head, sep, reason = line.partition(":")
            words = head.split()
            if not sep or not reason.strip() or len(words) < 4 or \
                    words[0] not in SPECS or \
                    words[1] not in list(DIALECTS) + ["*"] or \
                    words[2] not in CHECKS:
                raise ValueError("%s:%d: not \"spec dialect check numbers: "
                                 "reason\"" % (path, lineno))
            for w in words[3:]:
                lo, _, hi = w.partition("-")
                for num in range(int(lo), int(hi or lo) + 1):
                    for d in (DIALECTS if words[1] == "*" else [words[1]]):
                        key = (words[0], d, words[2], num)
                        if key in out:
                            raise ValueError("%s:%d: %s listed twice" % (
                                path, lineno, key))
                        out[key] = reason.strip()
    return out


def run_trips(exe, docs):
    """spec_trip's six fields for each (dialect letter, markdown)."""
    data = b"".join(b"%s %d\n%s" % (d.encode(), len(md), md)
                    for d, md in ((d, md.encode()) for d, md in docs))
    r = subprocess.run([exe], input=data, stdout=subprocess.PIPE,
                       check=True)
    out, pos = [], 0
    while pos < len(r.stdout):
        fields = []
        for _ in range(6):
            nl = r.stdout.index(b"\n", pos)
            n = int(r.stdout[pos:nl])
            fields.append(r.stdout[nl + 1:nl + 1 + n].decode("utf-8"))
            pos = nl + 1 + n
        out.append(fields)
    if len(out) != len(docs):
        raise RuntimeError("spec_trip answered %d of %d" % (len(out),
                                                            len(docs)))
    return out


def differs(check, ref, f, breaks):
    """A short account of how example fields f fail check, or None."""
    h1, md1, h2, md2, h3, why = f
    if check == "subset":
        return why or None
    if check == "fixed":
        if md2 != md1:
            return "md1 %r\n   md2 %r" % (md1, md2)
        return None if h3 == h2 else "h2 %r\n   h3 %r" % (h2, h3)
    a = norm(ref if check == "render" else h1, breaks)
    b = norm(h1 if check == "render" else h2, breaks)
    if a == b:
        return None
    return "%s %r\n   %s %r\n   md1 %r" % (
        "spec" if check == "render" else "h1", a,
        "h1" if check == "render" else "h2", b, md1)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def line(self, ok, what, notes=()):
        self.n += 1
        self.failed += not ok
        print("%sok %d - %s" % ("" if ok else "not ", self.n, what))
        for note in notes:
            print("# " + note.replace("\n", "\n# "))
        sys.stdout.flush()

    def skip(self, what, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, what, reason))


def self_checks(tap):
    """The comparison sees what matters and ignores only layout."""
    same = [("<p>a\nb</p>", "<p>a b</p>", False),
            ("<ul>\n<li>\n<p>x</p>\n</li>\n</ul>", "<ul><li>x</li></ul>",
             False),
            ("<p><em><em>w</em></em></p>", "<p><i>w</i></p>", False),
            ("<p>a<br />\nb</p>", "<p>a\nb</p>", True),
            ("<p><a href=\"/%C3%A4\">x</a></p>", "<p><a href=\"/ä\">x</a>"
             "</p>", False)]
    other = [("<p><em>w</em></p>", "<p><strong>w</strong></p>"),
             ("<p><em><strong>w</strong></em></p>", "<p><b>w</b></p>"),
             ("<p>a\nb</p>", "<p>a<br/>b</p>"),
             ("<h1>x</h1>", "<h2>x</h2>"),
             ("<p><a href=\"/a\">x</a></p>", "<p><a href=\"/b\">x</a></p>"),
             ("<pre><code>a  \n</code></pre>", "<pre><code>a\n</code></pre>"),
             ("<ol start=\"2\"><li>a</li></ol>", "<ol><li>a</li></ol>"),
             ("<ul><li>a</li><li>b</li></ul>", "<ul><li>a b</li></ul>"),
             ("<p><code>a</code></p>", "<p>a</p>"),
             ("<blockquote><p>a</p></blockquote>", "<p>a</p>")]
    bad = [(a, b) for a, b, brk in same if norm(a, brk) != norm(b, brk)]
    bad += [(a, b) for a, b in other if norm(a, False) == norm(b, False)]
    tap.line(not bad, "the comparison tells meaning from layout",
             ["%r / %r" % p for p in bad])


def main():
    tap = Tap()
    self_checks(tap)
    exe = os.path.join(BUILD, "tests", "spec", "spec_trip")
    listed = listing(LISTING)
    used = set()
    for spec, path in SPECS.items():
        if not os.path.exists(path):
            for d in DIALECTS:
                tap.skip("%s spec, %s" % (spec, d), "no " + path)
            continue
        start = time.monotonic()
        ex = examples(path)
        docs = [(letter, md) for letter in DIALECTS.values()
                for _, md, _ in ex]
        results = run_trips(exe, docs)
        for k, (dialect, letter) in enumerate(DIALECTS.items()):
            breaks = letter == "h"
            passed = nlisted = 0
            notes = []
            for j, (num, _, ref) in enumerate(ex):
                f = results[k * len(ex) + j]
                any_listed = unlisted = False
                for check in CHECKS:
                    key = (spec, dialect, check, num)
                    diff = differs(check, ref, f, breaks)
                    if key in listed:
                        used.add(key)
                        any_listed = True
                        if diff is None:
                            notes.append("example %d %s: listed, yet the "
                                         "same" % (num, check))
                    elif diff is not None:
                        unlisted = True
                        notes.append("example %d %s:\n   %s" % (num, check,
                                                                diff))
                nlisted += any_listed
                passed += not any_listed and not unlisted
            tap.line(not notes, "%s spec, %s: %d passed, %d listed, %d "
                     "examples (%.1f s)" % (spec, dialect, passed, nlisted,
                                         len(ex), time.monotonic() - start),
                     notes[:40] + (["... %d more" % (len(notes) - 40)]
                                   if len(notes) > 40 else []))
    stale = sorted(k for k in listed if k not in used and os.path.exists(
        SPECS[k[0]]))
    tap.line(not stale, "every listed difference names an example",
             ["%s %s %s %d" % k for k in stale])
    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
