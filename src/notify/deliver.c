/*
 * Delivery: one POST through the upstream client (the SSRF guard, no
 * redirects, the response cap, the 429 pause shared by every process) with
 * a 10 s timeout, classified for the job that sent it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "notify/notify.h"
#include "notify/notify_int.h"
#include "upstream/upstream.h"

/* "v1,<base64 HMAC>" of one secret, appended to sigs. */
static int
sign(const char *secret, const char *signed_text, size_t len, struct buf *sigs)
{
	unsigned char	 key[64], mac[CRYPTO_MAC_LEN];
	char		 b64[64];
	long		 n;

	if (secret == NULL || strncmp(secret, "whsec_", 6) != 0 ||
	    (n = crypto_base64_decode(secret + 6, key, sizeof(key))) <= 0)
		return -1;
	crypto_hmac_sha256(key, (size_t)n, signed_text, len, mac);
	crypto_wipe(key, sizeof(key));
	if (crypto_base64(mac, sizeof(mac), b64, sizeof(b64)) == -1)
		return -1;
	return buf_printf(sigs, "%sv1,%s", sigs->len > 0 ? " " : "", b64);
}

/*
 * The Standard Webhooks headers: the message id (the same on every
 * attempt), the time of this attempt, and a signature per valid secret.
 */
static int
sign_headers(struct app *a, const struct store_channel *c, const char *id,
    const char *body, char hid[128], char hts[64], struct buf *hsig)
{
	struct buf	 text, sigs;
	char		*cur, *old = NULL;
	long long	 ts = (long long)util_now();
	int		 rc = -1;

	snprintf(hid, 128, "webhook-id: %s", id);
	snprintf(hts, 64, "webhook-timestamp: %lld", ts);
	buf_init(&text, (size_t)-1);
	buf_init(&sigs, 1024);
	buf_printf(&text, "%s.%lld.%s", id, ts, body);
	if ((cur = notify_open(a, c, "secret")) != NULL)
		rc = sign(cur, buf_str(&text), text.len, &sigs);
	/* While rotating, receivers with either secret can check it. */
	if (rc == 0 && c->old_secret != NULL &&
	    c->old_secret_until > util_now() &&
	    (old = notify_open(a, c, "old_secret")) != NULL)
		rc = sign(old, buf_str(&text), text.len, &sigs);
	if (rc == 0)
		rc = buf_printf(hsig, "webhook-signature: %s", buf_str(&sigs));
	crypto_free_secret(cur);
	crypto_free_secret(old);
	buf_release(&text);
	buf_release(&sigs);
	return rc;
}

static const char *
receiver_name(const char *type)
{
	return strcmp(type, "slack") == 0 ? "Slack" : strcmp(type, "discord") ==
	    0 ? "Discord" : "The receiver";
}

/* Refusals that will not change by trying again (notifications.md). */
static int
gone(const char *type, long status)
{
	if (strcmp(type, "slack") == 0)
		return status == 403 || status == 404 || status == 410;
	if (strcmp(type, "discord") == 0)
		return status == 401 || status == 404;
	return status == 410;
}

/* Discord's 429 says its wait in the body, in seconds (or once, in ms). */
static long
discord_wait(const struct http_resp *rs)
{
	cJSON		*j = json_parse(buf_str(&rs->body), rs->body.len);
	const cJSON	*v = json_get(j, "retry_after");
	double		 s = cJSON_IsNumber(v) ? v->valuedouble : -1;

	cJSON_Delete(j);
	if (s > 600)
		s /= 1000;
	return s < 0 ? -1 : (long)s + (s > (double)(long)s);
}

static void
explain(const struct upstream *u, enum http_err e, char *why, size_t len)
{
	switch (e) {
	case HTTP_ETIMEOUT:
		snprintf(why, len, "%s did not answer within %d s.", u->name,
		    NOTIFY_TIMEOUT_MS / 1000);
		break;
	case HTTP_ECONNECT:
		snprintf(why, len, "%s could not be reached: %s.", u->name,
		    u->resp.error[0] != '\0' ? u->resp.error : "no connection");
		break;
	case HTTP_EPOLICY:
		snprintf(why, len, "pbsync does not call that address (https "
		    "only, no local or private addresses).");
		break;
	case HTTP_EREDIRECT:
		snprintf(why, len, "%s answered %ld, a redirect, which pbsync "
		    "does not follow: use the final URL.", u->name, u->status);
		break;
	default:
		snprintf(why, len, "%s.", u->err[0] != '\0' ? u->err :
		    http_strerror(e));
		break;
	}
}

enum notify_outcome
notify_deliver(struct app *a, const struct store_channel *c,
    const char *msg_id, double at, const char *event, const cJSON *data,
    char *why, size_t whylen, long *wait_s)
{
	struct upstream		 u;
	struct buf		 hsig;
	char			 hid[128], hts[64], *url, *body = NULL;
	const char		*more[4] = { NULL };
	enum http_err		 e;
	enum notify_outcome	 rc = NOTIFY_FAILED;

	*wait_s = -1;
	if ((url = notify_open(a, c, "url")) == NULL) {
		snprintf(why, whylen, "The channel's URL cannot be decrypted "
		    "(was the key file changed?): connect it again.");
		return NOTIFY_FAILED;
	}
	buf_init(&hsig, 4096);
	if ((body = notify_body(c->type, event, at, data)) == NULL ||
	    upstream_init(&u, a, receiver_name(c->type), NULL, url, 0) == -1) {
		snprintf(why, whylen, "The message could not be made.");
		crypto_free_secret(url);
		free(body);
		buf_release(&hsig);
		return NOTIFY_FAILED;
	}
	u.timeout_ms = NOTIFY_TIMEOUT_MS;
	u.api = c->type;	/* slack, discord or webhook: the store's CHECK */
	if (strcmp(c->type, "webhook") == 0) {
		if (sign_headers(a, c, msg_id, body, hid, hts, &hsig) == -1) {
			snprintf(why, whylen, "The webhook's secret cannot be "
			    "read: rotate it.");
			goto out;
		}
		more[0] = hid;
		more[1] = hts;
		more[2] = buf_str(&hsig);
	}
	e = upstream_send(&u, "POST", url, body, strlen(body), more);
	if (e == HTTP_OK) {
		snprintf(why, whylen, "%s accepted the message (%ld).", u.name,
		    u.status);
		/* Slack takes about one message a second per webhook. */
		if (strcmp(c->type, "slack") == 0 && a->store_ok)
			store_pause_set(&a->store, u.token_hash,
			    util_now() + 1.0);
		rc = NOTIFY_SENT;
	} else if (e == HTTP_ERATE && u.status == 0) {
		*wait_s = u.retry_after > 0 ? u.retry_after : 1;
		snprintf(why, whylen, "Paced: %s gets the next message in %ld "
		    "s.", u.name, *wait_s);
		rc = NOTIFY_PACED;
	} else {
		if (e == HTTP_ERATE) {
			*wait_s = u.resp.retry_after >= 0 ? u.resp.retry_after :
			    strcmp(c->type, "discord") == 0 ?
			    discord_wait(&u.resp) : -1;
		}
		explain(&u, e, why, whylen);
		rc = http_retryable(e) ? NOTIFY_LATER : e == HTTP_ECLIENT &&
		    gone(c->type, u.status) ? NOTIFY_GONE : NOTIFY_FAILED;
	}
out:
	upstream_release(&u);
	crypto_free_secret(url);
	free(body);
	buf_release(&hsig);
	return rc;
}

enum notify_outcome
notify_test(struct app *a, const char *iid, const char *type, char *why,
    size_t whylen)
{
	struct store_integration in;
	struct store_channel	 c;
	struct notify_event	 ev;
	enum notify_outcome	 rc = NOTIFY_FAILED;
	cJSON			*data;
	char			 id[CRYPTO_ID_LEN + 1], msg_id[8 + CRYPTO_ID_LEN];
	long			 wait;
	int			 tries;

	if (app_store(a) == -1 ||
	    store_integration_get(&a->store, iid, &in) != 0) {
		snprintf(why, whylen, "There is no such integration.");
		return NOTIFY_FAILED;
	}
	if (store_channel_get(&a->store, iid, type, &c) != 0) {
		snprintf(why, whylen, "This integration has no %s channel.",
		    type);
		store_integration_release(&in);
		return NOTIFY_FAILED;
	}
	memset(&ev, 0, sizeof(ev));
	ev.event = NOTIFY_TEST_EVENT;
	ev.integration_id = in.id;
	ev.integration_name = in.name;
	ev.detail = "pbsync sent this to check the channel: if you read it, "
	    "notifications of this integration arrive here.";
	crypto_random_id(id);
	snprintf(msg_id, sizeof(msg_id), "msg_%s", id);
	if ((data = notify_data(&ev)) != NULL)
		for (tries = 0; tries < 3; tries++) {
			rc = notify_deliver(a, &c, msg_id, util_now(), ev.event,
			    data, why, whylen, &wait);
			/*
			 * A person waits for this answer: a short pace, ours
			 * or the receiver's (a 429), is waited out.
			 */
			if ((rc != NOTIFY_PACED && rc != NOTIFY_LATER) ||
			    wait < 0 || wait > 2)
				break;
			sleep((unsigned)wait);
		}
	cJSON_Delete(data);
	store_channel_release(&c);
	store_integration_release(&in);
	return rc;
}
