#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/http.h"
#include "base/log.h"
#include "base/util.h"
#include "t.h"

/* What fn says of the IPv4 or IPv6 address addr. */
static int
of(int (*fn)(const void *), const char *addr)
{
	struct sockaddr_in	 a4;
	struct sockaddr_in6	 a6;

	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	if (inet_pton(AF_INET, addr, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		return fn(&a4);
	}
	inet_pton(AF_INET6, addr, &a6.sin6_addr);
	a6.sin6_family = AF_INET6;
	return fn(&a6);
}

static int
priv(const char *addr)
{
	return of(http_addr_private, addr);
}

static int
meta(const char *addr)
{
	return of(http_addr_metadata, addr);
}

/* Serves one canned answer on a loopback port in a child process. */
static pid_t
serve_once(const char *answer, int *port)
{
	struct sockaddr_in	 a;
	socklen_t		 len = sizeof(a);
	int			 s = socket(AF_INET, SOCK_STREAM, 0), c;
	char			 req[4096];
	pid_t			 pid;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	listen(s, 1);
	getsockname(s, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	if ((pid = fork()) == 0) {
		c = accept(s, NULL, NULL);
		if (read(c, req, sizeof(req)) > 0 &&
		    write(c, answer, strlen(answer)) < 0)
			_exit(1);
		close(c);
		_exit(0);
	}
	close(s);
	return pid;
}

/* A loopback port that takes connections but never answers. */
static int
listen_only(int *fd)
{
	struct sockaddr_in	 a;
	socklen_t		 len = sizeof(a);

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(*fd, (struct sockaddr *)&a, sizeof(a));
	listen(*fd, 4);
	getsockname(*fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

static enum http_err
get(struct http *h, int port, struct http_resp *rs)
{
	char		 url[64];
	struct http_req	 rq;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.url = url;
	return http_do(h, &rq, rs);
}

/* What http_url_local finds local (1) or not (0). */
static const struct {
	int		 line;
	const char	*url;
	int		 local;
} local[] = {
	{ __LINE__, "https://127.0.0.1:8443/", 1 },
	{ __LINE__, "https://2130706433", 1 },
	{ __LINE__, "https://017700000001", 1 },
	{ __LINE__, "https://0x7f.1", 1 },
	{ __LINE__, "https://10.0.0.1", 1 },
	{ __LINE__, "https://169.254.169.254/latest/meta-data/", 1 },
	{ __LINE__, "https://[::1]:8443", 1 },
	{ __LINE__, "https://[::ffff:127.0.0.1]", 1 },
	{ __LINE__, "https://[fe80::1%25eth0]", 1 },
	{ __LINE__, "https://gitlab.com@127.0.0.1/", 1 },
	{ __LINE__, "https://localhost/", 1 },
	{ __LINE__, "not a url", 1 },
	{ __LINE__, "https://8.8.8.8", 0 },
	{ __LINE__, "https://[2606:4700::1111]", 0 },
	{ __LINE__, "https://no-such-host.invalid", 0 },
};

int
main(void)
{
	struct http	 h;
	struct http_resp rs;
	struct http_req	 rq;
	struct buf	 b;
	size_t		 i;
	int		 port, pport, ls;
	int64_t		 t0;
	pid_t		 pid, ppid;
	char		 proxy[64];

	log_open("test_http", LOGL_ERR, NULL);
	CHECK(priv("127.0.0.1"));
	CHECK(priv("10.1.2.3"));
	CHECK(priv("172.16.0.1"));
	CHECK(priv("172.31.255.255"));
	CHECK(!priv("172.32.0.1"));
	CHECK(priv("192.168.1.1"));
	CHECK(priv("169.254.169.254"));
	CHECK(priv("100.64.0.1"));
	CHECK(priv("0.0.0.0"));
	CHECK(priv("224.0.0.1"));
	CHECK(!priv("8.8.8.8"));
	CHECK(!priv("140.82.112.3"));
	CHECK(priv("::1"));
	CHECK(priv("fe80::1"));
	CHECK(priv("fd00::1"));
	CHECK(priv("::ffff:127.0.0.1"));
	CHECK(priv("::ffff:169.254.169.254"));
	CHECK(!priv("2606:4700::1111"));
	/* IANA special-purpose ranges, and IPv6 forms of local IPv4. */
	CHECK(priv("192.0.0.8"));
	CHECK(priv("198.18.0.1"));
	CHECK(priv("198.19.255.255"));
	CHECK(!priv("198.20.0.1"));
	CHECK(!priv("192.0.1.1"));
	CHECK(priv("64:ff9b::7f00:1"));			/* NAT64 127.0.0.1 */
	CHECK(priv("64:ff9b::a9fe:a9fe"));
	CHECK(priv("64:ff9b:1::a00:1"));
	CHECK(!priv("64:ff9b::808:808"));		/* NAT64 8.8.8.8 */
	CHECK(priv("2002:7f00:1::1"));			/* 6to4 127.0.0.1 */
	CHECK(priv("2002:c0a8:101::"));
	CHECK(!priv("2002:808:808::1"));
	CHECK(priv("::127.0.0.1"));			/* IPv4-compatible */
	CHECK(priv("::10.0.0.1"));
	CHECK(!priv("::8.8.8.8"));
	/* Cloud metadata services: refused even when private is allowed. */
	CHECK(meta("169.254.169.254"));
	CHECK(meta("169.254.170.2"));
	CHECK(meta("100.100.100.200"));
	CHECK(meta("fd00:ec2::254"));
	CHECK(meta("::ffff:169.254.169.254"));
	CHECK(meta("64:ff9b::a9fe:a9fe"));
	CHECK(!meta("127.0.0.1"));
	CHECK(!meta("10.0.0.1"));
	CHECK(!meta("fd00::1"));

	CHECK_INT(http_url_allowed("https://gitlab.com", 0), 0);
	CHECK_INT(http_url_allowed("http://gitlab.com", 0), -1);
	CHECK_INT(http_url_allowed("http://gitlab.com", 1), 0);
	CHECK_INT(http_url_allowed("file:///etc/passwd", 1), -1);
	CHECK_INT(http_url_allowed("gopher://x", 1), -1);
	CHECK_INT(http_url_allowed("https://localhost/", 0), -1);
	CHECK_INT(http_url_allowed("not a url", 0), -1);

	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		t_check(http_url_local(local[i].url) == local[i].local,
		    local[i].url, __FILE__, local[i].line);

	CHECK_INT(http_parse_retry_after("2", 0), 2);
	CHECK_INT(http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
	    1445412470), 10);
	CHECK_INT(http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
	    1445412490), 0);
	CHECK_INT(http_parse_retry_after("soon", 0), -1);
	CHECK_INT(http_parse_retry_after("-1", 0), -1);

	buf_init(&b, 100);
	CHECK_INT(http_escape_segment(&b, "grp/sub proj"), 0);
	CHECK_STR(buf_str(&b), "grp%2Fsub%20proj");
	buf_release(&b);

	CHECK(http_retryable(HTTP_ERATE) && http_retryable(HTTP_ESERVER) &&
	    http_retryable(HTTP_ETIMEOUT) && http_retryable(HTTP_ECONNECT));
	CHECK(!http_retryable(HTTP_ECLIENT) && !http_retryable(HTTP_EPOLICY));

	/* Loopback is refused at connect time unless allowed. */
	CHECK_INT(http_init(&h, 0, 2000), 0);
	http_resp_init(&rs, 1024);
	CHECK_INT(get(&h, 1, &rs), HTTP_EPOLICY);
	http_release(&h);

	CHECK_INT(http_init(&h, 1, 2000), 0);
	pid = serve_once("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
	    "Content-Length: 11\r\n\r\nRetry later", &port);
	CHECK_INT(get(&h, port, &rs), HTTP_ERATE);
	CHECK_INT(rs.retry_after, 7);
	CHECK_STR(buf_str(&rs.body), "Retry later");
	waitpid(pid, NULL, 0);
	pid = serve_once("HTTP/1.1 301 Moved\r\nLocation: http://169.254.169.254/"
	    "\r\nContent-Length: 0\r\n\r\n", &port);
	CHECK_INT(get(&h, port, &rs), HTTP_EREDIRECT);	/* never followed */
	waitpid(pid, NULL, 0);
	pid = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", &port);
	CHECK_INT(get(&h, port, &rs), HTTP_ETOOBIG);	/* over the 1 KB cap */
	waitpid(pid, NULL, 0);
	pid = serve_once("HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n",
	    &port);
	CHECK_INT(get(&h, port, &rs), HTTP_ESERVER);
	waitpid(pid, NULL, 0);
	pid = serve_once("", &port);			/* closes at once */
	CHECK_INT(get(&h, port, &rs), HTTP_ECONNECT);
	waitpid(pid, NULL, 0);

	/* A metadata address is refused before a connection is tried. */
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.url = "http://169.254.169.254/latest/meta-data/";
	CHECK_INT(http_do(&h, &rq, &rs), HTTP_EPOLICY);

	/* The *_proxy variables are not read: the call goes straight. */
	ppid = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nproxy",
	    &pport);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", pport);
	setenv("http_proxy", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	pid = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ntarget",
	    &port);
	CHECK_INT(get(&h, port, &rs), HTTP_OK);
	CHECK_STR(buf_str(&rs.body), "target");
	kill(pid, SIGKILL);		/* gone already, unless it was skipped */
	waitpid(pid, NULL, 0);
	/* The proxy configured is used. */
	h.proxy = proxy;
	CHECK_INT(get(&h, port, &rs), HTTP_OK);
	CHECK_STR(buf_str(&rs.body), "proxy");
	kill(ppid, SIGKILL);
	waitpid(ppid, NULL, 0);
	unsetenv("http_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	h.proxy = NULL;

	/*
	 * The deadline of the job in hand: a call that would outlast it is
	 * cut at it (a server that never answers: a listening socket nobody
	 * accepts on), one after it is not made.
	 */
	port = listen_only(&ls);
	t0 = util_mono_ms();
	http_set_deadline(t0 + 300);
	CHECK_INT(get(&h, port, &rs), HTTP_ETIMEOUT);
	CHECK(util_mono_ms() - t0 < 1500);	/* the call's own limit: 2 s */
	/* Past the deadline for sure, however the machine is loaded. */
	while (util_mono_ms() <= t0 + 300)
		usleep(10000);
	CHECK_INT(get(&h, port, &rs), HTTP_ETIMEOUT);
	CHECK_STR(rs.error, "the time of the job in hand is up");
	http_set_deadline(0);
	pid = serve_once("HTTP/1.1 204 No Content\r\n\r\n", &port);
	CHECK_INT(get(&h, port, &rs), HTTP_OK);
	waitpid(pid, NULL, 0);
	close(ls);
	http_resp_release(&rs);
	http_release(&h);
	return t_done();
}
