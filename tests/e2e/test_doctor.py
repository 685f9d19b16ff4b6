"""pbsyncctl doctor through the real stack, once per tracker: every check
ok on healthy integrations; then one thing broken at a time, each time the
FAIL (or warn) line of that check, what it says to do, and the exit status:
the key file readable by others, another key than the tokens' (the
integration made with it fails), an unknown configuration key, the
database missing (and not created), the tracker's token refused, the
Productboard token revoked, the tracker's webhook, the Productboard
webhook and the plugin integration deleted upstream (as a person would,
through each service's API), and where the tracker has the switch (GitHub)
a webhook turned off.  No token or secret in anything it prints; nothing
it finds is written back.
"""
import html
import json
import os
import re
import urllib.error
import urllib.request

import fixtures as fx
import reliability
import trackers
import harness
from harness import AdminSession, Tap

t = Tap()
AREA = "pbsyncctl doctor"
GLOBAL = ("config", "key file", "database")


def check(case, expected, observed, cond):
    return reliability.check(t, AREA, case, expected, observed, cond)


def per_integration(tr):
    """The checks doctor makes of each integration, by name."""
    return ("tokens", "Productboard", tr.title, "plugin integration",
            "Productboard webhook", tr.title + " webhook")


def doctor(s, *args, env=None):
    """(exit status, [(verdict, integration id, check, text)], stdout,
    stderr) of pbsyncctl doctor."""
    r = s.ctl("doctor", *args, env=env, check=False)
    rows, iid = [], None
    for line in r.stdout.splitlines():
        m = re.match(r"integration (\w+): ", line)
        if m:
            iid = m.group(1)
            continue
        m = re.match(r"(ok|warn|FAIL)\s+([^:]+): (.*)$", line)
        if m:
            rows.append((m.group(1), iid, m.group(2), m.group(3)))
    s.outputs.append(r.stdout + r.stderr)
    return r.returncode, rows, r.stdout, r.stderr


def not_ok(rows):
    """{(integration, check): (verdict, text)} of the lines not ok."""
    return {(i, c): (v, x) for v, i, c, x in rows if v != "ok"}


def call(url, method, headers, body=None):
    """An API call as a person's client makes it: the status."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=dict(headers, **(
                                     {"Content-Type": "application/json"}
                                     if data else {})))
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def hook_call(tr, hid, method, body=None):
    """A call to the tracker's webhook hid as its owner makes it in the
    API (a person in the web UI does the same): the status."""
    url, headers = tr.hook_api(hid)
    return call(url, method, headers, body)


def pb_delete(s, what, pid):
    """Deletes a plugin integration or webhook in Productboard."""
    return call("%s/v2/%s/%s" % (s.pb.url, what, pid), "DELETE",
                {"Authorization": "Bearer " + fx.PB_TOKEN})


def row_of(s, iid, column):
    return s.sql("SELECT %s FROM integration WHERE id = ?" % column,
                 iid)[0][0]


def gone(s, case, iid, name, status, expected, says=""):
    """After a DELETE upstream that answered status: doctor of iid fails
    the check name, and only it, saying it is gone (and says)."""
    rc, rows, out, _ = doctor(s, iid)
    bad = not_ok(rows)
    v, text = bad.get((iid, name), (None, ""))
    return check(case, expected, "DELETE %d; exit %d; %s %r; others: %s" % (
        status, rc, v, text, sorted(k for k in bad if k != (iid, name))),
        status == 204 and rc == 1 and v == "FAIL" and "is gone" in text and
        says in text and list(bad) == [(iid, name)])


def by_hand(s, tr):
    """A webhook set up by hand, where the tracker lets a token that may
    not register one go without it: doctor cannot ask the tracker, so it
    says when the last delivery arrived (warn before any, ok after one),
    and the token's missing right is no warning.  Returns the secret."""
    admin = AdminSession(s)
    csrf = re.search(r'name="csrf" value="([^"]*)"', admin.get(
        "/admin/new?tracker=" + tr.kind)[1])
    st, page = admin.req("POST", "/admin/new", dict({
        "csrf": csrf.group(1) if csrf else "", "op": "save",
        "name": "By hand", "column_label": tr.title,
        "pb_token": fx.PB_TOKEN, "tracker_kind": tr.kind,
        "tracker_url": tr.url(), "tracker_token": tr.hook_by_hand_token,
        "tracker_project": tr.project, "conflict_policy": "latest",
        "delete_policy": "keep", "hook_by_hand": "on"},
        **tr.form_options(human=True)))
    shown = {k: html.unescape(v) for k, v in re.findall(
        r'id="hook-(\w+)">([^<]*)<', page)}
    iid = s.sql("SELECT id FROM integration WHERE name = 'By hand'")
    iid = iid[0][0] if iid else None
    hook = tr.title + " webhook"
    rc, rows, out, _ = doctor(s, iid)
    bad = not_ok(rows)
    v, text = bad.get((iid, hook), (None, ""))
    check("%s set up by hand, no delivery yet" % hook, "warn %s: set up by "
          "hand, no delivery; fix: the webhook page to compare with; %s "
          "ok; exit 0" % (hook, tr.title), "create %d; exit %d; %s %r; "
          "others: %s" % (st, rc, v, text, sorted(k for k in bad
                                                   if k != (iid, hook))),
          st == 200 and rc == 0 and v == "warn" and "set up by hand" in
          text and "no delivery" in text and "/admin/i/%s/webhook" % iid
          in text and list(bad) == [(iid, hook)])
    hid = tr.add_hook("pbsync: By hand", shown.get("url"),
                      shown.get("events"), shown.get("filter"),
                      shown.get("secret"))
    tr.open_issue("Seen by the hook", "A person's new issue.")
    tr.d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                        "timeout": 20})
    rc, rows, out, _ = doctor(s, iid)
    said = [x for w, i, k, x in rows if (i, k) == (iid, hook)]
    check("%s set up by hand, after a delivery" % hook, "ok %s: set up by "
          "hand, its last delivery's time; exit 0" % hook, "exit %d; %s; "
          "not ok: %s" % (rc, said, not_ok(rows)),
          rc == 0 and not not_ok(rows) and len(said) == 1 and
          "last delivery arrived" in said[0])
    r = s.ctl("integration", "delete", iid, check=False)
    t.ok(r.returncode == 0 and "set up by hand" in r.stdout,
         "pbsyncctl integration delete says to remove it by hand",
         r.stdout)
    hook_call(tr, hid, "DELETE")
    return shown.get("secret")


def suite(s, tr):
    s.outputs = []
    ids = {}
    for name in ("Alpha", "Beta", "Gamma"):
        rc, ids[name], err = fx.create_integration(s, name)
        t.ok(rc == 0 and len(ids[name]) == 32,
             "integration %s created" % name, err)
    a, b, c = ids["Alpha"], ids["Beta"], ids["Gamma"]
    every = {(None, g) for g in GLOBAL} | {
        (i, k) for i in (a, b, c) for k in per_integration(tr)}

    # -- healthy ---------------------------------------------------------
    rc, rows, out, err = doctor(s)
    got = {(i, k) for v, i, k, _ in rows if v == "ok"}
    check("three healthy integrations", "a line per check, every one ok, "
          "exit 0", "exit %d; %d of %d checks ok; not ok: %s; missing: %s"
          % (rc, len(got), len(every), not_ok(rows), sorted(
              every - got, key=str)),
          rc == 0 and got == every and len(rows) == len(every))
    tails = ["..." + x[-4:] for x in (fx.PB_TOKEN, tr.token)]
    t.ok(all(x in out for x in tails), "the tokens shown by their tails "
         "(%s)" % ", ".join(tails), out)
    rc, rows, out, _ = doctor(s, b)
    t.ok(rc == 0 and {i for _, i, _, _ in rows} == {None, b} and
         len(rows) == len(GLOBAL) + len(per_integration(tr)),
         "doctor ID checks that integration only", out)

    # -- the key file readable by others ---------------------------------
    key = s.env["PBSYNC_KEY_FILE"]
    os.chmod(key, 0o644)
    try:
        rc, rows, out, _ = doctor(s)
    finally:
        os.chmod(key, 0o600)
    bad = not_ok(rows)
    v, text = bad.get((None, "key file"), (None, ""))
    check("key file mode 0644", "FAIL key file, fix: chmod 600; the "
          "tokens not opened; exit 1", "exit %d; key file: %s %r; tokens: "
          "%s" % (rc, v, text, sorted(x[1][0] for x in bad.items()
                                      if x[0][1] == "tokens")),
          rc == 1 and v == "FAIL" and "0644" in text and
          "fix: chmod 600 " + key in text and
          all(bad.get((i, "tokens"), ("",))[0] == "FAIL" for i in (a, b, c))
          and (None, "config") not in bad and (None, "database") not in bad)
    rc, rows, _, _ = doctor(s)
    t.ok(rc == 0 and not not_ok(rows), "mode 0600 again: all ok",
         not_ok(rows))

    # -- another key: one the tokens were not sealed with ----------------
    with open(key, "rb") as f:
        kept = f.read()
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    try:
        rc, rows, out, _ = doctor(s, a)
    finally:
        with open(key, "wb") as f:
            f.write(kept)
    bad = not_ok(rows)
    v, text = bad.get((a, "tokens"), (None, ""))
    check("a key file that is not the tokens' key", "FAIL tokens: not "
          "the key they were sealed with; exit 1", "exit %d; %s %r; "
          "others: %s" % (rc, v, text, sorted(k for k in bad
                                              if k != (a, "tokens"))),
          rc == 1 and v == "FAIL" and "not the key" in text and
          list(bad) == [(a, "tokens")])

    # -- an unknown configuration key ------------------------------------
    conf = os.path.join(s.dir, "typo.conf")
    with open(s.env["PBSYNC_CONFIG"]) as f, open(conf, "w") as g:
        g.write(f.read() + "reconcile_intervall_s = 60\n")
    rc, rows, out, err = doctor(s, env={"PBSYNC_CONFIG": conf})
    check("a configuration key misspelt", "FAIL config, and no other "
          "check (they need it); the key on stderr; exit 1",
          "exit %d; lines %s; stderr %r" % (rc, rows, err.strip()[-200:]),
          rc == 1 and [r[:3] for r in rows] == [("FAIL", None, "config")]
          and conf in rows[0][3] and "fix:" in rows[0][3] and
          "reconcile_intervall_s" in err)

    # -- the database missing: a file, or PostgreSQL's empty schema ------
    if s.pg:
        moved = harness.pg_schema("doctor_empty_%d" % os.getpid())

        def created():
            return harness.db_sql(moved, "SELECT count(*) FROM"
                                  " information_schema.tables WHERE"
                                  " table_schema = current_schema()")[0][0]
        missing = "has no pbsync tables"
    else:
        moved = os.path.join(s.dir, "moved-away.db")

        def created():
            return os.path.exists(moved)
        missing = "does not exist"
    rc, rows, out, _ = doctor(s, env={"PBSYNC_DATABASE": moved})
    bad = not_ok(rows)
    v, text = bad.get((None, "database"), (None, ""))
    made = created()
    check("the database missing", "FAIL database, fix: pbsyncctl init; "
          "nothing created; exit 1", "exit %d; %s %r; created: %s" % (
              rc, v, text, made),
          rc == 1 and v == "FAIL" and missing in text and
          "pbsyncctl init" in text and list(bad) == [(None, "database")]
          and not made)

    # -- the tracker refuses the token -----------------------------------
    tr.d.call("POST", "/_double/faults", {"match": ".*", "status": 401,
                                          "count": -1})
    try:
        rc, rows, out, _ = doctor(s, b)
    finally:
        tr.d.call("DELETE", "/_double/faults")
    bad = not_ok(rows)
    v, text = bad.get((b, tr.title), (None, ""))
    check("%s token revoked (401)" % tr.title, "FAIL %s: refused the "
          "token, by its tail; its webhook not checked; exit 1" % tr.title,
          "exit %d; %s %r; others: %s" % (rc, v, text, sorted(
              (k[1], x[0]) for k, x in bad.items() if k[1] != tr.title)),
          rc == 1 and v == "FAIL" and "refused the token ..." +
          tr.token[-4:] in text and "HTTP 401" in text and
          bad.get((b, tr.title + " webhook"), ("",))[0] == "warn" and
          set(bad) == {(b, tr.title), (b, tr.title + " webhook")})
    t.ok(row_of(s, b, "auth_failed") is None, "doctor flags nothing on "
         "the integration (auth_failed stays empty)")

    # -- Productboard refuses the token ----------------------------------
    s.pb.call("POST", "/_double/tokens", {"token": fx.PB_TOKEN,
                                          "revoked": True})
    try:
        rc, rows, out, _ = doctor(s, b)
    finally:
        s.pb.call("POST", "/_double/tokens", {"token": fx.PB_TOKEN,
                                              "revoked": False})
    bad = not_ok(rows)
    v, text = bad.get((b, "Productboard"), (None, ""))
    check("Productboard token revoked (401)", "FAIL Productboard: refused "
          "the token; the column and webhook not checked; exit 1",
          "exit %d; %s %r; others: %s" % (rc, v, text, sorted(
              (k[1], x[0]) for k, x in bad.items()
              if k[1] != "Productboard")),
          rc == 1 and v == "FAIL" and "refused the token ..." +
          fx.PB_TOKEN[-4:] in text and set(bad) == {
              (b, "Productboard"), (b, "plugin integration"),
              (b, "Productboard webhook")} and
          bad[(b, "plugin integration")][0] == "warn")

    # -- the webhook turned off, where the tracker has a switch for it ----
    # (GitHub's "active"; a GitLab project hook has none, GitLab turns it
    # off itself after failures)
    if tr.hook_switch(False) is not None:
        hid = row_of(s, c, "tracker_hook_id")
        st = hook_call(tr, hid, *tr.hook_switch(False))
        rc, rows, out, _ = doctor(s, c)
        bad = not_ok(rows)
        hook = tr.title + " webhook"
        check(hook + " turned off", "warn %s, exit 0" % hook,
              "%s %d; exit %d; %s" % (tr.hook_switch(False)[0], st, rc, bad),
              st == 200 and rc == 0 and list(bad) == [(c, hook)] and
              bad[(c, hook)][0] == "warn")
        hook_call(tr, hid, *tr.hook_switch(True))

    # -- deleted upstream, one per integration ---------------------------
    gone(s, "%s webhook deleted upstream" % tr.title, a, tr.title +
         " webhook", hook_call(tr, row_of(s, a, "tracker_hook_id"),
                               "DELETE"), "FAIL %s webhook: gone, fix: "
         "delete and create the integration; exit 1" % tr.title,
         "pbsyncctl integration delete " + a)
    gone(s, "Productboard webhook deleted upstream", b,
         "Productboard webhook", pb_delete(s, "webhooks", row_of(
             s, b, "pb_webhook_id")), "FAIL Productboard webhook: gone; "
         "exit 1")
    gone(s, "plugin integration deleted upstream", c, "plugin integration",
         pb_delete(s, "plugin-integrations", row_of(s, c, "pb_plugin_id")),
         "FAIL plugin integration: gone, no Push column; exit 1",
         "no Push column")

    rc, rows, out, _ = doctor(s)
    fails = sorted((i, k) for v, i, k, _ in rows if v == "FAIL")
    want = sorted([(a, tr.title + " webhook"), (b, "Productboard webhook"),
                   (c, "plugin integration")])
    check("all integrations, three broken", "exactly the three FAIL "
          "lines, the counts last; exit 1", "exit %d; FAIL %s; last line %r"
          % (rc, fails, out.splitlines()[-1:]), rc == 1 and fails == want and
          out.splitlines()[-1] == "%d ok, 0 warn, 3 FAIL" % (
              len(every) - 3))

    # -- what it does not take -------------------------------------------
    rc, rows, out, _ = doctor(s, "0" * 32)
    t.ok(rc == 1 and [r[:3] for r in rows][-1:] == [
        ("FAIL", None, "integration")] and "no integration" in rows[-1][3],
         "doctor of an id that is no integration: FAIL, exit 1", out)
    r = s.ctl("doctor", a, b, check=False)
    t.ok(r.returncode == 2 and not r.stdout and "pbsyncctl doctor [ID]" in
         r.stderr, "doctor with two ids: its usage on stderr, exit 2",
         r.stderr)

    shown = by_hand(s, tr) if tr.hook_by_hand else None

    secrets = [fx.PB_TOKEN, tr.token, shown] + [
        x for x in (tr.hook_secret_sent(h) for h in tr.hooks()) if x]
    secrets = [x for x in secrets if x]
    leaked = [x[:6] + "..." for x in secrets if any(
        x in o for o in s.outputs)]
    t.ok(len(secrets) >= 3 and not leaked, "no token or hook secret in "
         "anything doctor printed (%d runs, %d secrets)" % (
             len(s.outputs), len(secrets)), leaked)
    reports = [o[o.index(m):][:300] for o in s.outputs for m in (
        "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
        if m in o]
    t.ok(not reports, "no sanitizer report from pbsyncctl doctor itself",
         "\n".join(reports))


trackers.each(t, suite)
