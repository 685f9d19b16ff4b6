/*
 * test_prom: the Prometheus text writer (base/prom.c) and what the
 * metrics module (app/metrics.c) makes of counts: escaping, names,
 * values, the per-process table, flushing into the store and the
 * rendered exposition.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/metrics.h"
#include "base/log.h"
#include "base/prom.h"
#include "store/db.h"
#include "t.h"
#include "tstore.h"

static void
names(void)
{
	static const struct { const char *s; int metric, label; } t[] = {
		{ "pbsync_http_requests_total", 1, 1 },
		{ "a", 1, 1 },
		{ "_x9", 1, 1 },
		{ "job:rate5m", 1, 0 },		/* colons: metric names only */
		{ ":x", 1, 0 },
		{ "__name__", 1, 0 },		/* reserved for Prometheus */
		{ "9lives", 0, 0 },
		{ "", 0, 0 },
		{ "a-b", 0, 0 },
		{ "a b", 0, 0 },
		{ "caf\xc3\xa9", 0, 0 },
		{ "le", 1, 1 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_INT(prom_name_ok(t[i].s), t[i].metric);
		CHECK_INT(prom_label_name_ok(t[i].s), t[i].label);
	}
}

static void
labels(void)
{
	const char	*n[] = { "route", "code" }, *v[] = { "plugin", "200" };
	const char	*bad[] = { "9x", "code" }, *odd[] = { "a\"b\\c\nd", "" };
	char		 out[PROM_LABELS_MAX], tiny[8];
	struct buf	 b;

	CHECK_INT(prom_labels(out, sizeof(out), n, v, 2), 0);
	CHECK_STR(out, "route=\"plugin\",code=\"200\"");
	CHECK_INT(prom_labels(out, sizeof(out), n, v, 0), 0);
	CHECK_STR(out, "");
	/* Backslash, double quote and line feed: \\, \", \n; nothing else. */
	CHECK_INT(prom_labels(out, sizeof(out), n, odd, 2), 0);
	CHECK_STR(out, "route=\"a\\\"b\\\\c\\nd\",code=\"\"");
	CHECK_INT(prom_labels(out, sizeof(out), bad, v, 2), -1);
	CHECK_INT(prom_labels(tiny, sizeof(tiny), n, v, 2), -1);
	buf_init(&b, 1024);
	CHECK_INT(prom_escape_label(&b, "tab\there \xc3\xa9 'q' \r"), 0);
	CHECK_STR(buf_str(&b), "tab\there \xc3\xa9 'q' \r");
	buf_reset(&b);
	CHECK_INT(prom_escape_label(&b, "\\\\\"\n\n"), 0);
	CHECK_STR(buf_str(&b), "\\\\\\\\\\\"\\n\\n");
	buf_release(&b);
}

static void
lines(void)
{
	struct buf	 b;

	buf_init(&b, 4096);
	/* HELP escapes backslash and line feed, but not double quotes. */
	CHECK_INT(prom_head(&b, "x_total", "counter", "a \"q\" \\ b\nc"), 0);
	CHECK_STR(buf_str(&b), "# HELP x_total a \"q\" \\\\ b\\nc\n"
	    "# TYPE x_total counter\n");
	buf_reset(&b);
	CHECK_INT(prom_head(&b, "bad name", "counter", "h"), -1);
	buf_reset(&b);
	CHECK_INT(prom_sample(&b, "x_total", NULL, NULL, 3), 0);
	CHECK_INT(prom_sample(&b, "x_total", "", "", 4), 0);
	CHECK_INT(prom_sample(&b, "x_total", "a=\"1\"", NULL, 5), 0);
	CHECK_INT(prom_sample(&b, "x_bucket", NULL, "le=\"+Inf\"", 6), 0);
	CHECK_INT(prom_sample(&b, "x_bucket", "a=\"1\"", "le=\"0.5\"", 7), 0);
	CHECK_STR(buf_str(&b), "x_total 3\nx_total 4\nx_total{a=\"1\"} 5\n"
	    "x_bucket{le=\"+Inf\"} 6\nx_bucket{a=\"1\",le=\"0.5\"} 7\n");
	CHECK_INT(prom_sample(&b, "x-y", NULL, NULL, 1), -1);
	buf_release(&b);
}

static void
values(void)
{
	static const struct { double v; const char *s; } t[] = {
		{ 0, "0" }, { 42, "42" }, { -3, "-3" }, { 0.25, "0.25" },
		{ 0.1, "0.1" }, { 7.3, "7.3" }, { 1e20, "1e+20" },
		{ 123456789012.5, "123456789012.5" },
		{ 1.0 / 3, "0.33333333333333331" },
	};
	char	 out[40];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		prom_value(out, sizeof(out), t[i].v);
		CHECK_STR(out, t[i].s);
	}
	prom_value(out, sizeof(out), INFINITY);
	CHECK_STR(out, "+Inf");
	prom_value(out, sizeof(out), -INFINITY);
	CHECK_STR(out, "-Inf");
	prom_value(out, sizeof(out), NAN);
	CHECK_STR(out, "NaN");
}

static void
table(void)
{
	struct prom_delta d[PROM_SERIES_MAX];
	char		 l[32];
	size_t		 n, i, added = 0;

	CHECK_INT(prom_pending(), 0);
	CHECK_INT(prom_add("a_total", "k=\"1\"", 1), 0);
	CHECK_INT(prom_add("a_total", "k=\"1\"", 2), 0);
	CHECK_INT(prom_add("a_total", NULL, 5), 0);
	CHECK_INT(prom_pending(), 2);
	n = prom_take(d, PROM_SERIES_MAX);
	CHECK_INT(n, 2);
	CHECK_STR(d[0].labels, "k=\"1\"");
	CHECK(d[0].v == 3);
	CHECK_STR(d[1].labels, "");
	CHECK(d[1].v == 5);
	CHECK_INT(prom_pending(), 0);
	CHECK_INT(prom_take(d, PROM_SERIES_MAX), 0);
	/* Given back after a failed flush, the amounts add up again. */
	CHECK_INT(prom_add("a_total", "k=\"1\"", 3), 0);
	CHECK_INT(prom_add("a_total", "k=\"1\"", 1), 0);
	CHECK_INT(prom_take(d, 1), 1);
	CHECK(d[0].v == 4);
	/* A fixed table: past PROM_SERIES_MAX samples, adds are refused. */
	CHECK_INT(prom_add("a_total", "k=\"1\"", 1), 0);
	for (i = 0; i < PROM_SERIES_MAX; i++) {
		snprintf(l, sizeof(l), "i=\"%zu\"", i);
		if (prom_add("fill_total", l, 1) == 0)
			added++;
	}
	CHECK_INT(added, PROM_SERIES_MAX - 1);
	CHECK_INT(prom_add("a_total", "k=\"1\"", 1), 0);	/* known: kept */
	CHECK_INT(prom_pending(), PROM_SERIES_MAX);
	n = prom_take(d, 10);
	CHECK_INT(n, 10);
	CHECK(d[0].v == 2);
	CHECK_STR(d[1].labels, "i=\"0\"");
	CHECK_INT(prom_pending(), PROM_SERIES_MAX - 10);
	n = prom_take(d, PROM_SERIES_MAX);
	CHECK_INT(n, PROM_SERIES_MAX - 10);
	CHECK_STR(d[0].labels, "i=\"9\"");
	CHECK_INT(prom_pending(), 0);
}

/* The line of out that starts with prefix, up to its end, or "". */
static const char *
line(const char *out, const char *prefix)
{
	static char	 l[512];
	const char	*p = out, *e;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			e = strchr(p, '\n');
			snprintf(l, sizeof(l), "%.*s", (int)(e != NULL ? e - p :
			    (long)strlen(p)), p);
			return l;
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return "";
}

static void
metrics(void)
{
	struct app	 a;
	struct buf	 b;
	const char	*o;

	memset(&a, 0, sizeof(a));
	CHECK_INT(store_open(&a.store, t_store_where(":memory:")), 0);
	metrics_enable(1);
	metrics_request("plugin", 200);
	metrics_request("plugin", 200);
	metrics_request("tracker_webhook_auth", 401);
	metrics_delivery("a\"b\\c\nd", "queued");
	metrics_upstream("gitlab", 200);
	metrics_upstream("gitlab", 429);
	metrics_upstream("gitlab", 404);
	metrics_upstream("productboard", 0);
	metrics_sync_latency("tracker", 0.3);
	metrics_sync_latency("tracker", 7);
	CHECK(metrics_pending());
	/* No store yet: the counts stay for the next flush. */
	CHECK_INT(metrics_flush(&a, 1), -1);
	CHECK(metrics_pending());
	a.store_ok = 1;
	CHECK_INT(metrics_flush(&a, 1), 0);
	CHECK(!metrics_pending());
	/* A flush the store refuses gives the counts back for the next. */
	metrics_conflict();
	CHECK_INT(db_exec(a.store.conn, "ALTER TABLE metric RENAME TO m2"), 0);
	CHECK_INT(metrics_flush(&a, 1), -1);
	CHECK(metrics_pending());
	CHECK_INT(db_exec(a.store.conn, "ALTER TABLE m2 RENAME TO metric"), 0);
	CHECK_INT(metrics_flush(&a, 1), 0);
	CHECK(!metrics_pending());
	/* Another process's counts add to the same rows. */
	metrics_request("plugin", 200);
	buf_init(&b, 1 << 20);
	CHECK_INT(metrics_render(&a, &b), 0);
	o = buf_str(&b);
	CHECK_STR(line(o, "pbsync_http_requests_total{route=\"plugin\""),
	    "pbsync_http_requests_total{route=\"plugin\",code=\"200\"} 3");
	CHECK_STR(line(o, "pbsync_http_requests_total{route=\"tracker"),
	    "pbsync_http_requests_total{route=\"tracker_webhook_auth\","
	    "code=\"401\"} 1");
	CHECK_STR(line(o, "pbsync_deliveries_total{"),
	    "pbsync_deliveries_total{source=\"a\\\"b\\\\c\\nd\","
	    "outcome=\"queued\"} 1");
	CHECK_STR(line(o, "pbsync_upstream_requests_total{api=\"gitlab\","
	    "status=\"429\"}"), "pbsync_upstream_requests_total{api=\"gitlab\","
	    "status=\"429\"} 1");
	CHECK_STR(line(o, "pbsync_upstream_requests_total{api=\"gitlab\","
	    "status=\"4xx\"}"), "pbsync_upstream_requests_total{api=\"gitlab\","
	    "status=\"4xx\"} 1");
	CHECK_STR(line(o, "pbsync_upstream_requests_total{api=\"productboard"),
	    "pbsync_upstream_requests_total{api=\"productboard\","
	    "status=\"error\"} 1");
	CHECK_STR(line(o, "pbsync_sync_conflicts_total "),
	    "pbsync_sync_conflicts_total 1");
	/* Cumulative buckets, +Inf the count, then _sum and _count. */
	CHECK_STR(line(o, "pbsync_sync_latency_seconds_bucket{side=\"tracker\","
	    "le=\"0.25\"}"), "pbsync_sync_latency_seconds_bucket{side="
	    "\"tracker\",le=\"0.25\"} 0");
	CHECK_STR(line(o, "pbsync_sync_latency_seconds_bucket{side=\"tracker\","
	    "le=\"0.5\"}"), "pbsync_sync_latency_seconds_bucket{side="
	    "\"tracker\",le=\"0.5\"} 1");
	CHECK_STR(line(o, "pbsync_sync_latency_seconds_bucket{side=\"tracker\","
	    "le=\"5\"}"), "pbsync_sync_latency_seconds_bucket{side="
	    "\"tracker\",le=\"5\"} 1");
	CHECK_STR(line(o, "pbsync_sync_latency_seconds_bucket{side=\"tracker\","
	    "le=\"10\"}"), "pbsync_sync_latency_seconds_bucket{side="
	    "\"tracker\",le=\"10\"} 2");
	CHECK_STR(line(o, "pbsync_sync_latency_seconds_bucket{side=\"tracker\","
	    "le=\"+Inf\"}"), "pbsync_sync_latency_seconds_bucket{side="
	    "\"tracker\",le=\"+Inf\"} 2");
	CHECK_STR(line(o, "pbsync_sync_latency_seconds_sum"),
	    "pbsync_sync_latency_seconds_sum{side=\"tracker\"} 7.3");
	CHECK_STR(line(o, "pbsync_sync_latency_seconds_count"),
	    "pbsync_sync_latency_seconds_count{side=\"tracker\"} 2");
	CHECK_STR(line(o, "pbsync_jobs_lag_seconds "),
	    "pbsync_jobs_lag_seconds 0");
	CHECK_STR(line(o, "pbsync_links "), "pbsync_links 0");
	CHECK(strstr(o, "# TYPE pbsync_sync_latency_seconds histogram\n") !=
	    NULL);
	CHECK(b.len > 0 && o[b.len - 1] == '\n');
	/* Off: nothing is counted. */
	metrics_enable(0);
	metrics_request("plugin", 200);
	CHECK(!metrics_pending());
	metrics_enable(1);
	buf_release(&b);
	store_close(&a.store);
}

/* The thread of metrics_start adds the counts within a second or so. */
static void
threaded(void)
{
	struct app	 a;
	struct store_metric *v;
	char		 path[] = "/tmp/test_prom.XXXXXX", aux[64], where[1024];
	size_t		 n, i;
	int		 fd, found = 0, tries;

	memset(&a, 0, sizeof(a));
	if ((fd = mkstemp(path)) == -1) {
		CHECK(!"mkstemp");
		return;
	}
	close(fd);
	snprintf(where, sizeof(where), "%s", t_store_where(path));
	a.conf.database = where;
	CHECK_INT(store_open(&a.store, a.conf.database), 0);
	a.store_ok = 1;
	metrics_enable(1);
	CHECK_INT(metrics_start(&a), 0);
	metrics_request("threaded", 200);
	/* The thread's: a flush here would be a second writer. */
	CHECK_INT(metrics_flush(&a, 0), 0);
	for (tries = 0; tries < 40 && !found; tries++) {
		usleep(100000);
		if (store_metric_list(&a.store, &v, &n) != 0)
			break;
		for (i = 0; i < n; i++)
			found |= strstr(v[i].labels, "\"threaded\"") != NULL &&
			    v[i].value == 1;
		free(v);
	}
	CHECK(found);
	CHECK(tries > 1);		/* not at once: about a second */
	metrics_stop();
	metrics_stop();			/* a second stop does nothing */
	store_close(&a.store);
	unlink(path);
	snprintf(aux, sizeof(aux), "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof(aux), "%s-shm", path);
	unlink(aux);
}

int
main(void)
{
	log_open("test_prom", LOGL_ERR, NULL);
	names();
	labels();
	lines();
	values();
	table();
	metrics();
	threaded();
	t_store_done();
	return t_done();
}
