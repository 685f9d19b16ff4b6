"""A real browser on the admin pages: headless Chromium (the Debian
package) logs in, creates an integration against the doubles, sees it
listed, deletes it.  Driven over the DevTools protocol with a small
stdlib-only WebSocket client; screenshots are kept under the build
directory (tests/e2e/browser-artifacts/) as test artifacts.  Skips only
when no Chromium is installed."""
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

import fixtures
from fixtures import GL_TOKEN, PB_TOKEN
from harness import Stack, Tap, TOP_BUILD

ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--no-default-browser-check",
        "--disable-dev-shm-usage", "--password-store=basic",
        "--window-size=1280,1000", "--remote-debugging-port=0"]
PASSWORD = "correct horse battery staple"
ARTIFACTS = os.path.join(TOP_BUILD, "tests", "e2e", "browser-artifacts")

# Each visible text's WCAG 2 contrast ratio: its colour (an SVG text's
# fill) over the first background that is not transparent, walking up
# (one partly transparent is laid over the one below it).  Large text is
# 24px, or 18.66px and bold.
CONTRAST = """(function(){
function rgba(s){var m=/rgba?\\(([^)]*)\\)/.exec(s||'');if(!m)return null;
 var v=m[1].split(/[ ,\\/]+/).filter(Boolean).map(parseFloat);
 if(v.length<3)return null;if(v.length<4)v.push(1);return v}
function over(a,b){return [0,1,2].map(function(i){
 return a[i]*a[3]+b[i]*(1-a[3])}).concat([1])}
function bg(e){for(;e;e=e.parentElement){
 var c=rgba(getComputedStyle(e).backgroundColor);
 if(c&&c[3]>0)return c[3]<1?over(c,bg(e.parentElement)):c}
 return [255,255,255,1]}
function lum(c){var w=[0.2126,0.7152,0.0722],l=0;
 for(var i=0;i<3;i++){var v=c[i]/255;
  l+=w[i]*(v<=0.03928?v/12.92:Math.pow((v+0.055)/1.055,2.4))}return l}
var tw=document.createTreeWalker(document.body,NodeFilter.SHOW_TEXT),
 node,n=0,bad=[];
while((node=tw.nextNode())){
 var e=node.parentElement;if(!e||!node.data.trim())continue;
 var cs=getComputedStyle(e),r=e.getClientRects();
 if(!r.length||cs.visibility!=='visible'||cs.display==='none'||
  e.closest('[hidden],noscript,title,style,script'))continue;
 var b=bg(e),f=rgba(e instanceof SVGElement?cs.fill:cs.color);
 if(!f)continue;f=over(f,b);
 var l1=lum(f),l2=lum(b),ratio=(Math.max(l1,l2)+0.05)/(Math.min(l1,l2)+0.05),
  px=parseFloat(cs.fontSize),bold=parseInt(cs.fontWeight,10)>=700,
  need=px>=24||(px>=18.66&&bold)?3:4.5;
 n++;
 if(ratio<need)bad.push([e.tagName.toLowerCase()+
  (e.className&&typeof e.className==='string'?'.'+e.className:''),
  node.data.trim().slice(0,30),cs.color,cs.backgroundColor,
  Math.round(ratio*100)/100])}
return {n:n,bad:bad}})()"""


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium",
                                            os.X_OK) else None


class WebSocket:
    """Just enough RFC 6455 for the DevTools protocol: text frames,
    client masking, fragmentation, ping/pong."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port), 30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n" % (
                u.path, u.hostname, u.port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise OSError("websocket handshake failed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise OSError("websocket refused: %r" % head[:200])

    def _exact(self, n):
        b = b""
        while len(b) < n:
            chunk = self.sock.recv(n - len(b))
            if not chunk:
                raise OSError("websocket closed")
            b += chunk
        return b

    def send(self, text, opcode=1):
        data = text.encode() if isinstance(text, str) else text
        head = bytes([0x80 | opcode])
        n = len(data)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(
            b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        parts = []
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack("!H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._exact(8))[0]
            mask = self._exact(4) if b1 & 0x80 else None
            data = self._exact(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            op = b0 & 0x0f
            if op == 9:
                self.send(data, 10)
                continue
            if op == 8:
                raise OSError("websocket closed by peer")
            if op in (0, 1, 2):
                parts.append(data)
                if b0 & 0x80:
                    return b"".join(parts).decode()


class Browser:
    def __init__(self, exe, rundir):
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=rundir)
        self.log = open(os.path.join(rundir, "chromium.log"), "w+")
        self.proc = subprocess.Popen(
            [exe] + ARGS + ["--user-data-dir=" + self.profile,
                            "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self.log,
            start_new_session=True)
        port = None
        end = time.monotonic() + 60
        while port is None and time.monotonic() < end:
            time.sleep(0.1)
            try:
                with open(os.path.join(self.profile,
                                       "DevToolsActivePort")) as f:
                    port = int(f.readline())
            except (OSError, ValueError):
                pass
        if port is None:
            self.log.seek(0)
            raise RuntimeError("chromium did not start: " +
                               self.log.read()[-2000:])
        targets = []
        while not targets and time.monotonic() < end:
            import urllib.request
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" %
                                        port, timeout=10) as r:
                targets = [x for x in json.load(r) if x["type"] == "page"]
            time.sleep(0.1)
        self.ws = WebSocket(targets[0]["webSocketDebuggerUrl"])
        self.seq = 0
        self.events = []
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Log.enable")

    def call(self, method, **params):
        self.seq += 1
        my = self.seq
        self.ws.send(json.dumps({"id": my, "method": method,
                                 "params": params}))
        end = time.monotonic() + 60
        while time.monotonic() < end:
            m = json.loads(self.ws.recv(60))
            if m.get("id") == my:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)
        raise RuntimeError(method + ": no answer")

    def wait_event(self, name, timeout=60):
        end = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == name:
                    del self.events[:i + 1]
                    return e
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError("no " + name)
            try:
                m = json.loads(self.ws.recv(left))
            except socket.timeout:
                continue
            if "method" in m:
                self.events.append(m)

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True)
        return r.get("result", {}).get("value")

    def goto(self, url):
        self.drop("Page.loadEventFired")
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")

    def drop(self, name):
        self.events = [e for e in self.events if e["method"] != name]

    def type(self, selector, text):
        """Focuses the field, clears it and types as a user would."""
        ok = self.js("(function(){var e=document.querySelector(%s);"
                     "if(!e)return false;e.focus();e.select&&e.select();"
                     "return true})()" % json.dumps(selector))
        if not ok:
            raise RuntimeError("no field " + selector)
        self.call("Input.dispatchKeyEvent", type="keyDown", key="Delete",
                  code="Delete", windowsVirtualKeyCode=46)
        self.call("Input.dispatchKeyEvent", type="keyUp", key="Delete",
                  code="Delete", windowsVirtualKeyCode=46)
        self.call("Input.insertText", text=text)

    def click(self, selector, navigates=True):
        """A real mouse click at the element's centre."""
        box = self.js("(function(){var e=document.querySelector(%s);"
                      "if(!e)return null;e.scrollIntoView({block:'center'});"
                      "var r=e.getBoundingClientRect();"
                      "return [r.x+r.width/2,r.y+r.height/2]})()" %
                      json.dumps(selector))
        if not box:
            raise RuntimeError("nothing to click at " + selector)
        self.drop("Page.loadEventFired")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0],
                      y=box[1], button="left", clickCount=1)
        if navigates:
            self.wait_event("Page.loadEventFired")

    def text(self):
        return self.js("document.body.innerText") or ""

    def screenshot(self, name):
        os.makedirs(ARTIFACTS, exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png",
                         captureBeyondViewport=True)["data"]
        path = os.path.join(ARTIFACTS, name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def console_errors(self):
        return [e["params"]["entry"]["text"] for e in self.events
                if e["method"] == "Log.entryAdded" and
                e["params"]["entry"].get("level") == "error"]

    def close(self):
        try:
            self.call("Browser.close")
        except (OSError, RuntimeError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


t = Tap()
exe = find_chromium()
if exe is None:
    print("ok 1 # SKIP chromium is not installed (apt-get install chromium)")
    print("1..1")
    sys.exit(0)

s = Stack()
b = None
try:
    fixtures.seed(s)
    s.ctl("admin", "add", "root", input=PASSWORD + "\n")
    b = Browser(exe, s.dir)

    b.goto(s.base + "/admin/")
    t.eq(b.js("location.pathname"), "/admin/login",
         "the browser is sent to the login page")
    b.type("#user", "root")
    b.type("#password", PASSWORD)
    b.click("button[type=submit]")
    t.eq(b.js("document.title"), "Integrations · pbsync",
         "after the login the browser shows the integrations")
    t.ok("There is no integration yet" in b.text(), "the list is empty")
    t.eq(b.js("document.cookie"), "",
         "the session cookie is out of the page's reach (HttpOnly)")
    t.ok(b.js("getComputedStyle(document.querySelector('.top'))"
              ".backgroundColor") == "rgb(29, 35, 48)",
         "the style sheet loads under the CSP")

    b.click("a[href='/admin/new']")
    t.eq(b.js("location.pathname"), "/admin/new", "the create form opens")
    b.type("#name", "Browser team")
    b.type("#pb_token", PB_TOKEN)
    b.type("#tracker_url", s.gl.url)
    b.type("#tracker_token", GL_TOKEN)
    b.type("#tracker_project", "grp/proj")
    b.click("button[value=statuses]")
    txt = b.text()
    t.ok("Productboard accepted the token" in txt and "In Progress" in txt,
         "'Load the Productboard statuses' shows the mapping", txt[-800:])
    t.eq(b.js("document.querySelector('#name').value"), "Browser team",
         "the form keeps the name")
    b.screenshot("admin-create-form.png")
    b.click("button[value=save]")
    txt = b.text()
    t.ok("The integration was created" in txt, "the integration is created",
         txt[-800:])
    iid = b.js("location.pathname").rsplit("/", 1)[-1]
    t.eq(s.sql("SELECT name FROM integration WHERE id = ?", iid),
         [("Browser team",)], "the database has it")

    b.click("a.brand")
    txt = b.text()
    t.ok("Browser team" in txt and "grp/proj" in txt,
         "the list shows the new integration")
    shot = b.screenshot("admin-list.png")
    t.ok(os.path.getsize(shot) > 5000, "a screenshot of the list is kept "
         "at " + os.path.relpath(shot, TOP_BUILD))

    # -- the activity dashboard and the sync log ----------------------------
    fid = fixtures.feature(s, "Browser feature")
    fixtures.click(s, fixtures.plugin_id(s, iid), fid)
    size = ("(function(q){return [].slice.call(document.querySelectorAll(q))"
            ".map(function(e){var r=e.getBoundingClientRect();"
            "return [r.width,r.height]})})(%s)")
    for path in ("/admin/", "/admin/i/" + iid):
        b.goto(s.base + path)
        charts = b.js(size % json.dumps("svg.spark"))
        t.ok(charts and len(charts) == 5 and all(w > 0 and h > 0 for w, h
                                                 in charts),
             "%s: the five charts render with a size" % path, charts)
        bars = b.js(size % json.dumps("#chart-push rect.bar"))
        t.ok(bars and all(w > 0 and h > 0 for w, h in bars),
             "%s: the push is drawn as a bar" % path, bars)
    t.eq(b.js("getComputedStyle(document.querySelector('#chart-push "
              "rect.bar')).fill"), "rgb(47, 91, 211)",
         "the bars take their colour from the style sheet under the CSP")
    for width in (1280, 390):
        b.call("Emulation.setDeviceMetricsOverride", width=width,
               height=900, deviceScaleFactor=1, mobile=width < 500)
        for path, name in (("/admin/", "dashboard"), ("/admin/log",
                                                      "synclog")):
            b.goto(s.base + path)
            over = b.js("document.documentElement.scrollWidth - "
                        "window.innerWidth")
            t.ok(over is not None and over <= 0, "%s at %d pixels wide: "
                 "nothing sticks out sideways" % (path, width), over)
            b.screenshot("admin-%s-%d.png" % (name, width))
    b.call("Emulation.clearDeviceMetricsOverride")
    for path in ("/admin/", "/admin/log"):
        b.goto(s.base + path)
        got = b.js(CONTRAST)
        t.ok(got and got["n"] >= 20 and got["bad"] == [],
             "%s: every visible text has a WCAG contrast of 4.5 (3 when "
             "large) against its background" % path, got)
    b.goto(s.base + "/admin/log")
    t.ok(b.js("document.querySelectorAll('table.log tr.entry').length") >= 1,
         "the sync log lists the push")
    b.click("table.log td a[href*='/links/']")
    txt = b.text()
    t.ok("History" in txt and "Browser feature" in txt,
         "its feature opens the link's history", txt[-600:])
    b.goto(s.base + "/admin/")

    b.click("td a[href^='/admin/i/']")
    b.click("a.danger")
    t.ok("Delete this integration" in b.text(), "the delete page asks "
         "for confirmation")
    b.click("button.danger")
    txt = b.text()
    t.ok("is deleted" in txt and txt.count("removed") >= 4,
         "the report says every part was removed", txt[-800:])
    b.screenshot("admin-deleted.png")
    t.eq(s.counts()["integration"], 0, "nothing is left in the database")
    b.click("a[href='/admin/']")
    t.ok("There is no integration yet" in b.text(),
         "the list is empty again")
    errs = b.console_errors()
    t.eq(errs, [], "no console error (no CSP violation) on any page")
finally:
    if b is not None:
        b.close()
    s.stop(t)
t.done()
