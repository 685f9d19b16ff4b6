"""Admin pages through nginx against the API doubles: login, sessions,
throttling, CSRF, create (with what the doubles received), every failure
path of create with its rollback, edit, delete, the integration page,
escaping and secrets.  Runs once per tracker (tests/e2e/trackers.py):
the forms carry the tracker's own fields, and what differs between
trackers comes from its adapter."""
import hashlib
import html.parser
import http.client
import json
import os
import re
import subprocess
import threading
import urllib.parse
import urllib.request

import fixtures
import reliability
import trackers
from fixtures import PB_TOKEN
from harness import Tap, TOP_BUILD, wait_for

t = Tap()
s = tr = None   # the stack and its tracker's adapter, set by suite()
PASSWORD = "correct horse battery staple"
XSS = "<script>alert(1)</script>"
BAD_PB_TOKEN = "pb-wrong-token-4242424242"
pages = []      # every body served, checked for escaping and secrets


def once(tracker):
    """True in the first tracker's pass: the checks that do not involve
    the tracker run there only."""
    return type(tracker) is trackers.chosen()[0]


def secrets():
    return (PB_TOKEN, tr.token, tr.human_token, BAD_PB_TOKEN, PASSWORD)


def h(v):
    return hashlib.blake2b(v.encode(), digest_size=32).hexdigest()


class Resp:
    def __init__(self, r, raw):
        self.status = r.status
        self.headers = {k.lower(): v for k, v in r.getheaders()}
        self.cookies = r.msg.get_all("Set-Cookie") or []
        self.body = raw.decode("utf-8", "replace")


class Client:
    """A browser: a cookie jar, forms, no redirects followed."""

    def __init__(self, source=None):
        self.jar = {}
        self.source = (source, 0) if source else None

    def req(self, method, path, form=None, headers=None, raw=None):
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=90,
                                       source_address=self.source)
        hd = dict(headers or {})
        if self.jar:
            hd["Cookie"] = "; ".join("%s=%s" % kv for kv in self.jar.items())
        body = raw
        if form is not None:
            body = urllib.parse.urlencode(form)
            hd["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=hd)
        r = c.getresponse()
        resp = Resp(r, r.read())
        c.close()
        for sc in resp.cookies:
            name, _, rest = sc.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in sc:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        pages.append(resp.body)
        return resp

    def get(self, path):
        return self.req("GET", path)

    def post(self, path, form):
        return self.req("POST", path, form)

    def csrf(self, path):
        r = self.get(path)
        m = re.search(r'name="csrf" value="([^"]*)"', r.body)
        return m.group(1) if m else None

    def login(self, user="root", password=PASSWORD):
        tok = self.csrf("/admin/login")
        return self.post("/admin/login", {"csrf": tok, "user": user,
                                          "password": password})


class FormParser(html.parser.HTMLParser):
    """What a browser would submit from the page's form with the given
    action (buttons left out): inputs, checked radios, selected options."""

    def __init__(self, action):
        super().__init__()
        self.action, self.inside, self.data = action, False, {}
        self.select, self.first = None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in ("radio", "checkbox") and \
                    "checked" not in a:
                return
            self.data[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self.select, self.first = a.get("name"), True
        elif tag == "option" and self.select:
            if self.first or "selected" in a:
                self.data[self.select] = a.get("value") or ""
            self.first = False

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def page_form(body, action):
    p = FormParser(action)
    p.feed(body)
    return p.data


def cookie_attrs(resp, name):
    for sc in resp.cookies:
        if sc.startswith(name + "="):
            return [a.strip() for a in sc.split(";")]
    return None


def pb_api(path, token=PB_TOKEN):
    """The Productboard double's public API, as a client would see it."""
    c = http.client.HTTPConnection(urllib.parse.urlsplit(s.pb.url).netloc,
                                   timeout=30)
    c.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    body = r.read()
    c.close()
    return json.loads(body) if body else None


def pb_plugins():
    return (pb_api("/v2/plugin-integrations") or {}).get("data", [])


def pb_webhooks():
    return (pb_api("/v2/webhooks") or {}).get("data", [])


def nothing_left(what):
    t.eq((len(pb_plugins()), len(pb_webhooks()), len(tr.hooks()),
          s.counts()["integration"]), (0, 0, 0, 0),
         "%s: no plugin, webhook, hook or row is left behind" % what)


def requests(double, method, pattern):
    return [r for r in double.requests(pattern) if r["method"] == method]


def create_form(a, name="Team A", pb=PB_TOKEN, token=None, op="save",
                **extra):
    """The tracker's create form (its own fields) as an admin fills it;
    token: the tracker token (None: the bot's)."""
    f = {"csrf": a.csrf("/admin/new?tracker=" + tr.kind), "name": name,
         "pb_token": pb, "column_label": tr.title, "tracker_kind": tr.kind,
         "tracker_url": tr.url(), "tracker_token": token or tr.token,
         "tracker_project": tr.project, "conflict_policy": "latest",
         "delete_policy": "keep", "op": op}
    f.update(tr.form_options())
    f.update(extra)
    return f


def said(r):
    """The error or notice a page shows (else its end), for details."""
    m = re.search(r'<(div|p) class="(error|notice)".*?</\1>', r.body, re.S)
    return m.group(0) if m else r.body[-900:]


def kept_typed(r, what):
    t.ok('value="Team A"' in r.body and 'value="%s"' % tr.project in r.body
         and 'value="%s"' % tr.url() in r.body,
         "%s: the form keeps what was typed" % what)
    t.ok(PB_TOKEN not in r.body and tr.token not in r.body and
         tr.human_token not in r.body and "_sealed\" value=\"v1." not in
         r.body, "%s: the form does not keep the tokens" % what)


def login_and_throttling(a):
    """Headers, login, session fixation, cookies, throttling and the admin
    commands: nothing of it touches the tracker.  a logs in."""
    s.ctl("admin", "add", "slow", input=PASSWORD + "\n")
    # -- headers, redirects, login ------------------------------------------
    r = a.get("/admin/")
    t.eq((r.status, r.headers.get("location")), (303, "/admin/login"),
         "a page without a session redirects to the login")
    r = a.get("/admin/login")
    t.eq(r.status, 200, "the login page answers 200")
    csp = r.headers.get("content-security-policy", "")
    t.ok("default-src 'none'" in csp and "frame-ancestors 'none'" in csp and
         "form-action 'self'" in csp and "base-uri 'none'" in csp and
         "script-src" not in csp, "CSP forbids scripts, framing and "
         "foreign form targets", csp)
    t.eq((r.headers.get("x-content-type-options"),
          r.headers.get("x-frame-options"),
          r.headers.get("referrer-policy")),
         ("nosniff", "DENY", "no-referrer"), "the usual security headers")
    r303 = a.get("/admin/nowhere")
    t.ok(r303.status == 303 and "content-security-policy" in r303.headers,
         "a redirect carries the security headers too")
    css = a.get("/admin/static/admin.css")
    t.ok(css.status == 200 and css.headers.get("content-type", "")
         .startswith("text/css"), "the style sheet is served as text/css")
    pre = a.jar.get("pbsync_login")
    t.ok(pre and len(pre) >= 40, "the login page sets a pre-login cookie")

    anon = Client()
    anon.get("/admin/login")
    r = anon.post("/admin/login", {"user": "root", "password": PASSWORD})
    t.eq(r.status, 403, "a login POST without its CSRF token is refused")
    t.ok("pbsync_session" not in anon.jar, "and gives no session")
    old_tok = anon.csrf("/admin/login")
    new_tok = anon.csrf("/admin/login")
    r = anon.post("/admin/login", {"csrf": old_tok, "user": "root",
                                   "password": PASSWORD})
    reliability.check(t, "security", "the login form's token from an "
                      "earlier form", "a fresh token per form; the old one "
                      "is refused (403)", "tokens %s, answer %d" % (
                          "differ" if old_tok != new_tok else "equal",
                          r.status), old_tok != new_tok and r.status == 403)

    r = anon.login(password="wrong password!")
    t.eq(r.status, 403, "a wrong password is refused")
    t.ok("Wrong user name or password" in r.body, "with a clear message")
    r = anon.login(user="nobody")
    t.ok(r.status == 403 and "Wrong user name or password" in r.body,
         "an unknown user gets the same answer")

    # Session fixation: a planted session id and the pre-login value are
    # both worthless after the login.
    planted = "A" * 43
    a.jar["pbsync_session"] = planted
    pre = a.jar["pbsync_login"]
    r = a.login()
    t.eq((r.status, r.headers.get("location")), (303, "/admin/"),
         "the right password logs in")
    sess = a.jar.get("pbsync_session")
    t.ok(sess and sess != planted and sess != pre,
         "the login issues a new session id (neither planted nor pre-login)")
    t.ok("pbsync_login" not in a.jar, "the pre-login cookie is cleared")
    attrs = cookie_attrs(r, "pbsync_session")
    t.ok(attrs and "HttpOnly" in attrs and "SameSite=Strict" in attrs and
         "Path=/" in attrs, "session cookie: HttpOnly, "
         "SameSite=Strict, Path=/", attrs)
    t.ok("Secure" not in attrs, "Secure is left out only for http on "
         "127.0.0.1", attrs)
    t.eq(s.sql("SELECT count(*) FROM session WHERE id_hash = ?", sess)[0][0],
         0, "the database holds a hash of the session id, not the id")
    for value, what in ((planted, "planted"), (pre, "pre-login")):
        c = Client()
        c.jar["pbsync_session"] = value
        t.eq(c.get("/admin/").status, 303,
             "the %s value does not open a session" % what)
    r = a.get("/admin/nowhere")
    t.ok(r.status == 404 and "content-security-policy" in r.headers and
         "no such page" in r.body, "an unknown page is a 404 page with the "
         "security headers")

    # Secure flag with an https public URL (CGI mode, same binary).
    env = dict(s.env, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET",
               PATH_INFO="/admin/login", QUERY_STRING="",
               PBSYNC_PUBLIC_URL="https://pbsync.example.com")
    out = subprocess.run([TOP_BUILD + "/cgi-bin/pbsync-admin"], env=env,
                         capture_output=True, timeout=60,
                         stdin=subprocess.DEVNULL).stdout.decode()
    m = re.search(r"Set-Cookie: (__Host-pbsync_login)=([^;\r\n]*)"
                  r"([^\r\n]*)", out)
    got = m and set(x.strip() for x in m.group(3).split(";")[1:])
    reliability.check(
        t, "security", "login form cookie with an https public URL",
        "__Host-pbsync_login, Secure, Path=/, no Domain",
        m.group(0) if m else out[:300],
        bool(m) and {"Secure", "Path=/", "HttpOnly"} <= got and
        not any(x.startswith("Domain") for x in got))
    # The same token under the name without the prefix, as a sibling
    # subdomain or an http man in the middle could set it: refused (403)
    # before the form is read (422 for the empty password).
    form = urllib.parse.urlencode({"csrf": m.group(2) if m else "",
                                   "user": "admin", "password": ""})
    for name, want in (("pbsync_login", "403"), ("__Host-pbsync_login",
                                                   "422")):
        env2 = dict(env, REQUEST_METHOD="POST", CONTENT_LENGTH=str(len(form)),
                    CONTENT_TYPE="application/x-www-form-urlencoded",
                    HTTP_COOKIE="%s=%s" % (name, m.group(2) if m else ""))
        out2 = subprocess.run([TOP_BUILD + "/cgi-bin/pbsync-admin"],
                              env=env2, capture_output=True, timeout=60,
                              input=form.encode()).stdout.decode()
        st = out2.split("\r\n", 1)[0]
        reliability.check(
            t, "security", "https login posted with the token in cookie %s"
            % name, "Status: %s" % want, st, st.startswith("Status: " + want))

    # Throttling of repeated wrong passwords.
    slow = Client()
    for i in range(5):
        r = slow.login(user="slow", password="wrong %d" % i)
    t.ok(r.status == 403 and "wait" in r.body,
         "the fifth wrong password says how long to wait")
    r = slow.login(user="slow")
    t.eq(r.status, 429, "then even the right password is refused for now")
    t.ok("Too many wrong passwords" in r.body and "seconds" in r.body,
         "with a clear message", r.body[-800:])
    def user_failures(name="slow", addr="127.0.0.1"):
        key = "u:%s|%s" % (hashlib.blake2b(name.encode(), digest_size=32)
                           .hexdigest(), addr)
        return [n for (n,) in s.sql("SELECT failures FROM login_throttle"
                                    " WHERE key = ?", key)]
    t.eq(user_failures(), [5], "the refused try was not checked nor counted")

    # The lockout is this name from this address: elsewhere it logs in.
    r = Client("127.0.0.2").login(user="slow")
    reliability.check(t, "security", "a user locked out by guesses from "
                      "one address logs in from another",
                      "303 and a session", "answer %d" % r.status,
                      r.status == 303)
    # A name that does not exist is throttled the same way.
    ghost = Client("127.0.0.3")
    answers = [ghost.login(user="nobody-here", password="wrong %d" % i)
               for i in range(5)]
    answers.append(ghost.login(user="nobody-here"))
    got = [a.status for a in answers]
    reliability.check(t, "security", "six wrong tries with a name that "
                      "does not exist", "the answers a real name gets: "
                      "403 five times, then 429", "answers %s" % got,
                      got == [403] * 5 + [429])
    # A try is counted before its password is checked: guesses sent at
    # once get no more tries than guesses sent in turn.
    s.ctl("admin", "add", "busy", input=PASSWORD + "\n")
    par = [Client("127.0.0.4") for _ in range(10)]
    toks = [c.csrf("/admin/login") for c in par]
    out = []
    th = [threading.Thread(target=lambda c=c, k=k: out.append(c.post(
        "/admin/login", {"csrf": k, "user": "busy",
                         "password": "guess"})))
          for c, k in zip(par, toks)]
    for x in th:
        x.start()
    for x in th:
        x.join(60)
    got = sorted(r.status for r in out)
    reliability.check(t, "security", "ten wrong passwords sent at once",
                      "five checked, five refused unchecked (429)",
                      "answers %s" % got, got == [403] * 5 + [429] * 5)
    # One address guessing at many names is slowed down as well.
    spray = Client("127.0.0.7")
    got = [spray.login(user="name-%d" % i, password="guess").status
           for i in range(21)]
    t.eq(got, [403] * 20 + [429], "one address trying 21 names: the 21st "
         "waits")
    # A browser that logged in as a user keeps doing so through a lockout.
    t.ok("pbsync_device" in a.jar, "a login leaves a device cookie")
    s.ctl("admin", "add", "kept", input=PASSWORD + "\n")
    owner = Client("127.0.0.5")
    t.eq(owner.login(user="kept").status, 303, "kept logs in once")
    thief = Client("127.0.0.5")
    for i in range(6):
        thief.login(user="kept", password="wrong %d" % i)
    t.eq(thief.login(user="kept").status, 429, "guesses lock kept out "
         "of that address")
    owner.jar.pop("pbsync_session", None)      # logged out, cookie kept
    t.eq(owner.login(user="kept").status, 303, "but kept's own browser "
         "still logs in")
    s.sql("UPDATE login_throttle SET last_failure_at = last_failure_at - 3600")
    r = slow.login(user="slow")
    t.eq(r.status, 303, "after the wait the right password works again")
    t.eq(user_failures(), [], "and resets the count")

    # pbsyncctl admin passwd and remove.
    s.ctl("admin", "add", "temp", input=PASSWORD + "\n")
    tmp = Client("127.0.0.6")
    t.eq(tmp.login(user="temp").status, 303, "temp logs in")
    r = s.ctl("admin", "passwd", "temp", input="a new long password\n")
    t.eq(r.returncode, 0, "pbsyncctl admin passwd sets a new password")
    t.eq(tmp.get("/admin/").status, 303, "which ends temp's sessions")
    t.eq((Client("127.0.0.6").login(user="temp").status,
          Client("127.0.0.6").login(user="temp", password="a new long "
                                    "password").status), (403, 303),
         "the old password is refused, the new one works")
    r = s.ctl("admin", "remove", "temp")
    t.eq(r.returncode, 0, "pbsyncctl admin remove removes an admin")
    t.eq(Client("127.0.0.6").login(user="temp", password="a new long "
                                   "password").status, 403,
         "who can no longer log in")
    r = s.ctl("admin", "remove", "temp", check=False)
    t.ok(r.returncode != 0 and "no admin" in r.stderr,
         "removing an unknown admin says so", r.stderr)


def logout_and_expiry(a):
    """Logout and session expiry (no tracker in it either)."""
    # -- logout ------------------------------------------------------------------
    old = a.jar.get("pbsync_session")
    r = a.post("/admin/logout", {"csrf": a.csrf("/admin/")})
    t.eq((r.status, r.headers.get("location")), (303, "/admin/login"),
         "logout redirects to the login")
    t.ok("pbsync_session" not in a.jar, "logout clears the cookie")
    c = Client()
    c.jar["pbsync_session"] = old
    t.eq(c.get("/admin/").status, 303, "the old session id is dead")

    # An idle session expires; its expiry moves on while in use.
    e = Client()
    t.eq(e.login().status, 303, "a second admin session")
    h_e = h(e.jar["pbsync_session"])
    s.sql("UPDATE session SET expires_at = unixepoch() + 10"
          " WHERE id_hash = ?", h_e)
    e.get("/admin/")
    t.ok(s.sql("SELECT expires_at - unixepoch() FROM session"
               " WHERE id_hash = ?", h_e)[0][0] > 3600,
         "using a session pushes its idle expiry back")
    s.sql("UPDATE session SET expires_at = 1 WHERE id_hash = ?", h_e)
    t.eq(e.get("/admin/").status, 303,
         "an expired session sends back to the login")


def hook_value(body, what):
    """A setting the tracker webhook's page shows (id hook-<what>)."""
    m = re.search(r'id="hook-%s">([^<]*)<' % what, body)
    return html.unescape(m.group(1)) if m else None


def webhook_by_hand(a):
    """A token that may not register the webhook: where the tracker lets
    a person set it up by hand, the integration is made without it, its
    page says what to enter (the secret in the create's answer only);
    entered so, the tracker's changes reach Productboard; a new secret
    replaces the old one; the delete leaves the webhook to its admin.
    Elsewhere the form neither offers nor takes it.  Returns the secrets
    shown, which no log may hold."""
    page = a.get("/admin/new?tracker=" + tr.kind).body
    t.eq('name="hook_by_hand"' in page, tr.hook_by_hand,
         "the create form offers to set the webhook up by hand: %s" %
         tr.hook_by_hand)
    if not tr.hook_by_hand:
        r = a.post("/admin/new", create_form(a, name="By hand",
                                             hook_by_hand="on"))
        t.ok(r.status == 422 and "cannot be set up by hand" in r.body,
             "a form that asks for it anyway is refused", said(r))
        nothing_left("a webhook by hand refused")
        return []
    tr.clear()
    r = a.post("/admin/new", create_form(
        a, name="By hand", token=tr.hook_by_hand_token, hook_by_hand="on",
        **tr.form_options(human=True)))
    row = s.sql("SELECT id, tracker_hook_id FROM integration")
    iid = row[0][0] if row else ""
    url, secret = hook_value(r.body, "url"), hook_value(r.body, "secret")
    events, jql = hook_value(r.body, "events"), hook_value(r.body, "filter")
    t.ok(r.status == 200 and len(row) == 1 and row[0][1] == "by-hand" and
         not tr.api("POST", "^%s$" % tr.hook_path) and not tr.hooks(),
         "a token that may not register it: created, no webhook asked "
         "for; the answer is the webhook's page", said(r))
    t.eq(url, s.base + "/webhooks/gittab/" + iid, "it gives the URL")
    t.ok(secret and len(secret) >= 40 and events and jql and
         tr.hook_by_hand_token not in r.body,
         "the secret, the events and the filter", (events, jql))
    r2 = a.get("/admin/i/%s/webhook" % iid)
    t.ok(r2.status == 200 and hook_value(r2.body, "url") == url and
         hook_value(r2.body, "filter") == jql and secret not in r2.body,
         "the webhook page later: the same settings, not the secret")
    page = a.get("/admin/i/" + iid).body
    t.ok('href="/admin/i/%s/webhook"' % iid in page,
         "the integration page links to it")
    t.ok("registered; set up by hand in the tracker" in page,
         "the integration page says the webhook was set up by hand")

    # Set up as the page says: a person's rename reaches the feature.
    fid = fixtures.feature(s, name="Made by hand")
    fixtures.click(s, fixtures.plugin_id(s, iid), fid)
    fixtures.idle(s)
    key = s.sql("SELECT issue_key FROM link WHERE feature_id = ?", fid)
    number = tr.key_number(key[0][0]) if key else 0
    hid = tr.add_hook("pbsync: By hand", url, events, jql, secret)

    def name():
        return s.pb.call("GET", "/_double/state")["features"][fid]["name"]
    tr.edit(number, title="Renamed in " + tr.title)
    t.ok(wait_for(lambda: name() == "Renamed in " + tr.title, 30),
         "set up with those settings, a rename in %s reaches the feature" %
         tr.title, name())

    # Its token may still not register webhooks; its settings that say
    # whose the token is change with it, checked with it.
    edit = "/admin/i/%s/edit" % iid
    form = page_form(a.get(edit).body, edit)
    r = a.post(edit, dict(form, tracker_token=tr.hook_by_hand_token,
                          **tr.form_options(human=True)))
    t.ok(r.status == 303, "its token entered again is taken: the webhook "
         "needs no right of it", said(r))
    form = page_form(a.get(edit).body, edit)
    r = a.post(edit, dict(form, tracker_token="",
                          **{k: "nobody@example.com" for k in
                             tr.form_options()}))
    t.ok(r.status == 422 and "rejected the token with the new settings" in
         r.body, "another account's e-mail with the saved token: refused",
         said(r))
    r = a.post(edit, dict(form, tracker_token=tr.token,
                          **tr.form_options()))
    kept = s.sql("SELECT tracker_options, tracker_token_tail FROM"
                 " integration")[0]
    t.ok(r.status == 303 and all(v in kept[0] for v in
                                 tr.form_options().values()) and
         kept[1] == tr.token[-4:], "another account, its e-mail with its "
         "token: saved", (said(r), kept))

    def last_answer():
        tr.d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                            "timeout": 20})
        got = [d["status"] for d in tr.d.call("GET", "/_double/deliveries")
               if str(d.get("hook_id")) == str(hid)]
        return got[-1] if got else None
    r = a.post("/admin/i/%s/webhook" % iid, {})
    t.eq(r.status, 403, "a new secret without the CSRF token: 403")
    r = a.post("/admin/i/%s/webhook" % iid,
               {"csrf": a.csrf("/admin/i/%s/webhook" % iid)})
    new = hook_value(r.body, "secret")
    t.ok(r.status == 200 and new and new != secret,
         "a new secret, shown once", said(r))
    # What the rename set going (Productboard's own delivery of it) is
    # over before the next edit.
    fixtures.idle(s, settled=True)
    tr.edit(number, title="Signed with the old secret")
    t.eq(last_answer(), 401, "deliveries signed with the old one are "
         "refused")
    url_, headers = tr.hook_api(hid)
    req = urllib.request.Request(url_, method="PUT", data=json.dumps(
        {"secret": new}).encode(), headers=dict(
            headers, **{"Content-Type": "application/json"}))
    urllib.request.urlopen(req, timeout=30).read()
    tr.edit(number, title="Signed with the new secret")
    answer = last_answer()
    t.ok(answer is not None and 200 <= answer < 300 and
         wait_for(lambda: name() == "Signed with the new secret", 30),
         "with the new one in %s, they reach the feature again" % tr.title,
         (answer, name()))

    r = a.post("/admin/i/%s/delete" % iid,
               {"csrf": a.csrf("/admin/i/%s/delete" % iid)})
    t.ok(r.status == 200 and "set up by hand" in r.body and
         s.counts()["integration"] == 0 and len(tr.hooks()) == 1,
         "the delete says to remove the webhook in %s, and leaves it" %
         tr.title, r.body[-1500:])
    urllib.request.urlopen(urllib.request.Request(
        url_, method="DELETE", headers=headers), timeout=30).read()
    nothing_left("delete of an integration with its webhook by hand")
    return [secret, new]


def suite(stack, tracker):
    global s, tr
    s, tr = stack, tracker
    pages[:] = []
    s.ctl("admin", "add", "root", input=PASSWORD + "\n")
    a = Client()
    # Login, sessions and throttling have nothing to do with the tracker:
    # they run once, in the first tracker's pass (once()).
    if once(tr):
        login_and_throttling(a)
    else:
        r = a.login()
        t.eq((r.status, r.headers.get("location")), (303, "/admin/"),
             "the right password logs in")
    r = a.get("/admin/")
    t.ok(r.status == 200 and "There is no integration yet" in r.body,
         "the empty list explains what an integration is")

    # -- CSRF ----------------------------------------------------------------
    before = (len(s.pb.requests()), len(s.td.requests()), s.counts())
    f = create_form(a)
    del f["csrf"]
    r = a.post("/admin/new", f)
    t.eq(r.status, 403, "create without a CSRF token: 403")
    f["csrf"] = "x" * 43
    r = a.post("/admin/new", f)
    t.eq(r.status, 403, "create with a wrong CSRF token: 403")
    t.eq((len(s.pb.requests()), len(s.td.requests()), s.counts()), before,
         "and nothing was called or stored")
    r = a.req("POST", "/admin/new", raw="{}",
              headers={"Content-Type": "application/json"})
    t.eq(r.status, 415, "a JSON body is refused with 415")

    # -- create: each failure with its rollback ------------------------------
    r = a.post("/admin/new", create_form(a, pb=BAD_PB_TOKEN))
    t.ok(r.status == 422 and "Productboard rejected the token." in r.body,
         "a refused Productboard token gets a clear message")
    kept_typed(r, "refused Productboard token")
    nothing_left("refused Productboard token")

    # The human may write issues but not create webhooks (GitLab: a
    # Developer; GitHub: push access; Jira: no Jira administrator).
    r = a.post("/admin/new", create_form(a, token=tr.human_token,
                                         **tr.form_options(human=True)))
    t.ok(r.status == 422 and tr.need_hook in r.body,
         "a %s token that cannot create webhooks: '%s'" % (tr.title,
                                                           tr.need_hook),
         said(r))
    t.eq("Set up the webhook by hand" in said(r), tr.hook_by_hand,
         "the refusal offers to set the webhook up by hand: %s" %
         tr.hook_by_hand)
    kept_typed(r, "token without the webhook right")
    nothing_left("token without the webhook right")

    # The fault hits only the webhook's creation.
    s.td.call("POST", "/_double/faults", dict(
        tr.hook_refusal, match="POST %s$" % tr.hook_path, count=1))
    n_del = len(requests(s.pb, "DELETE", "/v2/"))
    r = a.post("/admin/new", create_form(a))
    t.ok(r.status == 422 and tr.need_hook in r.body, "%s refusing the hook "
         "(403): the message naming the right it needs" % tr.title,
         said(r))
    t.eq(len(requests(s.pb, "DELETE", "/v2/")) - n_del, 2,
         "the plugin integration and the webhook were deleted again")
    nothing_left("hook refused")

    tr.refuse_hook_urls(True)
    r = a.post("/admin/new", create_form(a))
    t.ok(r.status == 422 and "%s refused the hook URL" % tr.title in r.body,
         "a hook URL %s refuses gets a clear message" % tr.title,
         said(r))
    kept_typed(r, "hook creation failure")
    nothing_left("hook creation failure")
    tr.refuse_hook_urls(False)

    s.stop_program("plugin")
    r = a.post("/admin/new", create_form(a))
    t.ok(r.status == 422 and "probe" in r.body,
         "a failed plugin probe is reported", said(r))
    kept_typed(r, "probe failure")
    nothing_left("probe failure")
    os.unlink(os.path.join(s.dir, "plugin.sock"))
    s.start_program("plugin")

    r = a.post("/admin/new", create_form(a, column_label="ElevenChars"))
    t.ok(r.status == 422 and "1 to 10 characters" in r.body,
         "a column label over 10 characters is refused")
    nothing_left("label too long")

    # -- create: load statuses, then create ----------------------------------
    r = a.post("/admin/new", create_form(a, name=XSS, op="statuses"))
    t.ok(r.status == 200 and all(n in r.body for n in
                                 ("New", "Planned", "In Progress", "Done")),
         "'Load statuses' shows Productboard's statuses", r.body[-600:])
    t.ok(PB_TOKEN not in r.body and tr.token not in r.body,
         "the tokens are carried sealed, never in clear")
    form = page_form(r.body, "/admin/new")
    t.ok(form.get("pb_token_sealed", "").startswith("v1."),
         "the Productboard token comes back sealed")
    t.eq(form.get("name"), XSS, "the typed name comes back")
    ids = {form["st%d_name" % i]: form["st%d_id" % i]
           for i in range(int(form["statuses"]))}
    done_i = [i for i in range(int(form["statuses"]))
              if form["st%d_name" % i] == "Done"][0]
    t.eq(form["st%d_state" % done_i], "closed",
         "the default maps Done to a closed issue")
    offered = [re.findall(r'<option value="([^"]*)"', m) for m in re.findall(
        r'<select name="st\d+_state".*?</select>', r.body, re.S)]
    t.ok(len(offered) == len(ids) and all(o == tr.state_choices
                                          for o in offered),
         "each status may become one of %s" % tr.state_choices, offered[:1])
    back = re.findall(r'<select name="back(\d+)"', r.body)
    t.eq(len(back), len(tr.back_choices), "and the way back offers %s "
         "besides open and closed" % (tr.back_choices or "nothing"))
    prog_i = [i for i in range(int(form["statuses"]))
              if form["st%d_name" % i] == "In Progress"][0]
    new_i = [i for i in range(int(form["statuses"]))
             if form["st%d_name" % i] == "New"][0]
    form.update({"pb_token": "", "tracker_token": "", "op": "save",
                 "st%d_state" % done_i: "closed",
                 "st%d_label" % prog_i: "status::doing",
                 "to_pb_closed": ids["Done"],
                 "to_pb_opened": ids["In Progress"],
                 "conflict_policy": "latest", "delete_policy": "close"})
    # A state the tracker does not have, as a forged or stale form sends
    # it: refused, nothing saved or registered.
    r = a.post("/admin/new", dict(form, **{"st%d_state" % done_i:
                                           "Shipped"}))
    t.ok(r.status == 422 and "Choose the %s state for the status "
         "&quot;Done&quot; from the list." % tr.title in r.body,
         "a state %s does not have: refused" % tr.title, said(r))
    nothing_left("a state the tracker does not have")
    # The tracker's own state where it has some, and a status of its
    # workflow back to Productboard.
    want_back = {}
    if tr.named_state:
        form["st%d_state" % prog_i] = tr.named_state
    if tr.back_choices:
        form["back0"] = ids["New"]
        want_back = {tr.back_choices[0]: ids["New"]}
    s.pb.call("DELETE", "/_double/requests")
    tr.clear()
    r = a.post("/admin/new", form)
    m = re.match(r"/admin/i/([0-9a-f]{32})\?done=created$",
                 r.headers.get("location", ""))
    t.ok(r.status == 303 and m, "create redirects to the new integration",
         (r.status, r.headers, said(r)))
    iid = m.group(1) if m else ""
    row = s.sql("SELECT name, column_label, plugin_secret, pb_hook_secret,"
                " tracker_hook_secret, status_map, delete_policy, pb_plugin_id,"
                " pb_webhook_id, tracker_hook_id, pb_token, tracker_token FROM"
                " integration WHERE id = ?", iid)
    t.eq(len(row), 1, "one integration row")
    (name, label, psec, wsec, gsec, smap, dpol, pid, wid, hid, pbt,
     glt) = row[0] if row else (None,) * 12
    t.eq((name, label, dpol), (XSS, tr.title, "close"),
         "the row holds what was typed")
    t.ok(pbt.startswith("v1.") and glt.startswith("v1.") and
         PB_TOKEN not in pbt, "the tokens are stored sealed")
    smap = json.loads(smap or "{}")
    t.eq(smap.get("to_tracker", {}).get(ids["In Progress"]),
         {"state": tr.named_state or "opened", "label": "status::doing"},
         "the status map holds the scoped label (and %s's state)" %
         tr.title)
    t.eq(smap.get("to_productboard"), dict({"closed": ids["Done"],
                                            "opened": ids["In Progress"]},
                                           **want_back),
         "and the way back")

    posts = requests(s.pb, "POST", r"^/v2/plugin-integrations$")
    fields = (posts[0]["body"] or {}).get("data", {}).get("fields", {}) \
        if posts else {}
    act = fields.get("action", {})
    t.eq(act.get("url"), s.base + "/plugin/" + iid,
         "plugin integration action.url is <public_url>/plugin/<id>")
    auth = act.get("headers", {}).get("authorization", "")
    t.ok(auth.startswith("Bearer ") and h(auth) == psec,
         "its authorization is the secret whose hash we keep")
    t.eq(fields.get("initialState"), {"label": tr.title},
         "its column label")
    posts = requests(s.pb, "POST", r"^/v2/webhooks$")
    fields = (posts[0]["body"] or {}).get("data", {}).get("fields", {}) \
        if posts else {}
    t.eq(sorted(e.get("eventType") for e in fields.get("events", [])),
         ["feature.deleted", "feature.updated"], "webhook events")
    note = fields.get("notification", {})
    t.eq(note.get("url"), s.base + "/webhooks/productboard/" + iid,
         "webhook notification url")
    wauth = note.get("headers", {}).get("authorization", "")
    t.ok(wauth.startswith("Bearer ") and h(wauth) == wsec and wauth != auth,
         "webhook authorization: its own secret")
    posts = tr.api("POST", "^%s$" % tr.hook_path)
    hook = (posts[0]["body"] or {}) if posts else {}
    want = tr.hook_wants(s.base + "/webhooks/gittab/" + iid)
    t.eq(tr.hook_asked(hook), want, "%s hook: %s" % (
        tr.title, ", ".join("%s %s" % (k, json.dumps(v)) for k, v in
                            sorted(want.items()) if k != "url") + ", url"))
    # A tracker that signs its deliveries needs the secret back: pbsync
    # keeps it sealed; else only its hash.
    sent = tr.hook_secret_sent(hook) or ""
    kept = (gsec.startswith("v1.") and sent not in gsec) if tr.signs_body \
        else h(sent) == gsec
    t.ok(sent and kept, "%s hook secret: its own secret, kept %s" % (
        tr.title, "sealed" if tr.signs_body else "as its hash"))
    t.eq((pid, wid, hid), (pb_plugins()[0]["id"], pb_webhooks()[0]["id"],
                           str(tr.hooks()[0]["id"])),
         "every upstream id stored")

    r = a.get("/admin/i/%s?done=created" % iid)
    t.ok(r.status == 200 and "The integration was created" in r.body,
         "the integration page confirms the creation")
    t.ok(tr.token[-4:] in r.body, "tokens are shown by their last characters")
    r = a.get("/admin/i/%s/webhook" % iid)
    t.ok(r.status == 200 and "pbsync registered the %s webhook" % tr.title
         in r.body and "<code>%s</code>" % hid in r.body and
         'id="hook-secret"' not in r.body,
         "the webhook page names the webhook pbsync registered")

    # -- a feature named like a script, pushed ------------------------------
    fid = fixtures.feature(s, name=XSS)
    fixtures.click(s, pid, fid)
    fixtures.idle(s)
    t.eq(s.sql("SELECT count(*) FROM link WHERE integration_id = ?",
               iid)[0][0], 1, "a push made a link")
    r = a.get("/admin/i/" + iid)
    t.ok("&lt;script&gt;alert(1)&lt;/script&gt;" in r.body and
         tr.key_of(1) in r.body, "the link shows the escaped feature name "
         "and the issue (%s)" % tr.key_of(1))
    r = a.get("/admin/")
    t.ok("&lt;script&gt;alert(1)&lt;/script&gt;" in r.body,
         "the list shows the escaped integration name")
    t.ok(re.search(r"<td class=\"num\">1</td>", r.body),
         "the list counts the link")

    # -- failed jobs and retry -----------------------------------------------
    s.sql("INSERT INTO job (integration_id, kind, key, state, attempts,"
          " run_at, last_error, created_at, updated_at) VALUES (?, 'sync',"
          " 'f-1', 'dead', 8, 0, ?, 1, 1)", iid,
          "%s answered 500: <b>boom</b>" % tr.kind)
    jid = s.sql("SELECT id FROM job WHERE state = 'dead'")[0][0]
    r = a.get("/admin/i/" + iid)
    t.ok("%s answered 500: &lt;b&gt;boom&lt;/b&gt;" % tr.kind in r.body and
         'name="job" value="%d"' % jid in r.body,
         "a failed job is listed with its error and a retry button")
    r = a.get("/admin/")
    t.ok("Needs attention" in r.body and "Failed jobs: 1" in r.body,
         "the list shows the failed job in the health column")
    r = a.post("/admin/i/%s/retry" % iid, {"job": jid})
    t.eq(r.status, 403, "retry without CSRF: 403")
    t.eq(s.sql("SELECT state FROM job WHERE id = ?", jid)[0][0], "dead",
         "and the job stays dead")
    tok = a.csrf("/admin/i/" + iid)
    r = a.post("/admin/i/%s/retry" % ("0" * 32), {"csrf": tok, "job": jid})
    t.eq(s.sql("SELECT state FROM job WHERE id = ?", jid)[0][0], "dead",
         "a job cannot be retried through another integration")
    r = a.post("/admin/i/%s/retry" % iid, {"csrf": tok, "job": jid})
    t.ok(r.status == 303 and "done=retried" in r.headers.get("location", ""),
         "retry redirects back")
    t.ok(s.sql("SELECT state FROM job WHERE id = ?", jid) in
         ([("ready",)], [("leased",)], []), "the job is ready again")

    # A job that died for real (the tracker refused the write) runs again
    # on retry, and its write reaches the tracker this time.
    renamed = XSS + " renamed"
    s.td.call("POST", "/_double/faults", {
        "match": tr.update_fault, "status": 422, "count": 1})
    s.pb.call("PATCH", "/_double/features/" + fid, {"name": renamed})
    dead = wait_for(lambda: s.sql(
        "SELECT id FROM job WHERE kind = 'sync' AND key = ? AND"
        " state = 'dead'", fid))
    t.ok(dead, "a sync job refused by %s is dead" % tr.title)
    jid = dead[0][0] if dead else 0
    key = s.sql("SELECT issue_key FROM link WHERE feature_id = ?", fid)
    number = tr.key_number(key[0][0]) if key else 0

    def title():
        return (tr.issue(number) or {}).get("title")

    def edits():
        """pbsync's writes of the issue itself (not of its labels)."""
        return tr.api(tr.update_method, "^%s$" % re.escape(
            tr.issue_path(number)))
    t.ok(title() != renamed, "and the issue kept its title")
    r = a.get("/admin/i/" + iid)
    t.ok('name="job" value="%d"' % jid in r.body,
         "the integration page lists it for retry")
    n_put = len(edits())
    r = a.post("/admin/i/%s/retry" % iid, {"csrf": tok, "job": jid})
    t.ok(r.status == 303 and "done=retried" in r.headers.get("location", ""),
         "retrying it redirects back")
    t.ok('name="job" value="%d"' % jid not in a.get("/admin/i/" + iid).body,
         "the job left the failed list")
    t.eq(s.ctl("drain", check=False).returncode, 0,
         "pbsyncctl drain runs the jobs that are due")
    puts = edits()[n_put:]
    t.eq(([p["status"] for p in puts], title()), ([tr.write_status],
                                                  tr.title_shown(renamed)),
         "the retried job ran again: its write reached %s" % tr.title)
    t.eq(s.sql("SELECT count(*) FROM job WHERE key = ?", fid)[0][0], 0,
         "and the job is done")

    # -- sync log, newest first, paged ---------------------------------------
    for i in range(60):
        s.sql("INSERT INTO sync_log (integration_id, at, action, result,"
              " detail) VALUES (?, ?, 'test', 'ok', ?)", iid, 2e9 + i,
              "entry %02d" % i)
    r = a.get("/admin/i/" + iid)
    t.ok("entry 59" in r.body and r.body.find("entry 59") <
         r.body.find("entry 58"), "the sync log shows the newest first")
    m = re.search(r'href="(/admin/i/[0-9a-f]+\?log_before=\d+#log)"', r.body)
    t.ok(m, "the sync log has an 'older entries' link")
    if m:
        r2 = a.get(m.group(1).replace("#log", ""))
        t.ok("entry 05" in r2.body and "entry 59" not in r2.body,
             "the older page holds the older entries")

    # -- edit ------------------------------------------------------------------
    r = a.get("/admin/i/%s/edit" % iid)
    t.ok(r.status == 200 and "status::doing" in r.body and
         "In Progress" in r.body, "the edit form shows the saved mapping")
    form = page_form(r.body, "/admin/i/%s/edit" % iid)
    t.eq((form.get("st%d_state" % prog_i), {k: form.get("back%d" % i) for
                                            i, k in enumerate(
                                                tr.back_choices[:1])}),
         (tr.named_state or "opened", want_back),
         "with the states chosen, both ways")
    t.eq({k: form.get(k) for k in tr.form_options()}, tr.form_options(),
         "and the settings that say whose the token is")
    form.update({"name": "Team B", "column_label": "GL2",
                 "conflict_policy": "tracker", "delete_policy": "label",
                 "pb_token": BAD_PB_TOKEN, "tracker_token": "",
                 "st%d_state" % done_i: "closed", "to_pb_closed": ids["Done"],
                 "to_pb_opened": ""})
    r = a.post("/admin/i/%s/edit" % iid, form)
    t.ok(r.status == 422 and "Productboard rejected the new token" in r.body,
         "edit with a refused new token gets a clear message")
    t.eq(s.sql("SELECT name, column_label FROM integration")[0],
         (XSS, tr.title), "and changes nothing")
    t.ok('value="Team B"' in r.body and BAD_PB_TOKEN not in r.body,
         "the edit form keeps what was typed except the token")
    del form["csrf"]
    form["pb_token"] = ""
    r = a.post("/admin/i/%s/edit" % iid, form)
    t.eq(r.status, 403, "edit without CSRF: 403")
    form["csrf"] = a.csrf("/admin/i/%s/edit" % iid)
    r = a.post("/admin/i/%s/edit" % iid, form)
    t.ok(r.status == 303 and "done=saved" in r.headers.get("location", ""),
         "edit saves and redirects", r.body[-600:])
    t.eq(s.sql("SELECT name, column_label, conflict_policy, delete_policy"
               " FROM integration")[0], ("Team B", "GL2", "tracker", "label"),
         "the row is updated")
    t.eq(pb_api("/v2/plugin-integrations/" + pid)["data"]["fields"]
         ["initialState"], {"label": "GL2"},
         "the new column label reached Productboard")
    smap = json.loads(s.sql("SELECT status_map FROM integration")[0][0])
    t.ok("opened" not in smap.get("to_productboard", {}),
         "the mapping was saved as edited")
    form["csrf"] = a.csrf("/admin/i/%s/edit" % iid)
    form["tracker_token"] = tr.human_token
    form.update(tr.form_options(human=True))
    r = a.post("/admin/i/%s/edit" % iid, form)
    t.ok(r.status == 422 and tr.need_hook in r.body,
         "a new %s token that cannot create webhooks is refused" % tr.title,
         said(r))
    kept = s.sql("SELECT tracker_options FROM integration")[0][0]
    t.ok(all(v in kept for v in tr.form_options().values()) and
         not any(v in kept for v in tr.form_options(human=True).values()
                 if v not in tr.form_options().values()),
         "and its settings stay", kept)
    if tr.fixed_option:
        field, value = tr.fixed_option
        r = a.post("/admin/i/%s/edit" % iid, dict(form, **{
            field: value, "tracker_token": tr.token}, **tr.form_options()))
        t.ok(r.status == 422 and "cannot be changed" in r.body and
             s.sql("SELECT tracker_options FROM integration")[0][0] ==
             kept, "a setting that does not go with the token cannot "
             "change", said(r))
    form["tracker_token"] = tr.token
    form.update(tr.form_options())
    form["name"] = XSS
    r = a.post("/admin/i/%s/edit" % iid, form)
    t.eq(r.status, 303, "a valid new %s token is accepted" % tr.title)

    # -- pbsyncctl -------------------------------------------------------------
    out = s.ctl("integration", "show", iid).stdout
    t.ok(iid in out and tr.project in out and tr.token[-4:] in out and
         tr.token not in out and PB_TOKEN not in out,
         "pbsyncctl integration show prints the settings, no token", out)
    out = s.ctl("integration", "list").stdout
    t.ok(iid in out, "pbsyncctl integration list lists it")
    out = s.ctl("integration", "show", iid).stdout
    t.ok("plugin_integration_id\t%s\n" % pid in out and
         "tracker_hook_id\t%s\n" % hid in out,
         "pbsyncctl integration show prints the upstream ids", out)
    out = s.ctl("links", iid).stdout.splitlines()
    t.ok(len(out) == 2 and out[1].startswith(
        "%s\t%s\t" % (fid, tr.key_of(1))),
         "pbsyncctl links lists the link", out)
    s.sql("INSERT INTO job (integration_id, kind, key, state, attempts,"
          " run_at, last_error, created_at, updated_at) VALUES (?, 'sync',"
          " 'f-2', 'dead', 8, 0, ?, 1, 1)", iid,
          "%s answered 502" % tr.kind)
    jid = s.sql("SELECT id FROM job WHERE key = 'f-2'")[0][0]
    out = s.ctl("jobs", iid).stdout
    t.ok("%d\tsync\tf-2\t8\t%s answered 502" % (jid, tr.kind) in out,
         "pbsyncctl jobs lists the failed job with its error", out)
    r = s.ctl("retry", "0" * 32, str(jid), check=False)
    t.ok(r.returncode == 1 and s.sql("SELECT state FROM job WHERE id = ?",
                                     jid)[0][0] == "dead",
         "pbsyncctl retry in another integration: refused, job stays dead")
    r = s.ctl("retry", iid, str(jid), check=False)
    t.ok(r.returncode == 0 and s.sql("SELECT state FROM job WHERE id = ?",
                                     jid)[0][0] != "dead",
         "pbsyncctl retry queues the failed job again", r.stderr)

    # -- delete ------------------------------------------------------------------
    r = a.get("/admin/i/%s/delete" % iid)
    t.ok(r.status == 200 and "Delete this integration" in r.body,
         "the delete page asks for confirmation")
    r = a.post("/admin/i/%s/delete" % iid, {})
    t.eq((r.status, s.counts()["integration"]), (403, 1),
         "delete without CSRF: 403 and the integration stays")
    r = a.post("/admin/i/%s/delete" % iid,
               {"csrf": a.csrf("/admin/i/%s/delete" % iid)})
    t.eq(r.status, 200, "delete answers with its report")
    t.ok(len(re.findall(r'badge ok">removed<', r.body)) == 4,
         "the report lists the three upstream parts and the records removed",
         r.body[-1500:])
    nothing_left("delete")

    # A side already gone counts as removed.
    f = create_form(a, name="Team C")
    r = a.post("/admin/new", f)
    iid2 = re.sub(r".*/admin/i/([0-9a-f]{32}).*", r"\1",
                  r.headers.get("location", ""))
    pid2 = s.sql("SELECT pb_plugin_id FROM integration")[0][0]
    c = http.client.HTTPConnection(urllib.parse.urlsplit(s.pb.url).netloc)
    c.request("DELETE", "/v2/plugin-integrations/" + pid2,
              headers={"Authorization": "Bearer " + PB_TOKEN})
    c.getresponse().read()
    r = a.post("/admin/i/%s/delete" % iid2,
               {"csrf": a.csrf("/admin/i/%s/delete" % iid2)})
    t.ok(r.status == 200 and "already gone" in r.body and
         s.counts()["integration"] == 0,
         "a plugin already gone counts as removed", r.body[-1500:])
    nothing_left("delete with a side gone")

    # A side that cannot be removed is reported and the row kept.
    r = a.post("/admin/new", create_form(a, name="Team D"))
    iid3 = re.sub(r".*/admin/i/([0-9a-f]{32}).*", r"\1",
                  r.headers.get("location", ""))
    s.td.call("POST", "/_double/faults", {"match": "DELETE %s/" %
                                          tr.hook_path, "status": 500,
                                          "count": 1})
    r = a.post("/admin/i/%s/delete" % iid3,
               {"csrf": a.csrf("/admin/i/%s/delete" % iid3)})
    t.ok(r.status == 502 and "could not be removed" in r.body and
         s.counts()["integration"] == 1,
         "a failed side is reported and the integration kept")
    r = a.post("/admin/i/%s/delete" % iid3,
               {"csrf": a.csrf("/admin/i/%s/delete" % iid3)})
    t.ok(r.status == 200 and s.counts()["integration"] == 0,
         "deleting again finishes the job")
    nothing_left("delete retried")

    shown = webhook_by_hand(a)

    if once(tr):
        logout_and_expiry(a)

    # -- escaping and secrets everywhere ---------------------------------------
    t.ok(not any(XSS in p for p in pages),
         "<script>alert(1)</script> never appears unescaped (%d pages)" %
         len(pages))
    leaked = [x for x in secrets() if any(x in p for p in pages)]
    t.eq(leaked, [], "no token or password appears in any page")
    logs = s.log() + "".join(s.log(n + ".stderr") for n in
                             ("admin", "plugin", "pbhook", "glhook"))
    leaked = [x[:6] + "..." for x in secrets() + tuple(shown) if x in logs]
    t.eq(leaked, [], "no token, password or webhook secret appears in the "
         "logs")


trackers.each(t, suite)
