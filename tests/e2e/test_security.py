"""Security checks of DESIGN §6, end to end: SSRF (upstream URLs towards
loopback, private and link-local addresses, other schemes, redirects),
CSRF, session fixation, secrets never in logs, pages or error bodies,
stored tokens unreadable without the key file, and the modes of the
FastCGI sockets and the key file.  Runs once per tracker
(tests/e2e/trackers.py)."""
import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import fixtures as fx
import reliability
import trackers
import wire
from harness import PROGRAMS, Stack, Tap, db_sql, wait_for

PASSWORD = "security suite admin password 0123"
BAD_PB_TOKEN = "pb-wrong-token-4242424242"

t = Tap()
ctl_out, errors = [], []
tr = None          # the tracker of the run under way (suite)
rate_checked = []  # the tracker whose run checked the inbound rate limit


def check(area, case, expected, observed, cond):
    return reliability.check(t, "Security: " + area, case, expected,
                             observed, cond)


def ctl(s, *args, env=None, **kw):
    """pbsyncctl, its output kept for the secrets check."""
    r = s.ctl(*args, env=env, check=False, **kw)
    ctl_out.append(r.stdout + r.stderr)
    return r


def h(v):
    return hashlib.blake2b(v.encode(), digest_size=32).hexdigest()


def sanitizer_marks(text):
    return [m for m in ("AddressSanitizer", "runtime error:",
                        "LeakSanitizer") if m in text]


def calls(s):
    return len(s.pb.requests()) + len(s.td.requests())


def not_public():
    return "The %s URL must be an https:// URL of a public host." % tr.title


def said(r):
    """What pbsyncctl said last, without its name."""
    lines = r.stderr.strip().splitlines() or [""]
    return lines[-1].replace("pbsyncctl: ", "")


def create_form(b, url, **extra):
    f = {"csrf": b.csrf("/admin/new"), "op": "save", "name": "Sec",
         "column_label": tr.title, "pb_token": fx.PB_TOKEN,
         "tracker_kind": tr.kind, "tracker_url": url,
         "tracker_token": tr.token, "tracker_project": tr.project,
         "conflict_policy": "latest", "delete_policy": "keep"}
    f.update(tr.form_options())
    f.update(extra)
    return f


def ctl_add(s, url, env=None):
    e = {"PBSYNC_PB_TOKEN": fx.PB_TOKEN, "PBSYNC_TRACKER_TOKEN": tr.token}
    e.update(env or {})
    # The tracker's own arguments (Jira: the account's e-mail), this URL.
    args = list(tr.integration_args())
    args[args.index("--url") + 1] = url
    return ctl(s, "integration", "add", "--name", "Sec", *args, env=e)


def admin(s):
    """A logged-in admin browser on stack s."""
    ctl(s, "admin", "add", "root", input=PASSWORD + "\n")
    b = wire.Browser(s.port)
    b.login("root", PASSWORD)
    return b


def loopback_name():
    """A name other than localhost that this machine resolves to a
    loopback address (its own host name usually does), or None."""
    name = socket.gethostname()
    try:
        addrs = {a[4][0] for a in socket.getaddrinfo(name, None)}
    except OSError:
        return None
    if name.lower() != "localhost" and addrs and all(
            a.startswith("127.") or a == "::1" for a in addrs):
        return name
    return None


def body(A, tr, stacks):
    """The checks, on stack A (private upstreams allowed: the doubles are
    on loopback, seeded) and the stacks they start, kept in stacks."""
    t0 = time.monotonic()
    a = admin(A)

    # -- SSRF: the allowed case, then redirects --------------------------
    r = a.post("/admin/new", create_form(a, tr.url()))
    loc = r.headers.get("location", "")
    iid = loc.split("/admin/i/")[-1].split("?")[0] if "/admin/i/" in loc \
        else ""
    check("SSRF", "allow_private_upstreams=true: a loopback http %s URL "
          "is accepted" % tr.title, "303 to the new integration, 1 row",
          "%s, %d row" % (r.status, A.counts()["integration"]),
          r.status == 303 and len(iid) == 32 and
          A.counts()["integration"] == 1)
    for side, double, other, match, target in (
            (tr.title, A.td, A.pb, "GET " + tr.api_root, "/v2/ssrf-target"),
            ("Productboard", A.pb, A.td, "GET /v2/",
             tr.api_root + "ssrf-target")):
        double.call("POST", "/_double/faults", {
            "match": match, "status": 302, "count": -1,
            "headers": {"Location": other.url + target}})
        before = A.counts()["integration"]
        rc = ctl_add(A, tr.url())
        form = a.post("/admin/new", create_form(a, tr.url()))
        double.call("DELETE", "/_double/faults")
        followed = len(other.requests(target))
        check("SSRF", "%s answers 302 to a loopback URL: not followed" % side,
              "pbsyncctl and the form refuse, no row, redirect target never "
              "requested", "pbsyncctl exit %d (%s), form %d, %d new rows, "
              "target requested %d times" % (
                  rc.returncode, said(rc), form.status,
                  A.counts()["integration"] - before, followed),
              rc.returncode != 0 and "redirect refused" in rc.stderr and
              form.status == 422 and "redirect refused" in form.body and
              A.counts()["integration"] == before and followed == 0)

    # Cloud metadata services stay refused with private upstreams allowed.
    for what, url in (("169.254.169.254", "http://169.254.169.254"),
                      ("[fd00:ec2::254]", "http://[fd00:ec2::254]"),
                      ("NAT64 [64:ff9b::a9fe:a9fe]",
                       "http://[64:ff9b::a9fe:a9fe]")):
        before = A.counts()["integration"]
        rc = ctl_add(A, url)
        check("SSRF", "allow_private_upstreams=true: %s URL on the "
              "metadata address %s" % (tr.title, what), "refused, no row",
              "pbsyncctl exit %d (%s), %d new rows" % (
                  rc.returncode, said(rc), A.counts()["integration"] - before),
              rc.returncode != 0 and A.counts()["integration"] == before)

    # -- traffic that carries every secret, for the grep below ------------
    pst = A.pb.call("GET", "/_double/state")
    plugin_auth = list(pst["plugin_integrations"].values())[0][
        "authorization"]
    pb_auth = list(pst["webhooks"].values())[0]["authorization"]
    hook = tr.hook_of(iid)
    hook_secret = tr.hook_secret_sent(hook)
    A.start_worker()
    pid = fx.plugin_id(A, iid)
    fid = fx.feature(A, "Secret plans")
    click = fx.click(A, pid, fid)
    A.pb.call("PATCH", "/_double/features/" + fid, {"name": "Secret plans 2"})
    fx.idle(A)
    tr.edit((tr.issues_of(fid) or [{"number": 1}])[0]["number"],
            title="Secret plans 3")
    # Settled: a job put off (a busy link) would otherwise run later, in
    # a program after it answered one of the refused calls below.
    fx.idle(A, settled=True)
    # Stopped, so that from here on only this suite's requests call the
    # doubles.
    A.stop_program("worker")
    for path in ("/admin/", "/admin/i/" + iid, "/admin/i/%s/edit" % iid,
                 "/admin/i/%s/delete" % iid, "/admin/new"):
        a.get(path)
    flows = [a.post("/admin/new", create_form(a, tr.url(), op="statuses")),
             a.post("/admin/new", create_form(a, tr.url(),
                                              pb_token=BAD_PB_TOKEN))]
    edit = a.csrf("/admin/i/%s/edit" % iid)
    flows.append(a.post("/admin/i/%s/edit" % iid, {
        "csrf": edit, "name": "Sec", "column_label": tr.title,
        "tracker_token": tr.human_token, "pb_token": "",
        "conflict_policy": "latest",
        "delete_policy": "keep"}))
    w = wire.Browser(A.port)
    flows.append(w.login("root", PASSWORD + "!"))
    # Refused inbound calls that carry a secret, right or nearly right.
    for what, want, method, path, hdr, body in (
            ("the plugin secret with truncated JSON", 400,
             "POST", "/plugin/" + iid, {"Authorization": plugin_auth,
                                        "Content-Type": "application/json"},
             b'{"data":'),
            ("the plugin secret and one character more", 401,
             "POST", "/plugin/" + iid, {"Authorization": plugin_auth + "x",
                                        "Content-Type": "application/json"},
             b"{}"),
            ("the webhook secret with a text/plain body", 415,
             "POST", "/webhooks/productboard/" + iid,
             {"Authorization": pb_auth, "Content-Type": "text/plain"}, b"{}"),
            ("the %s hook secret on the Productboard webhook's probe" %
             tr.title, 401,
             "GET", "/webhooks/productboard/%s?validationToken=v" % iid,
             {"Authorization": hook_secret}, None),
            ("the %s hook's right %s with a JSON array" % (
                tr.title, tr.auth_header), 400,
             "POST", "/webhooks/gittab/" + iid, tr.signed(hook, "[]"),
             b"[]"),
            ("the %s hook's %s reversed" % (tr.title, tr.auth_header), 401,
             "POST", "/webhooks/gittab/" + iid,
             tr.signed(hook, "{}", good=False), b"{}")) + ((
                # Only a signature covers the body: a token does not.
                ("the %s hook's %s of another delivery (it signs the "
                 "exact body)" % (tr.title, tr.auth_header), 401,
                 "POST", "/webhooks/gittab/" + iid,
                 tr.signed(hook, tr.delivery_body(1, 1)),
                 tr.delivery_body(2, 2).encode()),) if tr.signs_body
                else ()):
        before = A.table_counts()
        st, head, rbody = wire.raw_http(A.port, wire.request_head(
            method, path, hdr, body, A.port) + (body or b""))
        errors.append(head + rbody)
        after = A.table_counts()
        same = after == before
        check("inbound", "%s %s, %s" % (method, path.split("/" + iid)[0],
                                         what),
              "%d, nothing written" % want, "%s, %s" % (
                  st, "nothing written" if same else "rows changed: %s" % {
                      k: (before.get(k), n) for k, n in after.items()
                      if before.get(k) != n}),
              st == want and same)

    # -- CSRF --------------------------------------------------------------
    b2 = wire.Browser(A.port)
    b2.login("root", PASSWORD)
    other_csrf = b2.csrf("/admin/")
    A.sql("INSERT INTO job (integration_id, kind, key, state, attempts,"
          " run_at, last_error, created_at, updated_at) VALUES (?, 'sync',"
          " 'csrf', 'dead', 8, 0, 'x', 1, 1)", iid)
    jid = A.sql("SELECT id FROM job WHERE key = 'csrf'")[0][0]

    def snapshot():
        return (A.table_counts(), A.sql("SELECT * FROM integration"),
                A.sql("SELECT state FROM job WHERE id = ?", jid))

    forms = (
        ("create", "/admin/new", create_form(a, tr.url())),
        ("edit", "/admin/i/%s/edit" % iid, {
            "name": "Changed", "column_label": "GL", "pb_token": "",
            "tracker_token": "", "conflict_policy": "tracker",
            "delete_policy": "close"}),
        ("delete", "/admin/i/%s/delete" % iid, {}),
        ("retry", "/admin/i/%s/retry" % iid, {"job": jid}),
        ("logout", "/admin/logout", {}),
    )
    mine = a.csrf("/admin/")
    for what, path, fields in forms:
        for how, token in (("without a token", None),
                           ("with a made-up token", "Z" * len(mine)),
                           ("with another session's token", other_csrf)):
            f = {k: v for k, v in fields.items() if k != "csrf"}
            if token is not None:
                f["csrf"] = token
            before = snapshot()
            r = a.post(path, f)
            same = snapshot() == before
            check("CSRF", "%s %s" % (what, how), "403, nothing changed",
                  "%s, %s" % (r.status, "nothing changed" if same else
                              "state changed"), r.status == 403 and same)
        before = snapshot()
        f = dict(fields, csrf=mine)
        r = a.post(path, f, {"Content-Type": "text/plain"})
        same = snapshot() == before
        check("CSRF", "%s as a cross-site text/plain form with the right "
              "token" % what, "415, nothing changed", "%s, %s" % (
                  r.status, "nothing changed" if same else "state changed"),
              r.status == 415 and same)
    check("CSRF", "each session has its own token",
          "two sessions, two tokens", "tokens %s" % (
              "differ" if mine != other_csrf else "are equal"),
          mine and other_csrf and mine != other_csrf)
    c = wire.Browser(A.port)
    c.get("/admin/login")
    r1 = c.post("/admin/login", {"csrf": "Y" * 43, "user": "root",
                                 "password": PASSWORD})
    pre = c.jar.pop("pbsync_login", "")
    r2 = c.post("/admin/login", {"csrf": pre, "user": "root",
                                 "password": PASSWORD})
    check("CSRF", "login with a token that is not its pre-login cookie, "
          "or without the cookie", "403 twice, no session",
          "%s, %s, session cookie %s" % (
              r1.status, r2.status,
              "set" if "pbsync_session" in c.jar else "not set"),
          r1.status == 403 and r2.status == 403 and
          "pbsync_session" not in c.jar)
    attrs = {}
    for r in a.replies + c.replies:
        for sc in r.cookies:
            attrs.setdefault(sc.split("=")[0], set(
                x.strip() for x in sc.split(";")[1:]))
    ok = all({"HttpOnly", "SameSite=Strict", "Path=/"} <= v
             for v in attrs.values())
    check("CSRF", "session and pre-login cookies are HttpOnly, "
          "SameSite=Strict, Path=/", "both cookies with all three",
          "; ".join("%s: %s" % (k, ", ".join(sorted(v)))
                    for k, v in sorted(attrs.items())),
          ok and {"pbsync_session", "pbsync_login"} <= set(attrs))

    # -- session fixation ----------------------------------------------------
    F = "session fixation"
    planted = "P" * 43
    f1 = wire.Browser(A.port)
    f1.get("/admin/login")
    pre = f1.jar["pbsync_login"]
    f1.jar["pbsync_session"] = planted
    r = f1.login("root", PASSWORD)
    sid = f1.jar.get("pbsync_session", "")
    tries = []
    for value in (planted, pre):
        probe = wire.Browser(A.port)
        probe.jar["pbsync_session"] = value
        tries.append(probe.get("/admin/").status)
    check(F, "a planted session id is replaced at login and opens nothing",
          "new id at login; planted and pre-login values answer 303",
          "login %s, id %s, planted -> %s, pre-login -> %s" % (
              r.status, "new" if sid not in ("", planted, pre) else "reused",
              tries[0], tries[1]),
          r.status == 303 and sid not in ("", planted, pre) and
          tries == [303, 303])
    # A second login from the same browser, still logged in: a login
    # page is only served without a session, so its cookie comes from a
    # fresh browser.
    g = wire.Browser(A.port)
    g.get("/admin/login")
    f1.jar["pbsync_login"] = g.jar["pbsync_login"]
    f1.post("/admin/login", {"csrf": g.jar["pbsync_login"], "user": "root",
                             "password": PASSWORD})
    sid2 = f1.jar.get("pbsync_session", "")
    probe = wire.Browser(A.port)
    probe.jar["pbsync_session"] = sid
    old = probe.get("/admin/").status
    check(F, "logging in again issues a fresh id and ends the old session",
          "a different id; the old one answers 303",
          "id %s, old id -> %s" % ("fresh" if sid2 != sid else "same", old),
          sid2 and sid2 != sid and old == 303)
    rows = A.sql("SELECT count(*) FROM session WHERE id_hash = ?", sid2)[0][0]
    hashed = A.sql("SELECT count(*) FROM session WHERE id_hash = ?",
                   h(sid2))[0][0]
    check(F, "the database keeps a hash of the session id, not the id",
          "0 rows hold the id, 1 its BLAKE2b hash",
          "%d rows hold the id, %d its hash" % (rows, hashed),
          rows == 0 and hashed == 1)
    f1.post("/admin/logout", {"csrf": f1.csrf("/admin/")})
    probe = wire.Browser(A.port)
    probe.jar["pbsync_session"] = sid2
    after = probe.get("/admin/").status
    gone = A.sql("SELECT count(*) FROM session WHERE id_hash = ?",
                 h(sid2))[0][0]
    check(F, "logout ends the session on the server",
          "the id answers 303, its row is gone",
          "id -> %s, %d rows" % (after, gone), after == 303 and gone == 0)

    # -- stored tokens --------------------------------------------------------
    S = "stored tokens"
    row = A.sql("SELECT pb_token, tracker_token, pb_token_tail,"
                " tracker_token_tail,"
                " plugin_secret, pb_hook_secret, tracker_hook_secret FROM"
                " integration WHERE id = ?", iid)[0]
    sealed = row[:2]

    def unsealed(v):
        """The bytes of a sealed value: nonce, ciphertext and tag."""
        return base64.urlsafe_b64decode(v[3:] + "=" * (-len(v[3:]) % 4))

    plain = [x for x in (fx.PB_TOKEN, tr.token) if any(
        x in v or x.encode() in unsealed(v) for v in sealed)]
    check(S, "the token columns hold no plaintext, not even base64",
          "both sealed (v1.), neither token inside",
          "%d of 2 sealed (v1.), %d of 2 tokens found in them" % (
              sum(v.startswith("v1.") for v in sealed), len(plain)),
          all(v.startswith("v1.") for v in sealed) and not plain)
    check(S, "only the last four characters are kept in clear",
          "tails %s, %s" % (fx.PB_TOKEN[-4:], tr.token[-4:]),
          "tails %s, %s" % row[2:4],
          row[2:4] == (fx.PB_TOKEN[-4:], tr.token[-4:]))
    if tr.signs_body:
        # The tracker signs each body with the secret: pbsync needs it
        # back to check a signature, so it is sealed, not hashed.
        hook_kept = row[6].startswith("v1.") and hook_secret not in row[6] \
            and hook_secret.encode() not in unsealed(row[6])
        want = "plugin and webhook secrets hashed; the hook secret sealed " \
            "(v1., not inside), as %s signs bodies with it" % tr.title
    else:
        hook_kept = row[6] == h(hook_secret)
        want = "plugin, webhook and hook secrets hashed"
    check(S, "inbound secrets are kept as BLAKE2b hashes" +
          (", the hook secret sealed" if tr.signs_body else ""), want,
          "%d of 3 columns are the hash of what was registered%s" % (sum(
              (row[4] == h(plugin_auth), row[5] == h(pb_auth),
               row[6] == h(hook_secret))),
              "; hook secret %s" % ("sealed" if hook_kept else "NOT sealed")
              if tr.signs_body else ""),
          (row[4], row[5]) == (h(plugin_auth), h(pb_auth)) and hook_kept)

    # Copies of the database whose upstream URLs lead nowhere, so that a
    # token decrypted by mistake cannot reach a double.
    def db_copy(name, *updates):
        return A.db_copy(name, "UPDATE integration SET tracker_url ="
                         " 'http://127.0.0.1:9'", *updates)

    other_key = os.path.join(A.dir, "other.key")
    env = dict(A.env, PBSYNC_KEY_FILE=other_key,
               PBSYNC_DATABASE=os.path.join(A.dir, "other.db"))
    init = subprocess.run([A.binary("pbsyncctl"), "init"], env=env,
                          capture_output=True, text=True, timeout=60,
                          umask=0)
    ctl_out.append(init.stdout + init.stderr)
    loose = os.path.join(A.dir, "loose.key")
    shutil.copy(A.env["PBSYNC_KEY_FILE"], loose)
    os.chmod(loose, 0o644)
    swapped = db_copy("swapped.db", "UPDATE integration SET pb_token ="
                      " tracker_token, tracker_token = pb_token")
    for case, key, db, why in (
            ("another key file", other_key, db_copy("k1.db"),
             "cannot decrypt its tokens"),
            ("no key file", os.path.join(A.dir, "missing.key"),
             db_copy("k2.db"), "cannot open key file"),
            ("a key file readable by others", loose, db_copy("k3.db"),
             "must be readable by its owner only"),
            ("the right key, but tokens swapped between columns",
             A.env["PBSYNC_KEY_FILE"], swapped, "cannot decrypt its tokens")):
        n = calls(A)
        r = ctl(A, "integration", "delete", iid, env={
            "PBSYNC_KEY_FILE": key, "PBSYNC_DATABASE": db,
            "PBSYNC_PRODUCTBOARD_API_URL": "http://127.0.0.1:9"})
        kept = db_sql(db, "SELECT count(*) FROM integration")[0][0]
        log = A.log()
        check(S, "pbsyncctl with %s cannot use the tokens" % case,
              "exit 1 with a message, row kept, no upstream call, no "
              "sanitizer report",
              "exit %d (%s), %d row kept, %d upstream calls, log: %s" % (
                  r.returncode, said(r), kept, calls(A) - n,
                  "says so" if why in log + r.stderr else "silent"),
              r.returncode == 1 and kept == 1 and calls(A) == n and
              why in log + r.stderr and "cannot load" in r.stderr and
              not sanitizer_marks(r.stderr))

    # -- file modes ---------------------------------------------------------
    M = "file modes"
    modes = {p: os.stat(os.path.join(A.dir, p + ".sock")).st_mode & 0o777
             for p in PROGRAMS}
    check(M, "the FastCGI sockets (-s) are not world-accessible",
          "0660 or stricter, nothing for others", ", ".join(
              "%s.sock %04o" % kv for kv in sorted(modes.items())),
          all(m & 0o007 == 0 and m & ~0o660 == 0 for m in modes.values()))
    sock = os.path.join(A.dir, "umask0.sock")
    p = subprocess.Popen([A.binary("plugin"), "-s", sock, "-n", "1"],
                         env=A.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True,
                         umask=0)
    made = wait_for(lambda: os.path.exists(sock), 10)
    mode = os.stat(sock).st_mode & 0o777 if made else None
    os.killpg(p.pid, signal.SIGTERM)
    p.wait(10)
    check(M, "a socket made under umask 000 is still 0660",
          "0660", "%04o" % mode if mode is not None else "no socket",
          mode == 0o660)
    km = os.stat(A.env["PBSYNC_KEY_FILE"]).st_mode & 0o777
    om = os.stat(other_key).st_mode & 0o777 if init.returncode == 0 else None
    check(M, "the key file is 0600, also when made under umask 000",
          "0600 and 0600", "%04o and %s" % (
              km, "%04o" % om if om is not None else "not created"),
          km == 0o600 and om == 0o600)

    # The *_proxy variables of the environment are not read: a proxy that
    # would answer every call sees none.
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    trap.settimeout(0.5)
    purl = "http://127.0.0.1:%d" % trap.getsockname()[1]
    before = A.counts()["integration"]
    rc = ctl_add(A, tr.url(), env={"http_proxy": purl, "HTTPS_PROXY": purl,
                                   "ALL_PROXY": purl, "no_proxy": ""})
    try:
        trap.accept()[0].close()
        proxied = True
    except socket.timeout:
        proxied = False
    trap.close()
    check("SSRF", "http_proxy, HTTPS_PROXY and ALL_PROXY set in the "
          "environment", "ignored: the calls go straight, the integration "
          "is made", "pbsyncctl exit %d, %d new row, proxy %s" % (
              rc.returncode, A.counts()["integration"] - before,
              "used" if proxied else "not used"),
          rc.returncode == 0 and not proxied and
          A.counts()["integration"] == before + 1)

    # == stack B: private upstreams refused =================================
    B = Stack(env={"PBSYNC_ALLOW_PRIVATE_UPSTREAMS": "false"},
              tracker=tr.kind)
    stacks.append(B)
    fx.seed(B)
    bb = admin(B)
    port = B.td.url.rsplit(":", 1)[1]
    NOT_PUBLIC = not_public()
    urls = [
        ("the %s double itself (http, loopback)" % tr.title, B.td.url),
        ("https on 127.0.0.1", "https://127.0.0.1:" + port),
        ("a private address 10.0.0.1", "https://10.0.0.1"),
        ("a private address 172.16.0.1", "https://172.16.0.1"),
        ("a private address 192.168.1.1", "https://192.168.1.1"),
        ("shared address space 100.64.0.1", "https://100.64.0.1"),
        ("link-local metadata 169.254.169.254",
         "https://169.254.169.254/latest/meta-data/"),
        ("file:///etc/passwd", "file:///etc/passwd"),
        ("gopher on loopback", "gopher://127.0.0.1:%s/_" % port),
        ("localhost", "https://localhost:" + port),
        ("LOCALHOST", "https://LOCALHOST:" + port),
        ("IPv6 loopback [::1]", "https://[::1]:" + port),
        ("IPv4-mapped IPv6 [::ffff:127.0.0.1]",
         "https://[::ffff:127.0.0.1]:" + port),
        ("IPv6 link-local [fe80::1]", "https://[fe80::1]"),
        ("IETF protocol assignments 192.0.0.8", "https://192.0.0.8"),
        ("benchmarking 198.18.0.1", "https://198.18.0.1"),
        ("NAT64 of loopback [64:ff9b::7f00:1]",
         "https://[64:ff9b::7f00:1]:" + port),
        ("6to4 of loopback [2002:7f00:1::1]",
         "https://[2002:7f00:1::1]:" + port),
        ("IPv4-compatible loopback [::127.0.0.1]",
         "https://[::127.0.0.1]:" + port),
        ("decimal 2130706433", "https://2130706433:" + port),
        ("octal 017700000001", "https://017700000001:" + port),
        ("hex 0x7f000001", "https://0x7f000001:" + port),
        ("short form 127.1", "https://127.1:" + port),
        ("0.0.0.0 written 0", "https://0:" + port),
        ("a user name that looks like a host",
         "https://gitlab.com@127.0.0.1:" + port),
    ]
    name = loopback_name()
    if name:
        urls.append(("this machine's name %s (resolves to loopback)" % name,
                     "https://%s:%s" % (name, port)))
    for what, url in urls:
        n = calls(B)
        r = ctl_add(B, url)
        form = bb.post("/admin/new", create_form(bb, url))
        rows, m = B.counts()["integration"], calls(B) - n
        check("SSRF", "%s URL: %s" % (tr.title, what),
              "pbsyncctl and the form refuse it before any call, nothing "
              "stored", "pbsyncctl exit %d%s, form %d%s, %d rows, %d "
              "upstream calls" % (
                  r.returncode, " (not public)" if NOT_PUBLIC in r.stderr
                  else " (%s)" % said(r), form.status,
                  " (not public)" if NOT_PUBLIC in form.body else "", rows,
                  m),
              r.returncode == 1 and NOT_PUBLIC in r.stderr and
              form.status == 422 and NOT_PUBLIC in form.body and
              rows == 0 and m == 0)
    # The refusals are about the URL: a public name gets past it, and the
    # same policy then stops the call to the (loopback) Productboard API,
    # by name or by address, at connect time.
    pbport = B.pb.url.rsplit(":", 1)[1]
    for what, api in (
            ("the Productboard double (http, loopback)", B.pb.url),
            ("https on 127.0.0.1", "https://127.0.0.1:" + pbport)) + ((
                ("%s, a name for loopback" % name,
                 "https://%s:%s" % (name, pbport)),) if name else ()):
        n = calls(B)
        r = ctl_add(B, "https://%s.example.com" % tr.kind,
                    env={"PBSYNC_PRODUCTBOARD_API_URL": api})
        check("SSRF", "Productboard API URL: " + what,
              "a public %s URL passes; the call is refused by address, "
              "nothing stored" % tr.title,
              "exit %d (%s), %d rows, %d upstream calls" % (
                  r.returncode, said(r),
                  B.counts()["integration"], calls(B) - n),
              r.returncode == 1 and "address not allowed" in r.stderr and
              NOT_PUBLIC not in r.stderr and
              B.counts()["integration"] == 0 and calls(B) == n)

    # -- secrets --------------------------------------------------------------
    C = "secrets"
    secrets = {"Productboard token": fx.PB_TOKEN,
               "%s token" % tr.title: tr.token,
               "refused Productboard token": BAD_PB_TOKEN,
               "%s token without hook rights" % tr.title: tr.human_token,
               "admin password": PASSWORD,
               "plugin authorization": plugin_auth.split(" ", 1)[-1],
               "webhook authorization": pb_auth.split(" ", 1)[-1],
               "%s hook secret" % tr.title: hook_secret}
    if tr.credential() != tr.token:
        # What pbsync sends for the token (Jira: e-mail and token, Basic).
        secrets["%s credentials as sent" % tr.title] = tr.credential()
    browsers = (a, b2, c, f1, w, bb)
    sids = {sc.split("=", 1)[1].split(";")[0] for br in browsers
            for r in br.replies for sc in r.cookies
            if sc.startswith("pbsync_session=") and "Max-Age=0" not in sc}
    for k, v in enumerate(sorted(sids)):
        secrets["session id %d" % (k + 1)] = v
    pages = [r.body.encode() for br in browsers for r in br.replies]

    def found(blobs):
        return sorted({k for k, v in secrets.items()
                       for blob in blobs if v.encode() in blob})

    logs = {}
    for s in stacks:
        for f in s.log_names():
            with open(os.path.join(s.dir, f), "rb") as fh:
                logs["%d/%s" % (stacks.index(s), f)] = fh.read()
    leaked = found(logs.values())
    check(C, "no secret in any log file of either stack",
          "0 of %d secrets found" % len(secrets),
          "%d of %d secrets found in %d log files (%d KiB)%s" % (
              len(leaked), len(secrets), len(logs),
              sum(map(len, logs.values())) >> 10,
              ": %s" % leaked if leaked else ""), not leaked)
    leaked = found(pages)
    check(C, "no secret in any page served", "0 found",
          "%d of %d secrets found in %d pages%s" % (
              len(leaked), len(secrets), len(pages),
              ": %s" % leaked if leaked else ""), not leaked)
    leaked = found(errors + [r.body.encode() for b in (a, bb)
                             for r in b.replies if r.status >= 400])
    check(C, "no secret in any error body, even one sent with the request",
          "0 found", "%d of %d secrets found in %d error answers%s" % (
              len(leaked), len(secrets),
              len(errors) + sum(r.status >= 400 for b in (a, bb)
                                for r in b.replies),
              ": %s" % leaked if leaked else ""), not leaked)
    leaked = found(x.encode() for x in ctl_out)
    check(C, "no secret in pbsyncctl's output", "0 found",
          "%d of %d secrets found in %d runs%s" % (
              len(leaked), len(secrets), len(ctl_out),
              ": %s" % leaked if leaked else ""), not leaked)
    db = A.db_bytes()
    leaked = found([db])
    check(C, "no secret in clear in the database files", "0 found",
          "%d of %d secrets found in %d KiB%s" % (
              len(leaked), len(secrets), len(db) >> 10,
              ": %s" % leaked if leaked else ""), not leaked)
    state = click.get("connection", {}).get("state")
    # Deliveries about an issue only: GitHub's ping does not count.
    hooks = [len([d for d in x.call("GET", "/_double/deliveries")
                  if d.get("kind") == "webhook" and d.get("status") in
                  (200, 204) and about(d.get("body"))])
             for x, about in ((A.pb, lambda b: True),
                              (A.td, tr.delivery_number))]
    codes = [r.status for r in flows]
    check(C, "the traffic grepped carried every secret",
          "a push connected, webhooks delivered both ways; statuses loaded "
          "200, refused tokens 422 and 422, wrong password 403",
          "push %s, %d Productboard webhooks and %d %s hooks accepted; "
          "%d, %d, %d, %d" % ((state, hooks[0], hooks[1], tr.title) +
                              tuple(codes)),
          state == "connected" and hooks[0] > 0 and hooks[1] > 0 and
          codes == [200, 422, 422, 403])

    # No tracker in it: once a run, with the first tracker.
    if not rate_checked:
        rate_limit(stacks)
        rate_checked.append(tr.kind)

    rep = [x for s in stacks for x in s.sanitizer_reports()] + [
        m for o in ctl_out for m in sanitizer_marks(o)]
    check("sanitizers", "no report from any program or pbsyncctl run",
          "0 reports", "%d reports%s" % (len(rep), ": %s" % rep if rep
                                          else ""), not rep)
    print("# %s: %d checks so far, this tracker's in %.1f s" % (
        tr.title, t.n, time.monotonic() - t0))


def rate_limit(stacks):
    """Stack R: the inbound rate limit, refilled once a minute."""
    R = Stack(doubles=False, inbound_rate="1r/m")
    stacks.append(R)
    n = 1010
    one = ("POST /plugin/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
           "no\r\nContent-Length: 0\r\n\r\n" % ("0" * 32)).encode()
    last = one.replace(b"Host: x", b"Host: x\r\nConnection: close")
    codes = []
    for k in (600, n - 600):    # nginx serves 1000 requests a connection
        _, head, body = wire.raw_http(R.port, one * (k - 1) + last,
                                      timeout=60)
        codes += [int(c) for c in
                  re.findall(rb"HTTP/1\.1 (\d{3})", head + body)]
    first = codes.index(429) if 429 in codes else None
    check("inbound routes", "%d requests from one address at once, rate "
          "1/min, burst 1000" % n, "1001 answered (401), then 429",
          "%d answers, the first 429 at #%s" % (len(codes), first),
          len(codes) == n and first == 1001 and
          set(codes[:first]) == {401} and set(codes[first:]) == {429})
    r = R.request("GET", "/healthz")
    check("inbound routes", "/healthz after the limit was reached",
          "200 (not limited)", r.status, r.status == 200)


def suite(A, tracker):
    global tr
    tr = tracker
    ctl_out[:], errors[:] = [], []
    stacks = [A]
    try:
        body(A, tracker, stacks)
    finally:
        for s in stacks[1:]:
            s.stop()


trackers.each(t, suite)
