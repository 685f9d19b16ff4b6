/*
 * The messages: each receiver's own format, written from an event's data.
 * Every text taken from people is escaped for the receiver and cut to a
 * budget in bytes (never fewer than the receiver's character limits), so
 * a message is always accepted and never mentions or formats anything.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/util.h"
#include "notify/notify.h"

#define MAX_MESSAGE	16384

static const struct {
	const char	*event;
	const char	*headline;
} headlines[] = {
	{ "feature.pushed",		"Pushed to the tracker" },
	{ "feature.unlinked",		"Unlinked from its issue" },
	{ "feature.status_changed",	"Feature status changed" },
	{ "issue.state_changed",	"Issue state changed" },
	{ "sync.conflict",		"Sync conflict" },
	{ "sync.failed",		"Sync failed" },
	{ "integration.unhealthy",	"Integration needs attention" },
	{ NOTIFY_TEST_EVENT,		"Test notification" },
};

static const char *
headline(const char *event)
{
	size_t	 i;

	for (i = 0; i < sizeof(headlines) / sizeof(headlines[0]); i++)
		if (strcmp(headlines[i].event, event) == 0)
			return headlines[i].headline;
	return event;
}

static int
add(cJSON *o, const char *name, const char *v)
{
	return v == NULL || cJSON_AddStringToObject(o, name, v) != NULL;
}

cJSON *
notify_data(const struct notify_event *e)
{
	cJSON	*d;

	if ((d = cJSON_CreateObject()) == NULL)
		return NULL;
	if (!add(d, "integration_id", e->integration_id) ||
	    !add(d, "integration_name", e->integration_name) ||
	    !add(d, "feature_id", e->feature_id) ||
	    !add(d, "feature_name", e->feature_name) ||
	    !add(d, "feature_url", e->feature_url) ||
	    !add(d, "issue_ref", e->issue_ref) ||
	    !add(d, "issue_url", e->issue_url) ||
	    !add(d, "actor", e->actor) ||
	    !add(d, "from", e->from) || !add(d, "to", e->to) ||
	    !add(d, "detail", e->detail)) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

static const char *
field(const cJSON *data, const char *name)
{
	return json_str(data, name, 65536);
}

/*
 * Appends s escaped by esc into at most max bytes, cut on a character
 * boundary with an ellipsis when it does not fit.
 */
static void
put(struct buf *b, const char *s, size_t max,
    const char *(*esc)(const char *c, size_t n, char tmp[8]))
{
	size_t	 start = b->len, left = s != NULL ? strlen(s) : 0, n;
	uint32_t cp;
	const char *out;
	char	 tmp[8];

	/* Linear: the length left is counted down, never measured again. */
	for (; left > 0; s += n, left -= n) {
		if ((n = util_utf8_decode(s, left, &cp)) == 0)
			n = 1, cp = 0xfffd;
		out = cp == 0xfffd ? "\xef\xbf\xbd" : esc(s, n, tmp);
		if (b->len - start + strlen(out) + 3 > max) {
			buf_puts(b, "\xe2\x80\xa6");
			return;
		}
		buf_puts(b, out);
	}
}

/* Slack mrkdwn: &, < and > are the only specials (formatting docs). */
static const char *
esc_slack(const char *c, size_t n, char tmp[8])
{
	if (n == 1 && *c == '&')
		return "&amp;";
	if (n == 1 && *c == '<')
		return "&lt;";
	if (n == 1 && *c == '>')
		return "&gt;";
	memcpy(tmp, c, n);
	tmp[n] = '\0';
	return tmp;
}

/*
 * Discord Markdown: a backslash before each special; a zero-width space
 * after "@" so "@everyone" is text even where allowed_mentions is not read.
 */
static const char *
esc_discord(const char *c, size_t n, char tmp[8])
{
	if (n == 1 && *c == '@')
		return "@\xe2\x80\x8b";
	if (n == 1 && strchr("\\*_~`|>#-[]()<:", *c) != NULL) {
		tmp[0] = '\\';
		tmp[1] = *c;
		tmp[2] = '\0';
		return tmp;
	}
	memcpy(tmp, c, n);
	tmp[n] = '\0';
	return tmp;
}

/* A URL safe inside the receiver's link syntax, or NULL. */
static const char *
link_url(const char *url, const char *forbidden)
{
	if (url == NULL || strlen(url) > 500 || (strncmp(url, "https://", 8)
	    != 0 && strncmp(url, "http://", 7) != 0) ||
	    strpbrk(url, forbidden) != NULL || !util_text_ok(url, strlen(url)))
		return NULL;
	return url;
}

/* Slack: "<url|label>", or the label alone. */
static void
slack_link(struct buf *b, const char *url, const char *label, size_t max)
{
	if ((url = link_url(url, "<>| \t")) == NULL) {
		put(b, label, max, esc_slack);
		return;
	}
	buf_printf(b, "<%s|", url);
	put(b, label, max, esc_slack);
	buf_puts(b, ">");
}

/* Discord: "[label](url)", or the label alone. */
static void
discord_link(struct buf *b, const char *url, const char *label, size_t max)
{
	if ((url = link_url(url, "() \t<>")) == NULL) {
		put(b, label, max, esc_discord);
		return;
	}
	buf_puts(b, "[");
	put(b, label, max, esc_discord);
	buf_printf(b, "](%s)", url);
}

/* The lines every format shares: what, where, the change, the detail. */
struct lines {
	void	(*link)(struct buf *, const char *, const char *, size_t);
	const char *(*esc)(const char *, size_t, char[8]);
	const char *arrow;
};

static void
body_lines(struct buf *b, const struct lines *l, const cJSON *d)
{
	const char	*name = field(d, "feature_name");
	const char	*ref = field(d, "issue_ref");
	size_t		 start = b->len;

	if (name != NULL || field(d, "feature_id") != NULL)
		l->link(b, field(d, "feature_url"), name != NULL ? name :
		    field(d, "feature_id"), 400);
	if (ref != NULL) {
		buf_puts(b, l->arrow);
		l->link(b, field(d, "issue_url"), ref, 200);
	}
	if (field(d, "from") != NULL || field(d, "to") != NULL) {
		if (b->len > start)
			buf_puts(b, "\n");
		put(b, field(d, "from") != NULL ? field(d, "from") : "(none)",
		    100, l->esc);
		buf_puts(b, l->arrow);
		put(b, field(d, "to") != NULL ? field(d, "to") : "(none)", 100,
		    l->esc);
	}
	if (field(d, "detail") != NULL) {
		if (b->len > start)
			buf_puts(b, "\n");
		put(b, field(d, "detail"), 1000, l->esc);
	}
}

static cJSON *
slack(const char *event, const cJSON *d)
{
	static const struct lines l = { slack_link, esc_slack, " \xe2\x86\x92 " };
	struct buf	 text, ctx;
	cJSON		*o, *blocks, *sec, *cx, *els, *el;

	buf_init(&text, MAX_MESSAGE);
	buf_init(&ctx, MAX_MESSAGE);
	buf_printf(&text, "*%s*\n", headline(event));
	body_lines(&text, &l, d);
	buf_puts(&ctx, "pbsync");
	if (field(d, "integration_name") != NULL) {
		buf_puts(&ctx, " \xc2\xb7 ");
		put(&ctx, field(d, "integration_name"), 200, esc_slack);
	}
	if (field(d, "actor") != NULL) {
		buf_puts(&ctx, " \xc2\xb7 by ");
		put(&ctx, field(d, "actor"), 200, esc_slack);
	}
	o = cJSON_CreateObject();
	blocks = cJSON_AddArrayToObject(o, "blocks");
	sec = cJSON_CreateObject();
	cJSON_AddStringToObject(sec, "type", "section");
	el = cJSON_AddObjectToObject(sec, "text");
	cJSON_AddStringToObject(el, "type", "mrkdwn");
	cJSON_AddStringToObject(el, "text", buf_str(&text));
	cJSON_AddItemToArray(blocks, sec);
	cx = cJSON_CreateObject();
	cJSON_AddStringToObject(cx, "type", "context");
	els = cJSON_AddArrayToObject(cx, "elements");
	el = cJSON_CreateObject();
	cJSON_AddStringToObject(el, "type", "mrkdwn");
	cJSON_AddStringToObject(el, "text", buf_str(&ctx));
	cJSON_AddItemToArray(els, el);
	cJSON_AddItemToArray(blocks, cx);
	/* The fallback of notifications: the same words. */
	cJSON_AddStringToObject(o, "text", buf_str(&text));
	buf_release(&text);
	buf_release(&ctx);
	return o;
}

static cJSON *
discord(const char *event, const cJSON *d)
{
	static const struct lines l = { discord_link, esc_discord,
	    " \xe2\x86\x92 " };
	struct buf	 title, desc, foot;
	cJSON		*o, *embeds, *em, *am;
	const char	*url;

	buf_init(&title, MAX_MESSAGE);
	buf_init(&desc, MAX_MESSAGE);
	buf_init(&foot, MAX_MESSAGE);
	buf_puts(&title, headline(event));
	body_lines(&desc, &l, d);
	buf_puts(&foot, "pbsync");
	if (field(d, "integration_name") != NULL) {
		buf_puts(&foot, " \xc2\xb7 ");
		put(&foot, field(d, "integration_name"), 200, esc_discord);
	}
	if (field(d, "actor") != NULL) {
		buf_puts(&foot, " \xc2\xb7 by ");
		put(&foot, field(d, "actor"), 200, esc_discord);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "username", "pbsync");
	embeds = cJSON_AddArrayToObject(o, "embeds");
	em = cJSON_CreateObject();
	cJSON_AddStringToObject(em, "title", buf_str(&title));
	if ((url = link_url(field(d, "feature_url"), " \t<>")) != NULL)
		cJSON_AddStringToObject(em, "url", url);
	if (desc.len > 0)
		cJSON_AddStringToObject(em, "description", buf_str(&desc));
	cJSON_AddStringToObject(cJSON_AddObjectToObject(em, "footer"), "text",
	    buf_str(&foot));
	cJSON_AddItemToArray(embeds, em);
	/* Nobody is pinged, whatever the text says. */
	am = cJSON_AddObjectToObject(o, "allowed_mentions");
	cJSON_AddArrayToObject(am, "parse");
	buf_release(&title);
	buf_release(&desc);
	buf_release(&foot);
	return o;
}

static cJSON *
envelope(const char *event, double at, const cJSON *d)
{
	cJSON	*o = cJSON_CreateObject();
	char	 when[32];

	util_format_time(at, when);
	/* Fields are only ever added within a version; 2 would change one. */
	cJSON_AddNumberToObject(o, "version", 1);
	cJSON_AddStringToObject(o, "type", event);
	cJSON_AddStringToObject(o, "timestamp", when);
	cJSON_AddItemToObject(o, "data", cJSON_Duplicate(d, 1));
	return o;
}

char *
notify_body(const char *type, const char *event, double at,
    const cJSON *data)
{
	cJSON	*o;
	char	*text;

	if (strcmp(type, "slack") == 0)
		o = slack(event, data);
	else if (strcmp(type, "discord") == 0)
		o = discord(event, data);
	else if (strcmp(type, "webhook") == 0)
		o = envelope(event, at, data);
	else
		return NULL;
	/* cJSON's adds accept NULL: no memory leaves a part out, no crash. */
	text = o != NULL ? json_print(o) : NULL;
	cJSON_Delete(o);
	return text;
}
