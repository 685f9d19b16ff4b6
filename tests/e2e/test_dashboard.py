"""The activity dashboard and the sync log pages, end to end through nginx
with the Productboard and GitLab doubles: pushes, edits on both sides, a
conflict, a job failing until it is buried and a refused token make real
activity (no worker: `pbsyncctl drain` runs the jobs, so every number can
be read between two steps), and the pages must show exactly that: the
charts' totals and bars, the per-integration table, the job queue, the
health in words, the sync log's filters, its keyset paging and one
link's history.  Names with markup are shown escaped everywhere.  The
pages are the same for every tracker: this suite runs against GitLab."""
import hashlib
import html
import re
import time
import urllib.parse

from harness import AdminSession, Stack, Tap
import fixtures as fx

t = Tap()
HOSTILE = 'Ops <script>alert("i")</script> & Co'
FEATURE = '<script>alert("f")</script> & "quoted"'
KINDS = ("delivery", "push", "sync", "conflict", "failure")
PER_PAGE = 50


def blake(v):
    return hashlib.blake2b(v.encode(), digest_size=32).hexdigest()


def totals(body):
    """{kind: the total a chart shows}."""
    return {k: int(m) for k, m in re.findall(
        r'id="total-(\w+)">(\d+)<', body)}


def bars(body):
    """{kind: [(count, title) of each bar]} of the charts."""
    out = {}
    for fig in re.findall(r'<figure class="chart" id="chart-(\w+)">(.*?)'
                          r'</figure>', body, re.S):
        out[fig[0]] = [(int(n), w) for n, w in re.findall(
            r'<rect class="bar"[^>]*><title>(\d+) in the [^<]* from '
            r'([^<]*)</title>', fig[1])]
    return out


def queue(body):
    return {k: html.unescape(v) for k, v in re.findall(
        r'<dd id="q-(\w+)">([^<]*)</dd>', body)}


def words(body):
    m = re.search(r'<ul class="words" id="health-words">(.*?)</ul>', body,
                  re.S)
    if not m:
        return []
    return [html.unescape(re.sub(r"<[^>]*>", "", li)).strip() for li in
            re.findall(r"<li[^>]*>(.*?)</li>", m.group(1), re.S)]


def act_row(body, name):
    """The per-integration activity row of the home page for name."""
    esc = html.escape(name, quote=False)
    for row in re.findall(r"<tr><td><a href=\"/admin/i/\w+\">(.*?)</a></td>"
                          r"(.*?)</tr>", body):
        if row[0] == esc.replace('"', "&quot;"):
            return [int(x) for x in re.findall(r'<td class="num">(\d+)<',
                                               row[1])]
    return None


def entries(body):
    """The ids of the sync log table's rows, in order."""
    return [int(x) for x in re.findall(r'<tr class="entry[^"]*" '
                                       r'id="entry-(\d+)">', body)]


def older(body):
    m = re.search(r'<a href="([^"]*)" rel="next">Older entries</a>', body)
    return html.unescape(m.group(1)) if m else None


def suite(s, tr):
    a = AdminSession(s)
    t.eq(a.status, 303, "the admin logs in")

    def page(path):
        st, body = a.get(path)
        if st != 200:
            raise RuntimeError("%s: %d" % (path, st))
        return body

    def drain():
        for d in (s.pb, s.td):
            d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                             "timeout": 5})
        s.ctl("drain")

    def settle():
        for _ in range(6):
            drain()
            if s.sql("SELECT count(*) FROM job WHERE state = 'ready' AND"
                     " run_at <= ?", time.time())[0][0] == 0:
                break
        for d in (s.pb, s.td):
            d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                             "timeout": 5})

    def db_counts(iid=None):
        """What the tables say happened, per kind, in the last 24 h."""
        w = "at >= ?" + (" AND integration_id = ?" if iid else "")
        args = (time.time() - 86400,) + ((iid,) if iid else ())
        q = lambda c: s.sql("SELECT count(*) FROM sync_log WHERE %s AND %s"
                            % (w, c), *args)[0][0]
        return {"push": q("action = 'push' AND result = 'ok'"),
                "sync": q("action = 'sync'"),
                "conflict": q("result = 'conflict'")}

    def deliveries_to(iid):
        """Deliveries the doubles made to pbsync for an integration that
        it accepted, both doubles' logs."""
        n = 0
        for d in (s.pb, s.td):
            for x in d.call("GET", "/_double/deliveries") or []:
                if iid in x.get("url", "") and "validationToken" not in \
                        x.get("url", "") and x.get("status") in (200, 204):
                    n += 1
        return n

    # -- two integrations, one with a hostile name ---------------------------
    rc, A, err = tr.create_integration(HOSTILE)
    if rc != 0:
        raise RuntimeError(err)
    other = tr.add_project("grp/other")
    rc, B, err = other.create_integration("Plain")
    if rc != 0:
        raise RuntimeError(err)
    pa, pb_ = fx.plugin_id(s, A), fx.plugin_id(s, B)
    settle()

    # -- login required on every new page ----------------------------------
    for path in ("/admin/?range=7d", "/admin/i/%s?range=30d" % A,
                 "/admin/log", "/admin/log?outcome=failed&i=" + A,
                 "/admin/i/%s/links/1" % A):
        r = s.request("GET", path)
        t.ok(r.status == 303 and r.headers.get("location") ==
             "/admin/login", "without a session %s sends to the login"
             % path, (r.status, r.headers.get("location")))

    # -- pushes: three on A, one on B --------------------------------------
    fids = [fx.feature(s, n, "<p>%s.</p>" % n) for n in
            (FEATURE, "Second", "Third")]
    for f in fids:
        t.eq(fx.click(s, pa, f).get("connection", {}).get("state"),
             "connected", "a push on the hostile integration")
    fb = fx.feature(s, "On B")
    t.eq(fx.click(s, pb_, fb).get("connection", {}).get("state"),
         "connected", "a push on Plain")
    settle()
    num = {f: tr.key_number(s.sql("SELECT issue_key FROM link WHERE"
                                  " feature_id = ?", f)[0][0])
           for f in fids}
    home = page("/admin/")
    t.eq(words(home), ["All integrations in sync."],
         "with nothing wrong the home page says so in words")
    t.eq(totals(home)["push"], 4, "the push chart counts the four pushes")
    t.eq(act_row(home, HOSTILE)[1], 3, "A's row counts its three pushes")
    t.eq(act_row(home, "Plain")[1], 1, "Plain's row counts its push")

    # -- deliveries: exactly what the doubles sent and pbsync took ---------
    before = totals(page("/admin/i/" + A))["delivery"]
    sent0 = deliveries_to(A)
    s.pb.call("PATCH", "/_double/features/" + fids[1],
              {"name": "Second, renamed"})
    s.pb.call("PATCH", "/_double/features/" + fids[1],
              {"name": "Second, renamed again"})
    tr.edit(num[fids[2]], title="Third, renamed in GitLab")
    for d in (s.pb, s.td):
        d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                         "timeout": 5})
    sent = deliveries_to(A) - sent0
    t.eq(sent, 3, "the doubles delivered the three edits")
    ipage = page("/admin/i/" + A)
    t.eq(totals(ipage)["delivery"] - before, 3,
         "the delivery chart of A counts each delivery taken")
    t.eq(queue(ipage)["queued"], "2", "two jobs wait (two renames of one "
         "feature make one job)")
    t.eq(str(s.sql("SELECT count(*) FROM job WHERE integration_id = ? AND"
                   " state = 'ready' AND attempts = 0", A)[0][0]),
         queue(ipage)["queued"], "the queue shows what the job table holds")
    s.sql("UPDATE job SET created_at = ? WHERE integration_id = ?",
          time.time() - 3 * 3600 - 30, A)
    t.eq(queue(page("/admin/i/" + A))["oldest"], "3 h 0 min",
         "the oldest waiting job's age")
    s.sql("UPDATE job SET run_at = ? WHERE integration_id = ?",
          time.time() - 600, A)
    w = words(page("/admin/"))
    t.ok(any(x.startswith(HOSTILE + ": jobs have been due for 10 min")
             and "worker" in x for x in w),
         "jobs overdue: the health asks whether the worker runs", w)
    # A worker that took a job and died: its lease runs out, then drain
    # takes the job again.
    s.sql("UPDATE job SET state = 'leased', lease_until = ? WHERE id ="
          " (SELECT min(id) FROM job WHERE integration_id = ?)",
          time.time() + 1, A)
    q = queue(page("/admin/i/" + A))
    t.eq((q["leased"], q["queued"]), ("1", "1"), "a leased job shows as "
         "running, not queued")
    time.sleep(1.2)
    settle()
    ipage = page("/admin/i/" + A)
    want = db_counts(A)
    t.eq(want["sync"], 2, "the two edits made two sync rounds that wrote")
    t.eq({k: totals(ipage)[k] for k in want}, want,
         "A's charts match its sync log: pushes, syncs, conflicts")
    t.eq(words(ipage)[0][:len("In sync; last successful sync: ")],
         "In sync; last successful sync: ", "A's page: in sync, in words")

    # -- a conflict ----------------------------------------------------------
    s.pb.call("PATCH", "/_double/features/" + fids[0],
              {"name": FEATURE + " (PB)"})
    time.sleep(1.1)
    tr.edit(num[fids[0]], title=FEATURE + " (GitLab)")
    settle()
    ipage = page("/admin/i/" + A)
    t.eq(totals(ipage)["conflict"], 1, "the conflict chart counts it")
    t.eq(totals(ipage)["sync"], 3, "and the sync chart its round")
    home = page("/admin/")
    ta, tb = act_row(home, HOSTILE), act_row(home, "Plain")
    t.eq([x + y for x, y in zip(ta, tb)], [totals(home)[k] for k in KINDS],
         "the overall charts are the sum of the integrations' rows")
    t.eq(ta, [totals(ipage)[k] for k in KINDS],
         "A's row on the home page is A's charts")

    # -- a failing job: retried, then buried -------------------------------
    s.td.call("POST", "/_double/faults", {
        "match": "GET %s$" % tr.issue_path(num[fids[1]]), "status": 500,
        "count": -1})
    s.pb.call("PATCH", "/_double/features/" + fids[1], {"name": "Fails"})
    drain()
    ipage = page("/admin/i/" + A)
    t.eq(totals(ipage)["failure"], 1, "a failed attempt is a failure")
    t.eq(queue(ipage)["retrying"], "1", "and its job shows as retrying")
    s.sql("UPDATE job SET run_at = 0 WHERE integration_id = ? AND"
          " state = 'ready'", A)
    drain()
    s.td.call("DELETE", "/_double/faults")
    ipage = page("/admin/i/" + A)
    t.eq(totals(ipage)["failure"], 2, "the last attempt counts too")
    t.eq(queue(ipage)["buried"], "1", "the job is buried")
    t.eq(queue(ipage)["retrying"], "0", "and retries no more")
    w = words(page("/admin/"))
    t.ok(HOSTILE + ": 1 job buried after failing every attempt. See the "
         "failed jobs" in w, "the home page says a job is buried", w)
    t.ok(HOSTILE + ": 2 failures in the last 24 hours. See the sync log"
         in w, "and how many failures there were", w)
    t.ok("All integrations in sync." not in w, "and no longer that all is "
         "in sync", w)
    t.ok('href="/admin/i/%s#jobs">See the failed jobs' % A in
         page("/admin/"), "the buried line links to the failed jobs")

    # -- bars: each bar's count and hour; the ranges -------------------------
    home = page("/admin/")
    b = bars(home)
    t.eq({k: sum(n for n, _ in b.get(k, [])) for k in KINDS},
         totals(home), "each chart's bars add up to its total")
    hour = time.strftime("%Y-%m-%d %H:00:00 UTC", time.gmtime())
    t.ok(all(w == hour for k in KINDS for _, w in b.get(k, [])),
         "today's activity is in the bar of this hour", b)
    t.ok(all(len(re.findall(r'<rect class="bar"', f)) <= 24 for f in
             re.findall(r"<svg.*?</svg>", home, re.S)),
         "at most one bar per hour of the 24")
    # Entries of the past: the triggers count them in their own hour.
    now = time.time()
    for days, n in ((40, 5), (20, 2), (3, 4)):
        for i in range(n):
            s.sql("INSERT INTO sync_log (integration_id, at, actor, action,"
                  " feature_id, result, detail) VALUES (?, ?, 'pbsync',"
                  " 'sync', 'old', 'ok', 'name to gitlab; ')", B,
                  now - days * 86400 - i)
    day = totals(page("/admin/i/%s" % B))["sync"]
    week = totals(page("/admin/i/%s?range=7d" % B))["sync"]
    month = totals(page("/admin/i/%s?range=30d" % B))["sync"]
    t.eq((week - day, month - day), (4, 6), "7 days add the syncs of 3 days "
         "ago, 30 days those of 20 days ago too, not those of 40")
    t.eq(s.sql("SELECT count(*) FROM activity WHERE hour < ?",
               int(now / 3600) - 32 * 24)[0][0], 0,
         "buckets older than 32 days are dropped")
    wk = page("/admin/?range=7d")
    t.ok("<strong>7d</strong>" in wk and 'href="/admin/?range=24h#activity"'
         in wk, "the 7-day view marks itself and links the others")
    t.ok(all(len(re.findall(r'<rect class="bar"', f)) <= 28 for f in
             re.findall(r"<svg.*?</svg>", wk, re.S)) and
         "(at most 4 per 6 hours)" in wk, "7 days: 28 bars of 6 hours")

    # -- escaping --------------------------------------------------------------
    for path in ("/admin/", "/admin/log", "/admin/i/" + A,
                 "/admin/log?i=" + A):
        body = page(path)
        t.ok("<script>" not in body and "alert(\"" not in body,
             "%s shows no markup of a name" % path)
    t.ok("Ops &lt;script&gt;alert(&quot;i&quot;)&lt;/script&gt; &amp; Co"
         in page("/admin/log"), "the hostile integration name is escaped")

    # -- the sync log: filters ----------------------------------------------
    lid = {f: s.sql("SELECT id FROM link WHERE feature_id = ?", f)[0][0]
           for f in fids}

    def ids(where, *args):
        return [r[0] for r in s.sql(
            "SELECT id FROM sync_log WHERE %s ORDER BY at DESC, id DESC"
            % where, *args)]

    body = page("/admin/log?i=%s&outcome=failed" % A)
    t.eq(entries(body), ids("integration_id = ? AND result = 'error'", A),
         "outcome failed: A's failed entries")
    body = page("/admin/log?outcome=conflict")
    t.eq(entries(body), ids("result = 'conflict'"),
         "outcome conflict across integrations")
    t.eq(len(entries(body)), 1, "the one conflict")
    t.ok("conflict: GitLab won" in body or "conflict: Productboard won" in
         body, "a conflict says which side won", body[-2000:])
    body = page("/admin/log?outcome=ok&i=" + A)
    t.eq(entries(body), ids("integration_id = ? AND result = 'ok'", A),
         "outcome ok")
    body = page("/admin/log?feature=" + urllib.parse.quote(fids[2]))
    t.eq(entries(body), ids("feature_id = ?", fids[2]),
         "feature: that feature's entries")
    t.ok("Productboard \u2192 GitLab" in html.unescape(body) or
         "the tracker \u2192 Productboard" in html.unescape(body),
         "a sync says which way its change went", body[-1500:])
    body = page("/admin/log?feature=no-such-feature")
    t.ok(entries(body) == [] and "No entry matches." in body and
         older(body) is None, "a filter matching nothing says so")
    frm = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now - 21 * 86400))
    to = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now - 2 * 86400))
    body = page("/admin/log?from=%s&to=%s" % (frm, to))
    t.eq(entries(body), ids("at >= ? AND at < ?", _utc(frm), _utc(to)),
         "a time range: the entries from 21 to 2 days ago")
    t.eq(len(entries(body)), 6, "the six of 3 and 20 days ago")
    t.ok('value="%s"' % frm in body, "the form keeps the range")
    for q in ("outcome=bogus", "i=xyz", "from=yesterday", "before=-1",
              "feature=" + "x" * 65):
        st, _ = a.get("/admin/log?" + q)
        t.eq(st, 400, "a filter that cannot be read is refused: " + q)

    # -- keyset paging ---------------------------------------------------------
    def walk(url, keep):
        """Follows the older pages from url, each next link keeping the
        parts keep: the pages and the ids, in order."""
        got, pages = [], 0
        while url and pages < 5:
            body = page(url)
            got += entries(body)
            pages += 1
            url = older(body)
            if url:
                t.ok(all(k in url for k in keep),
                     "the next page keeps the filters: " + url)
        return pages, got

    for i in range(PER_PAGE * 2 + 3 - len(ids("feature_id = 'old'"))):
        s.sql("INSERT INTO sync_log (integration_id, at, actor, action,"
              " feature_id, result, detail) VALUES (?, ?, 'pbsync', 'sync',"
              " 'old', ?, 'name to gitlab; ')", B, now - 5000 - i,
              "error" if i % 2 else "ok")
    want = ids("feature_id = 'old'")
    pages, got = walk("/admin/log?feature=old&i=" + B,
                      ("before=", "feature=old", "i=" + B))
    t.eq((pages, got), (3, want), "three pages of 50, 50 and 3 entries, "
         "newest first, none twice, none missed")
    # A page boundary: exactly 50 entries give one page and no link.
    fifty = want[PER_PAGE - 1]
    at50 = s.sql("SELECT at FROM sync_log WHERE id = ?", fifty)[0][0]
    body = page("/admin/log?feature=old&from=%s" % time.strftime(
        "%Y-%m-%dT%H:%M:%S", time.gmtime(at50)))
    n = len(ids("feature_id = 'old' AND at >= ?", float(int(at50))))
    t.eq((len(entries(body)), older(body) is None), (min(n, PER_PAGE),
                                                    n <= PER_PAGE),
         "a page that holds all its entries links no older page")
    # Entries written while paging do not shift the pages.
    body = page("/admin/log?feature=old&i=" + B)
    nxt = older(body)
    s.sql("INSERT INTO sync_log (integration_id, at, actor, action,"
          " feature_id, result, detail) VALUES (?, ?, 'pbsync', 'sync',"
          " 'old', 'ok', 'new')", B, time.time())
    t.eq(entries(page(nxt)), want[PER_PAGE:2 * PER_PAGE],
         "a new entry does not shift the next page")
    body = page("/admin/log?feature=old&outcome=failed")
    t.eq(entries(body), ids("feature_id = 'old' AND result = 'error'")[
        :PER_PAGE], "feature and outcome together")

    # -- the sync log: who and text --------------------------------------------
    def log_rows():
        return s.sql("SELECT g.id, g.actor, g.detail, g.feature_id,"
                     " coalesce(l.snap_name, '') FROM sync_log g LEFT JOIN"
                     " link l ON l.integration_id = g.integration_id AND"
                     " l.feature_id = g.feature_id ORDER BY g.at DESC,"
                     " g.id DESC")

    def has(text):
        """The ids whose detail, feature id or name hold text, any case."""
        x = text.lower()
        return [r[0] for r in log_rows()
                if any(x in c.lower() for c in r[2:])]

    def by(who):
        return [r[0] for r in log_rows() if r[1].lower() == who.lower()]

    hostile = '<script>alert("t")</script>'
    for i, (who, det) in enumerate((
            ("Ann <ann@x.org>", "Qz 50% done"),
            ("ANN <ANN@X.ORG>", "qz 50 done"),
            ("Bob", "qz a_b"), ("Ann <ann@x.org>", "qz axb"),
            ("Bob", "qz " + hostile))):
        s.sql("INSERT INTO sync_log (integration_id, at, actor, action,"
              " feature_id, result, detail) VALUES (?, ?, ?, 'push', 'wt',"
              " 'info', ?)", A, now - 4000 - i, who, det)
    body = page("/admin/log?who=" + urllib.parse.quote("ann <ANN@x.org>"))
    t.eq(entries(body), by("Ann <ann@x.org>"), "who: that actor's entries")
    t.eq(len(entries(body)), 3, "who matches in any case, the whole actor")
    t.ok('value="ann &lt;ANN@x.org&gt;"' in body, "the form keeps who")
    t.eq(entries(page("/admin/log?who=Ann")), [],
         "who matches the whole actor, not a part")
    body = page("/admin/log?text=QZ")
    t.eq((entries(body), len(entries(body))), (has("qz"), 5),
         "text: a part of the detail, in any case")
    t.eq(entries(page("/admin/log?text=" + urllib.parse.quote("50%"))),
         has("50%"), "text: % is literal")
    t.eq(len(has("50%")), 1, "only the entry with 50%")
    t.eq(entries(page("/admin/log?text=a_b")), has("a_b"),
         "text: _ is literal")
    t.eq(len(has("a_b")), 1, "only the entry with a_b")
    name = s.sql("SELECT snap_name FROM link WHERE feature_id = ?",
                 fids[1])[0][0]
    t.eq(entries(page("/admin/log?text=" + urllib.parse.quote(
        name.upper()))), has(name), "text: the feature's name")
    t.ok(len(has(name)) >= 1 and has(name) != has(""), "some, not all")
    t.eq(entries(page("/admin/log?text=" + urllib.parse.quote(fids[2]))),
         has(fids[2]), "text: the feature's id")
    body = page("/admin/log?i=%s&who=Bob&text=%s" % (
        A, urllib.parse.quote(hostile)))
    t.eq(len(entries(body)), 1, "who and text together")
    t.ok("<script>" not in body and 'value="&lt;script&gt;alert(&quot;t'
         in body, "a hostile text is escaped in the form and the table")
    body = page("/admin/log?text=" + urllib.parse.quote("\u00e9" * 100))
    t.ok("No entry matches." in body, "100 characters, 200 bytes: read")
    for q, what in (("text=" + "x" * 101, "the text"),
                    ("who=" + "x" * 256, "who")):
        st, body = a.get("/admin/log?" + q)
        t.ok(st == 400 and "check %s" % what in body,
             "a filter that cannot be read is refused, named: " + q[:8])
    # Pages of a text filter: rows that fail it between those that pass.
    for i in range(PER_PAGE + 12):
        s.sql("INSERT INTO sync_log (integration_id, at, actor, action,"
              " feature_id, result, detail) VALUES (?, ?, 'Pager', 'sync',"
              " 'pg', 'ok', ?)", B, now - 3000 - i,
              ("Q_%%p %d" if i % 6 else "qxxp %d") % i)
    want = [x for x in has("q_%p") if x in by("pager")]
    pages, got = walk("/admin/log?who=pager&text=q_%25P",
                      ("who=pager", "text=q_%25P"))
    t.eq((pages, len(got), got), (2, len(want), want),
         "two pages of the text filter, none twice, none missed")
    t.ok(len(want) > PER_PAGE and len(has("qxxp")) > 0, "more than a page")

    # -- one link's history ----------------------------------------------------
    body = page("/admin/i/%s/links/%d" % (A, lid[fids[0]]))
    t.eq(entries(body), ids("integration_id = ? AND feature_id = ?", A,
                            fids[0]),
         "a link's history: every entry of its feature, newest first")
    t.ok(len(entries(body)) >= 2, "its push and its conflict at least")
    t.ok("<script>" not in body and "&lt;script&gt;alert(&quot;f&quot;)"
         in body, "the feature's name is escaped on its page")
    t.ok("conflict:" in body, "the history shows the conflict's decision")
    body = page("/admin/i/%s/links/%d" % (A, lid[fids[1]]))
    t.ok("name</span> Productboard \u2192 GitLab" in html.unescape(body),
         "the rename shows what changed and which way", body[-2000:])
    st, _ = a.get("/admin/i/%s/links/%d" % (B, lid[fids[0]]))
    t.eq(st, 404, "a link of another integration is not found")
    st, _ = a.get("/admin/i/%s/links/999999" % A)
    t.eq(st, 404, "an unknown link is not found")
    t.ok('href="/admin/i/%s/links/%d"' % (A, lid[fids[0]]) in
         page("/admin/i/" + A), "the links table links each history")

    # -- a refused token -------------------------------------------------------
    s.td.call("POST", "/_double/faults", {"match": "GET ", "status": 401,
                                          "count": -1})
    s.pb.call("PATCH", "/_double/features/" + fb, {"name": "B again"})
    drain()
    s.td.call("DELETE", "/_double/faults")
    w = words(page("/admin/"))
    t.ok(any(x.startswith("Plain: GitLab refused the token on ") and
             x.endswith(": re-enter it. Edit the integration") for x in w),
         "a refused token is said in words, with where to fix it", w)
    t.ok(any(x.startswith("GitLab refused the token on ") for x in
             words(page("/admin/i/" + B))),
         "and on the integration's own page")


def _utc(s):
    import calendar
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M"))


s = None
try:
    # No program runs jobs after answering and no worker runs: only
    # drain(), so the queue holds still between two looks.
    s = Stack(tracker="gitlab", env={"PBSYNC_JOB_BUDGET_MS": "0",
                                     "PBSYNC_JOB_MAX_ATTEMPTS": "2",
                                     "PBSYNC_RECONCILE_INTERVAL_S": "3600"})
    fx.seed(s)
    suite(s, s.tr)
except Exception:
    import traceback
    t.ok(False, "the suite ran to its end", traceback.format_exc())
finally:
    if s is not None:
        s.stop(t)
t.done()
