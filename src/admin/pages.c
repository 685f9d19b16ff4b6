/*
 * admin_pages: the integrations list, one integration's page (links, sync
 * log, failed jobs), delete, retry and linking an existing issue.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/dash.h"
#include "admin/pages.h"
#include "admin/view.h"
#include "base/log.h"
#include "base/util.h"
#include "flows/integ.h"
#include "flows/link.h"
#include "notify/notify.h"
#include "trackers/tracker.h"

#define LINKS_PER_PAGE	50
#define LOG_PER_PAGE	50
#define DEAD_MAX	100

/* Messages for ?done=... after a redirect: constant text only. */
static const struct {
	const char	*key;
	const char	*text;
} done_msgs[] = {
	{ "created", "The integration was created: Productboard and the "
	    "tracker are connected. Product managers can now push features "
	    "from the new column in Productboard." },
	{ "saved", "Your changes were saved." },
	{ "retried", "The job will run again shortly." },
	{ "noretry", "That job is no longer failed: it was retried already "
	    "or the same work is queued." },
	{ "deleted", "The integration was deleted." },
	{ "linked", "The issue was linked: the Productboard column shows it, "
	    "and the sync log says which side each field kept." },
};

static void
done_notice(struct view *ad, struct tmpl_vars *v)
{
	struct buf	 q;
	size_t		 i;

	buf_init(&q, 64);
	if (req_query(ad->rq, "done", &q) == 0)
		for (i = 0; i < sizeof(done_msgs) / sizeof(done_msgs[0]); i++)
			if (strcmp(buf_str(&q), done_msgs[i].key) == 0)
				tmpl_set(v, "notice", done_msgs[i].text);
	buf_release(&q);
}

/* The health of one integration as the list and its page show it. */
static void
health(struct tmpl_vars *v, const struct store_isum *s)
{
	char	 t[32];
	int	 ok;

	view_time(s->last_ok_at, t);
	tmpl_set(v, "last_sync", t);
	tmpl_setf(v, "jobs_dead", "%lld", s->jobs_dead);
	tmpl_setf(v, "jobs_waiting", "%lld", s->jobs_waiting);
	tmpl_set(v, "auth_failed", s->auth_failed != NULL ? s->auth_failed :
	    "");
	tmpl_set(v, "hook", !(s->has_hook && s->has_plugin &&
	    s->has_webhook) ? "incomplete: delete and create again" :
	    strcmp(s->tracker_hook_id, INTEG_HOOK_BY_HAND) == 0 ?
	    "registered; set up by hand in the tracker" : "registered");
	ok = s->jobs_dead == 0 && s->auth_failed == NULL &&
	    s->has_hook && s->has_plugin && s->has_webhook;
	tmpl_set_flag(v, "healthy", ok);
	tmpl_set(v, "health", ok ? "OK" : "Needs attention");
}

/* Fills the keys every integration view shares. */
static void
summary(struct tmpl_vars *v, const struct store_isum *s)
{
	const struct tracker_ops *ops = tracker_find(s->tracker_kind);
	const char	*who = ops != NULL ? ops->title : s->tracker_kind;
	char		 url[64];

	tmpl_set(v, "id", s->id);
	tmpl_set(v, "name", s->name);
	tmpl_set(v, "column_label", s->column_label);
	tmpl_set(v, "tracker_title", who);
	tmpl_set(v, "tracker_url", s->tracker_url);
	tmpl_set(v, "project", s->tracker_project_name);
	tmpl_set_url(v, "project_url", s->tracker_project_url);
	tmpl_setf(v, "links", "%lld", s->links);
	tmpl_set(v, "pb_tail", s->pb_token_tail);
	tmpl_set(v, "tr_tail", s->tracker_token_tail);
	if (strcmp(s->conflict_policy, "tracker") == 0)
		tmpl_setf(v, "conflict_policy", "%s wins", who);
	else
		tmpl_set(v, "conflict_policy", strcmp(s->conflict_policy,
		    "productboard") == 0 ? "Productboard wins" :
		    "the later change wins");
	tmpl_set(v, "delete_policy", strcmp(s->delete_policy, "close") == 0 ?
	    "close the issue" : strcmp(s->delete_policy, "label") == 0 ?
	    "label the issue productboard::deleted" : "keep the issue open");
	snprintf(url, sizeof(url), "/admin/i/%s", s->id);
	tmpl_set_url(v, "page_url", url);
	snprintf(url, sizeof(url), "/admin/i/%s/edit", s->id);
	tmpl_set_url(v, "edit_url", url);
	snprintf(url, sizeof(url), "/admin/i/%s/delete", s->id);
	tmpl_set_url(v, "delete_url", url);
	health(v, s);
}

void
pages_list(struct view *ad)
{
	struct tmpl_vars *v = view_vars(ad, "Integrations"), *row;
	struct store_isum *list;
	size_t		 n, i;

	if (store_isum_list(&ad->app->store, &list, &n) == -1) {
		tmpl_vars_free(v);
		view_message(ad, 500, "Error", "The integrations cannot be "
		    "listed (see the log).");
		return;
	}
	done_notice(ad, v);
	tmpl_set_flag(v, "has_integrations", n > 0);
	tmpl_list(v, "integrations");
	for (i = 0; i < n; i++) {
		row = tmpl_row(v, "integrations");
		summary(row, &list[i]);
	}
	dash_home(ad, v, list, n);
	store_isum_free(list, n);
	view_page(ad, 200, "list.html", v);
}

/* Reads a positive id from the query, or 0. */
static long long
query_id(struct view *ad, const char *name)
{
	struct buf	 q;
	long		 n = 0;

	buf_init(&q, 32);
	if (req_query(ad->rq, name, &q) == 0 &&
	    util_parse_long(buf_str(&q), 1, 1L << 62, &n) == -1)
		n = 0;
	buf_release(&q);
	return n;
}

/* The "older entries" link of a paged list. */
static void
older(struct tmpl_vars *v, const char *key, const char *iid,
    const char *param, long long before, const char *anchor)
{
	char	 url[128];

	snprintf(url, sizeof(url), "/admin/i/%s?%s=%lld%s", iid, param, before,
	    anchor);
	tmpl_set_url(v, key, url);
}

static void
links_section(struct view *ad, struct tmpl_vars *v, long long before)
{
	struct store_link *l;
	struct tmpl_vars *row;
	size_t		 n, i;
	char		 t[32];

	tmpl_list(v, "link_rows");
	tmpl_set(v, "links_older", "");
	tmpl_set_flag(v, "has_links", 0);
	tmpl_set_flag(v, "links_paged", before > 0);
	if (store_link_page(&ad->app->store, ad->id, before, LINKS_PER_PAGE,
	    &l, &n) == -1)
		return;
	tmpl_set_flag(v, "has_links", n > 0);
	for (i = 0; i < n; i++) {
		row = tmpl_row(v, "link_rows");
		tmpl_set(row, "feature", l[i].snap_name != NULL &&
		    *l[i].snap_name != '\0' ? l[i].snap_name : l[i].feature_id);
		tmpl_set_url(row, "feature_url", l[i].feature_url != NULL ?
		    l[i].feature_url : "");
		tmpl_set_flag(row, "has_feature_url", l[i].feature_url != NULL &&
		    *l[i].feature_url != '\0');
		tmpl_set_flag(row, "has_issue", l[i].issue_key != NULL);
		tmpl_set(row, "issue", l[i].issue_key != NULL ? l[i].issue_key :
		    "");
		tmpl_set(row, "issue_title", l[i].issue_title != NULL ?
		    l[i].issue_title : "");
		tmpl_set_url(row, "issue_url", l[i].issue_url != NULL ?
		    l[i].issue_url : "");
		tmpl_set(row, "state", strcmp(l[i].state, "pending") == 0 ?
		    "push in progress" : l[i].issue_state != NULL ?
		    l[i].issue_state : "linked");
		view_time(l[i].last_sync_at, t);
		tmpl_set(row, "last_sync", t);
		tmpl_setf(row, "history_url", "/admin/i/%s/links/%lld", ad->id,
		    l[i].id);
	}
	if (n == LINKS_PER_PAGE)
		older(v, "links_older", ad->id, "links_before", l[n - 1].id,
		    "#links");
	store_links_free(l, n);
}

static void
log_section(struct view *ad, struct tmpl_vars *v, long long before)
{
	struct store_logrow *r;
	struct tmpl_vars *row;
	size_t		 n, i;
	char		 t[32];

	tmpl_list(v, "log_rows");
	tmpl_setf(v, "log_url", "/admin/log?i=%s", ad->id);
	tmpl_set(v, "log_older", "");
	tmpl_set_flag(v, "log_paged", before > 0);
	tmpl_set_flag(v, "has_log", 0);
	if (store_log_page(&ad->app->store, ad->id, before, LOG_PER_PAGE, &r,
	    &n) == -1)
		return;
	tmpl_set_flag(v, "has_log", n > 0);
	for (i = 0; i < n; i++) {
		row = tmpl_row(v, "log_rows");
		view_time(r[i].at, t);
		tmpl_set(row, "at", t);
		tmpl_set(row, "actor", r[i].actor);
		tmpl_set(row, "action", r[i].action);
		tmpl_set(row, "feature_id", r[i].feature_id);
		tmpl_set(row, "issue_ref", r[i].issue_ref);
		tmpl_set(row, "result", r[i].result);
		tmpl_set_flag(row, "failed", strcmp(r[i].result, "error") == 0);
		tmpl_set(row, "detail", r[i].detail);
	}
	if (n == LOG_PER_PAGE)
		older(v, "log_older", ad->id, "log_before", r[n - 1].id,
		    "#log");
	store_logrows_free(r, n);
}

static void
jobs_section(struct view *ad, struct tmpl_vars *v)
{
	struct store_job *j;
	struct tmpl_vars *row;
	size_t		 n, i;
	char		 t[32];

	tmpl_list(v, "dead_jobs");
	tmpl_set_flag(v, "has_dead", 0);
	if (store_job_dead_list(&ad->app->store, ad->id, DEAD_MAX, &j,
	    &n) == -1)
		return;
	tmpl_set_flag(v, "has_dead", n > 0);
	for (i = 0; i < n; i++) {
		row = tmpl_row(v, "dead_jobs");
		tmpl_setf(row, "job_id", "%lld", j[i].id);
		tmpl_set(row, "kind", j[i].kind);
		tmpl_set(row, "key", j[i].key);
		tmpl_setf(row, "attempts", "%lld", j[i].attempts);
		tmpl_set(row, "job_error", j[i].last_error != NULL ?
		    j[i].last_error : "");
		view_time(j[i].run_at, t);
		tmpl_set(row, "died_at", t);
	}
	store_jobs_free(j, n);
}

/*
 * The notification channels: each by the end of its URL, its events and
 * whether it works; a channel whose deliveries keep failing, or that its
 * receiver refused for good, is flagged.
 */
static void
channels_section(struct view *ad, struct tmpl_vars *v)
{
	struct store_channel *c;
	struct tmpl_vars *row;
	size_t		 n, i;
	char		 t[32];

	tmpl_list(v, "channel_rows");
	tmpl_list(v, "event_boxes");
	for (i = 0; notify_events[i] != NULL; i++)
		tmpl_set(tmpl_row(v, "event_boxes"), "event", notify_events[i]);
	tmpl_set_flag(v, "has_channels", 0);
	if (store_channel_list(&ad->app->store, ad->id, &c, &n) == -1)
		return;
	tmpl_set_flag(v, "has_channels", n > 0);
	for (i = 0; i < n; i++) {
		row = tmpl_row(v, "channel_rows");
		tmpl_set(row, "type", c[i].type);
		tmpl_set(row, "url_tail", c[i].url_tail);
		tmpl_set(row, "events", strcmp(c[i].events, "*") == 0 ?
		    "all" : c[i].events);
		view_time(c[i].last_sent_at, t);
		tmpl_set(row, "last_sent", t);
		tmpl_set_flag(row, "flagged", !c[i].active ||
		    c[i].failures > 0);
		tmpl_set(row, "channel_state", !c[i].active ? "off: the "
		    "receiver refused for good; connect it again" :
		    c[i].failures > 0 ? "failing" : "on");
		tmpl_set(row, "channel_error", c[i].last_error != NULL ?
		    c[i].last_error : "");
	}
	store_channels_free(c, n);
}

/*
 * The integration's page; with error, the link form's refusal and what
 * was typed in it, again.
 */
static void
integration_page(struct view *ad, int status, const char *error,
    const char *feature, const char *issue)
{
	struct store_isum s;
	struct tmpl_vars *v;
	int		 rc;

	if ((rc = store_isum_get(&ad->app->store, ad->id, &s)) != 0) {
		view_message(ad, rc == STORE_NOTFOUND ? 404 : 500, "Not found",
		    rc == STORE_NOTFOUND ? "There is no such integration." :
		    "The integration cannot be read (see the log).");
		return;
	}
	v = view_vars(ad, s.name);
	summary(v, &s);
	dash_integration(ad, v, &s);
	store_isum_release(&s);
	done_notice(ad, v);
	links_section(ad, v, query_id(ad, "links_before"));
	log_section(ad, v, query_id(ad, "log_before"));
	jobs_section(ad, v);
	channels_section(ad, v);
	tmpl_set(v, "link_error", error != NULL ? error : "");
	tmpl_set(v, "link_feature", feature != NULL ? feature : "");
	tmpl_set(v, "link_issue", issue != NULL ? issue : "");
	view_page(ad, status, "integration.html", v);
}

void
pages_integration(struct view *ad)
{
	integration_page(ad, 200, NULL, NULL, NULL);
}

void
pages_link(struct view *ad)
{
	static const struct form_field f[] = {
		{ "csrf", FORM_LINE, 64, 0, 0 },
		{ "feature", FORM_LINE, 1024, 0, 0 },
		{ "issue", FORM_LINE, 1024, 0, 0 },
	};
	const char	*feature, *issue;
	char		 msg[2048], to[128];
	enum link_rc	 rc;

	if (view_post(ad, f, 3) == -1)
		return;
	feature = form_str(&ad->form, "feature");
	issue = form_str(&ad->form, "issue");
	if (feature == NULL || *feature == '\0' || issue == NULL ||
	    *issue == '\0') {
		integration_page(ad, 422, "Give both the feature and the issue.",
		    feature, issue);
		return;
	}
	rc = link_existing(ad->app, ad->id, feature, issue, ad->sess.user, msg,
	    sizeof(msg));
	if (rc != LINK_DONE) {
		integration_page(ad, rc == LINK_REFUSED ? 422 : 502, msg,
		    feature, issue);
		return;
	}
	snprintf(to, sizeof(to), "/admin/i/%s?done=linked#links", ad->id);
	view_redirect(ad, to);
}

/* The report of integ_delete, one "what: outcome" line per step. */
static void
report_rows(struct tmpl_vars *v, const char *report)
{
	struct tmpl_vars *row;
	const char	*p = report, *nl, *colon;
	char		 line[1024];
	size_t		 n;

	tmpl_list(v, "steps");
	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (nl != NULL);
		if (line[0] == '\0')
			continue;
		row = tmpl_row(v, "steps");
		if ((colon = strstr(line, ": ")) != NULL) {
			tmpl_setf(row, "what", "%.*s", (int)(colon - line),
			    line);
			tmpl_set(row, "outcome", colon + 2);
			tmpl_set_flag(row, "step_ok", strcmp(colon + 2,
			    "removed") == 0 || strcmp(colon + 2,
			    "already gone") == 0);
		} else {
			tmpl_set(row, "what", line);
			tmpl_set(row, "outcome", "");
			tmpl_set_flag(row, "step_ok", 0);
		}
	}
}

void
pages_delete(struct view *ad)
{
	static const struct form_field f[] = { { "csrf", FORM_LINE, 64, 0, 0 } };
	struct store_isum s;
	struct tmpl_vars *v;
	struct buf	 report;
	int		 rc;

	if ((rc = store_isum_get(&ad->app->store, ad->id, &s)) != 0) {
		view_message(ad, rc == STORE_NOTFOUND ? 404 : 500, "Not found",
		    rc == STORE_NOTFOUND ? "There is no such integration: it "
		    "may have been deleted already." : "The integration cannot "
		    "be read (see the log).");
		return;
	}
	if (ad->rq->method != REQ_POST) {
		v = view_vars(ad, "Delete integration");
		summary(v, &s);
		store_isum_release(&s);
		view_page(ad, 200, "delete.html", v);
		return;
	}
	if (view_post(ad, f, 1) == -1) {
		store_isum_release(&s);
		return;
	}
	buf_init(&report, 65536);
	rc = integ_delete(ad->app, ad->id, &report);
	log_info("admin \"%s\" deleted integration %s: %s", ad->sess.user,
	    ad->id, rc == 0 ? "done" : "incomplete");
	v = view_vars(ad, rc == 0 ? "Integration deleted" :
	    "Integration not fully deleted");
	summary(v, &s);
	tmpl_set_flag(v, "complete", rc == 0);
	report_rows(v, buf_str(&report));
	buf_release(&report);
	store_isum_release(&s);
	view_page(ad, rc == 0 ? 200 : 502, "deleted.html", v);
}

void
pages_retry(struct view *ad)
{
	static const struct form_field f[] = {
		{ "csrf", FORM_LINE, 64, 0, 0 },
		{ "job", FORM_INT, 0, 1, 1LL << 62 },
	};
	long long	 job;
	char		 to[128], detail[64];
	int		 rc;

	if (view_post(ad, f, 2) == -1)
		return;
	if (form_int(&ad->form, "job", &job) == -1) {
		view_message(ad, 400, "Form refused", "No job was named.");
		return;
	}
	rc = store_job_revive_in(&ad->app->store, ad->id, job, util_now());
	if (rc == 0) {
		snprintf(detail, sizeof(detail), "job %lld retried", job);
		view_audit(ad, ad->id, detail);
	}
	snprintf(to, sizeof(to), "/admin/i/%s?done=%s#jobs", ad->id,
	    rc == 0 ? "retried" : "noretry");
	view_redirect(ad, to);
}
