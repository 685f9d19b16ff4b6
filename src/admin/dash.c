#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/dash.h"
#include "base/util.h"

#define CHART_W		10	/* viewBox units per bucket */
#define CHART_H		40
#define OVERDUE_S	300	/* a due job waiting longer: no worker runs */

static const struct range {
	const char	*key;
	const char	*label;		/* "in the last 24 hours" */
	const char	*unit;		/* one bucket */
	int		 width;		/* hours per bucket */
	int		 buckets;
} ranges[] = {
	{ "24h", "last 24 hours", "hour", 1, 24 },
	{ "7d", "last 7 days", "6 hours", 6, 28 },
	{ "30d", "last 30 days", "day", 24, 30 },
};

/* What each series of enum store_act is called on the page. */
static const char *const titles[STORE_ACT_N] = {
	"Deliveries received", "Issues pushed", "Syncs", "Conflicts",
	"Failures",
};

/* The range ?range= names, the last 24 hours by default. */
static const struct range *
pick_range(struct view *ad)
{
	const struct range *r = &ranges[0];
	struct buf	 q;
	size_t		 i;

	buf_init(&q, 16);
	if (req_query(ad->rq, "range", &q) == 0)
		for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
			if (strcmp(buf_str(&q), ranges[i].key) == 0)
				r = &ranges[i];
	buf_release(&q);
	return r;
}

/* "45 s", "12 min", "3 h 5 min", "4 days". */
static void
age(double s, char out[32])
{
	long	 m = (long)(s / 60);

	if (s < 60)
		snprintf(out, 32, "%ld s", s > 0 ? (long)s : 0L);
	else if (m < 60)
		snprintf(out, 32, "%ld min", m);
	else if (m < 48 * 60)
		snprintf(out, 32, "%ld h %ld min", m / 60, m % 60);
	else
		snprintf(out, 32, "%ld days", m / (24 * 60));
}

/* The links to the other ranges of page, and the range's own words. */
static void
range_links(struct tmpl_vars *v, const struct range *r, const char *page,
    const struct store_series *s)
{
	struct tmpl_vars *row;
	char		 url[96], t[32];
	size_t		 i;

	tmpl_list(v, "ranges");
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		row = tmpl_row(v, "ranges");
		tmpl_set(row, "range_key", ranges[i].key);
		tmpl_set_flag(row, "current", &ranges[i] == r);
		snprintf(url, sizeof(url), "%s?range=%s#activity", page,
		    ranges[i].key);
		tmpl_set_url(row, "range_url", url);
	}
	tmpl_set(v, "range_label", r->label);
	tmpl_set(v, "range_unit", r->unit);
	view_time((double)s->from_hour * 3600, t);
	tmpl_set(v, "range_from", t);
}

/*
 * One chart per series: a bar per bucket with any count, its height
 * scaled to the series' peak, and its count and time in its title.
 */
static void
charts(struct tmpl_vars *v, const struct store_series *s,
    const struct range *r)
{
	struct tmpl_vars *row, *bar;
	long long	 peak, n, h;
	char		 t[32];
	int		 k, b;

	tmpl_list(v, "series");
	for (k = 0; k < STORE_ACT_N; k++) {
		row = tmpl_row(v, "series");
		tmpl_set(row, "kind", store_act_kinds[k]);
		tmpl_set(row, "series_title", titles[k]);
		tmpl_setf(row, "total", "%lld", s->total[k]);
		for (peak = 0, b = 0; b < s->buckets; b++)
			if (s->n[k][b] > peak)
				peak = s->n[k][b];
		tmpl_setf(row, "peak", "%lld", peak);
		tmpl_setf(row, "vw", "%d", s->buckets * CHART_W);
		tmpl_setf(row, "vh", "%d", CHART_H);
		tmpl_list(row, "bars");
		for (b = 0; b < s->buckets; b++) {
			if ((n = s->n[k][b]) == 0)
				continue;
			if ((h = n * CHART_H / peak) < 1)
				h = 1;
			bar = tmpl_row(row, "bars");
			tmpl_setf(bar, "x", "%d", b * CHART_W + 1);
			tmpl_setf(bar, "y", "%lld", CHART_H - h);
			tmpl_setf(bar, "w", "%d", CHART_W - 2);
			tmpl_setf(bar, "h", "%lld", h);
			tmpl_setf(bar, "n", "%lld", n);
			view_time((double)(s->from_hour + (long long)b *
			    r->width) * 3600, t);
			tmpl_set(bar, "when", t);
		}
	}
}

/* The queue's depth now: q summed over its n integrations. */
static void
queue(struct tmpl_vars *v, const struct store_queue *q, size_t n, double now)
{
	struct store_queue sum;
	char		 t[32];
	size_t		 i;

	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < n; i++) {
		sum.queued += q[i].queued;
		sum.retrying += q[i].retrying;
		sum.leased += q[i].leased;
		sum.buried += q[i].buried;
		if (q[i].oldest > 0 && (sum.oldest == 0 ||
		    q[i].oldest < sum.oldest))
			sum.oldest = q[i].oldest;
	}
	tmpl_setf(v, "q_queued", "%lld", sum.queued);
	tmpl_setf(v, "q_retrying", "%lld", sum.retrying);
	tmpl_setf(v, "q_leased", "%lld", sum.leased);
	tmpl_setf(v, "q_buried", "%lld", sum.buried);
	if (sum.oldest > 0)
		age(now - sum.oldest, t);
	tmpl_set(v, "q_oldest", sum.oldest > 0 ? t : "none waiting");
}

/*
 * The entry of iid in v, n entries of size elem that each start with
 * their integration id, or NULL.
 */
static const void *
of(const void *v, size_t n, size_t elem, const char *iid)
{
	const char	*p = v;
	size_t		 i;

	for (i = 0; i < n; i++, p += elem)
		if (strcmp(p, iid) == 0)
			return p;
	return NULL;
}

/* One sentence of the health, with where to act on it. */
static void
say(struct tmpl_vars *v, const struct store_isum *s, int named, int bad,
    const char *url, const char *link_text, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void
say(struct tmpl_vars *v, const struct store_isum *s, int named, int bad,
    const char *url, const char *link_text, const char *fmt, ...)
{
	struct tmpl_vars *row = tmpl_row(v, "health_lines");
	char		 text[512];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (named)
		tmpl_setf(row, "text", "%s: %s", s->name, text);
	else
		tmpl_set(row, "text", text);
	tmpl_set_flag(row, "bad", bad);
	tmpl_set_url(row, "link", url);
	tmpl_set(row, "link_text", link_text);
}

/*
 * The health of one integration in words, worst first: 0 when nothing
 * needs attention, else the number of sentences said.
 */
static int
health(struct tmpl_vars *v, const struct store_isum *s,
    const struct store_queue *q, const struct store_acttotal *day,
    int named, double now)
{
	char		 url[96], t[32];
	long long	 failed = day != NULL ? day->n[STORE_ACT_FAILURE] : 0;
	int		 said = 0;

	if (s->auth_failed != NULL) {
		snprintf(url, sizeof(url), "/admin/i/%s/edit", s->id);
		say(v, s, named, 1, url, "Edit the integration",
		    "%s: re-enter it.", s->auth_failed);
		said++;
	}
	if (q != NULL && q->buried > 0) {
		snprintf(url, sizeof(url), "/admin/i/%s#jobs", s->id);
		say(v, s, named, 1, url, "See the failed jobs", "%lld job%s "
		    "buried after failing every attempt.", q->buried,
		    q->buried == 1 ? "" : "s");
		said++;
	}
	if (!(s->has_hook && s->has_plugin && s->has_webhook)) {
		snprintf(url, sizeof(url), "/admin/i/%s/delete", s->id);
		say(v, s, named, 1, url, "Delete it", "its webhooks are "
		    "incomplete: delete the integration and create it again.");
		said++;
	}
	if (q != NULL && q->due_since > 0 && q->due_since < now - OVERDUE_S) {
		age(now - q->due_since, t);
		say(v, s, named, 1, "", "", "jobs have been due for %s and "
		    "none ran: is pbsyncctl worker running?", t);
		said++;
	}
	if (failed > 0) {
		snprintf(url, sizeof(url), "/admin/log?i=%s&outcome=failed",
		    s->id);
		say(v, s, named, 0, url, "See the sync log", "%lld failure%s "
		    "in the last 24 hours%s.", failed, failed == 1 ? "" : "s",
		    q != NULL && q->retrying > 0 ? ", jobs retrying" : "");
		said++;
	}
	return said;
}

/*
 * What both dashboards share: the range r, the charts of iid (NULL: every
 * integration), the queue and the totals of the last 24 hours for the
 * health.  -1 when a query failed (logged): the page says so.
 */
static int
common(struct view *ad, struct tmpl_vars *v, const struct range *r,
    const char *iid, const char *page, struct store_queue **q, size_t *nq,
    struct store_acttotal **day, size_t *nday)
{
	struct store_series s;
	double		 now = util_now();
	long long	 end = (long long)(now / 3600) + 1;

	*q = NULL;
	*day = NULL;
	*nq = *nday = 0;
	tmpl_list(v, "health_lines");
	tmpl_set_flag(v, "dash_ok", 0);
	if (store_activity_series(&ad->app->store, iid, end, r->width,
	    r->buckets, &s) == -1 || store_queue_stats(&ad->app->store, now,
	    q, nq) == -1 || store_activity_totals(&ad->app->store, end - 24,
	    end, day, nday) == -1) {
		free(*q);
		*q = NULL;
		*nq = 0;
		return -1;
	}
	tmpl_set_flag(v, "dash_ok", 1);
	range_links(v, r, page, &s);
	charts(v, &s, r);
	return 0;
}

void
dash_home(struct view *ad, struct tmpl_vars *v, const struct store_isum *list,
    size_t n)
{
	const struct range *r = pick_range(ad);
	struct store_queue *q;
	struct store_acttotal *day, *tot = NULL;
	struct tmpl_vars *row;
	double		 now = util_now();
	long long	 end = (long long)(now / 3600) + 1;
	size_t		 nq, nday, ntot = 0, i;
	const struct store_acttotal *t;
	int		 k, said = 0;

	tmpl_list(v, "act_rows");
	if (common(ad, v, r, NULL, "/admin/", &q, &nq, &day, &nday) == -1)
		return;
	queue(v, q, nq, now);
	if (store_activity_totals(&ad->app->store, end - (long long)r->width *
	    r->buckets, end, &tot, &ntot) == -1)
		ntot = 0;
	for (i = 0; i < n; i++) {
		said += health(v, &list[i], of(q, nq, sizeof(*q), list[i].id),
		    of(day, nday, sizeof(*day), list[i].id), 1, now);
		row = tmpl_row(v, "act_rows");
		tmpl_set(row, "act_name", list[i].name);
		tmpl_setf(row, "act_url", "/admin/i/%s", list[i].id);
		t = of(tot, ntot, sizeof(*tot), list[i].id);
		tmpl_list(row, "act_cells");
		for (k = 0; k < STORE_ACT_N; k++)
			tmpl_setf(tmpl_row(row, "act_cells"), "cell", "%lld",
			    t != NULL ? t->n[k] : 0);
	}
	if (said == 0)
		say(v, NULL, 0, 0, "", "", "%s", n > 0 ?
		    "All integrations in sync." : "No integration yet.");
	free(q);
	free(day);
	free(tot);
}

void
dash_integration(struct view *ad, struct tmpl_vars *v,
    const struct store_isum *s)
{
	struct store_queue *q;
	struct store_acttotal *day;
	const struct store_queue *mine;
	double		 now = util_now();
	size_t		 nq, nday;
	char		 page[64], t[32];

	snprintf(page, sizeof(page), "/admin/i/%s", s->id);
	if (common(ad, v, pick_range(ad), s->id, page, &q, &nq, &day,
	    &nday) == -1)
		return;
	mine = of(q, nq, sizeof(*q), s->id);
	queue(v, mine, mine != NULL, now);
	if (health(v, s, mine, of(day, nday, sizeof(*day), s->id), 0, now) == 0) {
		view_time(s->last_ok_at, t);
		say(v, s, 0, 0, "", "", "In sync; last successful sync: %s.",
		    t);
	}
	free(q);
	free(day);
}
