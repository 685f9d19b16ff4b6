#!/usr/bin/env python3
"""The layers of src/ (TAP): every include points down, nothing calls back.

Each folder of src/ (and cgi-bin/) has a README.md whose "May include:"
line names the folders its files may include besides their own; that line
is the rule and this test its check:
  - every quoted include names a folder ("base/buf.h"), its own or one its
    README allows, and the allowed folders form no circle;
  - among the objects of the built library (nm), no set of files calls
    one another in a circle, and no call goes where no include may;
  - the checks themselves find a planted up-include and a planted circle.
"""
import os
import re
import subprocess
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
ALLOW = re.compile(r'^May include:\s*(.*?)\.?\s*$', re.M)


def rules(top):
    """{folder: set of folders it may include}, folder 'cgi-bin' too."""
    out = {}
    dirs = [os.path.join(top, 'src', d) for d in sorted(os.listdir(
        os.path.join(top, 'src')))]
    dirs.append(os.path.join(top, 'cgi-bin'))
    for d in dirs:
        if not os.path.isdir(d):
            continue
        name = os.path.basename(d)
        readme = os.path.join(d, 'README.md')
        m = ALLOW.search(open(readme).read()) if os.path.exists(readme) \
            else None
        if m is None:
            out[name] = None
            continue
        words = re.split(r'[,\s]+', m.group(1).strip())
        out[name] = set(w for w in words if w and w not in (
            'nothing', 'else', 'of', 'src/'))
    return out


def sources(top, folder):
    base = os.path.join(top, 'cgi-bin' if folder == 'cgi-bin' else
                        os.path.join('src', folder))
    for f in sorted(os.listdir(base)):
        if f.endswith(('.c', '.h')):
            yield os.path.join(base, f)


def include_errors(top, rule):
    errs, n = [], 0
    for folder, allowed in rule.items():
        if allowed is None:
            errs.append('%s: no README.md with a "May include:" line' %
                        folder)
            continue
        for path in sources(top, folder):
            for inc in INCLUDE.findall(open(path).read()):
                n += 1
                if inc == 'config.h':
                    continue
                to = inc.split('/')[0] if '/' in inc else None
                if to is None:
                    errs.append('%s: "%s" names no folder' % (path, inc))
                elif to != folder and to not in allowed:
                    errs.append('%s: "%s" points up or sideways (%s may '
                                'include %s)' % (path, inc, folder,
                                ', '.join(sorted(allowed)) or 'nothing'))
    return errs, n


def cycles(graph):
    """The strongly connected sets of more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    nodes = set(graph) | set(w for s in graph.values() for w in s)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def object_graph(lib):
    """{object: set of objects whose symbols it uses} of an archive."""
    def nm(*args):
        r = subprocess.run(['nm', '-A'] + list(args) + [lib],
                           capture_output=True, text=True, check=True)
        for line in r.stdout.splitlines():
            parts = line.split()
            yield parts[0].rsplit(':', 2)[-2], parts[-2], parts[-1]
    defs = {sym: obj for obj, kind, sym in nm('--defined-only')
            if kind in 'TDBRC'}
    graph = {}
    for obj, _, sym in nm('-u'):
        if sym in defs and defs[sym] != obj:
            graph.setdefault(obj, set()).add(defs[sym])
    return graph


def folder_of(top):
    """Object file name (buf.o) to its folder."""
    out = {}
    for d in os.listdir(os.path.join(top, 'src')):
        p = os.path.join(top, 'src', d)
        if os.path.isdir(p):
            for f in os.listdir(p):
                if f.endswith('.c'):
                    out['%s.o' % f[:-2]] = d
    out['schema.o'] = 'store'
    return out


def call_errors(top, lib, rule):
    graph = object_graph(lib)
    where = folder_of(top)
    errs = ['objects call one another in a circle: ' + ' '.join(c)
            for c in cycles(graph)]
    for a, tos in sorted(graph.items()):
        for b in sorted(tos):
            fa, fb = where.get(a), where.get(b)
            if fa is None or fb is None:
                errs.append('%s or %s: no source in src/' % (a, b))
            elif fa != fb and fb not in (rule.get(fa) or ()):
                errs.append('%s (%s) calls %s (%s)' % (a, fa, b, fb))
    return errs, sum(len(v) for v in graph.values())


def planted():
    """The checks on a tree with an up-include and a folder circle."""
    with tempfile.TemporaryDirectory() as t:
        for d, allow in (('base', 'nothing else of src/'), ('web', 'base'),
                         ('flows', 'base, web, admin'),
                         ('admin', 'base, flows')):
            os.makedirs(os.path.join(t, 'src', d))
            open(os.path.join(t, 'src', d, 'README.md'), 'w').write(
                '# %s\n\nMay include: %s.\n' % (d, allow))
        os.makedirs(os.path.join(t, 'cgi-bin'))
        open(os.path.join(t, 'cgi-bin', 'README.md'), 'w').write(
            'May include: web.\n')
        open(os.path.join(t, 'src', 'base', 'buf.c'), 'w').write(
            '#include "config.h"\n#include "web/req.h"\n')
        open(os.path.join(t, 'src', 'web', 'req.c'), 'w').write(
            '#include "base/buf.h"\n#include "web/req.h"\n')
        rule = rules(t)
        errs, _ = include_errors(t, rule)
        return (errs == ['%s: "web/req.h" points up or sideways (base may '
                         'include nothing)' % os.path.join(
                             t, 'src', 'base', 'buf.c')],
                cycles({f: a for f, a in rule.items() if a}) ==
                [['admin', 'flows']])


def main():
    top = os.environ.get('top_srcdir') or os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get('top_builddir', '.')
    lib = os.path.join(build, 'src', 'libpbsync.a')
    rule = rules(top)
    checks = []
    errs, n = include_errors(top, rule)
    checks.append(('%d includes in %d folders point down' % (n, len(rule)),
                   errs))
    loops = cycles({f: a for f, a in rule.items() if a})
    checks.append(('the folders\' "May include" lines make no circle',
                   ['circle: ' + ' '.join(c) for c in loops]))
    errs, n = call_errors(top, lib, rule)
    checks.append(('%d calls between the library\'s objects: no circle, '
                   'none where no include may go' % n, errs))
    up, circle = planted()
    checks.append(('a planted up-include is reported',
                   [] if up else ['not reported']))
    checks.append(('a planted circle of folders is reported',
                   [] if circle else ['not reported']))
    print('1..%d' % len(checks))
    for i, (name, errs) in enumerate(checks, 1):
        print('%s %d - %s' % ('not ok' if errs else 'ok', i, name))
        for e in errs:
            print('# ' + e)
    return 1 if any(e for _, e in checks) else 0


if __name__ == '__main__':
    sys.exit(main())
