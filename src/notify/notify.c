#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "notify/notify.h"
#include "notify/notify_int.h"

#define URL_MAX		2048
#define EVENTS_MAX	512

const char *const notify_types[] = { "slack", "discord", "webhook", NULL };

const char *const notify_events[] = {
	"feature.pushed", "feature.unlinked", "feature.status_changed",
	"issue.state_changed", "sync.conflict", "sync.failed",
	"integration.unhealthy", NULL
};

static int
in_list(const char *const *list, const char *s)
{
	for (; s != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

int
notify_type_known(const char *type)
{
	return in_list(notify_types, type);
}

int
notify_event_known(const char *event)
{
	return in_list(notify_events, event);
}

int
notify_filter_has(const char *events, const char *event)
{
	size_t	 n = strlen(event);
	const char *p;

	if (events == NULL || strcmp(events, "*") == 0)
		return 1;
	for (p = events; *p != '\0'; p += strcspn(p, ",")) {
		if (*p == ',')
			p++;
		if (strncmp(p, event, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* The associated data that binds a sealed value to its row and field. */
static void
seal_ad(char ad[96], const char *iid, const char *type, const char *what)
{
	snprintf(ad, 96, "%s:channel_%s_%s", iid, type, what);
}

int
notify_emit(struct app *a, const struct notify_event *ev)
{
	struct store_channel	*ch;
	size_t			 n, i;
	cJSON			*p;
	char			 id[CRYPTO_ID_LEN + 1], msg_id[8 + CRYPTO_ID_LEN];
	char			 key[16 + sizeof(msg_id)], *text;
	int			 rc = 0;

	if (ev->integration_id == NULL || app_store(a) == -1 ||
	    store_channel_list(&a->store, ev->integration_id, &ch, &n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!ch[i].active || !notify_filter_has(ch[i].events,
		    ev->event))
			continue;
		/* The id names the message on every attempt (dedupe). */
		crypto_random_id(id);
		snprintf(msg_id, sizeof(msg_id), "msg_%s", id);
		snprintf(key, sizeof(key), "%s:%s", ch[i].type, msg_id);
		text = NULL;
		if ((p = cJSON_CreateObject()) == NULL ||
		    cJSON_AddStringToObject(p, "channel", ch[i].type) == NULL ||
		    cJSON_AddStringToObject(p, "id", msg_id) == NULL ||
		    cJSON_AddStringToObject(p, "event", ev->event) == NULL ||
		    cJSON_AddNumberToObject(p, "at", util_now()) == NULL ||
		    !cJSON_AddItemToObject(p, "data", notify_data(ev)) ||
		    (text = json_print(p)) == NULL ||
		    store_job_enqueue(&a->store, ev->integration_id, "notify",
		    key, text, util_now()) != 0) {
			log_err("integration %s: cannot queue the %s "
			    "notification for %s", ev->integration_id,
			    ev->event, ch[i].type);
			rc = -1;
		}
		cJSON_free(text);
		cJSON_Delete(p);
	}
	store_channels_free(ch, n);
	return rc;
}

/* Normalises a filter into out ("*" or a comma list): 0, or -1 with why. */
static int
parse_events(const char *in, char out[EVENTS_MAX], char *msg, size_t msglen)
{
	char	 word[64];
	size_t	 len, o = 0;

	if (in == NULL || strcmp(in, "*") == 0) {
		strcpy(out, "*");
		return 0;
	}
	out[0] = '\0';
	while (*in != '\0') {
		in += strspn(in, ", ");
		if ((len = strcspn(in, ", ")) == 0)
			break;
		if (len >= sizeof(word)) {
			snprintf(msg, msglen, "An event name is too long.");
			return -1;
		}
		memcpy(word, in, len);
		word[len] = '\0';
		in += len;
		if (!notify_event_known(word)) {
			snprintf(msg, msglen, "Unknown event \"%.63s\": the "
			    "events are feature.pushed, feature.unlinked, "
			    "feature.status_changed, issue.state_changed, "
			    "sync.conflict, sync.failed and "
			    "integration.unhealthy.", util_text_ok(word,
			    len) ? word : "?");
			return -1;
		}
		if (notify_filter_has(o > 0 ? out : "", word))
			continue;
		o += (size_t)snprintf(out + o, EVENTS_MAX - o, "%s%s",
		    o > 0 ? "," : "", word);
	}
	if (o == 0) {
		snprintf(msg, msglen, "Choose at least one event.");
		return -1;
	}
	return 0;
}

static int
check_url(struct app *a, const char *url, char *msg, size_t msglen)
{
	int	 private_ok = a->conf.allow_private_upstreams;

	if (url == NULL || *url == '\0' || strlen(url) > URL_MAX ||
	    !util_text_ok(url, strlen(url)) || strpbrk(url, " \t") != NULL) {
		snprintf(msg, msglen, "Enter the receiver's URL (https://..., "
		    "at most %d characters).", URL_MAX);
		return -1;
	}
	if (strncmp(url, "https://", 8) != 0 && !(private_ok &&
	    strncmp(url, "http://", 7) == 0)) {
		snprintf(msg, msglen, "The URL must start with https:// (a "
		    "notification carries what it says in clear otherwise).");
		return -1;
	}
	if (http_url_allowed(url, private_ok) != 0 ||
	    (!private_ok && http_url_local(url))) {
		snprintf(msg, msglen, "That URL points at a local or private "
		    "address, which pbsync does not call.");
		return -1;
	}
	return 0;
}

/* A new Standard Webhooks secret: "whsec_" and base64 of 32 random bytes. */
static void
new_secret(char out[NOTIFY_SECRET_MAX])
{
	unsigned char	 k[32];

	randombytes_buf(k, sizeof(k));
	memcpy(out, "whsec_", 6);
	crypto_base64(k, sizeof(k), out + 6, NOTIFY_SECRET_MAX - 6);
	crypto_wipe(k, sizeof(k));
}

static enum notify_rc
integration_known(struct app *a, const char *iid, char *msg, size_t msglen)
{
	struct store_integration in;
	int	 rc;

	if (app_store(a) == -1 ||
	    (rc = store_integration_get(&a->store, iid, &in)) == -1) {
		snprintf(msg, msglen, "The database cannot be read (see the "
		    "log).");
		return NOTIFY_EFAIL;
	}
	if (rc == STORE_NOTFOUND) {
		snprintf(msg, msglen, "There is no such integration.");
		return NOTIFY_ENOTFOUND;
	}
	store_integration_release(&in);
	return NOTIFY_OK;
}

int
notify_http_status(enum notify_rc rc)
{
	static const int status[] = {
		[NOTIFY_OK] = 200, [NOTIFY_EINVAL] = 422,
		[NOTIFY_ENOTYPE] = 422, [NOTIFY_ENOTFOUND] = 404,
		[NOTIFY_EFAIL] = 503
	};

	return status[rc];
}

enum notify_rc
notify_check(struct app *a, const char *iid, const char *type, char *msg,
    size_t msglen)
{
	struct store_channel c;
	enum notify_rc	 rc;
	int		 r;

	if ((rc = integration_known(a, iid, msg, msglen)) != NOTIFY_OK ||
	    type == NULL)
		return rc;
	if ((r = store_channel_get(&a->store, iid, type, &c)) == 0) {
		store_channel_release(&c);
		return NOTIFY_OK;
	}
	snprintf(msg, msglen, r == STORE_NOTFOUND ? "This integration has no "
	    "%s channel." : "The database cannot be read (see the log).",
	    type);
	return r == STORE_NOTFOUND ? NOTIFY_ENOTFOUND : NOTIFY_EFAIL;
}

static enum notify_rc
check_type(const char *type, char *msg, size_t msglen)
{
	if (notify_type_known(type))
		return NOTIFY_OK;
	snprintf(msg, msglen, "Unknown channel type: the types are slack, "
	    "discord and webhook.");
	return NOTIFY_ENOTYPE;
}

enum notify_rc
notify_connect(struct app *a, const char *iid, const char *type,
    const char *url, const char *events, char secret[NOTIFY_SECRET_MAX],
    char *msg, size_t msglen)
{
	struct store_channel	 c, old;
	char			 ad[96], filter[EVENTS_MAX];
	enum notify_rc		 rc;
	int			 had;

	secret[0] = '\0';
	if ((rc = check_type(type, msg, msglen)) != NOTIFY_OK ||
	    (rc = integration_known(a, iid, msg, msglen)) != NOTIFY_OK)
		return rc;
	if (check_url(a, url, msg, msglen) == -1 ||
	    parse_events(events, filter, msg, msglen) == -1)
		return NOTIFY_EINVAL;
	if ((had = store_channel_get(&a->store, iid, type, &old)) == -1) {
		snprintf(msg, msglen, "The database cannot be read (see the "
		    "log).");
		return NOTIFY_EFAIL;
	}
	store_channel_release(&old);
	memset(&c, 0, sizeof(c));
	snprintf(c.integration_id, sizeof(c.integration_id), "%s", iid);
	snprintf(c.type, sizeof(c.type), "%s", type);
	snprintf(c.url_tail, sizeof(c.url_tail), "%s",
	    url + (strlen(url) > 4 ? strlen(url) - 4 : 0));
	c.events = filter;
	seal_ad(ad, iid, type, "url");
	c.url = crypto_seal(&a->key, url, ad);
	if (had == STORE_NOTFOUND && strcmp(type, "webhook") == 0) {
		new_secret(secret);
		seal_ad(ad, iid, type, "secret");
		c.secret = crypto_seal(&a->key, secret, ad);
	}
	rc = NOTIFY_OK;
	if (c.url == NULL || (secret[0] != '\0' && c.secret == NULL) ||
	    store_channel_put(&a->store, &c, util_now()) != 0) {
		crypto_wipe(secret, NOTIFY_SECRET_MAX);
		snprintf(msg, msglen, "The channel could not be saved (see the "
		    "log).");
		rc = NOTIFY_EFAIL;
	} else
		snprintf(msg, msglen, "%s channel %s.", type,
		    had == STORE_NOTFOUND ? "connected" :
		    "updated and turned on");
	free(c.url);
	free(c.secret);
	return rc;
}

enum notify_rc
notify_disconnect(struct app *a, const char *iid, const char *type,
    char *msg, size_t msglen)
{
	enum notify_rc	 rc;
	int		 r;

	if ((rc = check_type(type, msg, msglen)) != NOTIFY_OK ||
	    (rc = integration_known(a, iid, msg, msglen)) != NOTIFY_OK)
		return rc;
	if ((r = store_channel_delete(&a->store, iid, type)) == STORE_NOTFOUND) {
		snprintf(msg, msglen, "This integration has no %s channel.",
		    type);
		return NOTIFY_ENOTFOUND;
	}
	if (r != 0) {
		snprintf(msg, msglen, "The channel could not be removed (see "
		    "the log).");
		return NOTIFY_EFAIL;
	}
	snprintf(msg, msglen, "%s channel disconnected.", type);
	return NOTIFY_OK;
}

enum notify_rc
notify_rotate(struct app *a, const char *iid, const char *type, long grace_s,
    char secret[NOTIFY_SECRET_MAX], char *msg, size_t msglen)
{
	char		 ad[96], *sealed;
	enum notify_rc	 rc;
	int		 r;

	secret[0] = '\0';
	if ((rc = check_type(type, msg, msglen)) != NOTIFY_OK ||
	    (rc = integration_known(a, iid, msg, msglen)) != NOTIFY_OK)
		return rc;
	if (strcmp(type, "webhook") != 0) {
		snprintf(msg, msglen, "Only a webhook channel has a secret.");
		return NOTIFY_EINVAL;
	}
	new_secret(secret);
	seal_ad(ad, iid, type, "secret");
	if ((sealed = crypto_seal(&a->key, secret, ad)) == NULL) {
		crypto_wipe(secret, NOTIFY_SECRET_MAX);
		snprintf(msg, msglen, "The secret could not be sealed.");
		return NOTIFY_EFAIL;
	}
	r = store_channel_rotate(&a->store, iid, type, sealed,
	    util_now() + (double)grace_s, util_now());
	free(sealed);
	if (r != 0) {
		crypto_wipe(secret, NOTIFY_SECRET_MAX);
		snprintf(msg, msglen, r == STORE_NOTFOUND ? "This integration "
		    "has no webhook channel." : "The secret could not be saved "
		    "(see the log).");
		return r == STORE_NOTFOUND ? NOTIFY_ENOTFOUND : NOTIFY_EFAIL;
	}
	snprintf(msg, msglen, "New secret made; the old one stays valid for "
	    "%ld seconds.", grace_s);
	return NOTIFY_OK;
}

char *
notify_open(struct app *a, const struct store_channel *c, const char *what)
{
	char	 ad[96];
	const char *sealed = strcmp(what, "url") == 0 ? c->url :
	    strcmp(what, "secret") == 0 ? c->secret : c->old_secret;

	if (sealed == NULL)
		return NULL;
	seal_ad(ad, c->integration_id, c->type, strcmp(what, "url") == 0 ?
	    "url" : "secret");
	return crypto_open(&a->key, sealed, ad);
}
