#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/synclog.h"
#include "base/log.h"
#include "base/util.h"
#include "trackers/tracker.h"

#define LOG_PER_PAGE	50
#define TEXT_MAX	100	/* characters of the text filter */

/* The outcomes a person filters by, and the result each one is. */
static const struct {
	const char	*outcome;
	const char	*result;
	const char	*label;
} outcomes[] = {
	{ "", NULL, "Any" },
	{ "ok", "ok", "ok" },
	{ "failed", "error", "failed" },
	{ "conflict", "conflict", "conflict" },
	{ "info", "info", "information" },
};

/* A filter as given (for the form and the next page's URL) and as read. */
struct filter {
	char		 iid[33];
	char		 feature[65];
	char		 outcome[16];
	char		 from[20], to[20];
	char		 who[256];
	char		 text[TEXT_MAX * 4 + 1];
	struct store_logq q;
};

/* Reads query parameter name into out[len]: 0, or -1 when too long. */
static int
param(struct view *ad, const char *name, char *out, size_t len)
{
	struct buf	 b;
	int		 rc = 0;

	/* A value longer than len stops its decoding part way: not absent. */
	buf_init(&b, len);
	out[0] = '\0';
	if (req_query(ad->rq, name, &b) == 0) {
		if (b.len >= len || !util_text_ok(buf_str(&b), b.len))
			rc = -1;
		else
			memcpy(out, buf_str(&b), b.len + 1);
	} else if (b.len > 0)
		rc = -1;
	buf_release(&b);
	return rc;
}

/* The characters of UTF-8 text s. */
static size_t
chars(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * A UTC time as a date input gives it ("2025-01-31", "2025-01-31T12:00",
 * with ":SS"): 0 with *t set, 0 with *t = 0 for "", or -1.
 */
static int
utc_time(const char *s, double *t)
{
	char	 iso[32];
	size_t	 n = strlen(s);

	*t = 0;
	if (n == 0)
		return 0;
	if (n != 10 && n != 16 && n != 19)
		return -1;
	snprintf(iso, sizeof(iso), "%s%s", s, n == 10 ? "T00:00:00Z" :
	    n == 16 ? ":00Z" : "Z");
	return util_parse_time(iso, t) == -1 || *t <= 0 ? -1 : 0;
}

/* Reads the filters: NULL, or what the 400 names. */
static const char *
read_filter(struct view *ad, struct filter *f)
{
	char		 before[24];
	long		 id = 0;
	size_t		 i;

	memset(f, 0, sizeof(*f));
	if (param(ad, "i", f->iid, sizeof(f->iid)) == -1 ||
	    (f->iid[0] != '\0' && (strlen(f->iid) != 32 ||
	    strspn(f->iid, "0123456789abcdef") != 32)))
		return "the integration";
	if (param(ad, "feature", f->feature, sizeof(f->feature)) == -1)
		return "the feature";
	if (param(ad, "outcome", f->outcome, sizeof(f->outcome)) == -1)
		return "the outcome";
	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (strcmp(f->outcome, outcomes[i].outcome) == 0)
			break;
	if (i == sizeof(outcomes) / sizeof(outcomes[0]))
		return "the outcome";
	f->q.result = outcomes[i].result;
	if (param(ad, "from", f->from, sizeof(f->from)) == -1 ||
	    utc_time(f->from, &f->q.from) == -1)
		return "the time from which";
	if (param(ad, "to", f->to, sizeof(f->to)) == -1 ||
	    utc_time(f->to, &f->q.to) == -1)
		return "the time before which";
	if (param(ad, "who", f->who, sizeof(f->who)) == -1)
		return "who";
	if (param(ad, "text", f->text, sizeof(f->text)) == -1 ||
	    chars(f->text) > TEXT_MAX)
		return "the text (at most 100 characters)";
	if (param(ad, "before", before, sizeof(before)) == -1 ||
	    (before[0] != '\0' && util_parse_long(before, 1, 1L << 62,
	    &id) == -1))
		return "the page";
	f->q.before = id;
	f->q.iid = f->iid[0] != '\0' ? f->iid : NULL;
	f->q.feature_id = f->feature[0] != '\0' ? f->feature : NULL;
	f->q.actor = f->who[0] != '\0' ? f->who : NULL;
	f->q.text = f->text[0] != '\0' ? f->text : NULL;
	return NULL;
}

/* Appends "&name=value" (value percent-encoded) when value is set. */
static void
add_param(struct buf *u, const char *name, const char *value)
{
	if (value[0] == '\0')
		return;
	buf_printf(u, "%s%s=", u->len > 0 && buf_str(u)[u->len - 1] != '?' ?
	    "&" : "", name);
	tmpl_escape_component(u, value);
}

/* The page's URL with the filters of f, the page starting below before. */
static void
filter_url(struct tmpl_vars *v, const char *key, const char *page,
    const struct filter *f, long long before)
{
	struct buf	 u;
	char		 id[24];

	buf_init(&u, 1024);
	buf_printf(&u, "%s?", page);
	if (strcmp(page, "/admin/log") == 0) {
		add_param(&u, "i", f->iid);
		add_param(&u, "feature", f->feature);
		add_param(&u, "outcome", f->outcome);
		add_param(&u, "from", f->from);
		add_param(&u, "to", f->to);
		add_param(&u, "who", f->who);
		add_param(&u, "text", f->text);
	}
	if (before > 0) {
		snprintf(id, sizeof(id), "%lld", before);
		add_param(&u, "before", id);
	}
	if (buf_str(&u)[u.len - 1] == '?')
		u.data[--u.len] = '\0';
	tmpl_set_url(v, key, buf_str(&u));
	buf_release(&u);
}

/* "productboard" or a tracker's kind, as people name it. */
static const char *
side_title(const char *side)
{
	const struct tracker_ops *ops;

	if (strcmp(side, "productboard") == 0)
		return "Productboard";
	return (ops = tracker_find(side)) != NULL ? ops->title : side;
}

/*
 * A sync's detail ("name to gitlab; status conflict, productboard wins; ")
 * as a list of what changed and which way; anything else as it is.
 */
static void
changes(struct tmpl_vars *row, const char *detail)
{
	struct tmpl_vars *c;
	const char	*p = detail, *end;
	char		 item[256], *sp, *won;
	size_t		 n;

	tmpl_list(row, "changes");
	while (*p != '\0') {
		end = strstr(p, "; ");
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		p += n + (end != NULL ? 2 : 0);
		if (item[0] == '\0')
			continue;
		c = tmpl_row(row, "changes");
		if ((sp = strstr(item, " conflict, ")) != NULL &&
		    (won = strstr(sp, " wins")) != NULL && won[5] == '\0') {
			*won = '\0';
			*sp = '\0';
			tmpl_set(c, "field", item);
			tmpl_setf(c, "way", "conflict: %s won",
			    side_title(sp + 11));
		} else if ((sp = strstr(item, " to ")) != NULL &&
		    strchr(sp + 4, ' ') == NULL) {
			*sp = '\0';
			tmpl_set(c, "field", item);
			tmpl_setf(c, "way", "%s \xe2\x86\x92 %s",
			    strcmp(sp + 4, "productboard") == 0 ?
			    "the tracker" : "Productboard", side_title(sp + 4));
		} else {
			tmpl_set(c, "field", item);
			tmpl_set(c, "way", "");
		}
	}
}

/* The rows of the log table, from entries e. */
static void
rows(struct tmpl_vars *v, const struct store_logent *e, size_t n)
{
	struct tmpl_vars *row;
	char		 t[32], url[96];
	size_t		 i;
	const char	*label;

	tmpl_list(v, "log_rows");
	tmpl_set_flag(v, "has_rows", n > 0);
	for (i = 0; i < n; i++) {
		row = tmpl_row(v, "log_rows");
		tmpl_setf(row, "entry_id", "%lld", e[i].r.id);
		view_time(e[i].r.at, t);
		tmpl_set(row, "at", t);
		tmpl_set(row, "integration_name", e[i].integration_name);
		snprintf(url, sizeof(url), "/admin/i/%s", e[i].integration_id);
		tmpl_set_url(row, "integration_url", url);
		tmpl_set(row, "actor", e[i].r.actor);
		tmpl_set(row, "action", e[i].r.action);
		tmpl_set(row, "feature_id", e[i].r.feature_id);
		tmpl_set(row, "feature_name", e[i].feature_name != NULL ?
		    e[i].feature_name : "");
		tmpl_set_flag(row, "has_link", e[i].link_id > 0);
		snprintf(url, sizeof(url), "/admin/i/%s/links/%lld",
		    e[i].integration_id, e[i].link_id);
		tmpl_set_url(row, "link_url", url);
		tmpl_set(row, "issue_ref", e[i].r.issue_ref);
		label = strcmp(e[i].r.result, "error") == 0 ? "failed" :
		    e[i].r.result;
		tmpl_set(row, "result", label);
		tmpl_set_flag(row, "failed", strcmp(e[i].r.result, "error") == 0);
		tmpl_set(row, "detail", e[i].r.detail);
		tmpl_set_flag(row, "is_sync", strcmp(e[i].r.action, "sync") == 0);
		changes(row, strcmp(e[i].r.action, "sync") == 0 ? e[i].r.detail :
		    "");
	}
}

/*
 * Finds a page of f's entries and fills the table and the pager of page:
 * 0, or -1 when the answer (an error page) was given.
 */
static int
find(struct view *ad, struct tmpl_vars *v, const char *page,
    const struct filter *f)
{
	struct store_logent *e;
	size_t		 n;
	int		 rc;

	/* One more than a page tells whether an older page exists. */
	rc = store_log_find(&ad->app->store, &f->q, LOG_PER_PAGE + 1, &e,
	    &n);
	if (rc == STORE_NOTFOUND) {
		/* The entry the page started below was deleted. */
		rows(v, NULL, 0);
	} else if (rc != 0) {
		tmpl_vars_free(v);
		view_message(ad, 500, "Error", "The sync log cannot be read "
		    "(see the log).");
		return -1;
	} else
		rows(v, e, n > LOG_PER_PAGE ? LOG_PER_PAGE : n);
	tmpl_set_flag(v, "paged", f->q.before > 0);
	filter_url(v, "newest_url", page, f, 0);
	tmpl_set(v, "older_url", "");
	if (rc == 0 && n > LOG_PER_PAGE)
		filter_url(v, "older_url", page, f, e[LOG_PER_PAGE - 1].r.id);
	if (rc == 0)
		store_logents_free(e, n);
	return 0;
}

void
synclog_page(struct view *ad)
{
	struct tmpl_vars *v, *row;
	struct store_isum *list;
	struct filter	 f;
	const char	*bad;
	size_t		 n, i;

	if ((bad = read_filter(ad, &f)) != NULL) {
		char msg[128];

		snprintf(msg, sizeof(msg), "The filter could not be read: "
		    "check %s.", bad);
		view_message(ad, 400, "Filter refused", msg);
		return;
	}
	if (store_isum_list(&ad->app->store, &list, &n) == -1) {
		view_message(ad, 500, "Error", "The integrations cannot be "
		    "listed (see the log).");
		return;
	}
	v = view_vars(ad, "Sync log");
	tmpl_list(v, "integration_opts");
	for (i = 0; i < n; i++) {
		row = tmpl_row(v, "integration_opts");
		tmpl_set(row, "opt_value", list[i].id);
		tmpl_set(row, "opt_label", list[i].name);
		tmpl_set_flag(row, "selected", strcmp(list[i].id, f.iid) == 0);
	}
	store_isum_free(list, n);
	tmpl_list(v, "outcome_opts");
	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		row = tmpl_row(v, "outcome_opts");
		tmpl_set(row, "opt_value", outcomes[i].outcome);
		tmpl_set(row, "opt_label", outcomes[i].label);
		tmpl_set_flag(row, "selected", strcmp(outcomes[i].outcome,
		    f.outcome) == 0);
	}
	tmpl_set(v, "feature", f.feature);
	tmpl_set(v, "from", f.from);
	tmpl_set(v, "to", f.to);
	tmpl_set(v, "who", f.who);
	tmpl_set(v, "text", f.text);
	tmpl_set_flag(v, "wide", 1);
	if (find(ad, v, "/admin/log", &f) == 0)
		view_page(ad, 200, "log.html", v);
}

void
synclog_link(struct view *ad, long long link_id)
{
	struct store_link l;
	struct tmpl_vars *v;
	struct filter	 f;
	char		 page[96], t[32];
	long long	 before;
	int		 rc;

	if (read_filter(ad, &f) != NULL) {
		view_message(ad, 400, "Page refused", "The page could not be "
		    "read.");
		return;
	}
	if ((rc = store_link_get_by_id(&ad->app->store, link_id, &l)) != 0 ||
	    strcmp(l.integration_id, ad->id) != 0) {
		if (rc == 0)
			store_link_release(&l);
		view_message(ad, rc == -1 ? 500 : 404, "Not found",
		    rc == -1 ? "The link cannot be read (see the log)." :
		    "There is no such link: it may have been removed.");
		return;
	}
	/* Only the page comes from the query: the rest is the link's. */
	before = f.q.before;
	memset(&f, 0, sizeof(f));
	f.q.iid = ad->id;
	f.q.feature_id = l.feature_id;
	f.q.before = before;
	v = view_vars(ad, l.snap_name != NULL && *l.snap_name != '\0' ?
	    l.snap_name : l.feature_id);
	tmpl_set(v, "feature_id", l.feature_id);
	tmpl_set_url(v, "feature_url", l.feature_url != NULL ?
	    l.feature_url : "");
	tmpl_set_flag(v, "has_feature_url", l.feature_url != NULL &&
	    *l.feature_url != '\0');
	tmpl_set_flag(v, "has_issue", l.issue_key != NULL);
	tmpl_set(v, "issue", l.issue_key != NULL ? l.issue_key : "");
	tmpl_set(v, "issue_title", l.issue_title != NULL ? l.issue_title : "");
	tmpl_set_url(v, "issue_url", l.issue_url != NULL ? l.issue_url : "");
	tmpl_set(v, "state", strcmp(l.state, "pending") == 0 ?
	    "push in progress" : l.issue_state != NULL ? l.issue_state :
	    "linked");
	tmpl_set(v, "pushed_by", l.pushed_by != NULL ? l.pushed_by : "");
	view_time(l.created_at, t);
	tmpl_set(v, "linked_at", t);
	view_time(l.last_sync_at, t);
	tmpl_set(v, "last_sync", t);
	snprintf(page, sizeof(page), "/admin/i/%s", ad->id);
	tmpl_set_url(v, "page_url", page);
	tmpl_set_flag(v, "wide", 0);
	snprintf(page, sizeof(page), "/admin/i/%s/links/%lld", ad->id,
	    link_id);
	rc = find(ad, v, page, &f);
	store_link_release(&l);
	if (rc == 0)
		view_page(ad, 200, "link.html", v);
}
