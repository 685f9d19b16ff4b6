#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/metrics.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "upstream/upstream.h"

#define MAX_RESPONSE	(8u << 20)

int
upstream_init(struct upstream *u, struct app *a, const char *name,
    const char *header, const char *token, double rate_per_s)
{
	memset(u, 0, sizeof(*u));
	u->app = a;
	u->name = name;
	u->api = name;
	u->rate_per_s = rate_per_s;
	u->default_pause_s = 60;
	if (token == NULL || strpbrk(token, "\r\n") != NULL ||
	    (header != NULL && (size_t)snprintf(u->auth, sizeof(u->auth),
	    "%s%s", header, token) >= sizeof(u->auth)))
		return -1;
	crypto_digest(token, u->token_hash);
	http_resp_init(&u->resp, MAX_RESPONSE);
	return 0;
}

void
upstream_release(struct upstream *u)
{
	crypto_wipe(u->auth, sizeof(u->auth));
	http_resp_release(&u->resp);
}

static int64_t
mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Waits for this process's per-token pace: one call per 1/rate s, kept in
 * microseconds (whole milliseconds would run 30/s as 30.3/s and 32/s as
 * 32.3/s).
 */
static void
pace(struct upstream *u)
{
	static struct { char hash[CRYPTO_HASH_LEN + 1]; int64_t next; } slots[8];
	static unsigned	 rr;
	int64_t		 now = mono_us(), gap;
	size_t		 i;

	if (u->rate_per_s <= 0)
		return;
	gap = (int64_t)(1e6 / u->rate_per_s);
	for (i = 0; i < 8; i++)
		if (strcmp(slots[i].hash, u->token_hash) == 0)
			break;
	if (i == 8) {
		i = rr++ % 8;
		memcpy(slots[i].hash, u->token_hash, sizeof(slots[i].hash));
		slots[i].next = now;
	}
	if (slots[i].next > now)
		usleep((useconds_t)(slots[i].next - now));
	slots[i].next = (slots[i].next > now ? slots[i].next : now) + gap;
}

/* 1 if another process saw a 429 for this token that is not over yet. */
static int
paused(struct upstream *u)
{
	double	 until, now = util_now();

	if (u->app->store_ok &&
	    store_pause_get(&u->app->store, u->token_hash, &until) == 0 &&
	    until > now) {
		u->retry_after = (long)(until - now) + 1;
		snprintf(u->err, sizeof(u->err), "%s paused for %lds after a "
		    "rate limit", u->name, u->retry_after);
		return 1;
	}
	return 0;
}

static void
note_rate_limit(struct upstream *u)
{
	long	 s = u->resp.retry_after;

	/*
	 * The reset time only when the budget is used up: GitHub sends it
	 * with every answer, and a secondary limit with calls left means
	 * a minute (default_pause_s), not the end of the hour.
	 */
	if (s < 0 && u->resp.ratelimit_reset > 0 &&
	    u->resp.ratelimit_remaining <= 0)
		s = u->resp.ratelimit_reset - (long)util_now();
	if (s < 0)
		s = u->default_pause_s;
	u->retry_after = s;
	metrics_rate_limited(u->api);
	if (u->limit_is_shared != NULL && !u->limit_is_shared(&u->resp)) {
		log_warn("%s rate limit on one resource: retrying it in %lds",
		    u->name, s);
		return;
	}
	log_warn("%s rate limit: pausing calls for %lds", u->name, s);
	if (u->app->store_ok)
		store_pause_set(&u->app->store, u->token_hash, util_now() + s);
}

/* 1 for a short answer of one plain word or phrase, shown as it is. */
static int
plain_word(const struct buf *b)
{
	size_t	 i;

	if (b->len == 0 || b->len > 80)
		return 0;
	for (i = 0; i < b->len; i++)
		if (!((b->data[i] >= 'a' && b->data[i] <= 'z') ||
		    (b->data[i] >= 'A' && b->data[i] <= 'Z') ||
		    (b->data[i] >= '0' && b->data[i] <= '9') ||
		    b->data[i] == '_' || b->data[i] == ' ' ||
		    b->data[i] == '-' || b->data[i] == '.'))
			return 0;
	return 1;
}

/* Adds one message of an answer (field: message) to b. */
static void
reason_add(struct buf *b, const char *field, const char *m)
{
	if (m == NULL || *m == '\0')
		return;
	if (b->len > 0)
		buf_puts(b, "; ");
	if (field != NULL)
		buf_printf(b, "%s: ", field);
	buf_puts(b, m);
}

/* A text field of an error answer, or NULL when absent or empty. */
static const char *
reason_field(const cJSON *j, const char *name)
{
	const char	*s = cJSON_GetStringValue(cJSON_GetObjectItem(j, name));

	return s != NULL && *s != '\0' ? s : NULL;
}

/* The messages of an error answer in the shapes pbsync knows, into b. */
static void
reason_of(const cJSON *j, struct buf *b)
{
	const cJSON	*errors = cJSON_GetObjectItem(j, "errors"), *it;
	const char	*m;

	/* Productboard: {"errors": [{"title", "detail"}]}. */
	it = cJSON_IsArray(errors) ? cJSON_GetArrayItem(errors, 0) : NULL;
	if ((m = reason_field(it, "detail")) != NULL ||
	    (m = reason_field(it, "title")) != NULL ||
	    /* GitLab and GitHub: "message"; OAuth's "error". */
	    (m = reason_field(j, "message")) != NULL ||
	    (m = reason_field(j, "error")) != NULL) {
		reason_add(b, NULL, m);
		return;
	}
	/* Jira: {"errorMessages": [...], "errors": {"field": "message"}}. */
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "errorMessages"))
		reason_add(b, NULL, cJSON_GetStringValue(it));
	if (cJSON_IsObject(errors))
		cJSON_ArrayForEach(it, errors)
			reason_add(b, it->string, cJSON_GetStringValue(it));
}

/* Each occurrence of secret in b as "[hidden]" (secret of 8 or more). */
static void
reason_hide(struct buf *b, const char *secret)
{
	size_t	 n = secret != NULL ? strlen(secret) : 0;
	char	*p;

	if (n < 8 || b->len == 0)
		return;
	while ((p = strstr(b->data, secret)) != NULL) {
		memcpy(p, "[hidden]", 8);
		memmove(p + 8, p + n, b->len - (size_t)(p - b->data) - n + 1);
		b->len -= n - 8;
	}
}

/*
 * The reason for people and logs: control characters as spaces, bytes
 * that are no UTF-8 as '?', cut at a whole character after
 * UPSTREAM_REASON_MAX bytes with "...".
 */
static void
reason_copy(char out[UPSTREAM_REASON_MAX + 4], const struct buf *b)
{
	const char	*s = buf_str(b);
	size_t		 i = 0, o = 0, n;
	uint32_t	 cp = 0;
	int		 ctl;

	while (i < b->len) {
		n = util_utf8_decode(s + i, b->len - i, &cp);
		ctl = n > 0 && (cp < 0x20 || (cp >= 0x7f && cp < 0xa0));
		if (o + (n > 0 && !ctl ? n : 1) > UPSTREAM_REASON_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0 || ctl)
			out[o++] = n == 0 ? '?' : ' ';
		else {
			memcpy(out + o, s + i, n);
			o += n;
		}
		i += n > 0 ? n : 1;
	}
	out[o] = '\0';
}

/* Explains a failed call in u->err: the service's own words if any. */
static void
describe(struct upstream *u, enum http_err e)
{
	struct buf	 b;
	cJSON		*j;
	const char	*cred = strrchr(u->auth, ' ');
	char		 m[UPSTREAM_REASON_MAX + 4];

	if (e != HTTP_ECLIENT && e != HTTP_ESERVER && e != HTTP_ERATE) {
		snprintf(u->err, sizeof(u->err), "%s: %s", u->name,
		    u->resp.error);
		return;
	}
	buf_init(&b, MAX_RESPONSE);
	j = json_parse(buf_str(&u->resp.body), u->resp.body.len);
	if (j == NULL && plain_word(&u->resp.body))
		reason_add(&b, NULL, buf_str(&u->resp.body));	/* Slack's */
	else if (j != NULL)
		reason_of(j, &b);
	/* The answer may quote what was sent: the token, a secret. */
	reason_hide(&b, cred != NULL ? cred + 1 : NULL);
	reason_hide(&b, u->hide);
	reason_copy(m, &b);
	snprintf(u->err, sizeof(u->err), "%s answered %ld%s%s", u->name,
	    u->status, *m != '\0' ? ": " : "", m);
	buf_release(&b);
	cJSON_Delete(j);
}

enum http_err
upstream_send(struct upstream *u, const char *method, const char *url,
    const char *body, size_t len, const char *const *more)
{
	const char	*hdr[16];
	struct http_req	 rq;
	enum http_err	 e;
	size_t		 n = 0;

	u->status = 0;
	u->err[0] = '\0';
	if (paused(u)) {
		metrics_paused_call(u->api);
		return HTTP_ERATE;
	}
	if (u->auth[0] != '\0')
		hdr[n++] = u->auth;
	hdr[n++] = u->accept != NULL ? u->accept : "Accept: application/json";
	hdr[n++] = "Content-Type: application/json";
	if (u->extra != NULL)
		hdr[n++] = u->extra;
	for (; more != NULL && *more != NULL && n < 15; more++)
		hdr[n++] = *more;
	hdr[n] = NULL;
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url;
	rq.headers = hdr;
	rq.body = body;
	rq.bodylen = len;
	rq.timeout_ms = u->timeout_ms;
	rq.tick = u->tick;
	rq.tick_arg = u->tick_arg;
	pace(u);
	e = http_do(&u->app->http, &rq, &u->resp);
	u->status = u->resp.status;
	metrics_upstream(u->api, e == HTTP_OK || e == HTTP_ECLIENT ||
	    e == HTTP_ERATE || e == HTTP_ESERVER || e == HTTP_EREDIRECT ?
	    u->status : 0);
	if (e != HTTP_OK && e != HTTP_ERATE && u->rate_limited != NULL &&
	    u->rate_limited(&u->resp))
		e = HTTP_ERATE;
	if (e == HTTP_ERATE)
		note_rate_limit(u);
	if (e != HTTP_OK) {
		describe(u, e);
		log_warn("%s %s: %s", method, u->name, u->err);
	}
	return e;
}

enum http_err
upstream_call(struct upstream *u, const char *method, const char *url,
    const cJSON *body, cJSON **out)
{
	char		*text = NULL;
	enum http_err	 e;

	if (out != NULL)
		*out = NULL;
	if (body != NULL && (text = json_print(body)) == NULL)
		return HTTP_EINTERNAL;
	e = upstream_send(u, method, url, text, text != NULL ? strlen(text) : 0,
	    NULL);
	cJSON_free(text);
	if (e != HTTP_OK)
		return e;
	if (out != NULL && u->resp.body.len > 0 &&
	    (*out = json_parse(buf_str(&u->resp.body),
	    u->resp.body.len)) == NULL) {
		snprintf(u->err, sizeof(u->err), "%s sent malformed JSON",
		    u->name);
		return HTTP_ESERVER;
	}
	return HTTP_OK;
}
