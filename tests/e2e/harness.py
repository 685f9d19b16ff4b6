"""End-to-end harness: a real nginx, the real FastCGI programs, a real
SQLite file and the test doubles, all on loopback in a temporary directory.

Every test file builds a Stack, talks HTTP to it and reports TAP through
Tap, which automake's TAP driver counts.

With PBSYNC_E2E_DB=postgresql the stacks keep their state in PostgreSQL
instead, each in a schema of its own: of the server PBSYNC_TEST_PG names,
or of a throwaway one (tests/pg/cluster) the suite starts and stops.  A
suite may also pick the engine per stack, and start a second app host on
the database and doubles of a first (Stack(share=...)).
"""
import atexit
import contextlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

TOP_SRC = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_BUILD = os.environ.get("top_builddir") or TOP_SRC
PROGRAMS = ("admin", "plugin", "pbhook", "glhook")
# The Productboard double's request and delivery logs, dumped at teardown
# and checked against the OpenAPI descriptions by a python3 with jsonschema.
PB_DUMP = "pb-traffic.json"
CONTRACT_PYTHON = os.environ.get("PBSYNC_CONTRACT_PYTHON", "/usr/bin/python3")


class Tap:
    """TAP output: one line per check, the plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        # The tracker a parametrised suite runs against, before each check.
        self.prefix = ""

    def ok(self, cond, what, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s%s" % ("" if cond else "not ", self.n,
                                  self.prefix, what))
        if not cond and detail is not None:
            for line in str(detail).splitlines()[:20]:
                print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, what, "got:  %r\nwant: %r" % (got, want))

    def skip(self, what, reason):
        self.n += 1
        print("ok %d - %s%s # SKIP %s" % (self.n, self.prefix, what, reason))
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


# -- PostgreSQL ------------------------------------------------------------
PG = os.environ.get("PBSYNC_E2E_DB") == "postgresql"
_pg = {"uri": os.environ.get("PBSYNC_TEST_PG"), "cluster": None, "n": 0}


class NoPostgres(RuntimeError):
    """No PostgreSQL server is installed here (tests/pg/cluster exits 77)."""


def _pg_stop():
    c = _pg["cluster"]
    if c is not None and c.poll() is None:
        c.send_signal(signal.SIGTERM)
        c.wait(60)


def pg_database():
    """A new empty schema for a stack: the URI that names it."""
    if not _pg["uri"]:
        _pg["cluster"] = subprocess.Popen(
            [os.path.join(TOP_SRC, "tests", "pg", "cluster")],
            stdout=subprocess.PIPE, text=True)
        atexit.register(_pg_stop)
        _pg["uri"] = _pg["cluster"].stdout.readline().strip()
        if not _pg["uri"]:
            if _pg["cluster"].wait() == 77:
                raise NoPostgres("no PostgreSQL server here (apt-get "
                                 "install postgresql)")
            raise RuntimeError("tests/pg/cluster started no server")
    _pg["n"] += 1
    schema = "e2e_%d_%d" % (os.getpid(), _pg["n"])
    return pg_schema(schema), schema


def pg_schema(schema):
    """Creates the schema afresh on the server of pg_database(): the URI
    that names it."""
    # unixepoch(): the suites' SQL uses SQLite's.
    pg_sql(_pg["uri"], "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s;"
           " CREATE FUNCTION %s.unixepoch() RETURNS bigint LANGUAGE sql AS"
           " 'SELECT floor(extract(epoch FROM now()))::bigint'"
           % (schema, schema, schema))
    return "%s%soptions=-csearch_path%%3D%s" % (
        _pg["uri"], "&" if "?" in _pg["uri"] else "?", schema)


def db_sql(database, query, *args):
    """query on the database PBSYNC_DATABASE would name, of either engine:
    its rows, the transaction committed."""
    if database.startswith(("postgresql:", "postgres:")):
        return pg_sql(database, query, *args)
    import sqlite3
    db = sqlite3.connect(database, timeout=10)
    try:
        rows = db.execute(query, args).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


def pg_own_server():
    """Makes the suite's stacks keep their state on a throwaway server of
    its own, which pg_server() may stop and start, whatever
    PBSYNC_TEST_PG names."""
    _pg["uri"] = None


def pg_server(up):
    """Stops the suite's own server (fast shutdown: every session ended,
    new connections refused) or starts it again with the options it was
    started with.  Returns pg_ctl's exit status."""
    import shlex
    if _pg["cluster"] is None:
        raise RuntimeError("pg_server: the server is not the suite's own")
    host = urllib.parse.parse_qs(urllib.parse.urlsplit(
        _pg["uri"]).query)["host"][0]
    data = os.path.join(host, "data")
    as_owner = ["setpriv", "--reuid=nobody", "--regid=nogroup",
                "--init-groups"] if os.getuid() == 0 else []
    # The server's command line, kept in its directory: postgres -D DATA
    # and the options tests/pg/cluster gave it.
    opts = shlex.split(open(os.path.join(data, "postmaster.opts")).read())
    ctl = [os.path.join(os.path.dirname(opts[0]), "pg_ctl"), "-D", data,
           "-w"]
    if not up:
        cmd = ctl + ["-m", "fast", "stop"]
    else:
        cmd = ctl + ["-l", os.path.join(host, "server.log"), "-o",
                     " ".join(map(shlex.quote, opts[3:])), "start"]
    return subprocess.run(as_owner + cmd, stdout=subprocess.DEVNULL,
                          timeout=120).returncode


class Psql:
    """One psql session fed through a pipe: each query is followed by an
    echo of a token of its own, the end of its output, so that a query
    costs a round trip to the server instead of a process and a
    connection.  psql stops at an error (ON_ERROR_STOP), so a failed
    query ends its session, what it said kept in a file."""

    def __init__(self, uri):
        self.err = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
             uri], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.err, text=True)
        self.token = "@@end-" + os.urandom(8).hex()
        self.buf = b""

    def run(self, q, timeout=60):
        """The lines q printed; RuntimeError with psql's words if it
        failed or timed out, the session then closed."""
        try:
            self.p.stdin.write("%s\n;\n\\echo '%s'\n" % (q, self.token))
            self.p.stdin.flush()
        except OSError:
            pass
        fd = self.p.stdout.fileno()
        end = time.monotonic() + timeout
        while (self.token + "\n").encode() not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.close()
                raise RuntimeError("psql: no answer in %d s" % timeout)
            got = os.read(fd, 65536)
            if not got:
                self.err.seek(0)
                said = self.err.read().strip()
                self.close()
                raise RuntimeError("psql: " + said)
            self.buf += got
        out, _, self.buf = self.buf.partition((self.token + "\n").encode())
        return out.decode().splitlines()

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.err.close()


# The sessions of pg_sql, by URI, least recently used first: a few, for
# the stacks alive at once; one query at a time, whatever the thread.
_psql = {}
_psql_lock = threading.Lock()


def _psql_close():
    while _psql:
        _psql.pop(next(iter(_psql))).close()


atexit.register(_psql_close)


def pg_session(uri):
    s = _psql.pop(uri, None)
    if s is None or s.p.poll() is not None:
        s = Psql(uri)
    _psql[uri] = s
    while len(_psql) > 4:
        _psql.pop(next(iter(_psql))).close()
    return s


def pg_run(uri, q):
    """The lines q printed in the session of uri, opened again once if
    its connection was lost (the server restarted, the session ended)."""
    with _psql_lock:
        try:
            return pg_session(uri).run(q)
        except RuntimeError as e:
            if not re.search(r"connection to server was lost|terminating "
                             r"connection|server closed the connection",
                             str(e)):
                raise
        return pg_session(uri).run(q)


def pg_bind(query, args):
    """query with its ? and ?N placeholders (as sqlite3 numbers them,
    quoted text left alone) replaced by args as SQL literals."""
    n = [0]

    def value(m):
        if m.group(0).startswith("'"):
            return m.group(0)
        i = int(m.group(1)) - 1 if m.group(1) else n[0]
        n[0] = max(n[0], i + 1)
        if i >= len(args):
            return m.group(0)
        if args[i] is None:
            return "NULL"
        return "'%s'" % str(args[i]).replace("'", "''")
    return re.sub(r"'[^']*'|\?(\d*)", value, query)


def pg_sql(uri, query, *args):
    """Runs query (? and ?N placeholders, as sqlite3 takes them) in the
    session of uri, the values bound as text literals: the rows of a
    SELECT as tuples, each value as JSON has it (numbers, text, None)."""
    q = pg_bind(query, args)
    rows = re.match(r"\s*(SELECT|WITH)\b", query, re.I) is not None
    if rows:
        q = "SELECT row_to_json(q) FROM (%s) q" % q
    try:
        lines = pg_run(uri, q)
    except RuntimeError as e:
        raise RuntimeError("%s: %s" % (query, e))
    if not rows:
        return []
    # Pairs, not a dict: two columns may have one name (count, count).
    return [json.loads(line, object_pairs_hook=lambda kv: tuple(
        v for _, v in kv)) for line in lines if line]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, step=0.05):
    """Polls pred until it returns a true value or timeout passes."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class Double:
    """A running test double and its control API."""

    def __init__(self, script, rundir, name, extra=()):
        log = open(os.path.join(rundir, name + ".log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable or "python3", os.path.join(
                TOP_SRC, "tests", "doubles", script), "--port", "0"] +
            list(extra), stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError("%s did not start: %r" % (name, line))
        self.url = line.split("listening on", 1)[1].strip()
        # The request and delivery logs as a suite clears them, and every
        # fault it injected: for the contract check at teardown.
        self.kept = {"requests": [], "deliveries": []}
        self.faults = []

    def call(self, method, path, body=None, timeout=30):
        if method == "POST" and path == "/_double/faults":
            self.faults.append(body)
        for log in self.kept:
            if (method, path) in (("DELETE", "/_double/" + log),
                                  ("POST", "/_double/reset")):
                self.kept[log] += self.call("GET", "/_double/" + log) or []
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
        return json.loads(raw) if raw else None

    def requests(self, pattern=None):
        q = "?path=" + urllib.parse.quote(pattern) if pattern else ""
        return self.call("GET", "/_double/requests" + q)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def masked(v):
    """v with every "authorization" value (headers, callback settings)
    replaced by as many '*': the logs must not carry secrets."""
    if isinstance(v, list):
        return [masked(x) for x in v]
    if not isinstance(v, dict):
        return v
    return {k: "*" * len(x) if k.lower() == "authorization" and
            isinstance(x, str) else masked(x) for k, x in v.items()}


class AdminSession:
    """The admin pages as a logged-in browser would use them: a user
    added with pbsyncctl, a cookie jar, forms; redirects not followed."""

    def __init__(self, stack, user="ops", password="admin session password"):
        self.s, self.jar = stack, {}
        stack.ctl("admin", "add", user, input=password + "\n")
        page = self.req("GET", "/admin/login")[1]
        csrf = re.search(r'name="csrf" value="([^"]*)"', page)
        self.status = self.req("POST", "/admin/login", {
            "csrf": csrf.group(1) if csrf else "", "user": user,
            "password": password})[0]

    def req(self, method, path, form=None):
        """(status, body text) of one request with the session's cookies."""
        c = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=60)
        h = {"Cookie": "; ".join("%s=%s" % kv for kv in self.jar.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        for sc in r.msg.get_all("Set-Cookie") or []:
            name, _, rest = sc.partition("=")
            self.jar[name] = rest.split(";")[0]
        c.close()
        return r.status, text

    def get(self, path):
        return self.req("GET", path)


class Stack:
    """nginx + the four programs (+ the doubles) on a loopback port."""

    def __init__(self, doubles=True, env=None, children=2,
                 inbound_rate="50r/s", github=False, tracker="gitlab",
                 jira=False, db=None, share=None):
        """tracker names the tracker the suite runs against (its double
        is self.td, its adapter from tests/e2e/trackers.py self.tr);
        github=True (jira=True) starts GitHub's (Jira's) double as
        well.  db ("postgresql" or "sqlite") overrides PBSYNC_E2E_DB;
        share, a running Stack, makes this one a second app host of it:
        its database, key file and doubles, which that Stack stops."""
        import trackers
        self.inbound_rate = inbound_rate
        self.dir = tempfile.mkdtemp(prefix="pbsync-e2e-")
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.procs = {}
        self.pb = self.gl = self.gh = self.jr = None
        self.shared = share is not None
        if share is not None:
            self.pb, self.gl, self.gh, self.jr = (share.pb, share.gl,
                                                  share.gh, share.jr)
            doubles = False
        if doubles:
            self.pb = Double("pbdouble.py", self.dir, "pbdouble")
        if doubles and (tracker == "gitlab" or github):
            self.gl = Double("gldouble.py", self.dir, "gldouble")
        if doubles and (tracker == "github" or github):
            self.gh = Double("ghdouble.py", self.dir, "ghdouble")
        if doubles and (tracker == "jira" or jira):
            self.jr = Double("jiradouble.py", self.dir, "jiradouble")
        self.tr = trackers.by_kind(tracker)(self)
        self.td = self.tr.d
        self.env = dict(os.environ)
        self.schema = None
        self.pg = PG if db is None else db == "postgresql"
        if share is not None:
            self.pg = share.pg
            database = share.env["PBSYNC_DATABASE"]
        elif self.pg:
            database, self.schema = pg_database()
        else:
            database = os.path.join(self.dir, "pbsync.db")
        self.env.update({
            "PBSYNC_CONFIG": os.path.join(self.dir, "pbsync.conf"),
            "PBSYNC_DATABASE": database,
            "PBSYNC_KEY_FILE": share.env["PBSYNC_KEY_FILE"] if share else
            os.path.join(self.dir, "pbsync.key"),
            "PBSYNC_PUBLIC_URL": self.base,
            "PBSYNC_TEMPLATES": os.path.join(TOP_SRC, "templates"),
            "PBSYNC_LOG_FILE": os.path.join(self.dir, "pbsync.log"),
            "PBSYNC_LOG_LEVEL": "debug",
            "PBSYNC_ALLOW_PRIVATE_UPSTREAMS": "true",
            "PBSYNC_HTTP_TIMEOUT_MS": "8000",
        })
        if self.pb is not None:
            self.env["PBSYNC_PRODUCTBOARD_API_URL"] = self.pb.url
        if os.environ.get("PBSYNC_E2E_VALGRIND"):
            # memcheck runs code some 30 times slower: CPU time with it,
            # and a push's first call (libraries' first use) takes seconds.
            self.env["PBSYNC_CPU_BUDGET_S"] = "600"
            self.env["PBSYNC_PUSH_BUDGET_MS"] = "4500"
        # What a wait for heavy work (megabytes converted) is multiplied by.
        self.slow = 4 if os.environ.get("PBSYNC_E2E_VALGRIND") else 1
        self.env.update(env or {})
        if self.schema is not None:
            # Its sessions by name, for end_connections().
            self.env.setdefault("PGAPPNAME", "pbsync-" + self.schema)
        with open(self.env["PBSYNC_CONFIG"], "w") as f:
            f.write("# written by the e2e harness\nlog_level = debug\n")
        self.ctl("init")
        for p in PROGRAMS:
            self.start_program(p, children)
        self.start_nginx()

    # -- processes -------------------------------------------------------
    def binary(self, name):
        if name == "pbsyncctl":
            return os.path.join(TOP_BUILD, "src", "pbsyncctl")
        return os.path.join(TOP_BUILD, "cgi-bin", "pbsync-" + name)

    def wrap(self):
        """With PBSYNC_E2E_VALGRIND set, the programs, the worker and
        pbsyncctl run under memcheck, a log per process (children of a
        fork included) that sanitizer_reports() reads.  Leaks are left to
        LeakSanitizer: a killed program's heap is not a leak."""
        if not os.environ.get("PBSYNC_E2E_VALGRIND"):
            return []
        return ["valgrind", "-q", "--error-exitcode=99", "--leak-check=no",
                "--track-origins=yes", "--trace-children=no",
                "--log-file=" + os.path.join(self.dir, "vg.%p.stderr")]

    def ctl(self, *args, input=None, env=None, check=True):
        e = dict(self.env)
        e.update(env or {})
        r = subprocess.run(self.wrap() + [self.binary("pbsyncctl")] + list(args),
                           env=e, input=input, capture_output=True,
                           text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("pbsyncctl %s failed: %s" % (args, r.stderr))
        return r

    def start_program(self, name, children=2):
        sock = os.path.join(self.dir, name + ".sock")
        log = open(os.path.join(self.dir, name + ".stderr"), "a")
        self.procs[name] = subprocess.Popen(
            self.wrap() + [self.binary(name), "-s", sock, "-n", str(children)],
            env=self.env, stdout=log, stderr=log, start_new_session=True)
        if not wait_for(lambda: os.path.exists(sock), 10):
            raise RuntimeError("%s did not create its socket" % name)

    def stop_program(self, name, sig=signal.SIGTERM):
        p = self.procs.pop(name)
        os.killpg(p.pid, sig)
        p.wait(10)

    def start_worker(self):
        log = open(os.path.join(self.dir, "worker.stderr"), "a")
        self.procs["worker"] = subprocess.Popen(
            self.wrap() + [self.binary("pbsyncctl"), "worker"], env=self.env,
            stdout=log, stderr=log, start_new_session=True)

    def start_nginx(self):
        subst = {"@PORT@": str(self.port), "@RUNDIR@": self.dir,
                 "@SOCKDIR@": self.dir, "@DAEMON@": "off",
                 "@NGINXDIR@": os.path.join(TOP_SRC, "nginx"),
                 "@INBOUND_RATE@": self.inbound_rate,
                 # As root, nginx workers would drop to nobody and lose
                 # access to the 0660 sockets: keep them as this user.
                 "@USERLINE@": "user root root;" if os.getuid() == 0 else ""}
        for src, dst in (("routes.conf.in", "routes.conf"),
                         ("dev.conf.in", "nginx.conf")):
            text = open(os.path.join(TOP_SRC, "nginx", src)).read()
            for k, v in subst.items():
                text = text.replace(k, v)
            open(os.path.join(self.dir, dst), "w").write(text)
        os.makedirs(os.path.join(self.dir, "nginx-tmp"), exist_ok=True)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.procs["nginx"] = subprocess.Popen(
            [nginx, "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
             "-e", os.path.join(self.dir, "nginx-error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        if not wait_for(lambda: self.up(), 10):
            raise RuntimeError("nginx did not come up: " +
                               self.log("nginx-error.log")[-2000:])

    def up(self):
        try:
            return self.request("GET", "/healthz").status in (200, 503)
        except OSError:
            return False

    def sanitizer_reports(self):
        """Sanitizer findings in the programs' stderr files, if any."""
        out = []
        for f in sorted(os.listdir(self.dir)):
            if f.endswith(".stderr"):
                text = self.log(f)
                for mark in ("ERROR: AddressSanitizer", "runtime error:",
                             "ERROR: LeakSanitizer", "Invalid read",
                             "Invalid write", "uninitialised",
                             "Invalid free", "Mismatched free"):
                    if mark in text:
                        out.append("%s: %s" % (f, text[text.index(mark):]
                                               .splitlines()[0]))
        return out

    def stop(self, tap=None):
        """Stops everything; with a Tap, first checks that no program
        reported a sanitizer finding (the suite runs under ASan+UBSan)."""
        if tap is not None:
            tap.eq(self.sanitizer_reports(), [],
                   "no sanitizer report from any program")
        for name in list(self.procs):
            p = self.procs.pop(name)
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                # A program that ignores SIGTERM (a broken build) must not
                # outlive its suite.
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        if self.pb is not None and not self.shared:
            self.check_pb_requests(tap)
        for d in (self.pb, self.gl, self.gh, self.jr):
            if d is not None and not self.shared:
                d.stop()
        self.save_logs()
        if os.environ.get("PBSYNC_KEEP_E2E"):
            print("# kept " + self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
            if self.schema is not None:
                pg_sql(_pg["uri"], "DROP SCHEMA %s CASCADE" % self.schema)

    def check_pb_requests(self, tap):
        """Dumps the Productboard double's request and delivery logs
        (authorization values masked) to PB_DUMP; with a Tap, holds
        pbsync's requests, the double's callbacks and pbsync's answers to
        them against the OpenAPI descriptions, in one TAP line
        (tests/contract/check_pb_requests.py)."""
        what = "Productboard traffic conforms to the v2 OpenAPI descriptions"
        dump = {"public_url": self.env["PBSYNC_PUBLIC_URL"],
                "faults": self.pb.faults}
        try:
            for log in self.pb.kept:
                dump[log] = masked(self.pb.kept[log] + (
                    self.pb.call("GET", "/_double/" + log) or []))
        except (OSError, ValueError) as e:
            if tap is not None:
                tap.ok(False, what, "the double's logs are unreadable: %s"
                       % e)
            return
        path = os.path.join(self.dir, PB_DUMP)
        with open(path, "w") as f:
            json.dump(dump, f, indent=1)
        if tap is None:
            return
        try:
            r = subprocess.run([CONTRACT_PYTHON, os.path.join(
                TOP_SRC, "tests", "contract", "check_pb_requests.py"), path],
                capture_output=True, text=True, timeout=120)
        except OSError as e:
            return tap.skip(what, "%s: %s" % (CONTRACT_PYTHON, e))
        out = r.stdout.strip().splitlines() or [r.stderr.strip()]
        if r.returncode == 77:
            return tap.skip(what, out[0])
        tap.ok(r.returncode == 0, "%s (%s)" % (what, out[0]),
               "\n".join(out[1:]) or r.stderr)

    def log_names(self):
        """The stack's own log files: pbsync's, the programs' stderr,
        nginx's and pbsync's traffic with Productboard (PB_DUMP); not the
        doubles' own logs, which are test equipment."""
        return sorted(f for f in os.listdir(self.dir) if f == "pbsync.log"
                      or f == PB_DUMP or f.endswith(".stderr") or
                      f.startswith("nginx-") and f.endswith(".log"))

    def save_logs(self):
        """With PBSYNC_E2E_LOGDIR set, copies the stack's logs there, one
        directory per stack, so a whole run can be searched afterwards."""
        top = os.environ.get("PBSYNC_E2E_LOGDIR")
        if not top:
            return
        suite = os.path.splitext(os.path.basename(sys.argv[0]))[0]
        os.makedirs(top, exist_ok=True)
        dst = tempfile.mkdtemp(prefix=suite + ".", dir=top)
        for f in self.log_names():
            shutil.copy(os.path.join(self.dir, f), dst)

    def log(self, name="pbsync.log"):
        try:
            return open(os.path.join(self.dir, name)).read()
        except OSError:
            return ""

    # -- HTTP ------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()},
                        r.read())
        c.close()
        return resp

    def add_integration(self, iid, secret):
        """Inserts an integration row as the create flow stores it: the
        secrets as BLAKE2b-256 hashes of the header values we registered."""
        import hashlib
        h = lambda v: hashlib.blake2b(v.encode(), digest_size=32).hexdigest()
        now = time.time()
        self.sql("INSERT INTO integration (id, name, column_label, pb_token,"
                 " pb_token_tail, tracker_kind, tracker_url, tracker_token,"
                 " tracker_token_tail, tracker_project, tracker_project_name,"
                 " plugin_secret, pb_hook_secret, tracker_hook_secret,"
                 " created_at, updated_at)"
                 " VALUES (?, 'n', 'GitLab', 'v1.x', '', 'gitlab',"
                 " 'http://127.0.0.1:9', 'v1.x', '', '1', 'g/p', ?, ?, ?, ?,"
                 " ?)", iid,
                 h("Bearer " + secret), h("Bearer " + secret), h(secret),
                 now, now)

    def table_counts(self):
        """Rows of every table of the database: {name: count}; not the
        metric table, whose counters count every request, refused ones
        too (one row per route and status, a fixed set)."""
        if self.pg:
            names = [r[0] for r in self.sql(
                "SELECT table_name FROM information_schema.tables WHERE"
                " table_schema = current_schema() AND table_name NOT IN"
                " ('metric', 'pbsync_schema') ORDER BY table_name")]
            return {n: self.sql('SELECT count(*) FROM "%s"' % n)[0][0]
                    for n in names}
        import sqlite3
        db = sqlite3.connect(self.env["PBSYNC_DATABASE"], timeout=10)
        try:
            names = [r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND"
                " name NOT LIKE 'sqlite_%' AND name != 'metric'"
                " ORDER BY name")]
            return {n: db.execute('SELECT count(*) FROM "%s"' % n)
                    .fetchone()[0] for n in names}
        finally:
            db.close()

    def counts(self):
        return {t: self.sql("SELECT count(*) FROM " + t)[0][0] for t in
                ("integration", "link", "job", "delivery", "sync_log")}

    # -- database --------------------------------------------------------
    def sql(self, query, *args):
        return db_sql(self.env["PBSYNC_DATABASE"], query, *args)

    def sql_many(self, query, rows):
        """query once for each tuple of rows, in one transaction."""
        if self.pg:
            pg_run(self.env["PBSYNC_DATABASE"], "BEGIN;\n%s;\nCOMMIT"
                   % ";\n".join(pg_bind(query, r) for r in rows))
            return
        import sqlite3
        db = sqlite3.connect(self.env["PBSYNC_DATABASE"], timeout=10)
        with db:
            db.executemany(query, rows)
        db.close()

    @contextlib.contextmanager
    def hold_lock(self):
        """Another client holding the database's write lock while the
        block runs: reads go on, writes wait.  SQLite: BEGIN IMMEDIATE;
        PostgreSQL: a transaction that locks every table IN EXCLUSIVE
        MODE, which only reads (ACCESS SHARE) get past."""
        if self.pg:
            held = Psql(self.env["PBSYNC_DATABASE"])
            try:
                held.run("BEGIN; DO $$DECLARE t text; BEGIN FOR t IN SELECT"
                         " quote_ident(tablename) FROM pg_tables WHERE"
                         " schemaname = current_schema() LOOP EXECUTE"
                         " 'LOCK TABLE ' || t || ' IN EXCLUSIVE MODE';"
                         " END LOOP; END$$")
                yield
                held.run("ROLLBACK")
            finally:
                held.close()
            return
        import sqlite3
        db = sqlite3.connect(self.env["PBSYNC_DATABASE"], timeout=10,
                             isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            db.execute("ROLLBACK")
            db.close()

    def db_copy(self, name, *updates):
        """A copy of the database as it is now, with updates applied to
        it: its PBSYNC_DATABASE (SQLite: the file name in the stack's
        directory; PostgreSQL: a schema of its own, dropped at exit)."""
        if self.pg:
            schema = "%s_%s" % (self.schema, re.sub(r"\W", "_", name))
            database = pg_schema(schema)
            atexit.register(pg_sql, _pg["uri"], "DROP SCHEMA %s CASCADE"
                            % schema)
            pg_sql(_pg["uri"], "DO $$DECLARE t text; BEGIN FOR t IN SELECT"
                   " quote_ident(tablename) FROM pg_tables WHERE schemaname"
                   " = '%s' LOOP EXECUTE format('CREATE TABLE %s.%%s (LIKE"
                   " %s.%%s INCLUDING ALL); INSERT INTO %s.%%s SELECT * FROM"
                   " %s.%%s', t, t, t, t); END LOOP; END$$"
                   % (self.schema, schema, self.schema, schema, self.schema))
        else:
            import sqlite3
            database = os.path.join(self.dir, name)
            src = sqlite3.connect(self.env["PBSYNC_DATABASE"])
            dst = sqlite3.connect(database)
            src.backup(dst)
            src.close()
            dst.close()
        for u in updates:
            db_sql(database, u)
        return database

    def end_connections(self):
        """Ends every PostgreSQL session of the stack's programs (its
        PGAPPNAME), as an administrator or a failover would: how many."""
        return len(pg_sql(_pg["uri"], "SELECT pg_terminate_backend(pid)"
                          " FROM pg_stat_activity WHERE application_name ="
                          " ?", self.env["PGAPPNAME"]))

    def integrity(self):
        """"ok", or what is wrong with the database's files.  SQLite:
        PRAGMA integrity_check; PostgreSQL: amcheck over the schema's
        tables (verify_heapam) and B-tree indexes (bt_index_check, each
        row in its index)."""
        if not self.pg:
            return self.sql("PRAGMA integrity_check")[0][0]
        mine = "c.relnamespace = current_schema()::regnamespace"
        try:
            self.sql("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public")
        except RuntimeError:
            pass        # a parallel suite created it meanwhile
        try:
            bad = self.sql("SELECT c.relname, v.blkno, v.msg FROM pg_class c,"
                           " public.verify_heapam(c.oid) v WHERE c.relkind ="
                           " 'r' AND " + mine)
            self.sql("SELECT public.bt_index_check(c.oid, true) FROM"
                     " pg_class c JOIN pg_am a ON a.oid = c.relam WHERE"
                     " a.amname = 'btree' AND c.relkind = 'i' AND " + mine)
        except RuntimeError as e:
            return str(e)
        return "ok" if not bad else repr(bad)

    def db_bytes(self):
        """What the database keeps, to grep for what must not be there in
        clear.  SQLite: its files (the WAL too); PostgreSQL: the schema's
        rows as pg_dump writes them."""
        if self.pg:
            return subprocess.run(
                ["pg_dump", "-a", "-n", self.schema, "-d", _pg["uri"]],
                capture_output=True, check=True, timeout=120).stdout
        out = b""
        for ext in ("", "-wal", "-shm", "-journal"):
            try:
                with open(self.env["PBSYNC_DATABASE"] + ext, "rb") as f:
                    out += f.read()
            except FileNotFoundError:
                pass
        return out
