#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "base/http.h"
#include "base/log.h"
#include "base/util.h"

#define CONNECT_TIMEOUT_MS	5000
#define TICK_MS			100

struct xfer {
	struct http		*h;
	const struct http_req	*rq;
	struct http_resp	*rs;
	int			 toobig;
	int			 refused;
};

int
http_init(struct http *h, int allow_private, long timeout_ms)
{
	static int	 global;

	if (!global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return -1;
		global = 1;
	}
	memset(h, 0, sizeof(*h));
	h->allow_private = allow_private;
	h->timeout_ms = timeout_ms;
	h->connect_timeout_ms = CONNECT_TIMEOUT_MS;
	h->max_response = 4u << 20;
	if ((h->curl = curl_easy_init()) == NULL)
		return -1;
	return 0;
}

void
http_release(struct http *h)
{
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
}

void
http_resp_init(struct http_resp *rs, size_t max)
{
	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, max);
	rs->retry_after = -1;
	rs->ratelimit_reset = rs->ratelimit_remaining = -1;
}

void
http_resp_release(struct http_resp *rs)
{
	buf_release(&rs->body);
}

const char *
http_strerror(enum http_err e)
{
	static const char *s[] = {
		"ok", "client error", "rate limited", "server error",
		"timeout", "connection failed", "response too large",
		"address not allowed", "redirect refused", "internal error"
	};

	return (size_t)e < sizeof(s) / sizeof(s[0]) ? s[e] : "unknown";
}

int
http_retryable(enum http_err e)
{
	return e == HTTP_ERATE || e == HTTP_ESERVER || e == HTTP_ETIMEOUT ||
	    e == HTTP_ECONNECT;
}

/*
 * The IPv4 address an IPv6 one carries (RFC 4291 mapped and compatible,
 * RFC 6052 NAT64 64:ff9b::/96 and its local 64:ff9b:1::/48, RFC 3056 6to4
 * 2002::/16): 1 and *a, or 0.
 */
static int
embedded_v4(const uint8_t *b, uint32_t *a)
{
	static const uint8_t mapped[12] =
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[12] = { 0 };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t nat64_local[6] = { 0, 0x64, 0xff, 0x9b, 0, 1 };
	const uint8_t	*v;

	if (memcmp(b, mapped, 12) == 0 || memcmp(b, zero, 12) == 0 ||
	    memcmp(b, nat64, 12) == 0 || memcmp(b, nat64_local, 6) == 0)
		v = b + 12;
	else if (b[0] == 0x20 && b[1] == 0x02)
		v = b + 2;
	else
		return 0;
	*a = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
	    (uint32_t)v[2] << 8 | v[3];
	return 1;
}

int
http_addr_private(const void *p)
{
	const struct sockaddr	*sa = p;
	uint32_t		 a;
	const uint8_t		*b;

	if (sa->sa_family == AF_INET6) {
		b = ((const struct sockaddr_in6 *)p)->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)b) ||
		    IN6_IS_ADDR_UNSPECIFIED((const struct in6_addr *)b) ||
		    IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)b) ||
		    IN6_IS_ADDR_SITELOCAL((const struct in6_addr *)b) ||
		    IN6_IS_ADDR_MULTICAST((const struct in6_addr *)b) ||
		    (b[0] & 0xfe) == 0xfc)		/* fc00::/7 */
			return 1;
		if (!embedded_v4(b, &a))
			return 0;
		goto v4;
	}
	if (sa->sa_family != AF_INET)
		return 1;
	a = ntohl(((const struct sockaddr_in *)p)->sin_addr.s_addr);
v4:
	return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
	    (a >> 16) == 0xa9fe ||			/* 169.254/16 */
	    (a >> 20) == 0xac1 ||			/* 172.16/12 */
	    (a >> 16) == 0xc0a8 ||			/* 192.168/16 */
	    (a >> 8) == 0xc00000 ||			/* 192.0.0/24 */
	    (a >> 17) == (0xc612 >> 1) ||			/* 198.18/15 */
	    (a >> 22) == (100u << 2 | 1) ||		/* 100.64/10 */
	    (a >> 28) >= 0xe;				/* multicast, reserved */
}

int
http_addr_metadata(const void *p)
{
	const struct sockaddr	*sa = p;
	uint32_t		 a;
	const uint8_t		*b;
	static const uint8_t	 aws6[16] = { 0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0x02, 0x54 };		/* fd00:ec2::254 */

	if (sa->sa_family == AF_INET6) {
		b = ((const struct sockaddr_in6 *)p)->sin6_addr.s6_addr;
		if (memcmp(b, aws6, 16) == 0)
			return 1;
		if (!embedded_v4(b, &a))
			return 0;
	} else if (sa->sa_family == AF_INET)
		a = ntohl(((const struct sockaddr_in *)p)->sin_addr.s_addr);
	else
		return 0;
	return (a >> 16) == 0xa9fe ||			/* 169.254/16 */
	    a == 0x646464c8;				/* 100.100.100.200 */
}

/*
 * Refuses the connection before it is made when the address is local, or
 * a cloud metadata service whatever allow_private says.
 */
static curl_socket_t
opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct xfer	*x = arg;

	if (http_addr_metadata(&addr->addr) ||
	    (!x->h->allow_private && http_addr_private(&addr->addr))) {
		x->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

int
http_url_allowed(const char *url, int allow_private)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL;
	int	 ok = 0;

	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "https") == 0)
		ok = 1;
	else if (strcasecmp(scheme, "http") == 0 && allow_private)
		ok = 1;
	if (ok && !allow_private && (strcasecmp(host, "localhost") == 0 ||
	    strchr(host, '@') != NULL))
		ok = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

int
http_url_local(const char *url)
{
	CURLU		*u;
	char		*host = NULL;
	struct addrinfo	 hints, *res = NULL, *ai;
	size_t		 n;
	int		 local = 1;	/* until the URL has parsed */

	if ((u = curl_url()) == NULL)
		return 1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	/* curl has made 2130706433 or 0x7f.1 a dotted quad already. */
	n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	local = 0;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		goto out;
	for (ai = res; ai != NULL && !local; ai = ai->ai_next)
		local = http_addr_private(ai->ai_addr);
	freeaddrinfo(res);
out:
	curl_free(host);
	curl_url_cleanup(u);
	return local;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;

	if (buf_append(&x->rs->body, p, size * n) == -1) {
		x->toobig = 1;
		return 0;
	}
	return size * n;
}

/* Copies a header value, trimmed, into dst. */
static void
header_value(const char *p, size_t len, char *dst, size_t dstlen)
{
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, p, len);
	dst[len] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * n, klen;
	char		 v[sizeof(x->rs->content_type)], *colon;
	long		 l;

	if ((colon = memchr(p, ':', len)) == NULL)
		return len;
	klen = (size_t)(colon - p);
	header_value(colon + 1, len - klen - 1, v, sizeof(v));
#define IS(name) (klen == sizeof(name) - 1 && strncasecmp(p, name, klen) == 0)
	if (IS("Retry-After"))
		x->rs->retry_after = http_parse_retry_after(v, time(NULL));
	else if (IS("Content-Type"))
		snprintf(x->rs->content_type, sizeof(x->rs->content_type),
		    "%s", v);
	else if (IS("X-Next-Page") && strlen(v) < sizeof(x->rs->next_page))
		memcpy(x->rs->next_page, v, strlen(v) + 1);
	else if (IS("RateLimit-Reason") &&
	    strlen(v) < sizeof(x->rs->ratelimit_reason))
		memcpy(x->rs->ratelimit_reason, v, strlen(v) + 1);
	else if ((IS("RateLimit-Reset") || IS("X-RateLimit-Reset")) &&
	    util_parse_long(v, 0, 1L << 40, &l) == 0)
		x->rs->ratelimit_reset = l;
	else if ((IS("RateLimit-Remaining") || IS("X-RateLimit-Remaining")) &&
	    util_parse_long(v, 0, 1L << 40, &l) == 0)
		x->rs->ratelimit_remaining = l;
#undef IS
	return len;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct xfer	*x = arg;

	if (x->rq->tick != NULL)
		x->rq->tick(x->rq->tick_arg);
	return 0;
}

static enum http_err
classify(CURLcode cc, const struct xfer *x)
{
	long	 s = x->rs->status;

	if (x->refused)
		return HTTP_EPOLICY;
	if (x->toobig || cc == CURLE_FILESIZE_EXCEEDED)
		return HTTP_ETOOBIG;
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_ETIMEOUT;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return HTTP_EPOLICY;
	case CURLE_OUT_OF_MEMORY:
		return HTTP_EINTERNAL;
	default:
		return HTTP_ECONNECT;
	}
	if (s >= 200 && s < 300)
		return HTTP_OK;
	if (s == 429)
		return HTTP_ERATE;
	if (s >= 300 && s < 400)
		return HTTP_EREDIRECT;
	if (s >= 400 && s < 500)
		return HTTP_ECLIENT;
	return HTTP_ESERVER;
}

static int64_t	 deadline_ms;
static enum http_err (*transport)(void *, const struct http_req *,
    struct http_resp *);
static void	*transport_arg;

void
http_set_deadline(int64_t mono_ms)
{
	deadline_ms = mono_ms;
}

void
http_set_transport(enum http_err (*fn)(void *, const struct http_req *,
    struct http_resp *), void *arg)
{
	transport = fn;
	transport_arg = arg;
}

enum http_err
http_do(struct http *h, const struct http_req *rq, struct http_resp *rs)
{
	CURL		*c = h->curl;
	struct curl_slist *hl = NULL, *tmp;
	struct xfer	 x = { h, rq, rs, 0, 0 };
	char		 errbuf[CURL_ERROR_SIZE] = "";
	size_t		 i;
	CURLcode	 cc;
	enum http_err	 e;
	int64_t		 left;
	long		 timeout;

	buf_reset(&rs->body);
	rs->status = 0;
	rs->retry_after = rs->ratelimit_reset = rs->ratelimit_remaining = -1;
	rs->content_type[0] = rs->next_page[0] = rs->error[0] = '\0';
	rs->ratelimit_reason[0] = '\0';
	if (http_url_allowed(rq->url, h->allow_private) == -1) {
		snprintf(rs->error, sizeof(rs->error), "url refused by policy");
		return HTTP_EPOLICY;
	}
	timeout = rq->timeout_ms > 0 ? rq->timeout_ms : h->timeout_ms;
	if (deadline_ms != 0) {
		if ((left = deadline_ms - util_mono_ms()) <= 0) {
			snprintf(rs->error, sizeof(rs->error), "the time of "
			    "the job in hand is up");
			return HTTP_ETIMEOUT;
		}
		if (left < timeout)
			timeout = (long)left;
	}
	if (transport != NULL) {
		e = transport(transport_arg, rq, rs);
		if (e == HTTP_OK)
			e = classify(CURLE_OK, &x);
		goto out;
	}
	for (i = 0; rq->headers != NULL && rq->headers[i] != NULL; i++) {
		if ((tmp = curl_slist_append(hl, rq->headers[i])) == NULL) {
			curl_slist_free_all(hl);
			return HTTP_EINTERNAL;
		}
		hl = tmp;
	}
	/* Keep curl from sending "Expect: 100-continue" on large bodies. */
	if ((tmp = curl_slist_append(hl, "Expect:")) != NULL)
		hl = tmp;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	/* "" keeps libcurl from reading http_proxy and the like. */
	curl_easy_setopt(c, CURLOPT_PROXY, h->proxy != NULL ? h->proxy : "");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    h->allow_private ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "pbsync/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)rs->body.max);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, opensocket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	if (rq->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rq->bodylen);
	} else if (strcmp(rq->method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	curl_slist_free_all(hl);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	e = classify(cc, &x);
out:
	if (e != HTTP_OK)
		snprintf(rs->error, sizeof(rs->error), "%s",
		    errbuf[0] != '\0' ? errbuf : http_strerror(e));
	return e;
}

long
http_parse_retry_after(const char *v, time_t now)
{
	struct tm	 tm;
	const char	*end;
	long		 s;
	time_t		 t;

	if (util_parse_long(v, 0, 86400 * 7, &s) == 0)
		return s;
	memset(&tm, 0, sizeof(tm));
	/* IMF-fixdate, the only form RFC 9110 lets senders generate. */
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	return t > now ? (long)(t - now) : 0;
}

int
http_escape_segment(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c) != NULL) {
			if (buf_putc(b, (char)c) == -1)
				return -1;
		} else if (buf_putc(b, '%') == -1 ||
		    buf_putc(b, hex[c >> 4]) == -1 ||
		    buf_putc(b, hex[c & 15]) == -1)
			return -1;
	}
	return 0;
}
