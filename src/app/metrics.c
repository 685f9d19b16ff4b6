#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/metrics.h"
#include "base/log.h"
#include "base/prom.h"
#include "base/util.h"

/* How long a flush waits for the write lock before it leaves it for later. */
#define FLUSH_WAIT_MS	100

#define REQUESTS	"pbsync_http_requests_total"
#define DELIVERIES	"pbsync_deliveries_total"
#define UPSTREAM	"pbsync_upstream_requests_total"
#define RATE_LIMITED	"pbsync_upstream_rate_limited_total"
#define PAUSED_CALLS	"pbsync_upstream_paused_calls_total"
#define JOBS_FINISHED	"pbsync_jobs_finished_total"
#define CONFLICTS	"pbsync_sync_conflicts_total"
#define LATENCY		"pbsync_sync_latency_seconds"

/* The counters, in the order a scrape shows them. */
static const struct counter {
	const char	*name;
	const char	*help;
	int		 bare;		/* no labels: shown as 0 before any */
} counters[] = {
	{ REQUESTS, "Requests answered, by route name and HTTP status code "
	    "(route names with _auth: nginx's auth_request questions).", 0 },
	{ DELIVERIES, "Authenticated webhook deliveries by sender and what "
	    "became of them (queued, duplicate, ignored, invalid, "
	    "unavailable).", 0 },
	{ UPSTREAM, "Calls to the upstream APIs by API and status class "
	    "(2xx, 3xx, 4xx, 429, 5xx; error: no answer).", 0 },
	{ RATE_LIMITED, "Rate-limit answers that paused a token's calls, by "
	    "API.", 0 },
	{ PAUSED_CALLS, "Calls not made because their token was paused by a "
	    "rate limit, by API.", 0 },
	{ JOBS_FINISHED, "Job runs by kind and outcome (done, retry, wait, "
	    "dead).", 0 },
	{ CONFLICTS, "Sync rounds that found a field changed on both "
	    "sides.", 1 },
};

/* The latency histogram's upper bounds, in seconds, as the le labels. */
static const struct {
	double		 bound;
	const char	*le;
} buckets[] = {
	{ 0.1, "0.1" }, { 0.25, "0.25" }, { 0.5, "0.5" }, { 1, "1" },
	{ 2.5, "2.5" }, { 5, "5" }, { 10, "10" }, { 30, "30" }, { 60, "60" },
	{ 300, "300" }, { 900, "900" }, { 3600, "3600" },
};

static const char *const states[] = { "ready", "leased", "dead" };

static int		 enabled = 1;
static int64_t		 last_flush;

/* A batch: big enough for every sample a process counts. */
struct batch {
	struct prom_delta	 taken[PROM_SERIES_MAX];
	struct store_metric	 rows[PROM_SERIES_MAX];
};

/* The flushing thread of a FastCGI program (metrics_start). */
static struct {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 running;
	int		 stop;
	const char	*database;
	struct batch	*batch;
} flusher = { .mu = PTHREAD_MUTEX_INITIALIZER };

void
metrics_enable(int on)
{
	enabled = on;
}

int
metrics_enabled(void)
{
	return enabled;
}

/* Counts v under name with up to two labels (n2 NULL for one, n1 none). */
static void
add(const char *name, const char *n1, const char *v1, const char *n2,
    const char *v2, double v)
{
	const char	*names[2] = { n1, n2 }, *values[2] = { v1, v2 };
	char		 labels[PROM_LABELS_MAX];
	size_t		 n = n1 == NULL ? 0 : n2 == NULL ? 1 : 2;

	if (!enabled)
		return;
	if (prom_labels(labels, sizeof(labels), names, values, n) == -1 ||
	    prom_add(name, labels, v) == -1)
		log_debug("metrics: sample %s not counted", name);
}

void
metrics_request(const char *route, int status)
{
	char	 code[16];

	snprintf(code, sizeof(code), "%d", status);
	add(REQUESTS, "route", route, "code", code, 1);
}

void
metrics_delivery(const char *source, const char *outcome)
{
	add(DELIVERIES, "source", source, "outcome", outcome, 1);
}

void
metrics_upstream(const char *api, long status)
{
	static const char *const classes[] = { "error", "1xx", "2xx", "3xx",
	    "4xx", "5xx" };
	const char	*c = status == 429 ? "429" : status >= 100 &&
			    status <= 599 ? classes[status / 100] : "error";

	add(UPSTREAM, "api", api, "status", c, 1);
}

void
metrics_rate_limited(const char *api)
{
	add(RATE_LIMITED, "api", api, NULL, NULL, 1);
}

void
metrics_paused_call(const char *api)
{
	add(PAUSED_CALLS, "api", api, NULL, NULL, 1);
}

void
metrics_job(const char *kind, const char *outcome)
{
	add(JOBS_FINISHED, "kind", kind, "outcome", outcome, 1);
}

void
metrics_conflict(void)
{
	add(CONFLICTS, NULL, NULL, NULL, NULL, 1);
}

void
metrics_sync_latency(const char *side, double seconds)
{
	size_t	 i;

	if (seconds < 0)
		seconds = 0;
	/* Buckets are cumulative: each counts the observations up to it. */
	for (i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++)
		if (seconds <= buckets[i].bound)
			add(LATENCY "_bucket", "side", side, "le",
			    buckets[i].le, 1);
	add(LATENCY "_sum", "side", side, NULL, NULL, seconds);
	add(LATENCY "_count", "side", side, NULL, NULL, 1);
}

int
metrics_pending(void)
{
	return enabled && prom_pending() > 0;
}

/*
 * Adds every pending count to the store s in one transaction, or gives
 * them back: 0 or -1.
 */
static int
add_pending(struct store *s, struct batch *b)
{
	size_t	 n, i;
	int	 rc;

	n = prom_take(b->taken, PROM_SERIES_MAX);
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		memcpy(b->rows[i].name, b->taken[i].name,
		    sizeof(b->rows[i].name));
		memcpy(b->rows[i].labels, b->taken[i].labels,
		    sizeof(b->rows[i].labels));
		b->rows[i].value = b->taken[i].v;
	}
	if ((rc = store_metric_add(s, b->rows, n, FLUSH_WAIT_MS)) != 0)
		for (i = 0; i < n; i++)
			prom_add(b->taken[i].name, b->taken[i].labels,
			    b->taken[i].v);
	return rc == 0 ? 0 : -1;
}

int
metrics_flush(struct app *a, int force)
{
	static struct batch b;	/* the calling thread's: one at a time */
	int64_t	 now;

	if (!metrics_pending() || (flusher.running && !force))
		return 0;
	now = util_mono_ms();
	if (!force && now - last_flush < METRICS_FLUSH_MS)
		return 0;
	if (!a->store_ok)
		return -1;
	last_flush = now;
	return add_pending(&a->store, &b);
}

/*
 * The flushing thread: every METRICS_FLUSH_MS, the counts go to the
 * store through a connection of its own (a connection is one thread's).
 */
static void *
flusher_main(void *arg)
{
	struct store	 s;
	struct timespec	 until;
	int		 open = 0;

	(void)arg;
	pthread_mutex_lock(&flusher.mu);
	while (!flusher.stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += METRICS_FLUSH_MS / 1000;
		until.tv_nsec += METRICS_FLUSH_MS % 1000 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!flusher.stop && pthread_cond_timedwait(&flusher.cv,
		    &flusher.mu, &until) != ETIMEDOUT)
			;
		if (flusher.stop)
			break;
		pthread_mutex_unlock(&flusher.mu);
		if (prom_pending() > 0 && (open || store_open(&s,
		    flusher.database) == 0)) {
			open = 1;
			add_pending(&s, flusher.batch);
		}
		pthread_mutex_lock(&flusher.mu);
	}
	pthread_mutex_unlock(&flusher.mu);
	if (open)
		store_close(&s);
	return NULL;
}

int
metrics_start(struct app *a)
{
	pthread_condattr_t ca;
	sigset_t	 all, old;
	int		 rc;

	if (!enabled || flusher.running)
		return 0;
	if (!store_threadsafe())
		return -1;
	if ((flusher.batch = calloc(1, sizeof(*flusher.batch))) == NULL)
		return -1;
	flusher.database = a->conf.database;
	flusher.stop = 0;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&flusher.cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals (SIGTERM, SIGXCPU) stay the main thread's to handle. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&flusher.thread, NULL, flusher_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&flusher.cv);
		free(flusher.batch);
		flusher.batch = NULL;
		return -1;
	}
	flusher.running = 1;
	return 0;
}

void
metrics_stop(void)
{
	if (!flusher.running)
		return;
	pthread_mutex_lock(&flusher.mu);
	flusher.stop = 1;
	pthread_cond_signal(&flusher.cv);
	pthread_mutex_unlock(&flusher.mu);
	pthread_join(flusher.thread, NULL);
	pthread_cond_destroy(&flusher.cv);
	free(flusher.batch);
	flusher.batch = NULL;
	flusher.running = 0;
}

/* The stored sample name{labels}, or NULL. */
static const struct store_metric *
find(const struct store_metric *v, size_t n, const char *name,
    const char *labels)
{
	size_t	 lo = 0, hi = n, mid;
	int	 c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(v[mid].name, name)) == 0)
			c = strcmp(v[mid].labels, labels);
		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
render_counters(struct buf *out, const struct store_metric *v, size_t n)
{
	size_t	 i, j;
	int	 rc = 0, any;

	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		rc |= prom_head(out, counters[i].name, "counter",
		    counters[i].help);
		for (j = 0, any = 0; j < n; j++)
			if (strcmp(v[j].name, counters[i].name) == 0) {
				rc |= prom_sample(out, v[j].name, v[j].labels,
				    NULL, v[j].value);
				any = 1;
			}
		if (!any && counters[i].bare)
			rc |= prom_sample(out, counters[i].name, NULL, NULL, 0);
	}
	return rc;
}

/*
 * The histogram of each label set that has a _count: its buckets in
 * order, each at least the one before (cumulative), then +Inf, which is
 * the count, then _sum and _count.
 */
static int
render_latency(struct buf *out, const struct store_metric *v, size_t n)
{
	const struct store_metric *m;
	char		 le[PROM_LABELS_MAX + 32];
	double		 cum;
	size_t		 i, b;
	int		 rc;

	rc = prom_head(out, LATENCY, "histogram", "Seconds from a delivery's "
	    "arrival to the write it caused on the other side (side: the "
	    "side written).");
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, LATENCY "_count") != 0)
			continue;
		for (b = 0, cum = 0; b < sizeof(buckets) / sizeof(buckets[0]);
		    b++) {
			snprintf(le, sizeof(le), "%s%sle=\"%s\"", v[i].labels,
			    v[i].labels[0] != '\0' ? "," : "", buckets[b].le);
			if ((m = find(v, n, LATENCY "_bucket", le)) != NULL &&
			    m->value > cum)
				cum = m->value;
			rc |= prom_sample(out, LATENCY "_bucket", le, NULL,
			    cum);
		}
		if (v[i].value > cum)
			cum = v[i].value;
		rc |= prom_sample(out, LATENCY "_bucket", v[i].labels,
		    "le=\"+Inf\"", cum);
		m = find(v, n, LATENCY "_sum", v[i].labels);
		rc |= prom_sample(out, LATENCY "_sum", v[i].labels, NULL,
		    m != NULL ? m->value : 0);
		rc |= prom_sample(out, LATENCY "_count", v[i].labels, NULL, cum);
	}
	return rc;
}

static int
render_gauges(struct buf *out, const struct store_gauges *g, double now)
{
	char		 labels[PROM_LABELS_MAX];
	const char	*names[2] = { "kind", "state" }, *values[2];
	double		 oldest;
	size_t		 i, s;
	int		 rc;

	rc = prom_head(out, "pbsync_jobs", "gauge", "Jobs in the queue by "
	    "kind and state (ready: waiting; leased: running; dead: failed "
	    "for good, waiting for an admin).");
	for (i = 0; i < g->njobs; i++) {
		values[0] = g->jobs[i].kind;
		values[1] = g->jobs[i].state;
		if (prom_labels(labels, sizeof(labels), names, values, 2) == 0)
			rc |= prom_sample(out, "pbsync_jobs", labels, NULL,
			    (double)g->jobs[i].n);
	}
	rc |= prom_head(out, "pbsync_jobs_oldest_age_seconds", "gauge",
	    "Age of the oldest job in each state, from when its first event "
	    "came (0: none).");
	for (s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		for (i = 0, oldest = 0; i < g->njobs; i++)
			if (strcmp(g->jobs[i].state, states[s]) == 0 &&
			    (oldest == 0 || g->jobs[i].oldest < oldest))
				oldest = g->jobs[i].oldest;
		values[0] = states[s];
		if (prom_labels(labels, sizeof(labels), names + 1, values,
		    1) == 0)
			rc |= prom_sample(out, "pbsync_jobs_oldest_age_seconds",
			    labels, NULL, oldest > 0 && now > oldest ?
			    now - oldest : 0);
	}
	rc |= prom_head(out, "pbsync_jobs_lag_seconds", "gauge", "How long "
	    "the most overdue ready job has been due (0: none is due).");
	rc |= prom_sample(out, "pbsync_jobs_lag_seconds", NULL, NULL,
	    g->due_since > 0 && now > g->due_since ? now - g->due_since : 0);
	rc |= prom_head(out, "pbsync_integrations", "gauge", "Integrations.");
	rc |= prom_sample(out, "pbsync_integrations", NULL, NULL,
	    (double)g->integrations);
	rc |= prom_head(out, "pbsync_links", "gauge", "Features linked to an "
	    "issue, or being pushed.");
	rc |= prom_sample(out, "pbsync_links", NULL, NULL, (double)g->links);
	rc |= prom_head(out, "pbsync_upstream_paused_tokens", "gauge", "Tokens "
	    "whose calls are paused by a rate limit now.");
	rc |= prom_sample(out, "pbsync_upstream_paused_tokens", NULL, NULL,
	    (double)g->paused_tokens);
	return rc;
}

int
metrics_render(struct app *a, struct buf *out)
{
	struct store_metric *v = NULL;
	struct store_gauges g;
	double		 now = util_now();
	size_t		 n = 0;
	int		 rc;

	if (!a->store_ok)
		return -1;
	/* This process's own counts first, so the scrape includes them. */
	metrics_flush(a, 1);
	if (store_metric_list(&a->store, &v, &n) == -1 ||
	    store_gauges(&a->store, now, &g) == -1) {
		free(v);
		return -1;
	}
	rc = render_counters(out, v, n) | render_latency(out, v, n) |
	    render_gauges(out, &g, now);
	free(v);
	return rc ? -1 : 0;
}
