/*
 * upstream: calls to Productboard or the tracker on behalf of one token.
 *
 * Wraps http_do with what every API call needs: the token's headers, a
 * JSON body, pacing (at most rate_per_s calls per second per token in this
 * process) and the shared pause: a 429 stores "paused until" for the
 * token's hash in the database so every process waits out Retry-After
 * (DESIGN §3); a call made during a pause fails at once with HTTP_ERATE.
 */
#ifndef PBSYNC_UPSTREAM_H
#define PBSYNC_UPSTREAM_H

#include <cjson/cJSON.h>

#include "app/app.h"
#include "base/crypto.h"
#include "base/http.h"

#define UPSTREAM_REASON_MAX	300	/* bytes of a service's message kept */

struct upstream {
	struct app	*app;
	const char	*name;		/* "productboard", "gitlab": logs */
	const char	*api;		/* for the metrics: name, or a fixed
					   word a caller sets ("slack") */
	char		 auth[512];	/* the auth header line */
	char		 token_hash[CRYPTO_HASH_LEN + 1];
	double		 rate_per_s;
	long		 default_pause_s; /* 429 without Retry-After */
	long		 status;	/* last HTTP status */
	long		 retry_after;	/* last 429: seconds to wait */
	char		 err[512];	/* last error, for logs and admins */
	struct http_resp resp;		/* last response */
	void		(*tick)(void *);
	void		*tick_arg;
	/* Set by a backend after upstream_init, when the API wants them. */
	const char	*accept;	/* "Accept: ..." line; JSON by default */
	const char	*extra;		/* one more header line, or NULL */
	/* 1 if an answer other than 429 says a rate limit was hit. */
	int		(*rate_limited)(const struct http_resp *);
	/*
	 * 0 if a limit binds only what was called (Jira's writes to one
	 * issue), so other calls go on; NULL or 1: the token waits.
	 */
	int		(*limit_is_shared)(const struct http_resp *);
	long		 timeout_ms;	/* 0: the client's default */
	/* A secret the call being made sends (a webhook's): never in err. */
	const char	*hide;
};

/*
 * header is "Authorization: Bearer " or "PRIVATE-TOKEN: "; NULL for a
 * receiver whose URL is its credential (token is then the URL, which only
 * keys the pacing and the shared pause).
 */
int	 upstream_init(struct upstream *, struct app *, const char *name,
	    const char *header, const char *token, double rate_per_s);
void	 upstream_release(struct upstream *);
/*
 * Sends body (may be NULL) as JSON and parses a JSON answer into *out when
 * out is not NULL (NULL for an empty body).  Returns the classification;
 * u->err explains a failure: for an error answer, the service's message
 * in any of the shapes pbsync knows (Productboard's errors, GitLab's and
 * GitHub's message, Jira's errorMessages and errors), at most
 * UPSTREAM_REASON_MAX bytes, control characters as spaces, the token and
 * hide replaced.
 */
enum http_err upstream_call(struct upstream *, const char *method,
	    const char *url, const cJSON *body, cJSON **out);
/*
 * Sends a body already serialised as JSON, with more header lines
 * (NULL-terminated, or NULL); the answer stays in u->resp.
 */
enum http_err upstream_send(struct upstream *, const char *method,
	    const char *url, const char *body, size_t len,
	    const char *const *more);

#endif
