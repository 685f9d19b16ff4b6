#!/usr/bin/env python3
"""pbsync's own GFM parts against Debian's libcmark-gfm, as Markdown tables.

    bench/gfm.py [--build DIR] [--quick]

md2html adds GFM tables, strike-through and task lists to plain libcmark
in mdext.c and mdtable.c; libcmark-gfm (0.29.0.gfm.6 in bookworm) has them
built in, with the autolink extension.  This builds bench/gfmbench.c twice
in DIR (default build/bench or $PBSYNC_BENCH_BUILD, configured -O2 without
sanitizers, as bench/run.py makes it), once with pbsync and once with
libcmark-gfm, and prints:

- spec: of the GFM spec's examples (Debian's spec.txt.gz), how many each
  renders as the spec says, read as tests/spec/test_spec.py reads HTML
  (norm()), overall and per extension section; for pbsync also how many
  of the others are differences tests/data/spec-differences.txt lists
  (Productboard's subset: raw HTML as text, two heading levels, ...).
- pathological: time (fastest of three runs) and output size of each
  renderer at three input sizes, for the known quadratic shapes and for
  tests/fuzz/worst/ (md2html's inputs, and html2md's as the Markdown pbsync
  writes for them), cut to a quarter, a half and the whole.

Exits 77 (skipped) when libcmark-gfm is not installed (apt-get install
libcmark-gfm-dev libcmark-gfm-extensions-dev).  Not part of pbsync.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "spec"))
import test_spec  # noqa: E402  (norm, examples, listing)

GFM_SPEC = test_spec.SPECS["gfm"]
TIMEOUT = 60                    # s for one renderer over one input
SECTIONS = ("Tables (extension)", "Task list items (extension)",
            "Strikethrough (extension)", "Autolinks (extension)",
            "Disallowed Raw HTML (extension)")


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build(bdir):
    """The two gfmbench binaries: (pbsync's, libcmark-gfm's)."""
    if not os.path.exists(os.path.join(bdir, "Makefile")):
        sys.exit("%s is not configured: configure it with CFLAGS='-O2 "
                 "-DNDEBUG' (bench/run.py does)" % bdir)
    sh("make", "-s", "-j2", "src/libpbsync.a", cwd=bdir,
       stdout=subprocess.DEVNULL)
    libs = []
    for line in open(os.path.join(bdir, "Makefile")):
        m = re.match(r"(CURL|SQLITE|CJSON|SODIUM|CMARK)_LIBS = (.*)", line)
        if m:
            libs += m.group(2).split()
    src = os.path.join(TOP, "bench", "gfmbench.c")
    ours, theirs = (os.path.join(bdir, n) for n in ("gfmbench",
                                                    "gfmbench-gfm"))
    sh("cc", "-O2", "-Wall", "-Wextra", "-I" + os.path.join(TOP, "src"),
       "-I" + bdir, "-o", ours, src,
       os.path.join(bdir, "src", "libpbsync.a"), *libs)
    gfm = subprocess.run(["pkg-config", "--cflags", "--libs", "libcmark-gfm"],
                         stdout=subprocess.PIPE, text=True, check=True)
    sh("cc", "-O2", "-Wall", "-Wextra", "-DGFMBENCH_CMARK_GFM", "-o", theirs,
       src, *gfm.stdout.split(), "-lcmark-gfm-extensions")
    return ours, theirs


def examples(path):
    """[(number, section, extensions, disabled, markdown, html)] of the
    spec, numbered as test_spec.examples() numbers them."""
    import gzip
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read().replace("\r\n", "\n").split("<!-- END TESTS -->")[0]
    heads = [(m.start(), m.group(1).strip()) for m in
             re.finditer(r"^## (.*)$", text, re.M)]
    out = []
    for i, m in enumerate(test_spec.EXAMPLE.finditer(text), 1):
        words = m.group(1).split()
        sec = [h for pos, h in heads if pos < m.start()]
        out.append((i, sec[-1] if sec else "", [w for w in words if
                                                 w != "disabled"],
                    "disabled" in words,
                    m.group(2).replace("\u2192", "\t"),
                    m.group(3).replace("\u2192", "\t")))
    return out


def render_all(exe, docs):
    """The HTML of each (extensions, markdown) in docs."""
    data = b"".join(b"%d %s\n%s" % (len(md), (",".join(ext) or
                                               "-").encode(), md)
                    for ext, md in ((e, d.encode()) for e, d in docs))
    r = subprocess.run([exe, "spec"], input=data, stdout=subprocess.PIPE,
                       check=True)
    out, pos = [], 0
    while pos < len(r.stdout):
        nl = r.stdout.index(b"\n", pos)
        n = int(r.stdout[pos:nl])
        out.append(r.stdout[nl + 1:nl + 1 + n].decode("utf-8"))
        pos = nl + 1 + n
    return out


def spec_table(ours, theirs):
    """Examples each renders as the spec says: libcmark-gfm with the
    extensions each example names, as the spec's own runs; the task list
    examples, disabled there, with "tasklist"."""
    ex = examples(GFM_SPEC)
    listed = {k[3] for k in test_spec.listing(test_spec.LISTING)
              if k[0] == "gfm" and k[1] == "gitlab" and k[2] == "render"}
    docs = [(["tasklist"] if sec == SECTIONS[1] else ext, md)
            for _, sec, ext, _, md, _ in ex]
    h_ours, h_theirs = render_all(ours, docs), render_all(theirs, docs)
    rows = {}
    for (num, sec, _, off, _, ref), a, b in zip(ex, h_ours, h_theirs):
        want = test_spec.norm(ref, False)
        for key in ("all" if not off else None,
                    sec if sec in SECTIONS else None):
            if key is None:
                continue
            r = rows.setdefault(key, [0, 0, 0, 0, []])
            r[0] += 1
            ok = test_spec.norm(a, False) == want
            r[1] += ok
            r[2] += not ok and num in listed
            r[3] += test_spec.norm(b, False) == want
            if not ok and num not in listed:
                r[4].append(num)
    print("| GFM spec examples | total | pbsync as the spec | pbsync: "
          "listed differences | pbsync: other | libcmark-gfm as the spec |")
    print("|---|---:|---:|---:|---:|---:|")
    for key in ("all",) + SECTIONS:
        if key not in rows:
            continue
        t, a, lst, b, other = rows[key]
        print("| %s%s | %d | %d | %d | %d%s | %d |" % (
            "all (but the disabled)" if key == "all" else key,
            " (disabled in the spec)" if key == SECTIONS[1] else "", t, a,
            lst, len(other), " (%s)" % ", ".join(map(str, other))
            if other else "", b))
    print()


def shapes(size):
    """(name, Markdown of about size bytes) of the known quadratic shapes."""
    def rep(unit, tail="", head=""):
        return head + unit * max(1, (size - len(head) - len(tail)) //
                                 len(unit)) + tail
    k = max(1, size // 14)
    return [
        ("table: wide header, one-cell rows", "|" + " a |" * k + "\n|" +
         " - |" * k + "\n" + "| x |\n" * k),
        ("table: many rows", rep("| c | d |\n", head="| a | b |\n| - | - |\n")),
        ("nested emphasis", "*a **a " * (size // 14) + "b" +
         " a** a*" * (size // 14)),
        ("![[]() runs", rep("![[]()")),
        ("emphasis closers, no openers", rep("a_ ")),
        ("link openers, emphasis closers", rep("[ a_")),
        ("nested brackets", "[" * (size // 2) + "a" + "]" * (size // 2)),
        ("block quotes nested", rep("> ", "a")),
        ("lists nested", rep("- ", "a")),
        ("strike-through runs", rep("~~a ")),
        ("www. runs (autolink)", rep("www.")),
    ]


def run_time(exe, files):
    """{file: (bytes, ms, out)}, ms None past TIMEOUT."""
    out = {}
    for f in files:
        try:
            r = subprocess.run([exe, "time", f], stdout=subprocess.PIPE,
                               text=True, timeout=TIMEOUT, check=True)
            _, n, ms, o = r.stdout.split()
            out[f] = (int(n), float(ms), int(o))
        except subprocess.TimeoutExpired:
            out[f] = (os.path.getsize(f), None, None)
    return out


def cell(ms, o):
    if ms is None:
        return "> %d s | ?" % TIMEOUT
    return "%s | %s" % ("%.1f" % ms if ms < 100 else "%.0f" % ms,
                        "refused (cap)" if o < 0 else "%d" % o)


def path_table(ours, theirs, sizes):
    tmp = tempfile.mkdtemp(prefix="gfmbench.")
    cases = []                  # (name, [files by size])
    for i, size in enumerate(sizes):
        for j, (name, md) in enumerate(shapes(size)):
            f = os.path.join(tmp, "s%d-%d.md" % (j, i))
            with open(f, "w") as fp:
                fp.write(md)
            if i == 0:
                cases.append((name, []))
            cases[j][1].append(f)
    worst = os.path.join(TOP, "tests", "fuzz", "worst")
    srcs = []
    for name in sorted(os.listdir(os.path.join(worst, "md2html"))):
        with open(os.path.join(worst, "md2html", name), "rb") as fp:
            srcs.append(("worst/md2html/" + name, fp.read()))
    for name in sorted(os.listdir(os.path.join(worst, "html2md"))):
        md = subprocess.run([ours, "md", os.path.join(worst, "html2md",
                                                      name)],
                            stdout=subprocess.PIPE, check=True).stdout
        if md:                  # some have no text at all
            srcs.append(("worst/html2md/%s, as Markdown" % name, md))
    for k, (name, data) in enumerate(srcs):
        files = []
        for part in (4, 2, 1):
            f = os.path.join(tmp, "w%d-%d.md" % (k, part))
            with open(f, "wb") as fp:
                fp.write(data[:len(data) // part])
            files.append(f)
        cases.append((name, files))
    allf = [f for _, fs in cases for f in fs]
    a, b = run_time(ours, allf), run_time(theirs, allf)
    print("| input | bytes | pbsync ms | pbsync HTML bytes | libcmark-gfm "
          "ms | libcmark-gfm HTML bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, files in cases:
        for f in files:
            print("| %s | %d | %s | %s |" % (name, a[f][0], cell(*a[f][1:]),
                                            cell(*b[f][1:])))
    print()
    for f in allf:
        os.unlink(f)
    os.rmdir(tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get(
        "PBSYNC_BENCH_BUILD", os.path.join(TOP, "build", "bench")))
    ap.add_argument("--quick", action="store_true",
                    help="the pathological inputs at smaller sizes")
    args = ap.parse_args()
    if subprocess.run(["pkg-config", "--exists", "libcmark-gfm"]).returncode:
        print("libcmark-gfm is not installed (apt-get install "
              "libcmark-gfm-dev libcmark-gfm-extensions-dev)")
        return 77
    ours, theirs = build(args.build)
    if os.path.exists(GFM_SPEC):
        spec_table(ours, theirs)
    path_table(ours, theirs, (4096, 16384, 65536) if args.quick else
               (16384, 65536, 262144))
    return 0


if __name__ == "__main__":
    sys.exit(main())
