"""Requests exactly as written: HTTP/1.1 on a raw socket (no client
library fixing up the framing or refusing odd headers) and FastCGI
straight to a program's socket, bypassing nginx.

Text becomes bytes as UTF-8, except that a lone surrogate U+DC80..U+DCFF
stands for the raw byte 0x80..0xFF (Python's surrogateescape), so a test
can send invalid UTF-8.
"""
import re
import socket
import struct
import urllib.parse


def to_bytes(text):
    return text.encode("utf-8", "surrogateescape")


def urlencode(pairs):
    """A form body from [name, value] pairs (raw bytes kept as raw)."""
    return "&".join(urllib.parse.quote_plus(to_bytes(str(k))) + "=" +
                    urllib.parse.quote_plus(to_bytes(str(v)))
                    for k, v in pairs)


def request_head(method, path, headers, body, port):
    """The request line and headers, with Host, Connection: close and,
    when there is a body, its Content-Length."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % port,
             "Connection: close"]
    lines += ["%s: %s" % kv for kv in headers.items()]
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    return to_bytes("\r\n".join(lines) + "\r\n\r\n")


def _read_all(sock, timeout):
    sock.settimeout(timeout)
    out = b""
    while True:
        try:
            b = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        out += b
    return out


def raw_http(port, data, half_close=False, timeout=30):
    """Sends data to nginx and reads until it closes.  Returns (status,
    head, body): status is the first answer's code, or "closed" when the
    connection ended without one."""
    c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            c.sendall(data)
            if half_close:
                c.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        reply = _read_all(c, timeout)
    finally:
        c.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    head, _, body = reply.partition(b"\r\n\r\n")
    return (int(m.group(1)) if m else "closed"), head, body


# FastCGI 1.0: BEGIN_REQUEST, PARAMS, STDIN; the answer comes as STDOUT
# records up to END_REQUEST.
_BEGIN, _END, _PARAMS, _STDIN, _STDOUT = 1, 3, 4, 5, 6


def _record(kind, content):
    return struct.pack(">BBHHBB", 1, kind, 1, len(content), 0, 0) + content


def _pair(name, value):
    out = b""
    for x in (name, value):
        out += bytes([len(x)]) if len(x) < 128 else \
            struct.pack(">I", len(x) | 0x80000000)
    return out + name + value


def fcgi(path, params, stdin, timeout=30):
    """One FastCGI request to the responder at the Unix socket path.
    Returns (status, head, body) like raw_http."""
    p = b"".join(_pair(to_bytes(k), to_bytes(v)) for k, v in params.items())
    data = _record(_BEGIN, struct.pack(">HB5x", 1, 0))
    for i in range(0, len(p), 65535):
        data += _record(_PARAMS, p[i:i + 65535])
    data += _record(_PARAMS, b"")
    for i in range(0, len(stdin), 65535):
        data += _record(_STDIN, stdin[i:i + 65535])
    data += _record(_STDIN, b"")
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(timeout)
    try:
        c.connect(path)
        try:
            c.sendall(data)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        raw = _read_all(c, timeout)
    finally:
        c.close()
    out, i = b"", 0
    while i + 8 <= len(raw):
        _, kind, _, n, pad, _ = struct.unpack(">BBHHBB", raw[i:i + 8])
        if kind == _STDOUT:
            out += raw[i + 8:i + 8 + n]
        i += 8 + n + pad
    m = re.match(rb"Status: (\d{3})", out)
    head, _, body = out.partition(b"\r\n\r\n")
    return (int(m.group(1)) if m else "closed"), head, body


class Reply:
    def __init__(self, status, head, body):
        self.status = status
        lines = head.decode("utf-8", "replace").split("\r\n")[1:]
        self.cookies = [v for k, _, v in (ln.partition(": ") for ln in lines)
                        if k.lower() == "set-cookie"]
        self.headers = {k.lower(): v for k, _, v in
                        (ln.partition(": ") for ln in lines)}
        self.raw = head + b"\r\n\r\n" + body
        self.body = body.decode("utf-8", "replace")


class Browser:
    """An admin's browser: a cookie jar and forms, redirects not followed.
    Every reply is kept in replies."""

    def __init__(self, port):
        self.port, self.jar, self.replies = port, {}, []

    def req(self, method, path, form=None, headers=None):
        hdr = dict(headers or {})
        if self.jar:
            hdr["Cookie"] = "; ".join("%s=%s" % kv for kv in self.jar.items())
        body = None
        if form is not None:
            body = to_bytes(urlencode(list(dict(form).items())))
            hdr.setdefault("Content-Type",
                           "application/x-www-form-urlencoded")
        r = Reply(*raw_http(self.port, request_head(
            method, path, hdr, body, self.port) + (body or b"")))
        for sc in r.cookies:
            name, _, rest = sc.partition("=")
            if "Max-Age=0" in sc:
                self.jar.pop(name, None)
            else:
                self.jar[name] = rest.split(";")[0]
        self.replies.append(r)
        return r

    def get(self, path):
        return self.req("GET", path)

    def post(self, path, form, headers=None):
        return self.req("POST", path, form, headers)

    def csrf(self, path):
        """The CSRF token of the form on page path."""
        m = re.search(r'name="csrf" value="([^"]*)"', self.get(path).body)
        return m.group(1) if m else None

    def login(self, user, password):
        return self.post("/admin/login", {"csrf": self.csrf("/admin/login"),
                                          "user": user,
                                          "password": password})
