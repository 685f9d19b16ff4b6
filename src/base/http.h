/*
 * http: the one outbound HTTP client (libcurl).
 *
 * Every upstream call goes through http_do: https only (plain http too when
 * allow_private_upstreams is set, for self-hosted trackers on a LAN and for
 * the test doubles), never a redirect, loopback/private/link-local
 * addresses refused at connect time unless allowed (so DNS cannot be used
 * to reach them either), a connect and a total timeout, and a cap on the
 * response size.  The result is classified so callers can decide whether
 * to retry.
 */
#ifndef PBSYNC_HTTP_H
#define PBSYNC_HTTP_H

#include <stdint.h>
#include <time.h>

#include "base/buf.h"

enum http_err {
	HTTP_OK,	/* 2xx */
	HTTP_ECLIENT,	/* 4xx other than 429: our request or token is wrong */
	HTTP_ERATE,	/* 429: wait retry_after seconds */
	HTTP_ESERVER,	/* 5xx */
	HTTP_ETIMEOUT,	/* no answer in time */
	HTTP_ECONNECT,	/* DNS, refused, TLS, reset */
	HTTP_ETOOBIG,	/* response larger than the cap */
	HTTP_EPOLICY,	/* URL refused: scheme or address */
	HTTP_EREDIRECT,	/* 3xx: we do not follow */
	HTTP_EINTERNAL	/* out of memory, curl misuse */
};

struct http {
	void	*curl;		/* CURL *, reused for keep-alive */
	int	 allow_private;
	/*
	 * The proxy for every call, or NULL or "" for none: libcurl's
	 * *_proxy environment variables are never read.
	 */
	const char *proxy;
	long	 timeout_ms;
	long	 connect_timeout_ms;
	size_t	 max_response;
};

struct http_req {
	const char	*method;	/* "GET", "POST", ... */
	const char	*url;
	const char	*const *headers; /* "Name: value", NULL-terminated */
	const char	*body;		/* NULL for none */
	size_t		 bodylen;
	long		 timeout_ms;	/* 0: the client's default */
	/*
	 * Called about every 100 ms while the transfer runs, so a caller
	 * can act on a soft deadline (answer "progress" to Productboard)
	 * without aborting a request that may already have had effect.
	 */
	void		(*tick)(void *);
	void		*tick_arg;
};

struct http_resp {
	long		 status;
	struct buf	 body;
	long		 retry_after;	/* seconds; -1 when not sent */
	long		 ratelimit_reset; /* epoch seconds; -1 when not sent */
	long		 ratelimit_remaining; /* calls left; -1 when not sent */
	char		 content_type[128];
	char		 next_page[32];	/* GitLab x-next-page */
	char		 ratelimit_reason[48]; /* Jira: which limit answered */
	char		 error[256];	/* curl's message, for logs */
};

int	 http_init(struct http *, int allow_private, long timeout_ms);
/*
 * Process-wide: from now on no call starts or lasts past this moment of
 * util_mono_ms() (0: no deadline); a call that would is HTTP_ETIMEOUT.
 * The queue sets it to the end of a job's lease.
 */
void	 http_set_deadline(int64_t mono_ms);
void	 http_release(struct http *);
/*
 * For in-process tests: from now on http_do hands every call that passes
 * the URL policy and the deadline to fn instead of libcurl (NULL: libcurl
 * again).  fn fills rs (status, headers it parsed, body) and returns
 * HTTP_OK when an answer came, or the transport failure; http_do then
 * classifies the status as it does libcurl's answers, so the callers run
 * unchanged against doubles held in memory.
 */
void	 http_set_transport(enum http_err (*fn)(void *,
	    const struct http_req *, struct http_resp *), void *arg);
void	 http_resp_init(struct http_resp *, size_t max);
void	 http_resp_release(struct http_resp *);
enum http_err http_do(struct http *, const struct http_req *,
	    struct http_resp *);
const char *http_strerror(enum http_err);
/* 1 for failures worth retrying later (429, 5xx, timeouts, network). */
int	 http_retryable(enum http_err);
/* Retry-After as delta seconds or HTTP-date (RFC 9110 §10.2.3); -1 if bad. */
long	 http_parse_retry_after(const char *, time_t now);
/* Checks scheme and host of a URL against the policy: 0 or -1. */
int	 http_url_allowed(const char *url, int allow_private);
/*
 * 1 if the URL's host is a loopback, private or link-local address,
 * written as one (in any of the forms curl accepts) or a name that
 * resolves to one; also when the URL does not parse.  0 otherwise, and
 * when the name does not resolve (the call then fails by itself).  Lets
 * a form refuse such an upstream URL before any call is made; the
 * connect-time check stays, for names whose addresses change later.
 */
int	 http_url_local(const char *url);
/*
 * 1 if the address is loopback, private, link-local or otherwise local, an
 * IPv6 form of such an IPv4 address (mapped, compatible, NAT64, 6to4)
 * included.
 */
int	 http_addr_private(const void *sockaddr);
/*
 * 1 if the address is a cloud metadata service's (169.254/16,
 * 100.100.100.200, fd00:ec2::254): never called, whatever allow_private.
 */
int	 http_addr_metadata(const void *sockaddr);
/* Appends s percent-encoded as one path segment: 0 or -1. */
int	 http_escape_segment(struct buf *, const char *s);

#endif
