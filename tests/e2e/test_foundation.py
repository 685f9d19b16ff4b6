"""Foundation: health, refusals, limits and both run modes (FastCGI, CGI)."""
import json
import os
import socket
import stat
import subprocess
import time

from harness import PG, Stack, Tap, TOP_BUILD
import reliability
import wire

t = Tap()
s = Stack(doubles=False)
UNKNOWN = "0123456789abcdef0123456789abcdef"


def counts():
    return list(s.counts().values())


try:
    r = s.request("GET", "/healthz")
    t.eq(r.status, 200, "healthz answers 200 through nginx")
    j = r.json()
    t.eq(j.get("database"), "ok", "healthz reports the database")
    t.ok(isinstance(j.get("schema_version"), int) and j["schema_version"] >= 1,
         "healthz reports the schema version", j)
    t.eq(j.get("queue", {}).get("ready"), 0, "healthz reports the queue depth")
    t.ok(r.headers.get("content-type", "").startswith("application/json"),
         "healthz is JSON")

    before = counts()
    r = s.request("POST", "/plugin/" + UNKNOWN, {"data": {"trigger": "button.push"}},
                  {"Authorization": "Bearer nope"})
    t.eq(r.status, 401, "POST to an unknown integration is refused with 401")
    t.eq(counts(), before, "the refused POST wrote nothing")
    r = s.request("POST", "/plugin/not-an-id", {"data": {}})
    t.eq(r.status, 401, "a malformed integration id gets the same 401")

    iid = "a" * 32
    s.add_integration(iid, "s3cret-s3cret-s3cret")
    r = s.request("GET", "/plugin/%s?validationToken=tok-123" % iid,
                  headers={"Authorization": "Bearer wrong"})
    t.eq(r.status, 401, "probe with a wrong secret is refused")
    r = s.request("GET", "/plugin/%s?validationToken=tok-123" % iid,
                  headers={"Authorization": "Bearer s3cret-s3cret-s3cret"})
    t.eq((r.status, r.body), (200, b"tok-123"), "probe echoes validationToken")
    t.ok(r.headers.get("content-type", "").startswith("text/plain"),
         "probe answers text/plain")
    r = s.request("POST", "/plugin/%s" % iid, b"x" * (2 << 20),
                  {"Authorization": "Bearer s3cret-s3cret-s3cret",
                   "Content-Type": "application/json"})
    t.eq(r.status, 413, "a 2 MB body is refused with 413")
    r = s.request("POST", "/webhooks/gittab/" + iid, {"object_kind": "issue"},
                  {"X-Gitlab-Token": "wrong", "X-Gitlab-Event": "Issue Hook"})
    t.eq(r.status, 401, "gitlab hook with a wrong token is refused")

    # A bad secret ends the request from its headers: nginx passes the
    # body on as it comes instead of buffering it all for the program.
    for route, size, head in (
            ("/plugin/", 1000 << 10, "Authorization: Bearer wrong"),
            ("/webhooks/productboard/", 1000 << 10,
             "Authorization: Bearer wrong"),
            ("/webhooks/gittab/", 8000 << 10, "X-Gitlab-Token: wrong")):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        try:
            c.sendall(("POST %s%s HTTP/1.1\r\nHost: x\r\n%s\r\n"
                       "Content-Type: application/json\r\n"
                       "Content-Length: %d\r\n\r\n" % (
                           route, iid, head, size)).encode() +
                      b"x" * (64 << 10))
            t0 = time.monotonic()
            try:
                got = c.recv(64)
            except socket.timeout:
                got = b"(no answer)"
            took = time.monotonic() - t0
        finally:
            c.close()
        reliability.check(
            t, "security", "%s: a bad secret, then %d KB of an announced "
            "%d KB body" % (route, 64, size >> 10),
            "401 before the rest of the body is sent",
            "%s after %.1f s" % (got.split(b"\r\n")[0].decode(), took),
            got.startswith(b"HTTP/1.1 401"))
    t.eq(counts()[2:], before[2:], "refusals wrote no job, delivery or log")
    r = s.request("GET", "/nowhere")
    t.eq(r.status, 404, "unknown routes answer 404")

    for name in ("plugin", "pbhook", "glhook", "admin"):
        mode = os.stat(os.path.join(s.dir, name + ".sock")).st_mode
        t.ok(not mode & (stat.S_IROTH | stat.S_IWOTH),
             "%s socket is not world-accessible (%o)" % (name, mode & 0o777))

    # /healthz: the status for anyone, the counts for this host only.
    def health_from(addr, token=None):
        params = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/healthz",
                  "REQUEST_URI": "/healthz", "DOCUMENT_URI": "/healthz",
                  "REMOTE_ADDR": addr, "SERVER_PROTOCOL": "HTTP/1.1"}
        if token is not None:
            params["HTTP_AUTHORIZATION"] = "Bearer " + token
        st, _, body = wire.fcgi(os.path.join(s.dir, "glhook.sock"), params,
                                b"")
        return st, json.loads(body) if body else None
    got = health_from("203.0.113.7")
    reliability.check(t, "security", "/healthz asked from a remote address",
                      "200 {\"status\": \"ok\"} and nothing more",
                      "%s %s" % got, got == (200, {"status": "ok"}))
    t.eq(health_from("::ffff:198.51.100.1"), (200, {"status": "ok"}),
         "and the same to a remote IPv6 client")
    st, j = health_from("127.0.0.1")
    t.ok(st == 200 and "queue" in j and "links" in j,
         "a client on this host sees the counts", j)
    # ... and a remote one with an API token, as long as it is not revoked.
    r = s.ctl("token", "add", "monitor", "--role", "viewer")
    tok = r.stdout.strip()
    dup = s.ctl("token", "add", "monitor", "--role", "viewer", check=False)
    bad = s.ctl("token", "add", "x", "--role", "root", check=False)
    stored = s.sql("SELECT token_hash FROM api_token")
    reliability.check(
        t, "security", "pbsyncctl token add: a token for the JSON API",
        "printed once, only its hash stored; a taken name and an unknown "
        "role refused", "%s...; stored %s; again: exit %d; role root: exit "
        "%d" % (tok[:4], "hash only" if stored and stored[0][0] != tok and
                tok not in str(stored) else stored, dup.returncode,
                bad.returncode),
        tok.startswith("pbs_") and len(stored) == 1 and
        tok not in str(stored) and dup.returncode == 1 and
        bad.returncode == 2)
    got = [health_from("203.0.113.7", tok), health_from("203.0.113.7",
                                                        tok[::-1])]
    s.ctl("token", "remove", "monitor")
    got.append(health_from("203.0.113.7", tok))
    reliability.check(
        t, "security", "/healthz from a remote address with an API token, "
        "a wrong one, the revoked one", "the counts; the status only; the "
        "status only", "%s" % [sorted(j) for _, j in got],
        "queue" in got[0][1] and got[1][1] == {"status": "ok"} and
        got[2][1] == {"status": "ok"})

    # Owner-only files: the database (sealed tokens), its WAL and SHM, the
    # log.  On PostgreSQL the server keeps the rows.
    files = ("pbsync.db", "pbsync.db-wal", "pbsync.db-shm", "pbsync.log")
    for name in files[3:] if PG else files:
        p = os.path.join(s.dir, name)
        mode = os.stat(p).st_mode & 0o777 if os.path.exists(p) else None
        reliability.check(t, "security", "%s file mode" % name, "0600",
                          "%o" % mode if mode is not None else "missing",
                          mode == 0o600)

    # Plain CGI: the same binary, one request from the environment.
    cgi = os.path.join(TOP_BUILD, "cgi-bin", "pbsync-plugin")
    env = dict(s.env, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET",
               PATH_INFO="/healthz", QUERY_STRING="")
    r = subprocess.run([cgi], env=env, capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    t.ok(r.stdout.startswith(b"Status: 200"), "CGI mode serves /healthz",
         r.stdout[:200])
    env.update(REQUEST_METHOD="POST", PATH_INFO="/plugin/" + UNKNOWN,
               CONTENT_TYPE="application/json", CONTENT_LENGTH="2")
    r = subprocess.run([cgi], env=env, input=b"{}", capture_output=True,
                       timeout=30)
    t.ok(r.stdout.startswith(b"Status: 401"), "CGI mode refuses unknown ids",
         r.stdout[:200])
    # Unusable: a file that cannot be made, or no server at the address.
    env.update(REQUEST_METHOD="GET", PATH_INFO="/healthz",
               PBSYNC_DATABASE="postgresql:///pbsync?host=/nonexistent/dir"
               if PG else "/nonexistent/dir/pbsync.db")
    r = subprocess.run([cgi], env=env, capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    t.ok(r.stdout.startswith(b"Status: 503"),
         "healthz answers 503 when the database is unusable", r.stdout[:200])
    t.ok("s3cret" not in s.log(), "no secret appears in the log")
finally:
    s.stop(t)
t.done()
