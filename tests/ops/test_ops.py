"""The operations files against the code they describe, as TAP.

systemd/*.in: systemd-analyze verify and an offline security score for
every unit, the settings each must keep, the sockets nginx names, the
documented "systemctl enable" lines; then a socket unit's way of running a
program, reproduced with systemd-socket-activate: the listening socket as
fd 0 of the built pbsync-plugin, a FastCGI /healthz through it, SIGTERM.
man/*: lint clean under mandoc and groff; every configuration key of
src/base/conf.c with its default and range in pbsync.conf.5 and no other;
pbsyncctl's help (--help, help COMMAND, COMMAND --help, run from the
build) against pbsyncctl.8 both ways: every command with its synopsis,
and each command's options; the options pbsyncctl's code compares against
and the variables it reads, documented; help and usage without a
configuration, and the exit statuses.
"""
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP_SRC = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_BUILD = os.environ.get("top_builddir") or TOP_SRC
UNIT_DIR = os.path.join(TOP_SRC, "systemd")
MAN_DIR = os.path.join(TOP_SRC, "man")
PAGES = ("pbsync.8", "pbsyncctl.8", "pbsync.conf.5")
SOCKDIR = "/run/pbsync"
# Above it a weakened sandbox fails (systemd-analyze security, 0-10 scale).
MAX_EXPOSURE = 2.0
SANDBOX = ("User=pbsync", "NoNewPrivileges=yes", "ProtectSystem=strict",
           "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
           "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
           "Environment=PBSYNC_CONFIG=@sysconfdir@/pbsync/pbsync.conf")
SANDBOX_RW = "ReadWritePaths=@localstatedir@/lib/pbsync"


class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def ok(self, cond, what, detail=None):
        self.n += 1
        self.failed += not cond
        print("%sok %d - %s" % ("" if cond else "not ", self.n, what))
        if not cond and detail:
            for line in str(detail).splitlines()[:20]:
                print("#   " + line)
        sys.stdout.flush()
        return cond

    def skip(self, what, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, what, reason))

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def read(*parts):
    with open(os.path.join(*parts)) as f:
        return f.read()


def c_block(src, start):
    """The text from start to the end of its brace-balanced block."""
    i = src.index(start)
    j = src.index("{", i)
    depth = 0
    for k in range(j, len(src)):
        depth += {"{": 1, "}": -1}.get(src[k], 0)
        if depth == 0:
            return src[j:k + 1]
    raise ValueError(start)


def c_int(expr):
    """A C integer constant expression of conf.c's table (64L << 20)."""
    e = re.sub(r"(\d+)[lLuU]+", r"\1", expr)
    if not re.fullmatch(r"[\d\s<>*+()-]+", e):
        raise ValueError(expr)
    return eval(e)  # digits and operators only


def unit_files():
    return sorted(f[:-3] for f in os.listdir(UNIT_DIR) if f.endswith(".in"))


def unit_settings(text):
    return [l.strip() for l in text.splitlines()
            if l.strip() and not l.startswith(("#", "["))]


# -- systemd units -------------------------------------------------------
def check_units(t, tmp):
    units = unit_files()
    am = read(TOP_SRC, "Makefile.am")
    listed = set(re.findall(r"systemd/(pbsync-[\w.-]+)", am))
    t.ok(set(units) == listed, "Makefile.am installs every unit of systemd/",
         "only in systemd/: %s\nonly in Makefile.am: %s" % (
             sorted(set(units) - listed), sorted(listed - set(units))))

    # The units as installed, but naming the programs of this build.
    udir = os.path.join(tmp, "units")
    os.makedirs(udir)
    subst = {"SOCKDIR": SOCKDIR,
             "libexecdir": os.path.join(TOP_BUILD, "cgi-bin"),
             "bindir": os.path.join(TOP_BUILD, "src"),
             "sysconfdir": os.path.join(tmp, "etc"),
             "localstatedir": os.path.join(tmp, "var")}
    left = []
    for u in units:
        text = read(UNIT_DIR, u + ".in")
        out = re.sub(r"@(\w+)@", lambda m: subst.get(m.group(1), m.group(0)),
                     text)
        left += ["%s: %s" % (u, p) for p in re.findall(r"@\w+@", out)]
        with open(os.path.join(udir, u), "w") as f:
            f.write(out)
    t.ok(not left, "the units use only the placeholders make fills in", left)
    built = os.path.join(TOP_BUILD, "systemd")
    stale = [u for u in units if not os.path.exists(os.path.join(built, u))
             or re.search(r"@\w+@", read(built, u))]
    t.ok(not stale, "make generated every unit with its paths filled in",
         "missing or with a placeholder in %s: %s" % (built, stale))

    # Documentation=man:... must resolve: the pages of man/ on MANPATH.
    mtree = os.path.join(tmp, "man")
    for p in PAGES:
        d = os.path.join(mtree, "man" + p[-1])
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(MAN_DIR, p), d)
    env = dict(os.environ, MANPATH=mtree, SYSTEMD_LOG_COLOR="0")
    have_sd = shutil.which("systemd-analyze") is not None
    procs = {}
    for u in units if have_sd else []:
        procs[u] = subprocess.Popen(
            ["systemd-analyze", "verify", os.path.join(udir, u)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for u in units:
        if not have_sd:
            t.skip("systemd-analyze verify %s" % u, "no systemd-analyze")
            continue
        out = procs[u].communicate(timeout=60)[0]
        # It warns of an unknown key or a bad value and still exits 0.
        t.ok(procs[u].returncode == 0 and not out.strip(),
             "systemd-analyze verify %s: clean" % u,
             "exit %d\n%s" % (procs[u].returncode, out))
    for u in units:
        if not u.endswith(".service"):
            continue
        if not have_sd:
            t.skip("%s: exposure" % u, "no systemd-analyze")
            continue
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                            os.path.join(udir, u)], env=env,
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
        score = float(m.group(1)) if m else 99
        t.ok(score <= MAX_EXPOSURE, "systemd-analyze security %s: "
             "exposure %s <= %s" % (u, m.group(1) if m else "?",
                                    MAX_EXPOSURE),
             r.stderr + "\n".join(l for l in r.stdout.splitlines()
                                  if "\u2717" in l))

    # What the code and nginx rely on, kept in every unit.
    bad = []
    for u in units:
        s = unit_settings(read(UNIT_DIR, u + ".in"))
        want = []
        if u.endswith(".service"):
            want += list(SANDBOX) + ["KillMode=mixed"]
            if not any(x.startswith(SANDBOX_RW) for x in s):
                bad.append("%s: no %s" % (u, SANDBOX_RW))
        if u.endswith(".socket"):
            want += ["SocketMode=0660", "SocketGroup=www-data"]
            svc = read(UNIT_DIR, u[:-len(".socket")] + ".service.in")
            for w in ("StandardInput=socket", "StandardOutput=journal",
                      "StandardError=journal", "Restart=on-failure"):
                if w not in unit_settings(svc):
                    bad.append("%s.service: no %s" % (u[:-7], w))
        bad += ["%s: no %s" % (u, w) for w in want if w not in s]
    worker = unit_settings(read(UNIT_DIR, "pbsync-worker.service.in"))
    if "Restart=on-failure" not in worker:
        bad.append("pbsync-worker.service: no Restart=on-failure")
    t.ok(not bad, "every service runs as pbsync in the sandbox; the sockets "
         "serve nginx only; the FastCGI services take the socket as fd 0",
         "\n".join(bad))

    routes = set(re.findall(r"fastcgi_pass unix:@SOCKDIR@/(\w+\.sock);",
                            read(TOP_SRC, "nginx", "routes.conf.in")))
    listen = set()
    for u in units:
        if u.endswith(".socket"):
            listen |= set(re.findall(r"^ListenStream=@SOCKDIR@/(\w+\.sock)$",
                                     read(UNIT_DIR, u + ".in"), re.M))
    t.ok(routes == listen and len(listen) == 4,
         "the socket units listen where nginx/routes.conf.in connects",
         "nginx: %s\nunits: %s" % (sorted(routes), sorted(listen)))
    return udir


def check_enable_lines(t, tmp, udir):
    """The "systemctl enable" lines of the docs name units that enable."""
    docs = {"README.md": read(TOP_SRC, "README.md"),
            "man/pbsync.8": read(MAN_DIR, "pbsync.8")}
    lines = []
    for name, text in docs.items():
        text = text.replace("\\e\n", " ").replace("\\\n", " ")
        for m in re.finditer(r"systemctl enable --now ([\w.@ -]+)", text):
            lines.append((name, m.group(1).split()))
    if not lines:
        t.ok(False, "the docs show how to enable the units")
        return
    if shutil.which("systemctl") is None:
        t.skip("the documented systemctl enable lines work", "no systemctl")
        return
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "etc", "systemd", "system"))
    shutil.copytree(udir, os.path.join(root, "usr", "lib", "systemd",
                                       "system"))
    bad = []
    for name, names in lines:
        r = subprocess.run(["systemctl", "--root=" + root, "enable"] + names,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            bad.append("%s: %s\n%s" % (name, " ".join(names), r.stderr))
    t.ok(not bad, "the %d systemctl enable lines of README.md and pbsync.8 "
         "enable existing units" % len(lines), "\n".join(bad))


# -- manual pages --------------------------------------------------------
def check_lint(t):
    mandoc = shutil.which("mandoc")
    groff = shutil.which("groff")
    ours = {(p.rsplit(".", 1)[0], p.rsplit(".", 1)[1]) for p in PAGES}
    for p in PAGES:
        path = os.path.join(MAN_DIR, p)
        if mandoc is None or groff is None:
            t.skip("%s lints clean" % p, "no mandoc or groff")
            continue
        out = []
        r = subprocess.run([mandoc, "-T", "lint", "-W", "all", path],
                           capture_output=True, text=True, timeout=60)
        # Whether another package's page is installed is the machine's
        # business; references to this project's pages are checked below.
        out += [l for l in (r.stdout + r.stderr).splitlines()
                if "referenced manual not found" not in l]
        r = subprocess.run([groff, "-mandoc", "-ww", "-z", path],
                           capture_output=True, text=True, timeout=60)
        out += r.stderr.splitlines()
        if r.returncode != 0:
            out.append("groff exit %d" % r.returncode)
        for name, sec in re.findall(r"^\.Xr (pbsync\S*) (\d)", read(path),
                                    re.M):
            if (name, sec) not in ours:
                out.append("Xr %s %s: no such page in man/" % (name, sec))
        t.ok(not out, "%s: mandoc -T lint and groff -ww clean" % p,
             "\n".join(out))


def section(page, name):
    """The mdoc source of one .Sh section."""
    m = re.search(r"^\.Sh %s\n(.*?)(?=^\.Sh |\Z)" % re.escape(name), page,
                  re.M | re.S)
    return m.group(1) if m else ""


def check_conf(t):
    src = read(TOP_SRC, "src", "base", "conf.c")
    table = c_block(src, "keys[] =")
    keys = {}
    for m in re.finditer(r"\b([SBL])\((\w+)(?:,\s*([^,]+?),\s*([^)]+?))?\)",
                         table):
        keys[m.group(2)] = (m.group(1), m.group(3), m.group(4))
    for m in re.finditer(r"\{\s*\"(\w+)\",\s*(K_\w+)", table):
        keys[m.group(1)] = (m.group(2), None, None)
    macros = dict(re.findall(r"#define (PBSYNC_\w+) \"([^\"]*)\"", src))
    defaults = {}
    for m in re.finditer(r"\{\s*\"(\w+)\",\s*((?:PBSYNC_\w+\s*)?)\"([^\"]*)\"",
                         c_block(src, "defaults(struct conf")):
        defaults[m.group(1)] = macros.get(m.group(2).strip(), "") + m.group(3)
    t.ok(len(keys) >= 20 and set(keys) == set(defaults),
         "conf.c: %d keys, each with a default" % len(keys),
         "keys: %s\ndefaults: %s" % (sorted(keys), sorted(defaults)))

    page = read(MAN_DIR, "pbsync.conf.5")
    doc = {}
    items = re.split(r"^\.It ", section(page, "KEYS"), flags=re.M)[1:]
    for it in items:
        m = re.match(r"Ic (\w+) No =", it)
        if m:
            doc[m.group(1)] = it
    t.ok(not set(keys) - set(doc), "every key of conf.c is in pbsync.conf.5",
         sorted(set(keys) - set(doc)))
    t.ok(not set(doc) - set(keys), "every key of pbsync.conf.5 is in conf.c",
         sorted(set(doc) - set(keys)))

    bad = []
    for k in sorted(set(keys) & set(doc)):
        m = re.search(r"^Default:[ \t]*(\S*)[^\n]*\n(?:\.\w\w (\S+))?",
                      doc[k], re.M)
        got = m and (m.group(1) or m.group(2) or "").rstrip(".,")
        want = defaults.get(k)
        if got == "none":
            got = ""
        if got != want:
            bad.append("%s: page %r, conf.c %r" % (k, got, want))
    t.ok(not bad, "pbsync.conf.5 gives each key conf.c's default",
         "\n".join(bad))
    bad = []
    for k in sorted(set(keys) & set(doc)):
        kind, lo, hi = keys[k]
        m = re.search(r"^Range: (\d+) to (\d+)\.$", doc[k], re.M)
        if kind != "L":
            if m:
                bad.append("%s: a range for a key that has none" % k)
            continue
        want = (c_int(lo), c_int(hi))
        got = (int(m.group(1)), int(m.group(2))) if m else None
        if got != want:
            bad.append("%s: page %s, conf.c %s" % (k, got, want))
    t.ok(not bad, "pbsync.conf.5 gives each numeric key conf.c's range",
         "\n".join(bad))
    t.ok('"PBSYNC_%s"' in src and "PBSYNC_ Ns Ar KEY" in page,
         "conf.c and pbsync.conf.5 both name the variables PBSYNC_<KEY>")


# What an .It line of pbsyncctl.8's COMMANDS may hold, and how it reads.
MDOC_WORDS = {"Cm": str, "Ic": str, "Li": str, "Ar": str.upper,
              "Fl": lambda w: "-" + w}


def mdoc_text(line):
    """The plain text of the macros of an .It line, as pbsyncctl's help
    writes a synopsis: "Cm retry Ar id job" -> "retry ID JOB", "Op Ar x"
    -> "[X]", "Oo Fl -url Ar url Oc" -> "[--url URL]"."""
    out, how, shut = [], str, 0
    for tok in line.split():
        if tok in MDOC_WORDS:
            how = MDOC_WORDS[tok]
        elif tok in ("Op", "Oo"):
            out.append("[")
            shut += tok == "Op"
            how = str
        elif tok == "Oc":
            out.append("]")
        elif re.fullmatch(r"[A-Z][a-z]", tok):
            raise ValueError("macro %s in %r: teach mdoc_text it" % (tok,
                                                                     line))
        else:
            out.append(tok if tok in ("|", "...") else how(tok))
    text = " ".join(out + ["]"] * shut)
    return text.replace("[ ", "[").replace(" ]", "]")


def man_commands(page):
    """{synopsis: its item's mdoc} of the outer list of COMMANDS."""
    items, depth, cur = {}, 0, None
    for line in section(page, "COMMANDS").splitlines():
        if line.startswith(".Bl"):
            depth += 1
        elif line.startswith(".El"):
            depth -= 1
        elif depth == 1 and line.startswith(".It "):
            cur = mdoc_text(line[4:])
            items[cur] = ""
        if cur is not None:
            items[cur] += line + "\n"
    return items


def man_flags(mdoc):
    """The options an mdoc text names: "Fl -role" -> "--role"."""
    return {"-" + f for f in re.findall(r"\bFl (-?[a-z][a-z-]*)", mdoc)}


def words_of(synopsis):
    """A command's words: "channel rotate ID webhook" -> "channel rotate"."""
    w = []
    for tok in synopsis.split():
        if not re.fullmatch(r"[a-z]+", tok):
            break
        w.append(tok)
    return w


def help_list(text):
    """The synopses of "pbsyncctl --help": the lines "  synopsis  summary"
    (a synopsis has single spaces; a long one stands alone)."""
    return [l[2:].split("  ")[0] for l in text.splitlines()
            if re.match(r"  [a-z]", l)]


def help_options(text):
    """The options of "pbsyncctl help COMMAND": its Options: lines."""
    part = text.split("\nOptions:\n", 1)
    return {l.split()[0] for l in part[1].splitlines()
            if l.startswith("  -")} if len(part) == 2 else set()


def ctl(*args):
    """pbsyncctl of this build, with a configuration that does not exist:
    help and usage must not need one."""
    env = dict(os.environ, PBSYNC_CONFIG=os.path.join(
        tempfile.gettempdir(), "pbsync-ops-no-such.conf"))
    return subprocess.run([os.path.join(TOP_BUILD, "src", "pbsyncctl")] +
                          list(args), env=env, capture_output=True,
                          text=True, timeout=60)


def check_ctl(t):
    page = read(MAN_DIR, "pbsyncctl.8")
    try:
        doc = man_commands(page)
    except ValueError as e:
        t.ok(False, "pbsyncctl.8: COMMANDS reads as synopses", e)
        return
    r = ctl("--help")
    listed = help_list(r.stdout)
    t.ok(r.returncode == 0 and not r.stderr and len(listed) >= 20,
         "pbsyncctl --help: %d commands on stdout, exit 0, without a "
         "configuration" % len(listed),
         "exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    t.ok(not set(listed) - set(doc),
         "every command of pbsyncctl --help is in pbsyncctl.8, with the "
         "same synopsis", "\n".join(sorted(set(listed) - set(doc))) +
         "\n(pbsyncctl.8 has: %s)" % sorted(doc))
    t.ok(not set(doc) - set(listed),
         "every command of pbsyncctl.8 is in pbsyncctl --help, with the "
         "same synopsis", "\n".join(sorted(set(doc) - set(listed))))
    same = [ctl(a).stdout for a in ("-h", "help")]
    t.ok(same == [r.stdout] * 2, "pbsyncctl -h and pbsyncctl help print the "
         "list as --help does")

    bad, helped = [], set()
    for syn in listed:
        w = words_of(syn)
        one, two = ctl("help", *w), ctl(*w, "--help")
        head = one.stdout.split("\n", 1)[0]
        if one.returncode != 0 or head != "usage: pbsyncctl " + syn:
            bad.append("help %s: exit %d, %r" % (" ".join(w), one.returncode,
                                                  head))
        if two.stdout != one.stdout or two.returncode != 0:
            bad.append("%s --help differs from help %s" % (" ".join(w),
                                                          " ".join(w)))
        opts = help_options(one.stdout)
        helped |= opts
        if syn in doc and opts != man_flags(doc[syn]):
            bad.append("%s: help %s, pbsyncctl.8 %s" % (
                syn, sorted(opts), sorted(man_flags(doc[syn]))))
    t.ok(listed and not bad, "pbsyncctl help COMMAND and COMMAND --help: "
         "each command's synopsis, and the options its item of "
         "pbsyncctl.8 names, no other", "\n".join(bad))

    src = "".join(read(TOP_SRC, "src", "cli", f) for f in sorted(
        os.listdir(os.path.join(TOP_SRC, "src", "cli"))) if f.endswith(".c"))
    code = set(re.findall(r'strcmp\([^;]*?"(-{1,2}[a-z][a-z-]*)"', src))
    docopts = man_flags(page)
    t.ok(code and code == helped == docopts,
         "the options pbsyncctl's code compares against, its help and "
         "pbsyncctl.8 name the same", "code: %s\nhelp: %s\npage: %s" % (
             sorted(code), sorted(helped), sorted(docopts)))
    envs = set(re.findall(r'getenv\("(PBSYNC_\w+)"\)', src))
    docenv = set(re.findall(r"\bEv (PBSYNC_\w+)", page))
    t.ok(envs and envs <= docenv,
         "pbsyncctl.8 documents the variables pbsyncctl.c reads",
         sorted(envs - docenv))

    # A command line it cannot run: the usage on stderr, exit 2; of the
    # command's group when its first word names one, else of all.
    cases = [((), ""), (("no-such-command",), ""), (("links",), "links"),
             (("integration", "nope"), "integration"),
             (("help", "no-such-command"), "")]
    bad = []
    for args, group in cases:
        r = ctl(*args)
        shown = sorted(re.findall(r"^(?:usage:| +) pbsyncctl (.*)$",
                                  r.stderr, re.M))
        want = sorted(x for x in listed if x.split()[0] == group or
                      not group)
        if r.returncode != 2 or r.stdout or "usage:" not in r.stderr or \
                shown != want:
            bad.append("%s: exit %d, stdout %r, stderr %r" % (
                args, r.returncode, r.stdout[:80], r.stderr[:300]))
    t.ok(not bad, "a command line pbsyncctl cannot run: the usage (of the "
         "command's group) on stderr, nothing on stdout, exit 2",
         "\n".join(bad))
    r = ctl("help", "integration")
    t.ok(r.returncode == 0 and sorted(help_list(r.stdout)) == sorted(
        s for s in listed if s.startswith("integration ")),
        "pbsyncctl help integration: the integration commands only",
        r.stdout + r.stderr)


# -- socket activation ---------------------------------------------------
def load_wire():
    path = os.path.join(TOP_SRC, "tests", "e2e", "wire.py")
    spec = importlib.util.spec_from_file_location("wire", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stop_seconds(unit):
    m = re.search(r"^TimeoutStopSec=(\d+)s?$", read(UNIT_DIR, unit + ".in"),
                  re.M)
    return int(m.group(1)) if m else 90


def check_activation(t, tmp):
    what = "socket activation"
    if shutil.which("systemd-socket-activate") is None:
        t.skip(what, "no systemd-socket-activate")
        return
    wire = load_wire()
    d = os.path.join(tmp, "run")
    os.makedirs(d)
    env = dict(os.environ)
    env.update({
        "PBSYNC_CONFIG": os.path.join(d, "pbsync.conf"),
        "PBSYNC_DATABASE": os.path.join(d, "pbsync.db"),
        "PBSYNC_KEY_FILE": os.path.join(d, "pbsync.key"),
        "PBSYNC_TEMPLATES": os.path.join(TOP_SRC, "templates"),
        "PBSYNC_LOG_FILE": os.path.join(d, "pbsync.log"),
        "PBSYNC_LOG_LEVEL": "debug",
    })
    with open(env["PBSYNC_CONFIG"], "w") as f:
        f.write("# written by tests/ops/test_ops.py\n")
    r = subprocess.run([os.path.join(TOP_BUILD, "src", "pbsyncctl"), "init"],
                       env=env, capture_output=True, text=True, timeout=60)
    if not t.ok(r.returncode == 0, "pbsyncctl init", r.stderr):
        return
    sock = os.path.join(d, "plugin.sock")
    # As the unit: the listening socket as fd 0 (--inetd without --accept),
    # stdout and stderr elsewhere (StandardOutput=journal).
    passed = [k for k in env if k.startswith("PBSYNC_") or
              k.endswith("SAN_OPTIONS") or k == "LD_PRELOAD"]
    cmd = ["systemd-socket-activate", "-l", sock, "--inetd"]
    for k in passed:
        cmd += ["-E", k]
    cmd += ["/bin/sh", "-c", 'exec "$0" >&2',
            os.path.join(TOP_BUILD, "cgi-bin", "pbsync-plugin")]
    errlog = open(os.path.join(d, "activate.stderr"), "w")
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                         stdout=errlog, stderr=errlog)
    try:
        end = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < end:
            time.sleep(0.05)
        params = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/healthz",
                  "REQUEST_URI": "/healthz", "DOCUMENT_URI": "/healthz",
                  "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1"}
        got = []
        for _ in range(2):
            try:
                st, _, body = wire.fcgi(sock, params, b"", timeout=15)
                got.append((st, json.loads(body or b"null")))
            except (OSError, ValueError) as e:
                got.append(("error", str(e)))
        first = got[0]
        t.ok(first[0] == 200 and isinstance(first[1], dict) and
             first[1].get("program") == "pbsync-plugin" and
             first[1].get("database") == "ok",
             "pbsync-plugin started on its first connection, the socket as "
             "fd 0, answers a FastCGI GET /healthz with 200", got)
        t.ok(got[1] == got[0] and p.poll() is None,
             "and serves the next request in the same process (FastCGI, "
             "not CGI)", "%s, exit %s" % (got, p.poll()))
        limit = stop_seconds("pbsync-plugin.service")
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            rc = "still running"
        t.ok(rc == 0, "SIGTERM stops it with status 0 within the unit's "
             "TimeoutStopSec=%ds" % limit, "exit %s\n%s" % (
                 rc, read(d, "activate.stderr")[-2000:]))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        errlog.close()


def main():
    t = Tap()
    tmp = tempfile.mkdtemp(prefix="pbsync-ops-")
    try:
        udir = check_units(t, tmp)
        check_enable_lines(t, tmp, udir)
        check_lint(t)
        check_conf(t)
        check_ctl(t)
        check_activation(t, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
