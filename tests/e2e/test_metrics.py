"""GET /metrics and the logs, end to end through nginx.

/metrics: Prometheus text format 0.0.4, served by pbsync-admin to clients
on the host (REMOTE_ADDR) or with an API token; every scrape is read by a
strict parser of that format written here from the published description
(https://prometheus.io/docs/instrumenting/exposition_formats/), which is
itself shown to refuse broken input.  After a push, sync rounds both ways,
a conflict, a 429 and a job that dies, each counter moves by what the
doubles saw happen (their request and delivery logs), the database (sync
log, jobs) and pbsync's own log say, summed over every process: the four
programs (two children each), the worker and pbsyncctl.

A client off the host cannot be made here: nginx listens on 127.0.0.1
only, so it would always pass on a loopback REMOTE_ADDR.  Such a client is
sent as nginx would send it: FastCGI straight to the program's socket
with the parameters nginx sets (REMOTE_ADDR=203.0.113.7), which is all the
program sees of a request (tests/e2e/wire.py).

Logs: nginx's $request_id reaches the program (REQUEST_ID) and is on each
line of the request, on the job the request queued and on the worker's
lines for it; a client's X-Request-Id header is not believed; syslog mode
sends RFC 3164 datagrams to a socket the test binds (the syslog_socket
key); with no log file the lines go to standard error."""
import math
import os
import re
import socket
import time

from harness import Stack, Tap, wait_for
import fixtures as fx
import reliability
import wire

t = Tap()

# -- a strict parser of the text format, version 0.0.4 --------------------
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
# Go's strconv.ParseFloat, which the format names for values.
FLOAT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|"
                   r"(?i:inf|infinity)|(?i:nan))\Z")
TIMESTAMP = re.compile(r"-?\d+\Z")


class FormatError(Exception):
    pass


def _blank(line, i):
    while i < len(line) and line[i] in " \t":
        i += 1
    return i


def _unescape(line, i, end_chars, quoted):
    """Reads an escaped string from line[i:] up to one of end_chars (or
    the end of the line when end_chars is None); returns (text, index of
    the end character).  Label values know \\\\, \\" and \\n; HELP text
    \\\\ and \\n; any other escape is an error."""
    out, ok = [], {"\\": "\\", "n": "\n"}
    if quoted:
        ok['"'] = '"'
    while i < len(line):
        c = line[i]
        if end_chars is not None and c in end_chars:
            return "".join(out), i
        if c == "\\":
            if i + 1 >= len(line) or line[i + 1] not in ok:
                raise FormatError("bad escape %r" % line[i:i + 2])
            out.append(ok[line[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    if end_chars is not None:
        raise FormatError("unterminated string")
    return "".join(out), i


def _float(tok):
    if not FLOAT.match(tok):
        raise FormatError("not a float: %r" % tok)
    return float(tok)


def _sample(line):
    """(name, {label: value}, value) of a sample line."""
    i = _blank(line, 0)
    m = METRIC_NAME.match(line, i)
    if not m:
        raise FormatError("bad metric name")
    name, i = m.group(0), m.end()
    labels = {}
    if i < len(line) and line[i] == "{":
        i = _blank(line, i + 1)
        while i < len(line) and line[i] != "}":
            m = LABEL_NAME.match(line, i)
            if not m:
                raise FormatError("bad label name at %d" % i)
            lname = m.group(0)
            if lname.startswith("__"):
                raise FormatError("reserved label name %s" % lname)
            if lname in labels:
                raise FormatError("label %s twice" % lname)
            i = _blank(line, m.end())
            if line[i:i + 1] != "=":
                raise FormatError("no = after label %s" % lname)
            i = _blank(line, i + 1)
            if line[i:i + 1] != '"':
                raise FormatError("label value not quoted")
            labels[lname], i = _unescape(line, i + 1, '"', True)
            i = _blank(line, i + 1)
            if line[i:i + 1] == ",":
                i = _blank(line, i + 1)
            elif line[i:i + 1] != "}":
                raise FormatError("expected , or } after a label")
        if i >= len(line):
            raise FormatError("unterminated label set")
        i += 1
    if i >= len(line) or line[i] not in " \t":
        raise FormatError("no blank before the value")
    toks = line[i:].split()
    if len(toks) not in (1, 2):
        raise FormatError("expected a value and an optional timestamp")
    value = _float(toks[0])
    if len(toks) == 2 and not TIMESTAMP.match(toks[1]):
        raise FormatError("bad timestamp %r" % toks[1])
    return name, labels, value


def _family_of(name, families):
    """The declared family a sample name belongs to, or None."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[:-len(suffix)]
            f = families.get(base)
            if f and (f["type"] == "histogram" or
                      (f["type"] == "summary" and suffix != "_bucket")):
                return base
    return name if name in families else None


def parse(text):
    """Parses an exposition; returns {family: {"type", "help", "samples":
    [(name, labels, value)]}} or raises FormatError naming the line."""
    if text and not text.endswith("\n"):
        raise FormatError("the last line does not end with a line feed")
    families, current, closed, series = {}, None, set(), set()

    def enter(fam, lineno):
        nonlocal current
        if fam != current:
            if fam in closed:
                raise FormatError("line %d: %s's lines are not one group"
                                  % (lineno, fam))
            if current is not None:
                closed.add(current)
            current = fam
        return families.setdefault(fam, {"type": None, "help": None,
                                         "samples": []})

    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if not line.strip():
            continue
        try:
            s = line.lstrip(" \t")
            if s.startswith("#"):
                toks = s[1:].split(None, 2)
                if len(toks) < 2 or toks[0] not in ("HELP", "TYPE"):
                    continue            # a plain comment
                if not METRIC_NAME.fullmatch(toks[1]):
                    raise FormatError("bad metric name %r" % toks[1])
                f = enter(toks[1], lineno)
                if toks[0] == "HELP":
                    if f["help"] is not None:
                        raise FormatError("a second HELP")
                    rest = s[1:].lstrip(" \t")[4:].lstrip(" \t")
                    rest = rest[len(toks[1]):]
                    if rest and rest[0] not in " \t":
                        raise FormatError("HELP name not followed by blank")
                    f["help"], _ = _unescape(rest.lstrip(" \t"), 0, None,
                                             False)
                else:
                    if len(toks) != 3 or toks[2].strip() not in TYPES:
                        raise FormatError("bad TYPE line")
                    if f["type"] is not None:
                        raise FormatError("a second TYPE")
                    if f["samples"]:
                        raise FormatError("TYPE after a sample")
                    f["type"] = toks[2].strip()
                continue
            name, labels, value = _sample(line)
            fam = _family_of(name, families) or name
            f = enter(fam, lineno)
            if f["type"] is None:
                f["type"] = "untyped"
            key = (name, tuple(sorted(labels.items())))
            if key in series:
                raise FormatError("series %s%s twice" % key)
            series.add(key)
            f["samples"].append((name, labels, value))
        except FormatError as e:
            raise FormatError("line %d: %s: %r" % (lineno, e, line))
    for fam, f in families.items():
        if f["type"] == "histogram":
            check_histogram(fam, f["samples"])
        if f["type"] == "counter":
            for name, labels, v in f["samples"]:
                if math.isnan(v) or v < 0:
                    raise FormatError("counter %s is %r" % (name, v))
    return families


def check_histogram(fam, samples):
    """Per label set: buckets by le, cumulative, the last +Inf and equal
    to _count; a _sum and a _count; nothing else."""
    sets = {}
    for name, labels, v in samples:
        rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        d = sets.setdefault(rest, {"buckets": [], "sum": None,
                                   "count": None})
        if name == fam + "_bucket":
            if "le" not in labels:
                raise FormatError("%s bucket without le" % fam)
            d["buckets"].append((_float(labels["le"]), v))
        elif "le" in labels:
            raise FormatError("%s: le on %s" % (fam, name))
        elif name == fam + "_sum":
            d["sum"] = v
        elif name == fam + "_count":
            d["count"] = v
        else:
            raise FormatError("%s: stray sample %s" % (fam, name))
    for rest, d in sets.items():
        b = d["buckets"]
        if [le for le, _ in b] != sorted(le for le, _ in b):
            raise FormatError("%s%s: buckets not in order of le" %
                              (fam, rest))
        if not b or b[-1][0] != math.inf:
            raise FormatError("%s%s: no +Inf bucket" % (fam, rest))
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            raise FormatError("%s%s: buckets not cumulative" % (fam, rest))
        if d["count"] is None or d["sum"] is None:
            raise FormatError("%s%s: no _sum or _count" % (fam, rest))
        if b[-1][1] != d["count"]:
            raise FormatError("%s%s: +Inf bucket %r, _count %r" %
                              (fam, rest, b[-1][1], d["count"]))


def refuses(text):
    try:
        parse(text)
    except FormatError:
        return True
    return False


# The parser's own test: the published example parses, each break fails.
SPEC_EXAMPLE = r'''# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.05"} 3272
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.9"} 9001
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
'''
H = ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
     "h_sum 3\nh_count 2\n")
BROKEN = {
    "no final line feed": "a 1",
    "metric name starting with a digit": "1a 1\n",
    "label name with a dash": "a{b-c=\"1\"} 1\n",
    "reserved label name": "a{__b=\"1\"} 1\n",
    "unquoted label value": "a{b=1} 1\n",
    "unknown escape in a label value": "a{b=\"\\t\"} 1\n",
    "raw double quote in a label value": "a{b=\"x\"y\"} 1\n",
    "unterminated label set": "a{b=\"1\" 1\n",
    "a label twice": "a{b=\"1\",b=\"2\"} 1\n",
    "value not a float": "a 1x\n",
    "no value": "a\n",
    "bad timestamp": "a 1 1.5\n",
    "the same series twice": "a{b=\"1\"} 1\na{b=\"1\"} 2\n",
    "TYPE after a sample": "a 1\n# TYPE a counter\n",
    "two TYPE lines": "# TYPE a counter\n# TYPE a counter\na 1\n",
    "two HELP lines": "# HELP a x\n# HELP a y\na 1\n",
    "unknown type": "# TYPE a meter\na 1\n",
    "bad escape in HELP": "# HELP a x\\\"y\na 1\n",
    "a metric's lines interrupted": "a 1\nb 1\na{c=\"1\"} 2\n",
    "negative counter": "# TYPE a_total counter\na_total -1\n",
    "histogram without +Inf": H.replace("le=\"+Inf\"", "le=\"2\""),
    "histogram not cumulative": H.replace("{le=\"1\"} 1", "{le=\"1\"} 3"),
    "histogram +Inf not _count": H.replace("h_count 2", "h_count 5"),
    "histogram buckets out of order": (
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_bucket{le=\"1\"} 1\n"
        "h_sum 3\nh_count 2\n"),
    "histogram without _sum": H.replace("h_sum 3\n", ""),
}


def parser_selftest():
    try:
        fams = parse(SPEC_EXAMPLE)
        good = (fams["msdos_file_access_time_seconds"]["samples"][0][1] ==
                {"path": "C:\\DIR\\FILE.TXT",
                 "error": "Cannot find file:\n\"FILE.TXT\""} and
                fams["http_request_duration_seconds"]["type"] == "histogram"
                and not refuses(H))
        err = None
    except FormatError as e:
        good, err = False, e
    t.ok(good, "the parser reads the format's published example", err)
    wrong = sorted(k for k, v in BROKEN.items() if not refuses(v))
    t.ok(not wrong, "the parser refuses each of %d broken expositions" %
         len(BROKEN), wrong)


# -- scraping ---------------------------------------------------------------
ROUTES = {"healthz", "metrics", "plugin", "productboard_webhook",
          "tracker_webhook", "api", "admin", "other"}


def flat(fams):
    """{(sample name, ((label, value), ...)): value}."""
    return {(n, tuple(sorted(lb.items()))): v for f in fams.values()
            for n, lb, v in f["samples"]}


def val(snap, name, **labels):
    """The sum of the samples of name whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, lb), v in snap.items()
               if n == name and want <= set(lb))


def delta(a, b, name, **labels):
    return val(b, name, **labels) - val(a, name, **labels)


def conforms(fams):
    """pbsync's own rules on top of the format's: every metric named
    pbsync_*, with HELP and TYPE, counters ending in _total, label values
    from fixed sets (route names, not paths)."""
    bad = []
    for name, f in fams.items():
        if not name.startswith("pbsync_"):
            bad.append("%s: no pbsync_ prefix" % name)
        if not f["help"] or f["type"] in (None, "untyped"):
            bad.append("%s: no HELP or TYPE" % name)
        if f["type"] == "counter" and not name.endswith("_total"):
            bad.append("%s: a counter without _total" % name)
        for n, lb, _ in f["samples"]:
            for k, v in lb.items():
                if "/" in v or len(v) > 40:
                    bad.append("%s{%s=%r}: not a bounded value" % (n, k, v))
                if k == "route" and v.replace("_auth", "") not in ROUTES:
                    bad.append("%s: route %r" % (n, v))
    return bad


scrapes = []    # every scrape's text, each parsed and checked at the end


def scrape(headers=None):
    r = s.request("GET", "/metrics", headers=headers)
    text = r.body.decode("utf-8", "replace")
    if r.status == 200:
        scrapes.append(text)
    return r, text


def snapshot():
    r, text = scrape()
    if r.status != 200:
        raise RuntimeError("scrape: %d %s" % (r.status, text[:200]))
    return flat(parse(text))


def quiet():
    """A snapshot once every process has added what it counted: two
    scrapes 1.5 s apart (a process adds its counts within a second, or
    later when the database is busy) that agree, the scrapes' own counts
    and the ages aside."""
    def counters(snap):
        return {k: v for k, v in snap.items() if not k[0].endswith(
            "_age_seconds") and not k[0].endswith("_lag_seconds") and
            ("route", "metrics") not in k[1]}
    last = [snapshot()]

    def same():
        time.sleep(1.5)
        now = snapshot()
        ok = counters(now) == counters(last[0])
        last[0] = now
        return ok
    wait_for(same, 30, 0)
    return last[0]


def from_host(token=None, method="GET", addr="203.0.113.7"):
    """A request for /metrics as nginx passes one from addr."""
    params = {"REQUEST_METHOD": method, "SCRIPT_NAME": "/metrics",
              "REQUEST_URI": "/metrics", "DOCUMENT_URI": "/metrics",
              "QUERY_STRING": "", "REMOTE_ADDR": addr,
              "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_ID": "f" * 32}
    if token is not None:
        params["HTTP_AUTHORIZATION"] = "Bearer " + token
    st, head, body = wire.fcgi(os.path.join(s.dir, "admin.sock"), params,
                               b"")
    return st, head.decode("utf-8", "replace"), body.decode("utf-8",
                                                            "replace")


# -- what the doubles saw ---------------------------------------------------
def status_class(st):
    if st is None:
        return "error"
    return "429" if st == 429 else "%dxx" % (st // 100)


def marks():
    """The doubles' sequence numbers now: what came after is counted."""
    return {name: max([r["seq"] for r in d.call("GET", "/_double/requests")]
                      + [r["seq"] for r in d.call("GET",
                                                  "/_double/deliveries")]
                      + [0])
            for name, d in (("productboard", s.pb), ("gitlab", s.gl))}


def calls_since(m):
    """{(api, status class): calls pbsync made to the doubles since m}."""
    out = {}
    for name, d in (("productboard", s.pb), ("gitlab", s.gl)):
        for r in d.call("GET", "/_double/requests"):
            if r["seq"] > m[name] and not r["path"].startswith("/_double"):
                k = (name, status_class(r["status"]))
                out[k] = out.get(k, 0) + 1
    return out


def deliveries_since(m):
    """{(route, status): deliveries the doubles made to pbsync since m}."""
    out = {}
    for name, d in (("productboard", s.pb), ("gitlab", s.gl)):
        for r in d.call("GET", "/_double/deliveries"):
            if r["seq"] <= m[name]:
                continue
            path = re.sub(r"^https?://[^/]+", "", r["url"])
            route = ("plugin" if path.startswith("/plugin/") else
                     "productboard_webhook" if path.startswith(
                         "/webhooks/productboard/") else "tracker_webhook"
                     if path.startswith("/webhooks/gittab/") else path)
            k = (route, r["status"])
            out[k] = out.get(k, 0) + 1
    return out


def upstream_deltas(a, b):
    out = {}
    for (n, lb), v in b.items():
        if n == "pbsync_upstream_requests_total":
            d = v - a.get((n, lb), 0)
            if d:
                lbd = dict(lb)
                out[(lbd["api"], lbd["status"])] = d
    return out


def settled(m, before, want_more=None, timeout=15):
    """Waits until every process has added its counts: the upstream calls
    counted since before equal those the doubles saw since m (and
    want_more(snapshot) holds); returns the last snapshot."""
    last = [None]

    def ok():
        fx.idle(s, 10)
        snap = snapshot()
        last[0] = snap
        return (upstream_deltas(before, snap) == calls_since(m) and
                (want_more is None or want_more(snap)))
    wait_for(ok, timeout, 0.5)
    return last[0]


def restart(name):
    """Stops a program and starts it with s.env as it is now; its old
    socket goes first, so the wait is for the new one."""
    s.stop_program(name)
    os.unlink(os.path.join(s.dir, name + ".sock"))
    s.start_program(name)


def log_lines(pattern, text=None):
    return [ln for ln in (text if text is not None else s.log()).splitlines()
            if re.search(pattern, ln)]


def req_of(line):
    m = re.search(r" req=([A-Za-z0-9._-]+) ", line)
    return m.group(1) if m else None


def job_lines(kind):
    """(done, retry, dead) counts of the worker's lines for jobs of kind."""
    log = s.log()
    return (len(log_lines(r"job \d+ \(%s [^)]*\) done$" % kind, log)),
            len(log_lines(r"job \d+ \(%s [^)]*\) retry in" % kind, log)),
            len(log_lines(r"job \d+ \(%s [^)]*\) dead after" % kind, log)))


# Only the worker runs jobs: its lines are the job's lines.
s = Stack(env={"PBSYNC_JOB_BUDGET_MS": "0"})
try:
    parser_selftest()
    fx.seed(s)
    rc, iid, err = fx.create_integration(s)
    if rc != 0:
        raise SystemExit(err)
    pid = fx.plugin_id(s, iid)
    s.start_worker()
    viewer = s.ctl("token", "add", "prometheus", "--role",
                   "viewer").stdout.strip()
    admin = s.ctl("token", "add", "ops", "--role", "admin").stdout.strip()

    # -- who may scrape ----------------------------------------------------
    r, text = scrape()
    t.ok(r.status == 200 and r.headers.get("content-type", "").startswith(
        "text/plain; version=0.0.4") and "pbsync_http_requests_total" in text,
        "GET /metrics through nginx from this host: 200, text format 0.0.4",
        (r.status, r.headers.get("content-type"), text[:200]))
    t.ok(wait_for(lambda: log_lines(r"pbsync-admin\[\d+\] debug: req=\S+ "
                                    r"metrics GET: 200"), 5),
         "nginx hands /metrics to pbsync-admin")
    remote = {"no token": from_host(), "a wrong token": from_host(
        "pbs_" + "x" * 40), "a viewer token": from_host(viewer),
        "an admin token": from_host(admin)}
    reliability.check(
        t, "security", "/metrics from a remote address (203.0.113.7) with no "
        "token, a wrong one, a viewer's, an admin's",
        "401 with WWW-Authenticate: Bearer and none of the metrics; 401; "
        "200; 200", ", ".join("%s %s" % (k, v[0]) for k, v in remote.items()),
        remote["no token"][0] == 401 and remote["a wrong token"][0] == 401
        and "pbsync_" not in remote["no token"][2] + remote["a wrong token"][2]
        and "www-authenticate: bearer" in remote["no token"][1].lower() and
        remote["a viewer token"][0] == 200 and
        remote["an admin token"][0] == 200 and
        "pbsync_jobs" in remote["a viewer token"][2])
    scrapes += [remote["a viewer token"][2], remote["an admin token"][2]]
    ipv6 = [from_host(addr=a)[0] for a in ("::1", "::ffff:127.0.0.1",
                                           "::ffff:198.51.100.1", "10.0.0.1")]
    t.eq(ipv6, [200, 200, 401, 401], "loopback over IPv6 and IPv4-mapped "
         "IPv6 may scrape; a mapped or private remote address may not")
    s.ctl("token", "remove", "prometheus")
    reliability.check(
        t, "security", "/metrics from a remote address with a revoked token",
        "401", "%s" % from_host(viewer)[0], from_host(viewer)[0] == 401)
    st = [s.request(m, "/metrics").status for m in ("POST", "DELETE")]
    head = s.request("HEAD", "/metrics")
    t.ok(st == [405, 405] and head.status == 200 and head.body == b"",
         "POST and DELETE /metrics 405, HEAD 200 without a body",
         (st, head.status, head.body[:80]))

    # -- a push ----------------------------------------------------------
    fx.idle(s)
    m0 = marks()
    b0 = quiet()
    fid = fx.feature(s, "Measured", "<p>First.</p>", "New")
    click = fx.click(s, pid, fid)
    t.eq(click.get("connection", {}).get("state"), "connected", "pushed")
    number = s.tr.issues()[0]["number"]
    def routed(a, b, m):
        """(requests counted by route and code, auth questions counted by
        route, the deliveries the doubles made since m by route and
        status)."""
        dl = deliveries_since(m)
        got = {k: delta(a, b, "pbsync_http_requests_total", route=k[0],
                        code=str(k[1])) for k in dl}
        auth = {k[0]: delta(a, b, "pbsync_http_requests_total",
                            route=k[0] + "_auth", code="204") for k in dl}
        return got, auth, dl

    def routed_ok(a, b, m):
        got, auth, dl = routed(a, b, m)
        return got == dl and all(auth[r] == sum(n for k, n in dl.items()
                                                if k[0] == r) for r in auth)

    # Each program adds its counts within a second: wait for all of them.
    b1 = settled(m0, b0, lambda x: delta(b0, x, "pbsync_links") == 1 and
                 routed_ok(b0, x, m0))
    calls = calls_since(m0)
    t.ok(upstream_deltas(b0, b1) == calls and
         calls.get(("gitlab", "2xx"), 0) >= 1 and
         calls.get(("productboard", "2xx"), 0) >= 1,
         "push: pbsync_upstream_requests_total moved by the calls each "
         "double saw, by API and status class",
         "metrics %s, doubles %s" % (upstream_deltas(b0, b1), calls))
    got, auth, dl = routed(b0, b1, m0)
    t.ok(routed_ok(b0, b1, m0) and dl.get(("plugin", 200)) == 1,
         "push: pbsync_http_requests_total moved by the deliveries the "
         "doubles made, by route and code, each after its auth_request",
         "metrics %s %s, doubles %s" % (got, auth, dl))
    t.eq(val(b1, "pbsync_links"), 1, "pbsync_links: the link")

    # -- a sync round each way ---------------------------------------------
    def round_trip(edit, side, what):
        fx.idle(s, settled=True)
        m = marks()
        a = quiet()
        before = {k: job_lines(k) for k in ("issue_event", "sync")}
        edit()

        def delivered(x):
            """(deliveries counted by sender, by the doubles' logs)."""
            dl = deliveries_since(m)
            n = {"gitlab": sum(v for (route, st), v in dl.items()
                               if route == "tracker_webhook" and st == 200),
                 "productboard": sum(
                     v for (route, st), v in dl.items()
                     if route == "productboard_webhook" and 200 <= st < 300)}
            return {src: delta(a, x, "pbsync_deliveries_total", source=src)
                    for src in n}, n, dl

        b = settled(m, a, lambda x: delta(
            a, x, "pbsync_sync_latency_seconds_count", side=side) >= 1 and
            delivered(x)[0] == delivered(x)[1] and routed_ok(a, x, m))
        dq, n, dl = delivered(b)
        t.ok(dq == n and sum(n.values()) >= 1 and routed_ok(a, b, m),
             "%s: pbsync_deliveries_total and pbsync_http_requests_total "
             "moved by the deliveries each double made" % what,
             "metrics %s, doubles %s" % (dq, dl))
        after = {k: job_lines(k) for k in ("issue_event", "sync")}
        jobs = {k: tuple(delta(a, b, "pbsync_jobs_finished_total", kind=k,
                               outcome=o) for o in ("done", "retry", "dead"))
                for k in after}
        lines = {k: tuple(x - y for x, y in zip(after[k], before[k]))
                 for k in after}
        t.ok(jobs == lines and sum(v[0] for v in jobs.values()) >= 1,
             "%s: pbsync_jobs_finished_total moved by the worker's job "
             "lines (done, retry, dead)" % what,
             "metrics %s, log %s" % (jobs, lines))
        writes = {"productboard": len([
            r for r in s.pb.requests() if r["seq"] > m["productboard"] and
            r["method"] == "PATCH" and "/v2/entities/" in r["path"]]),
            "tracker": len([r for r in s.tr.all_writes()
                            if r["seq"] > m["gitlab"]])}
        lat = {x: delta(a, b, "pbsync_sync_latency_seconds_count", side=x)
               for x in ("productboard", "tracker")}
        le30 = {x: delta(a, b, "pbsync_sync_latency_seconds_bucket", side=x,
                         le="30") for x in lat}
        total = delta(a, b, "pbsync_sync_latency_seconds_sum", side=side)
        t.ok(lat == writes and le30 == lat and lat[side] >= 1 and
             0 < total < 30 * lat[side],
             "%s: the latency histogram counted each write, on its side, "
             "under 30 s" % what,
             "histogram %s (le 30: %s, sum %.3f), writes %s" % (
                 lat, le30, total, writes))
        return a, b, m

    a, b, m = round_trip(lambda: s.tr.edit(number, title="Renamed in "
                                            "GitLab"),
                         "productboard", "GitLab edit")
    queued = log_lines(r"gitlab delivery queued: issue_event job for ")
    rid = req_of(queued[-1]) if queued else None
    worker = log_lines(r"pbsyncctl\[\d+\] .* req=%s " % re.escape(rid or
                                                                  "-"))
    t.ok(rid is not None and re.fullmatch(r"[0-9a-f]{32}", rid) and
         any(re.search(r"job \d+ \(issue_event \S+\) started", ln)
             for ln in worker) and
         any("synced: name to productboard" in ln for ln in worker) and
         any(re.search(r"job \d+ \(issue_event \S+\) done$", ln)
             for ln in worker),
         "the webhook's log line and the worker's lines for its job (start, "
         "the write, done) carry the same request id, nginx's $request_id",
         "\n".join((queued[-1:] if queued else []) + worker))
    t.ok(log_lines(r"pbsync-glhook.*req=%s tracker_webhook POST: 200"
                   % re.escape(rid or "-")) != [] and
         s.sql("SELECT count(*) FROM job")[0][0] == 0,
         "the request's other lines carry it too; the job is gone, done",
         log_lines(re.escape(rid or "-")))

    round_trip(lambda: s.pb.call("PATCH", "/_double/features/" + fid,
                                 {"name": "Renamed in Productboard"}),
               "tracker", "Productboard edit")
    queued = log_lines(r"productboard delivery queued: sync job for %s" % fid)
    rid2 = req_of(queued[-1]) if queued else None
    t.ok(rid2 and rid2 != rid and log_lines(
        r"pbsyncctl.* req=%s .*synced: name to gitlab" % re.escape(rid2)),
        "a Productboard webhook's id reaches the worker's write line",
        queued[-1:])

    # -- a conflict ----------------------------------------------------------
    fx.idle(s, settled=True)
    s.stop_program("worker")
    m = marks()
    a = quiet()
    logs0 = s.sql("SELECT count(*) FROM sync_log WHERE result = "
                  "'conflict'")[0][0]
    s.pb.call("PATCH", "/_double/features/" + fid, {"name": "Both A"})
    time.sleep(0.05)
    s.tr.edit(number, title="Both B")
    for d in (s.pb, s.gl):
        d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                         "timeout": 5})
    waiting = s.sql("SELECT count(*) FROM job WHERE state = 'ready'")[0][0]
    lag = snapshot()
    t.ok(waiting >= 1 and val(lag, "pbsync_jobs", state="ready") == waiting
         and val(lag, "pbsync_jobs_oldest_age_seconds", state="ready") > 0,
         "pbsync_jobs and the oldest job's age show the queue while no "
         "worker runs", (waiting, {k: v for k, v in lag.items()
                                   if k[0].startswith("pbsync_jobs")}))
    s.start_worker()
    b = settled(m, a, lambda x: val(x, "pbsync_jobs", state="ready") == 0
                and delta(a, x, "pbsync_sync_conflicts_total") >= 1)
    logs1 = s.sql("SELECT count(*) FROM sync_log WHERE result = "
                  "'conflict'")[0][0]
    t.ok(delta(a, b, "pbsync_sync_conflicts_total") == logs1 - logs0 == 1,
         "a name changed on both sides: pbsync_sync_conflicts_total + 1, "
         "as the sync log says", (delta(a, b, "pbsync_sync_conflicts_total"),
                                  logs1 - logs0))

    # -- a 429 ---------------------------------------------------------------
    fx.idle(s, settled=True)
    m = marks()
    a = quiet()
    size = len(s.log())
    s.gl.call("POST", "/_double/faults", {
        "match": r"^GET /api/v4/projects/\d+/issues/\d+$", "status": 429,
        "count": 1, "headers": {"Retry-After": "1"}})
    s.pb.call("PATCH", "/_double/features/" + fid, {"name": "Paced"})
    b = settled(m, a, lambda x: delta(
        a, x, "pbsync_sync_latency_seconds_count", side="tracker") >= 1,
        timeout=25)
    retries = log_lines(r"job \d+ \(sync %s\) retry in" % fid, s.log()[size:])
    held = [ln for ln in retries if "paused for" in ln]
    t.ok(delta(a, b, "pbsync_upstream_rate_limited_total", api="gitlab") == 1
         and delta(a, b, "pbsync_upstream_requests_total", api="gitlab",
                   status="429") == 1 and
         calls_since(m).get(("gitlab", "429")) == 1 and
         delta(a, b, "pbsync_jobs_finished_total", kind="sync",
               outcome="retry") == len(retries) >= 1 and
         delta(a, b, "pbsync_upstream_paused_calls_total",
               api="gitlab") == len(held) and
         len(log_lines("gitlab rate limit: pausing calls for 1s")) == 1,
         "a 429 from GitLab: pbsync_upstream_rate_limited_total and the 429 "
         "class + 1; the job's retries and the calls held by the pause as "
         "the worker's lines say",
         (upstream_deltas(a, b), retries))
    t.ok(delta(a, b, "pbsync_sync_latency_seconds_sum", side="tracker") >= 1
         and delta(a, b, "pbsync_sync_latency_seconds_bucket", side="tracker",
                   le="0.5") == 0,
         "the write's latency runs from the delivery's arrival, the pause "
         "included (at least 1 s)",
         delta(a, b, "pbsync_sync_latency_seconds_sum", side="tracker"))

    # -- a job that dies -----------------------------------------------------
    fx.idle(s, settled=True)
    m = marks()
    a = quiet()
    s.pb.call("POST", "/_double/faults", {
        "match": r"^PATCH /v2/entities/", "status": 422, "count": 1})
    s.tr.edit(number, title="Refused by Productboard")
    b = settled(m, a, lambda x: val(x, "pbsync_jobs", state="dead") >= 1)
    dead = s.sql("SELECT kind, count(*) FROM job WHERE state = 'dead' "
                 "GROUP BY kind")
    t.ok(dead == [("issue_event", 1)] and
         delta(a, b, "pbsync_jobs_finished_total", kind="issue_event",
               outcome="dead") == 1 and
         val(b, "pbsync_jobs", kind="issue_event", state="dead") == 1 and
         val(b, "pbsync_jobs_oldest_age_seconds", state="dead") > 0,
         "a write Productboard refuses (422): the job is dead, "
         "pbsync_jobs_finished_total{outcome=dead} + 1 and pbsync_jobs"
         "{state=dead} 1, as the job table says",
         (dead, {k: v for k, v in b.items() if "dead" in str(k)}))

    # -- every scrape, strictly ----------------------------------------------
    errors, bad = [], []
    for i, text in enumerate(scrapes):
        try:
            bad += conforms(parse(text))
        except FormatError as e:
            errors.append("scrape %d: %s" % (i, e))
    t.ok(len(scrapes) >= 10 and not errors,
         "each of %d scrapes parses strictly (names, escaping, HELP/TYPE "
         "first, one group per metric, cumulative buckets ending in +Inf = "
         "_count, no duplicate series)" % len(scrapes), errors[:5])
    t.ok(not bad, "every metric is pbsync_*, has HELP and TYPE, counters "
         "end in _total, label values come from fixed sets", sorted(set(
             bad))[:10])
    names = set(n for text in scrapes[-1:] for n in parse(text))
    want = {"pbsync_http_requests_total", "pbsync_deliveries_total",
            "pbsync_upstream_requests_total",
            "pbsync_upstream_rate_limited_total",
            "pbsync_upstream_paused_calls_total",
            "pbsync_jobs_finished_total", "pbsync_sync_conflicts_total",
            "pbsync_sync_latency_seconds", "pbsync_jobs",
            "pbsync_jobs_oldest_age_seconds", "pbsync_jobs_lag_seconds",
            "pbsync_integrations", "pbsync_links",
            "pbsync_upstream_paused_tokens"}
    t.eq(sorted(want - names), [], "every documented metric is exposed")
    secrets = [fx.PB_TOKEN, s.tr.token, admin, viewer, iid]
    t.ok(not any(x in text for x in secrets for text in scrapes),
         "no token, secret or integration id in any scrape")

    # -- request ids ---------------------------------------------------------
    ghost = "b" * 32
    s.request("GET", "/plugin/%s?validationToken=v" % ghost,
              headers={"X-Request-Id": "forged-id", "Authorization":
                       "Bearer x"})
    seen = wait_for(lambda: log_lines(r"refused /plugin/%s" % ghost), 5)
    t.ok(seen and re.fullmatch(r"[0-9a-f]{32}", req_of(seen[0]) or "") and
         "forged-id" not in s.log(),
         "a request's log line carries nginx's $request_id; a client's "
         "X-Request-Id header is not believed", seen)
    ghost = "c" * 32
    wire.fcgi(os.path.join(s.dir, "plugin.sock"), {
        "REQUEST_METHOD": "GET", "DOCUMENT_URI": "/plugin/" + ghost,
        "REQUEST_URI": "/plugin/" + ghost, "QUERY_STRING": "",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_AUTHORIZATION": "Bearer x",
        "REQUEST_ID": "bad id\nforged line"}, b"")
    seen = wait_for(lambda: log_lines(r"refused /plugin/%s" % ghost), 5)
    t.ok(seen and re.fullmatch(r"[0-9a-f]{32}", req_of(seen[0]) or "") and
         "forged line" not in s.log(),
         "a REQUEST_ID that is not an id is replaced by a fresh one", seen)

    # -- syslog, standard error ----------------------------------------------
    sock_path = os.path.join(s.dir, "syslog.sock")
    logsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    logsock.bind(sock_path)
    logsock.settimeout(5)
    s.env.update({"PBSYNC_LOG_TARGET": "syslog",
                  "PBSYNC_SYSLOG_SOCKET": sock_path})
    restart("glhook")
    size = len(s.log())
    r = s.request("POST", "/webhooks/gittab/" + iid, b"{}", {
        "X-Gitlab-Token": "not-the-secret-0123456789",
        "X-Gitlab-Event": "Issue Hook"})
    grams = []
    try:
        while not (any("refused" in g for g in grams) and
                   any(": 401" in g for g in grams)):
            grams.append(logsock.recv(65536).decode("utf-8", "replace"))
    except socket.timeout:
        pass
    refusal = [g for g in grams if "refused /webhooks/gittab/" in g]
    debug = [g for g in grams if re.search(r"tracker_webhook_auth \S+: 401",
                                           g)]
    form = re.compile(r"<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d "
                      r"pbsync-glhook\[\d+\]: req=([0-9a-f]{32}) ")
    head = [form.match(g) for g in refusal[:1] + debug[:1]]
    t.ok(r.status == 401 and len(head) == 2 and all(head) and
         [h.group(1) for h in head] == ["30", "31"] and
         head[0].group(2) == head[1].group(2) and
         "refused /webhooks" not in s.log()[size:] and
         "not-the-secret" not in "".join(grams),
         "log_target = syslog: RFC 3164 datagrams to syslog_socket, "
         "facility daemon, info <30>, debug <31>, the request id, no secret, "
         "nothing in the file", grams[:3])
    logsock.close()
    os.unlink(sock_path)
    s.request("POST", "/webhooks/gittab/" + iid, b"{}", {
        "X-Gitlab-Token": "not-the-secret-0123456789",
        "X-Gitlab-Event": "Issue Hook"})
    t.ok(wait_for(lambda: re.search(
        r"pbsync-glhook\[\d+\] info: req=[0-9a-f]{32} refused "
        r"/webhooks/gittab/", s.log("glhook.stderr")), 5),
        "with no syslog listener the lines go to standard error",
        s.log("glhook.stderr")[-300:])
    del s.env["PBSYNC_LOG_TARGET"], s.env["PBSYNC_SYSLOG_SOCKET"]
    s.env["PBSYNC_LOG_FILE"] = ""
    restart("pbhook")
    st, _, _ = wire.fcgi(os.path.join(s.dir, "pbhook.sock"), {
        "REQUEST_METHOD": "GET", "DOCUMENT_URI": "/healthz",
        "REQUEST_URI": "/healthz", "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_ID": "e" * 32}, b"")
    t.ok(st == 200 and wait_for(lambda: re.search(
        r"pbsync-pbhook\[\d+\] debug: req=e{32} healthz GET: 200",
        s.log("pbhook.stderr")), 5),
        "with no log file the lines go to standard error (the journal)",
        s.log("pbhook.stderr")[-300:])
    bad = s.ctl("links", iid, env={"PBSYNC_LOG_TARGET": "file",
                                   "PBSYNC_LOG_FILE": ""}, check=False)
    odd = s.ctl("links", iid, env={"PBSYNC_LOG_TARGET": "journal"},
                check=False)
    t.ok(bad.returncode != 0 and "log_file" in bad.stderr and
         odd.returncode != 0 and "log_target" in odd.stderr,
         "log_target = file without a log_file, and an unknown target, are "
         "refused", (bad.stderr[-200:], odd.stderr[-200:]))

    # -- off -----------------------------------------------------------------
    s.env["PBSYNC_METRICS"] = "false"
    restart("admin")
    t.eq(s.request("GET", "/metrics").status, 404,
         "metrics = false: /metrics is 404")
    del s.env["PBSYNC_METRICS"]

    logs = "".join(s.log(n) for n in s.log_names())
    t.ok(not any(x in logs for x in (fx.PB_TOKEN, s.tr.token, admin,
                                     viewer)),
         "no token in any log")
finally:
    s.stop(t)
t.done()
