/*
 * store: the mapping store; all SQL lives in store*.c.
 *
 * One connection per process, opened after any fork, to the database the
 * setting names: a SQLite file (WAL, a busy timeout, foreign keys,
 * synchronous=FULL: an acknowledged delivery must survive a power cut) or
 * PostgreSQL (a postgresql:// URI or service=NAME; synchronous commits).
 * Migrations from schema.sql, compiled in.  Statements are prepared once
 * and cached.  Functions return 0 on success, -1 on error (logged), and
 * STORE_NOTFOUND / STORE_EXISTS where callers branch on it.
 */
#ifndef PBSYNC_STORE_H
#define PBSYNC_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_NOTFOUND	1
#define STORE_EXISTS	2
#define STORE_BUSY	3	/* locked past busy_timeout: retry later */

struct db;
struct db_stmt;
struct sqlite3;

struct store {
	struct db	*conn;
	/*
	 * SQLite's own handle when the database is a SQLite file, else
	 * NULL: for what only SQLite has (storebench's query plans and
	 * traces, tests that reach into the file).
	 */
	struct sqlite3	*db;
	int		 pg;		/* the database is PostgreSQL */
	int		 busy;		/* last error: a lock not free in time */
	int		 retry;		/* last error: run the transaction again */
	int		 deaf;		/* wake-ups cannot be heard */
	struct store_cache {
		const char	*sql;
		struct db_stmt	*stmt;
	}		 cache[128];
};

struct store_integration {
	char	 id[33];
	char	*name;
	char	*column_label;
	char	*pb_token;		/* sealed */
	char	*pb_token_tail;
	char	*tracker_kind;		/* "gitlab", "github" */
	char	*tracker_url;
	char	*tracker_token;		/* sealed */
	char	*tracker_token_tail;
	char	*tracker_project;	/* the backend's id */
	char	*tracker_project_name;	/* for people */
	char	*tracker_project_url;
	char	*tracker_options;	/* JSON: the backend's settings */
	char	*pb_plugin_id;
	char	*pb_webhook_id;
	char	*tracker_hook_id;
	char	*plugin_secret;		/* hashes */
	char	*pb_hook_secret;
	char	*tracker_hook_secret;	/* a hash, or sealed (HMAC) */
	char	*status_map;
	char	*conflict_policy;
	char	*delete_policy;
	char	*auth_failed;
	double	 last_sync_at;
	double	 created_at;
};

struct store_link {
	long long id;
	char	 integration_id[33];
	char	*feature_id;
	char	*state;			/* "pending" or "linked" */
	char	*issue_id;		/* the tracker's stable id */
	char	*issue_ref;		/* where its backend finds it */
	char	*issue_key;		/* for people: "#12" */
	char	*issue_url;
	char	*issue_title;
	char	*issue_state;
	char	*feature_url;
	char	*snap_name;
	char	*snap_pb_desc;
	char	*snap_tracker_desc;
	char	*snap_status;
	char	*snap_state;
	char	*pushed_by;
	/*
	 * The snapshot a sync round will save if its writes land, written
	 * before them (JSON, or NULL): a round cut short after a write took
	 * effect leaves it, so the next round knows that write for pbsync's.
	 */
	char	*pending;
	double	 created_at;
	double	 last_sync_at;
	double	 updated_at;	/* a push in flight started then; 0: none */
	/*
	 * The lock_until the sync round holding the link's lock set, its
	 * token (store_link_lock); not read from the row.
	 */
	double	 lock_until;
};

struct store_job {
	long long id;
	char	 integration_id[33];
	char	*kind;
	char	*key;
	char	*payload;
	long long attempts;
	char	*last_error;
	double	 run_at;
	char	*state;
	char	*request_id;	/* of what queued it, or NULL */
	double	 created_at;	/* when the first event it carries came */
	double	 lease_until;	/* the lease store_job_lease set: its token */
};

struct store_health {
	int	 schema_version;
	long long jobs_ready;
	long long jobs_leased;
	long long jobs_dead;
	long long integrations;
	long long links;
};

struct store_log {
	char	 integration_id[33];
	const char *actor;
	const char *action;
	const char *feature_id;
	const char *issue_ref;
	const char *result;	/* ok, error, conflict, info */
	const char *detail;
};

/* store.c: connection, transactions, migrations */
int	 store_open(struct store *, const char *database);
/*
 * Whether a PostgreSQL database holds pbsync's tables, without creating
 * them as store_open would: 1, 0, or -1 when it cannot be asked.
 */
int	 store_initialised(const char *database);
void	 store_close(struct store *);
/* A write transaction: SQLite's BEGIN IMMEDIATE, PostgreSQL's BEGIN. */
int	 store_begin(struct store *);
int	 store_commit(struct store *);
void	 store_rollback(struct store *);
/*
 * Runs body(s, arg) in a transaction and commits it when body returns 0;
 * any other value rolls it back and is returned.  A transaction that
 * failed for a reason that passes (PostgreSQL: a serialization failure,
 * a deadlock, a lost connection) runs again, body included, a few times:
 * body must read what it decides on inside the transaction, so that a
 * run after a commit whose answer was lost finds its own rows (a
 * delivery already seen) and does nothing twice.
 */
int	 store_tx(struct store *, int (*body)(struct store *, void *),
	    void *arg);
/* The database setting as it may be shown: its password masked. */
void	 store_where(const char *database, char *out, size_t len);
/* 1 if the database setting names PostgreSQL, 0 a SQLite file. */
int	 store_postgresql(const char *database);
int	 store_schema_version(struct store *);
int	 store_latest_version(void);
/* 1 if SQLite may be used from several threads, a connection each. */
int	 store_threadsafe(void);
int	 store_health(struct store *, struct store_health *);
int	 store_log(struct store *, const struct store_log *);
int	 store_pause_get(struct store *, const char *token_hash, double *until);
int	 store_pause_set(struct store *, const char *token_hash, double until);

/* store_integration.c */
int	 store_integration_insert(struct store *,
	    const struct store_integration *);
int	 store_integration_update(struct store *,
	    const struct store_integration *);
int	 store_integration_get(struct store *, const char *id,
	    struct store_integration *);
int	 store_integration_delete(struct store *, const char *id);
int	 store_integration_ids(struct store *, char ***ids, size_t *n);
int	 store_integration_set_auth_failed(struct store *, const char *id,
	    const char *what);
void	 store_integration_release(struct store_integration *);

/* store_link.c */
/* Inserts a pending link; STORE_EXISTS when the feature already has one. */
int	 store_link_claim(struct store *, const char *iid, const char *fid,
	    const char *actor, struct store_link *);
int	 store_link_get(struct store *, const char *iid, const char *fid,
	    struct store_link *);
int	 store_link_get_by_issue(struct store *, const char *iid,
	    const char *issue_id, struct store_link *);
int	 store_link_get_by_id(struct store *, long long id, struct store_link *);
/* Records the issue and the first snapshot and marks the link linked. */
int	 store_link_set_issue(struct store *, const struct store_link *);
/*
 * A sync round's writes, made only while l->lock_until is still the
 * link's: STORE_NOTFOUND (logged) when another round has taken the lock.
 * Saves the snapshot; records the round's intended snapshot (saving a
 * snapshot clears it).
 */
int	 store_link_set_snapshot(struct store *, const struct store_link *l);
int	 store_link_set_pending(struct store *, const struct store_link *l,
	    const char *pending);
int	 store_link_delete(struct store *, long long id);
int	 store_link_touch(struct store *, long long id, double t);
/*
 * Takes the link's sync lock until the given time, which is the holder's
 * token: 0, or STORE_EXISTS when another sync holds it.  The unlock
 * clears only the lock of that token.
 */
int	 store_link_lock(struct store *, long long id, double now, double until);
int	 store_link_unlock(struct store *, long long id, double until);
int	 store_link_ids(struct store *, const char *iid, long long after,
	    size_t max, long long *ids, size_t *n);
void	 store_link_release(struct store_link *);

/* store_job.c */
/*
 * Enqueues or, when one is already waiting, coalesces into it.  The job
 * keeps the request id being logged (log_request), or the one of the job
 * it coalesced into, so the worker's lines name the request behind it.
 * A job due now wakes the worker when its transaction commits.
 */
int	 store_job_enqueue(struct store *, const char *iid, const char *kind,
	    const char *key, const char *payload, double run_at);
/*
 * Leases the oldest due job until now + lease_s: 0, STORE_NOTFOUND, -1.
 * With kind, only a job of that kind (only) or of any other (!only).
 */
int	 store_job_lease(struct store *, double now, double lease_s,
	    const char *kind, int only, struct store_job *);
/*
 * Settle a job j leased, only while its lease is still j->lease_until:
 * STORE_NOTFOUND (logged) when the lease ran out and another holder
 * took the job over.
 */
int	 store_job_done(struct store *, const struct store_job *j);
int	 store_job_retry(struct store *, const struct store_job *j,
	    double run_at, const char *error);
/* Like store_job_retry, but the lease's attempt is given back. */
int	 store_job_wait(struct store *, const struct store_job *j,
	    double run_at, const char *why);
int	 store_job_bury(struct store *, const struct store_job *j,
	    const char *error);
int	 store_job_revive(struct store *, long long id, double now);
/*
 * The worker's wait between two empty leases: up to timeout_ms, less
 * when a job of its lane (kind and only as for store_job_lease) is
 * queued.  1 woken, 0 not.  When it cannot listen it says so in the log
 * once, and waits all the same: the lease after it is the truth.
 */
int	 store_wake_wait(struct store *, const char *kind, int only,
	    long timeout_ms);
int	 store_job_cancel(struct store *, const char *iid, const char *kind,
	    const char *key);
void	 store_job_release(struct store_job *);

/*
 * Notification channels (store_channel.c): url and secrets sealed by the
 * caller; events is "*" or a comma list of event names.
 */
struct store_channel {
	char	 integration_id[33];
	char	 type[16];		/* "slack", "discord", "webhook" */
	char	*url;			/* sealed */
	char	 url_tail[8];
	char	*secret;		/* webhook: sealed "whsec_..." */
	char	*old_secret;		/* while rotating, until then */
	double	 old_secret_until;
	char	*events;
	int	 active;
	long long failures;		/* dead deliveries in a row */
	char	*last_error;
	double	 last_sent_at;
	double	 created_at;
	double	 updated_at;
};

int	 store_channel_get(struct store *, const char *iid, const char *type,
	    struct store_channel *);
int	 store_channel_list(struct store *, const char *iid,
	    struct store_channel **, size_t *n);
/* Creates, or replaces URL and events and turns it back on. */
int	 store_channel_put(struct store *, const struct store_channel *,
	    double now);
/* A new sealed secret; the old one stays valid until old_until. */
int	 store_channel_rotate(struct store *, const char *iid,
	    const char *type, const char *sealed, double old_until, double now);
int	 store_channel_delete(struct store *, const char *iid,
	    const char *type);
/*
 * After a delivery: error NULL for a success (failures back to 0), else
 * counted; turn_off for a receiver that refused for good.
 */
int	 store_channel_outcome(struct store *, const char *iid,
	    const char *type, const char *error, int turn_off, double now);
void	 store_channel_release(struct store_channel *);
void	 store_channels_free(struct store_channel *, size_t n);

/*
 * Admin pages: users, sessions (store_admin.c) and the read-only views the
 * pages show (store_view.c).  Sessions are keyed by a hash of the cookie
 * value; the cookie itself is never stored.
 */
struct store_admin {
	long long id;
	char	 name[65];
	char	*pw_hash;
	long long failures;		/* wrong passwords in a row */
	double	 last_failure_at;
};

struct store_session {
	long long user_id;
	char	 user[65];
	char	 csrf[64];
	double	 created_at;
	double	 expires_at;
};

/* One row of the integrations list: the row's summary and its health. */
struct store_isum {
	char	 id[33];
	char	*name;
	char	*column_label;
	char	*tracker_kind;
	char	*tracker_url;
	char	*tracker_project_name;
	char	*tracker_project_url;
	char	*pb_token_tail;
	char	*tracker_token_tail;
	char	*auth_failed;		/* NULL when both tokens work */
	char	*conflict_policy;
	char	*delete_policy;
	int	 has_plugin, has_webhook;
	int	 has_hook;		/* the tracker's webhook */
	char	*tracker_hook_id;	/* its id, or NULL */
	long long links;
	long long jobs_dead;
	long long jobs_waiting;
	double	 last_ok_at;		/* last successful sync; 0: never */
	double	 created_at;
};

struct store_logrow {
	long long id;
	double	 at;
	char	*actor;
	char	*action;
	char	*feature_id;
	char	*issue_ref;
	char	*result;
	char	*detail;
};

/* store_admin.c */
int	 store_admin_add(struct store *, const char *name, const char *pw_hash);
/* 0, STORE_NOTFOUND or -1; store_admin_release frees. */
int	 store_admin_get(struct store *, const char *name, struct store_admin *);
void	 store_admin_release(struct store_admin *);
/* Replaces the password hash of a user: 0, STORE_NOTFOUND or -1. */
int	 store_admin_passwd(struct store *, const char *name,
	    const char *pw_hash);
/* Deletes a user, its sessions and browsers: 0, STORE_NOTFOUND or -1. */
int	 store_admin_remove(struct store *, const char *name);
/* API tokens by name, kept as hashes: 0, STORE_EXISTS or -1. */
int	 store_token_add(struct store *, const char *name,
	    const char *token_hash, const char *role, double now);
/* 0, STORE_NOTFOUND or -1. */
int	 store_token_remove(struct store *, const char *name);
/* The role ("admin", "viewer") of a token's hash: 0, STORE_NOTFOUND, -1. */
int	 store_token_role(struct store *, const char *token_hash,
	    char role[16]);
/* The failures counted under key and when the last was (0, 0 if none). */
int	 store_login_get(struct store *, const char *key, long long *failures,
	    double *last);
/* Counts one failure under key at now. */
int	 store_login_failed(struct store *, const char *key, double now);
/* Forgets the failures under key (a right password). */
int	 store_login_reset(struct store *, const char *key);
/* Remembers a browser of user_id by the hash of its cookie. */
int	 store_device_add(struct store *, const char *token_hash,
	    long long user_id, double now);
/* 1 if the browser's cookie hash belongs to user_id, 0 if not, -1. */
int	 store_device_of(struct store *, const char *token_hash,
	    long long user_id);
int	 store_session_add(struct store *, const char *id_hash,
	    long long user_id, const char *csrf, double now, double expires);
/* A session that has not expired at now: 0, STORE_NOTFOUND or -1. */
int	 store_session_get(struct store *, const char *id_hash, double now,
	    struct store_session *);
int	 store_session_touch(struct store *, const char *id_hash,
	    double expires);
int	 store_session_delete(struct store *, const char *id_hash);
int	 store_session_prune(struct store *, double now);
/* Revives a dead job of integration iid: 0, STORE_NOTFOUND or -1. */
int	 store_job_revive_in(struct store *, const char *iid, long long id,
	    double now);

/* store_view.c: arrays are heap memory freed by the matching _free. */
int	 store_isum_list(struct store *, struct store_isum **, size_t *n);
/* One integration's summary: 0, STORE_NOTFOUND or -1. */
int	 store_isum_get(struct store *, const char *iid, struct store_isum *);
void	 store_isum_release(struct store_isum *);
void	 store_isum_free(struct store_isum *, size_t n);
/* Links newest first, with ids below before (0: from the newest). */
int	 store_link_page(struct store *, const char *iid, long long before,
	    size_t max, struct store_link **, size_t *n);
void	 store_links_free(struct store_link *, size_t n);
/* Sync log entries newest first, with ids below before (0: newest). */
int	 store_log_page(struct store *, const char *iid, long long before,
	    size_t max, struct store_logrow **, size_t *n);
void	 store_logrows_free(struct store_logrow *, size_t n);
/* Dead jobs of the integration, newest first. */
int	 store_job_dead_list(struct store *, const char *iid, size_t max,
	    struct store_job **, size_t *n);
void	 store_jobs_free(struct store_job *, size_t n);

/*
 * Metrics (store_metric.c).  A sample is a name and its rendered label
 * set; counters are sums of what every process added.
 */
struct store_metric {
	char	 name[64];
	char	 labels[192];
	double	 value;
};

/* The jobs of one kind in one state, and when the oldest was queued. */
struct store_jobstat {
	char	 kind[24];
	char	 state[16];
	long long n;
	double	 oldest;		/* its created_at */
};

/* What a scrape computes from the tables. */
struct store_gauges {
	struct store_jobstat jobs[32];
	size_t	 njobs;
	double	 due_since;		/* run_at of the most overdue ready
					   job; 0 when none is due */
	long long integrations;
	long long links;
	long long paused_tokens;	/* upstream pauses not over at now */
};

/*
 * Adds each value to its sample, in one transaction that waits at most
 * wait_ms for the write lock: 0, or -1 (nothing added; STORE_BUSY when
 * the lock was not free in time).
 */
int	 store_metric_add(struct store *, const struct store_metric *, size_t n,
	    long wait_ms);
/* Every sample, ordered by name and labels: heap array, free() it. */
int	 store_metric_list(struct store *, struct store_metric **, size_t *n);
int	 store_gauges(struct store *, double now, struct store_gauges *);

/* store_delivery.c */
/* Records a delivery key: 0 new, STORE_EXISTS seen before. */
int	 store_delivery_seen(struct store *, const char *iid,
	    const char *source, const char *key, double now);
/*
 * Whether a delivery key is recorded, without taking the write lock:
 * 1 yes, 0 no, -1 on error.  A 0 can be stale; store_delivery_seen in the
 * write transaction decides.
 */
int	 store_delivery_known(struct store *, const char *iid,
	    const char *source, const char *key);
/*
 * Forgets at most limit delivery keys received before the time before,
 * the oldest first, in one statement (one short write transaction): the
 * number forgotten, or -1.  A result of limit means more may be left.
 */
int	 store_delivery_prune(struct store *, double before, int limit);
/*
 * When the last delivery of source whose key is still recorded arrived:
 * 1 with *at, 0 when none is, -1 on error.
 */
int	 store_delivery_last(struct store *, const char *iid,
	    const char *source, double *at);

/*
 * Activity (store_activity.c): the hourly counts the dashboard charts
 * (schema 10), the job queue's depth and the sync log's filtered pages.
 * Hours are unix time / 3600.  Arrays are heap memory: free() them, or
 * store_logents_free for log entries.
 */
enum store_act {
	STORE_ACT_DELIVERY,	/* a delivery accepted and queued */
	STORE_ACT_PUSH,		/* an issue created */
	STORE_ACT_SYNC,		/* a sync round that wrote */
	STORE_ACT_CONFLICT,	/* such a round with a conflict */
	STORE_ACT_FAILURE,	/* a push refused, a failed job attempt */
	STORE_ACT_N
};
#define STORE_ACT_BUCKETS	48
/* The kinds as the activity table names them, in enum store_act order. */
extern const char *const store_act_kinds[STORE_ACT_N];

struct store_series {
	long long from_hour;		/* the first bucket starts then */
	int	 width;			/* hours per bucket */
	int	 buckets;
	long long n[STORE_ACT_N][STORE_ACT_BUCKETS];
	long long total[STORE_ACT_N];
};

struct store_acttotal {
	char	 integration_id[33];
	long long n[STORE_ACT_N];
};

/* The jobs of one integration now. */
struct store_queue {
	char	 integration_id[33];
	long long queued;		/* waiting, never tried */
	long long retrying;		/* waiting after a failed attempt */
	long long leased;		/* running */
	long long buried;		/* dead: failed every attempt */
	double	 oldest;		/* created_at of the oldest not dead;
					   0 when none */
	double	 due_since;		/* run_at of the most overdue waiting
					   job; 0 when none is due */
};

/* What the sync log page asks for; NULL and 0 mean any. */
struct store_logq {
	const char *iid;
	const char *feature_id;
	const char *result;		/* ok, error, conflict, info */
	double	 from, to;		/* at in [from, to) */
	long long before;		/* only entries below this one */
	const char *actor;		/* who, any case */
	const char *text;		/* in the detail or the feature */
};

struct store_logent {
	struct store_logrow r;
	char	 integration_id[33];
	char	*integration_name;
	long long link_id;		/* the feature's link now; 0: none */
	char	*feature_name;		/* its last synced name, or NULL */
};

/* Counts one event of kind in the hour of at. */
int	 store_activity_add(struct store *, const char *iid, enum store_act,
	    double at);
/*
 * The counts of iid (NULL: every integration) in nb buckets of width
 * hours, the last ending before end_hour; nb at most STORE_ACT_BUCKETS.
 */
int	 store_activity_series(struct store *, const char *iid,
	    long long end_hour, int width, int nb, struct store_series *);
/* The counts of each integration with any in [from_hour, to_hour). */
int	 store_activity_totals(struct store *, long long from_hour,
	    long long to_hour, struct store_acttotal **, size_t *n);
/* The job queue of each integration that has jobs, by integration id. */
int	 store_queue_stats(struct store *, double now, struct store_queue **,
	    size_t *n);
/*
 * At most max entries matching q, newest first: 0, -1, or STORE_NOTFOUND
 * when q->before names no entry (its integration was deleted).
 */
int	 store_log_find(struct store *, const struct store_logq *, size_t max,
	    struct store_logent **, size_t *n);
void	 store_logents_free(struct store_logent *, size_t n);
/* The statement store_log_find runs for q on SQLite (its plan is tested). */
const char *store_log_sql(const struct store_logq *);

#endif
