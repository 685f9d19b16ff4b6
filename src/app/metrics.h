/*
 * metrics: what pbsync counts, and GET /metrics's text (Prometheus text
 * format 0.0.4, base/prom.h).
 *
 * Each process counts in memory (metrics_request, metrics_delivery, ...)
 * and adds its counts to the store's counters in one short transaction at
 * most once a second, so the counters are the sums over every process and
 * host sharing the database, and a request's hot path gains no write: a
 * FastCGI program's thread of its own does it every second (metrics_start,
 * its own store connection), other processes call metrics_flush after
 * each job or request, and every process at exit.
 * Gauges (jobs by state and age, links, integrations, paused tokens) are
 * computed from the tables at scrape time.  Every label value comes from
 * a fixed set: route names, status codes or classes, job kinds, API names.
 */
#ifndef PBSYNC_METRICS_H
#define PBSYNC_METRICS_H

#include "app/app.h"
#include "base/buf.h"

/* How often a process adds its counts to the store, at most. */
#define METRICS_FLUSH_MS	1000

/* Counting on (the configuration's metrics key) or off (calls do nothing). */
void	 metrics_enable(int on);
int	 metrics_enabled(void);
/* An answered request: the route's name (not its path) and the status. */
void	 metrics_request(const char *route, int status);
/* An authenticated delivery: its sender and what became of it. */
void	 metrics_delivery(const char *source, const char *outcome);
/*
 * An upstream call by api ("productboard", "gitlab", "slack", ...): its
 * status (0 when no answer came: timeout, connection, refused URL).
 */
void	 metrics_upstream(const char *api, long status);
/* A rate-limit answer that paused the token's calls. */
void	 metrics_rate_limited(const char *api);
/* A call not made: the token was paused by an earlier rate limit. */
void	 metrics_paused_call(const char *api);
/* A job run to an outcome: "done", "retry", "wait" or "dead". */
void	 metrics_job(const char *kind, const char *outcome);
/* A sync round that found a field changed on both sides. */
void	 metrics_conflict(void);
/* From a delivery's arrival to the write it caused on side. */
void	 metrics_sync_latency(const char *side, double seconds);
/* 1 if counts wait to be added to the store. */
int	 metrics_pending(void);
/*
 * Adds this process's counts to the store when the last flush is
 * METRICS_FLUSH_MS old (and no thread of metrics_start does it), or
 * always with force: 0, or -1 (the counts are kept for the next try).
 */
int	 metrics_flush(struct app *, int force);
/*
 * Starts the thread that adds the counts every METRICS_FLUSH_MS, with all
 * signals blocked: 0 (also when counting is off), or -1 (none; the
 * counts then go at metrics_flush).  metrics_stop ends it; app_close
 * calls it before the last flush.
 */
int	 metrics_start(struct app *);
void	 metrics_stop(void);
/* Appends the whole exposition to out: 0, or -1 (the store failed). */
int	 metrics_render(struct app *, struct buf *out);

#endif
