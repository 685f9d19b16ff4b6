/*
 * test_model: the randomised model test, in process and at scale.
 *
 * The real engine (the webhook handlers, the store on a SQLite file, the
 * job queue and the sync) runs against Productboard and a tracker held in
 * memory (world.h): GitLab, GitHub or Jira, each with its own API,
 * deliveries, description format and states (Jira: workflow statuses,
 * compared by their class, open or closed, which is what the model's
 * Productboard statuses stand for).  Each sequence starts from a linked
 * feature and issue and mixes, at random: people editing either side
 * (between jobs, or while a job runs, before one of its reads is
 * answered), deliveries handed to pbsync late, out of order, twice, or
 * never, acknowledgements lost, the worker running a job, the worker
 * killed between two of its calls (before or after the service applied
 * the call), calls failing (a 503, or a timeout after the service did the
 * work), and time passing so that leases and backoffs run out.  Then the
 * services recover, the senders deliver what is left (or drop it), a
 * reconcile runs when anything was dropped, and the worker runs until
 * nothing is due.  On the way, a delivery sent again after pbsync
 * acknowledged it must make no job.  Each sequence must then hold:
 *
 *   convergence: both sides agree on title, description and status, and
 *     the link's snapshot is what both sides hold;
 *   no lost change: a field ends with the last value a person gave it,
 *     or, when people on both sides edited it before pbsync had settled
 *     it, with the last value of one of the two (the conflict policy);
 *   no echo: pbsync writes a side at most once per edit made on the other
 *     side, and never writes a value a side already holds;
 *   the issue keeps pbsync's footer, no job died, and pbsync made no call
 *     the services would not answer.
 *
 * PBSYNC_MODEL_RUNS (default 10000) sequences per tracker, with seeds 1..N;
 * PBSYNC_MODEL_SEED=N runs the one sequence of that seed (or RUNS from N);
 * PBSYNC_MODEL_LOG=file keeps pbsync's own log (at debug level) there;
 * PBSYNC_MODEL_TRACES=prefix writes every sequence's outcome and steps,
 * one line each, to prefix.<tracker> (two runs' files compare with diff);
 * PBSYNC_MODEL_CALLS=1 prints each step and each call pbsync makes, with
 * its answer, on stderr as they happen (for a replay).
 * PBSYNC_MODEL_TRACKER=gitlab, github or jira runs one tracker, in this
 * process (else each tracker runs in a child of its own, so that they
 * share the cores).  The same seed takes the same steps on GitLab and
 * GitHub; on Jira the steps are drawn alike, but a person's status edit
 * may move the issue between its two open statuses, and an edit during a
 * job can fall between a transition and the write that follows it.  A failing
 * sequence, or one a sanitizer stops, prints its seed and its steps.
 *
 * Time is the model's (util_now is wrapped at link time, see
 * Makefile.am), so a replay takes the same steps; the upstream pacing's
 * sleeps and the backoff's jitter are wrapped too.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "app/app.h"
#include "base/crypto.h"
#include "base/proc.h"
#include "base/util.h"
#include "flows/ctx.h"
#include "flows/hook.h"
#include "flows/jobs.h"
#include "flows/push.h"
#include "world.h"
#include "../unit/tstore.h"

#define IID		"0123456789abcdef0123456789abcdef"
#define STATUS_MAP	"{\"to_tracker\":{\"st-new\":{\"state\":\"opened\"}," \
			"\"st-prog\":{\"state\":\"opened\"},\"st-done\":" \
			"{\"state\":\"closed\"}},\"to_productboard\":" \
			"{\"opened\":\"st-prog\",\"closed\":\"st-done\"}}"
/*
 * Jira's map names its statuses three ways, as an admin may: a status
 * (In Progress), a status category (new: To Do) and a class (closed);
 * Productboard's "st-new" asks for any open status.
 */
#define JIRA_STATUS_MAP	"{\"to_tracker\":{\"st-new\":{\"state\":\"opened\"}," \
			"\"st-prog\":{\"state\":\"In Progress\"}," \
			"\"st-done\":{\"state\":\"closed\"}}," \
			"\"to_productboard\":" \
			"{\"In Progress\":\"st-prog\",\"new\":\"st-new\"," \
			"\"closed\":\"st-done\"}}"
#define MAX_ROUNDS	30	/* quiescence: rounds of time passing */
#define MAX_JOBS	200	/* jobs in one round before it is a loop */
#define SHOW_FAILED	5	/* failing sequences printed in full */

/* -- the model's time, sleeps and jitter (linked in with --wrap) ------- */

static struct world	 w;	/* the services of the running sequence */

const char *__asan_default_options(void);
void	 __asan_on_error(void);
/* LeakSanitizer's interface, present only under the sanitizers. */
void	 __lsan_disable(void) __attribute__((weak));
void	 __lsan_enable(void) __attribute__((weak));
double	 __wrap_util_now(void);
int	 __wrap_usleep(useconds_t);
uint32_t __wrap_randombytes_uniform(uint32_t);

double
__wrap_util_now(void)
{
	return WORLD_T0 + (double)w.now;
}

/* The pacing of upstream calls waits for real time: the model has none. */
int
__wrap_usleep(useconds_t us)
{
	(void)us;
	return 0;
}

/* The backoff's jitter, fixed so that a seed replays the same steps. */
uint32_t
__wrap_randombytes_uniform(uint32_t upper)
{
	return upper / 2;
}

/*
 * Under AddressSanitizer: a quarantine of 8 MB instead of 256 keeps the
 * freed memory of the last few sequences poisoned (a use after free is
 * still caught) without paging the whole quarantine in and out, which
 * made the test several times slower.  Ignored without the sanitizer.
 */
const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=8";
}

/* The sequence under way, for a sanitizer's report. */
static struct {
	const char	*kind;
	unsigned long long seed;
	const char	*trace;
} now_running;

/* Called by AddressSanitizer before its report: which seed to replay. */
void
__asan_on_error(void)
{
	if (now_running.kind == NULL)
		return;
	printf("# sanitizer report in %s seed %llu\n#   replay: "
	    "PBSYNC_MODEL_TRACKER=%s PBSYNC_MODEL_SEED=%llu\n#   steps: %s\n",
	    now_running.kind, now_running.seed, now_running.kind,
	    now_running.seed, now_running.trace);
	fflush(stdout);
}

/* -- the transport: the services in memory, and their faults --------- */

/* Answers a call from the world into rs, as the service would. */
static void
answer(const struct http_req *rq, struct http_resp *rs)
{
	cJSON	*out = NULL;
	char	*text = NULL;

	rs->status = world_serve(&w, rq, &out);
	snprintf(rs->content_type, sizeof(rs->content_type),
	    "application/json");
	if (out != NULL && (text = cJSON_PrintUnformatted(out)) != NULL &&
	    buf_puts(&rs->body, text) == -1)
		rs->status = 500;
	cJSON_free(text);
	cJSON_Delete(out);
}

/*
 * A worker killed mid-job: the call at which it dies (0: none), and
 * whether the service applied that call first.  The kill leaves the job
 * through crash_jmp, as a killed process leaves everything.
 */
static int	 crash_at, crash_after, calls;
static jmp_buf	 crash_jmp;
/*
 * The sides (1 << side) written by a round cut short after the write:
 * its worker was killed, or a call of its job failed (the write's own
 * answer lost in a timeout after the service did it, or a later call:
 * Jira's backend reads the issue again after a write, and a failed read
 * is to pbsync a write whose answer never came).  Neither API has
 * conditional writes or a history pbsync reads, so when a person then
 * edits that side back, the next round cannot tell whether the write
 * landed: pbsync may write once more (README, "Limits").  job_pbw and
 * job_trw are the writes counted when the running job started.
 */
static int	 cut_sides, job_pbw, job_trw;
/* PBSYNC_MODEL_CALLS: the steps and calls, on stderr. */
static int	 verbose;
/* Called before a read is answered: people edit while a job runs. */
static void	(*meanwhile)(void);
/*
 * Whether the service fails this call: 0 no, 1 with a 503 before doing
 * anything, 2 after doing it, with an answer that never comes (the
 * client's timeout).
 */
static int	(*fault)(void);

/* A job starts: the writes it makes are counted from here. */
static void
job_start(void)
{
	job_pbw = w.pb_writes;
	job_trw = w.tr_writes;
}

/* The sides the running job wrote, cut short now. */
static void
cut_job(void)
{
	cut_sides |= (w.tr_writes > job_trw) << SIDE_TR |
	    (w.pb_writes > job_pbw) << SIDE_PB;
}

/* http_do's transport: the services answer, fail, or the worker dies. */
static enum http_err
local(void *arg, const struct http_req *rq, struct http_resp *rs)
{
	int	 f = fault != NULL ? fault() : 0;

	(void)arg;
	if (crash_at > 0 && ++calls == crash_at && !crash_after)
		longjmp(crash_jmp, 1);
	if (meanwhile != NULL && strcmp(rq->method, "GET") == 0)
		meanwhile();
	if (f == 1) {
		cut_job();
		rs->status = 503;
		if (verbose)
			fprintf(stderr, "    %s %s -> 503 (failed)\n",
			    rq->method, rq->url);
		return HTTP_OK;
	}
	answer(rq, rs);
	if (verbose)
		fprintf(stderr, "    %s %s%s -> %ld %.*s\n", rq->method,
		    rq->url, f == 2 ? " (answer lost)" : "", (long)rs->status,
		    rq->body != NULL ? (int)rq->bodylen : 0,
		    rq->body != NULL ? rq->body : "");
	if (f == 2) {
		cut_job();
		buf_reset(&rs->body);
		return HTTP_ETIMEOUT;
	}
	if (crash_at > 0 && calls == crash_at)
		longjmp(crash_jmp, 1);
	return HTTP_OK;
}

/* -- the process that runs pbsync ------------------------------------- */

struct env {
	char		 dir[256];
	char		 db[300], wal[310], shm[310];
	struct app	 app;
	const struct tracker_ops *ops;
	char		*tmpl;		/* the template database */
	size_t		 tmpl_len;
	const char	*pg;		/* PostgreSQL: the schema's URI */
	struct world	 tmpl_world;
};

static int
fail_setup(const char *what)
{
	printf("# model setup: %s\n", what);
	return -1;
}

/* The integration as integ_create stores it: sealed tokens, hashes. */
static int
add_integration(struct env *e)
{
	struct store_integration in;
	char		 h1[CRYPTO_HASH_LEN + 1], h2[CRYPTO_HASH_LEN + 1],
			 h3[CRYPTO_HASH_LEN + 1];
	int		 rc, sealed = e->ops->auth == TRACKER_AUTH_HMAC_SHA256;

	memset(&in, 0, sizeof(in));
	memcpy(in.id, IID, sizeof(in.id));
	crypto_digest("plugin-secret-of-the-model", h1);
	crypto_digest(W_PBHOOK_SECRET, h2);
	crypto_digest(W_TRHOOK_SECRET, h3);
	in.name = "Model";
	in.column_label = "Model";
	in.pb_token = crypto_seal(&e->app.key, W_PB_TOKEN, IID ":pb_token");
	in.pb_token_tail = "odel";
	in.tracker_kind = (char *)e->ops->kind;
	in.tracker_url = W_TR_URL;
	in.tracker_token = crypto_seal(&e->app.key, W_TR_TOKEN,
	    IID ":tracker_token");
	in.tracker_token_tail = "odel";
	in.tracker_project = w.kind == KIND_GITHUB ? W_GH_REPO :
	    w.kind == KIND_JIRA ? W_JIRA_PROJECT ":" W_JIRA_TYPE : "1001";
	in.tracker_project_name = w.kind == KIND_GITHUB ? W_GH_REPO :
	    w.kind == KIND_JIRA ? W_JIRA_KEY : "g/p";
	in.tracker_project_url = "https://tracker.model.test/project";
	in.tracker_options = w.kind == KIND_JIRA ? "{\"email\":\""
	    W_JIRA_EMAIL "\"}" : NULL;
	in.pb_plugin_id = W_PLUGIN;
	in.pb_webhook_id = "5b7e0c1d-0000-4000-8000-0000000000bb";
	in.tracker_hook_id = "77";
	in.plugin_secret = h1;
	in.pb_hook_secret = h2;
	/* A signing tracker keeps the secret itself, sealed. */
	in.tracker_hook_secret = sealed ? crypto_seal(&e->app.key,
	    W_TRHOOK_SECRET, IID ":tracker_hook_secret") : h3;
	in.status_map = w.kind == KIND_JIRA ? JIRA_STATUS_MAP : STATUS_MAP;
	in.conflict_policy = "latest";
	in.delete_policy = "keep";
	rc = in.pb_token == NULL || in.tracker_token == NULL ||
	    in.tracker_hook_secret == NULL ? -1 :
	    store_integration_insert(&e->app.store, &in);
	free(in.pb_token);
	free(in.tracker_token);
	if (sealed)
		free(in.tracker_hook_secret);
	return rc == 0 ? 0 : fail_setup("cannot store the integration");
}

static long
read_body(void *arg, char *p, size_t n)
{
	const char	**at = arg;
	size_t		 left = strlen(*at);

	if (n > left)
		n = left;
	memcpy(p, *at, n);
	*at += n;
	return (long)n;
}

/* Adds "NAME=value" to a CGI environment of fixed room. */
static void
param(char **env, char h[][300], int *n, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(h[*n], sizeof(h[0]), fmt, ap);
	va_end(ap);
	env[*n] = h[*n];
	env[++*n] = NULL;
}

/* Hands a delivery to pbsync's handler as nginx would: the status. */
static int
deliver(struct env *e, const struct world_delivery *d)
{
	char		 h[8][300];
	char		*env[9];
	const char	*at = d->body;
	struct req_reader rd = { read_body, &at };
	struct req	 rq;
	struct resp	 rs;
	int		 st, n = 0;

	param(env, h, &n, "REQUEST_METHOD=POST");
	param(env, h, &n, "CONTENT_TYPE=application/json");
	param(env, h, &n, "CONTENT_LENGTH=%zu", strlen(d->body));
	param(env, h, &n, "DOCUMENT_URI=/webhooks/%s/" IID,
	    d->side == SIDE_PB ? "productboard" : "gittab");
	if (d->side == SIDE_PB)
		param(env, h, &n, "HTTP_AUTHORIZATION=%s", d->auth);
	else if (w.kind == KIND_GITHUB) {
		param(env, h, &n, "HTTP_X_GITHUB_EVENT=issues");
		param(env, h, &n, "HTTP_X_GITHUB_DELIVERY=%s", d->key);
		param(env, h, &n, "HTTP_X_HUB_SIGNATURE_256=%s", d->auth);
	} else if (w.kind == KIND_JIRA) {
		param(env, h, &n, "HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER=%s",
		    d->key);
		param(env, h, &n, "HTTP_X_HUB_SIGNATURE=%s", d->auth);
	} else {
		param(env, h, &n, "HTTP_X_GITLAB_EVENT=Issue Hook");
		param(env, h, &n, "HTTP_X_GITLAB_TOKEN=%s", d->auth);
		param(env, h, &n, "HTTP_IDEMPOTENCY_KEY=%s", d->key);
	}
	req_init(&rq, env);
	resp_init(&rs);
	if (d->side == SIDE_PB)
		hook_pb_handle(&e->app, &rq, &rs, &rd);
	else
		hook_tracker_handle(&e->app, &rq, &rs, &rd);
	st = rs.status;
	resp_release(&rs);
	req_release(&rq);
	return st;
}

/* Runs due jobs until none is left: 0, or -1 on a store error or a loop. */
static int
drain(struct env *e)
{
	int	 n, rc;

	for (n = 0; n < MAX_JOBS; n++) {
		job_start();
		if ((rc = jobs_run_one(&e->app)) != 1)
			return rc;
	}
	return -1;
}

static int
write_file(const char *path, const char *p, size_t n)
{
	FILE	*f;
	int	 rc;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	rc = fwrite(p, 1, n, f) == n ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int
read_file(const char *path, char **p, size_t *n)
{
	FILE	*f;
	long	 len;
	int	 rc = -1;

	*p = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (*p = malloc((size_t)len)) != NULL &&
	    fread(*p, 1, (size_t)len, f) == (size_t)len) {
		*n = (size_t)len;
		rc = 0;
	}
	fclose(f);
	return rc;
}

/* The world as a person left it before the push, and the push itself. */
static int
link_feature(struct env *e)
{
	struct ctx	 c;
	cJSON		*conn;
	int		 i;

	snprintf(w.f.name, sizeof(w.f.name), "Model feature");
	snprintf(w.f.desc, sizeof(w.f.desc), "<p>first text</p>");
	snprintf(w.f.status, sizeof(w.f.status), "st-new");
	if (ctx_load(&c, &e->app, IID) != 0)
		return fail_setup("cannot load the integration");
	conn = push_click(&c, W_FEATURE, "Model <model@example.com>", 4000,
	    NULL, NULL);
	cJSON_Delete(conn);
	ctx_close(&c);
	/* The push's safety-net job and the first delivery. */
	for (i = 0; i < 4; i++) {
		while (w.npool > 0)
			deliver(e, &w.pool[--w.npool]);
		w.now += 5000;
		if (drain(e) == -1)
			return fail_setup("the jobs of the push do not end");
	}
	if (!w.i.exists || w.unexpected || w.pb_writes || w.tr_writes)
		return fail_setup(w.unexpected ? w.what : "the push did not "
		    "make one issue, and nothing else");
	return 0;
}

/*
 * Unsets the PBSYNC_ variables but the model's own and the test server's
 * (tstore.h): any of them would override the test's configuration (a
 * database of someone's, say).
 */
static void
forget_settings(void)
{
	extern char	**environ;
	char		 name[128];
	size_t		 n, len;

	for (n = 0; environ[n] != NULL; n++) {
		len = strcspn(environ[n], "=");
		if (strncmp(environ[n], "PBSYNC_", 7) != 0 ||
		    strncmp(environ[n], "PBSYNC_MODEL_", 13) == 0 ||
		    strncmp(environ[n], "PBSYNC_TEST_PG=", 15) == 0 ||
		    len >= sizeof(name))
			continue;
		memcpy(name, environ[n], len);
		name[len] = '\0';
		unsetenv(name);
		n = (size_t)-1;		/* environ changed: from the start */
	}
}

/*
 * On PostgreSQL the template is a copy of each table in a schema of its
 * own, and model_reset() puts every table back as the copy has it: faster
 * than a database made again, and the identities start where they were.
 * The replication role skips the triggers and the foreign keys, which
 * the copies satisfied when they were made.
 */
#define PG_KEEP \
	"DO $$ DECLARE k text := current_schema() || '_t'; t text; BEGIN" \
	" EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', k);" \
	" EXECUTE format('CREATE SCHEMA %I', k);" \
	" FOR t IN SELECT tablename FROM pg_tables WHERE schemaname =" \
	"  current_schema() LOOP" \
	"  EXECUTE format('CREATE TABLE %I.%I AS TABLE %I', k, t, t);" \
	" END LOOP; END $$;" \
	"CREATE FUNCTION model_reset() RETURNS void LANGUAGE plpgsql AS $$" \
	" DECLARE k text := current_schema() || '_t'; t text; s record;" \
	" BEGIN SET LOCAL session_replication_role = replica;" \
	" FOR t IN SELECT tablename FROM pg_tables WHERE schemaname =" \
	"  current_schema() LOOP" \
	"  EXECUTE format('DELETE FROM %I', t);" \
	"  EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE" \
	"   SELECT * FROM %I.%I', t, k, t);" \
	" END LOOP;" \
	" FOR s IN SELECT d.refobjid::regclass AS tab, a.attname AS col," \
	"  c.oid::regclass AS seq FROM pg_class c JOIN pg_depend d ON" \
	"  d.objid = c.oid AND d.deptype = 'i' JOIN pg_attribute a ON" \
	"  a.attrelid = d.refobjid AND a.attnum = d.refobjsubid" \
	"  WHERE c.relkind = 'S' AND c.relnamespace =" \
	"  current_schema()::regnamespace LOOP" \
	"  EXECUTE format('SELECT setval(%L, coalesce(max(%I), 0) + 1," \
	"   false) FROM %s', s.seq, s.col, s.tab);" \
	" END LOOP; END $$"

/* Builds the database and the world every sequence starts from. */
static int
setup(struct env *e, enum world_kind kind)
{
	FILE	*f;
	char	 conf[300], key[300], *t = getenv("TMPDIR");
	const char *log;
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
		    t != NULL && *t != '\0' ? t : "/tmp";

	memset(e, 0, sizeof(*e));
	memset(&w, 0, sizeof(w));
	w.kind = kind;
	e->ops = tracker_find(world_kind_name(kind));
	snprintf(e->dir, sizeof(e->dir), "%s/pbsync-model.XXXXXX", base);
	if (e->ops == NULL || mkdtemp(e->dir) == NULL)
		return fail_setup("cannot make a directory");
	snprintf(conf, sizeof(conf), "%s/pbsync.conf", e->dir);
	snprintf(key, sizeof(key), "%s/pbsync.key", e->dir);
	snprintf(e->db, sizeof(e->db), "%s/pbsync.db", e->dir);
	snprintf(e->wal, sizeof(e->wal), "%s-wal", e->db);
	snprintf(e->shm, sizeof(e->shm), "%s-shm", e->db);
	if (t_store_pg())
		e->pg = t_store_where(e->db);
	if ((f = fopen(conf, "w")) == NULL)
		return fail_setup("cannot write the configuration");
	/* pbsync's log only where a replay asks for it: it can grow big. */
	log = getenv("PBSYNC_MODEL_LOG");
	/*
	 * The CPU budget of a job is a limit on the whole process's CPU
	 * time, set from getrusage(): here one process runs every job of
	 * thousands of sequences, and on a machine whose kernel counts
	 * more CPU time for the limit than getrusage() shows (a VM), the
	 * budget of a job ran out at once after some 40 s of the run.  The
	 * model has no job that spins: the budget is not its subject.
	 */
	fprintf(f, "database = %s\nkey_file = %s\nlog_level = %s\n"
	    "log_file = %s\npublic_url = https://pbsync.model.test\n"
	    "cpu_budget_s = 3600\n"
	    "productboard_api_url = " W_PB_URL "\n", e->pg != NULL ? e->pg :
	    e->db, key,
	    log != NULL && *log != '\0' ? "debug" : "error",
	    log != NULL && *log != '\0' ? log : "/dev/null");
	fclose(f);
	forget_settings();
	setenv("PBSYNC_CONFIG", conf, 1);
	if (crypto_init() == -1 || crypto_key_create(key) == -1)
		return fail_setup("cannot make the key file");
	if (app_open(&e->app, "test_model") == -1 || !e->app.store_ok)
		return fail_setup("cannot open pbsync");
	http_set_transport(local, NULL);
	if (add_integration(e) == -1 || link_feature(e) == -1)
		return -1;
	if (e->pg != NULL && db_exec(e->app.store.conn, PG_KEEP) == -1)
		return fail_setup(db_errmsg(e->app.store.conn));
	store_close(&e->app.store);
	e->app.store_ok = 0;
	if (e->pg == NULL && read_file(e->db, &e->tmpl, &e->tmpl_len) == -1)
		return fail_setup("cannot read the template database");
	w.pb_writes = w.tr_writes = 0;
	e->tmpl_world = w;
	return 0;
}

static void
teardown(struct env *e)
{
	char	 p[300];

	if (e->app.store_ok)
		store_close(&e->app.store);
	e->app.store_ok = 0;
	app_close(&e->app);
	http_set_transport(NULL, NULL);
	free(e->tmpl);
	if (e->pg != NULL) {
		snprintf(p, sizeof(p), "DROP SCHEMA IF EXISTS %s_t CASCADE",
		    t_store_schema[0]);
		t_store_admin(p);
	}
	t_store_done();
	unlink(e->db);
	unlink(e->wal);
	unlink(e->shm);
	snprintf(p, sizeof(p), "%s/pbsync.conf", e->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/pbsync.key", e->dir);
	unlink(p);
	rmdir(e->dir);
}

/*
 * Drops pbsync's database connection as a process that ends drops it:
 * without the checkpoint SQLite makes when a last connection closes, so
 * the log stays as the process left it (and no time goes into copying a
 * database the next sequence replaces).
 */
static void
drop_store(struct env *e)
{
	if (e->app.store_ok && e->app.store.db != NULL)
		sqlite3_db_config(e->app.store.db,
		    SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	store_close(&e->app.store);
	e->app.store_ok = 0;
}

/* -- one sequence ------------------------------------------------------ */

struct counts {
	long	 seqs, failed, edits, delivered, duplicated, dropped;
	long	 reordered, acks_lost, crashes, steps, writes, reconciles;
	long	 concurrent, faults, windows;
};

struct seq {
	uint64_t	 rng;
	char		 trace[6144];
	size_t		 tlen;
	int		 edits[2];	/* by people, per side */
	int		 window;	/* an edit on the side of a cut write */
	/* Per field, the last value each side's people gave it since the
	   field was last settled (both sides and the snapshot agreeing). */
	int		 given[F_COUNT][2];
	char		 last[F_COUNT][2][WORLD_TEXT];
	int		 dropped;
	int		 edits_left;	/* people's edits still to come */
	int		 mid_pct;	/* chance of one before a read */
	int		 fault_pct;	/* chance that a call fails */
	char		 why[300];
	struct counts	*n;
	struct env	*e;
};

static struct seq	*running;	/* for meanwhile() */

static uint64_t
rnd(struct seq *s, uint64_t below)
{
	uint64_t	 z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) % below;
}

static void
step(struct seq *s, const char *fmt, ...)
{
	va_list	 ap;
	int	 k;
	size_t	 start = s->tlen;

	if (s->tlen + 2 >= sizeof(s->trace))
		return;
	va_start(ap, fmt);
	k = vsnprintf(s->trace + s->tlen, sizeof(s->trace) - s->tlen, fmt,
	    ap);
	va_end(ap);
	if (k > 0)
		s->tlen += (size_t)k;
	if (s->tlen >= sizeof(s->trace) - 2)
		s->tlen = sizeof(s->trace) - 2;
	if (verbose)
		fprintf(stderr, "%s\n", s->trace + start);
	s->trace[s->tlen++] = ' ';
	s->trace[s->tlen] = '\0';
}

/* Notes the first reason a sequence fails: always 1. */
static int
failed(struct seq *s, const char *fmt, ...)
{
	va_list	 ap;

	if (s->why[0] != '\0')
		return 1;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return 1;
}

static const char *const field_names[F_COUNT] = { "name", "desc", "status" };

/* The state a Productboard status stands for in the status map. */
static const char *
state_of(const char *status)
{
	return strcmp(status, "st-done") == 0 ? "closed" : "opened";
}

/* "<p>x</p>" → "x": the text a feature's description holds. */
static void
pb_text(const char *html, char *out, size_t len)
{
	size_t	 n = strlen(html);

	if (n >= 7 && strncmp(html, "<p>", 3) == 0 &&
	    strcmp(html + n - 4, "</p>") == 0)
		snprintf(out, len, "%.*s", (int)(n - 7), html + 3);
	else
		snprintf(out, len, "?%s", html);	/* matches nothing */
}

/* A field's value on one side, in words both sides share. */
static void
value(enum world_side side, enum world_field f, char *out, size_t len)
{
	if (f == F_NAME)
		snprintf(out, len, "%s", side == SIDE_PB ? w.f.name :
		    w.i.title);
	else if (f == F_DESC && side == SIDE_PB)
		pb_text(w.f.desc, out, len);
	else if (f == F_DESC)
		mem_tracker_text(&w, out, len);
	else
		snprintf(out, len, "%s", side == SIDE_PB ?
		    state_of(w.f.status) :
		    mem_tracker_class(w.kind, w.i.state));
}

/*
 * 1 if both sides hold the same value of f and the link's snapshot is
 * exactly what they hold; 0 if not; -1 when the link is gone.
 */
static int
settled(struct env *e, enum world_field f, char *why, size_t len)
{
	struct store_link l;
	char		 a[WORLD_DESC], b[WORLD_DESC], sa[WORLD_DESC],
			 sb[WORLD_DESC];
	int		 ok;

	if (store_link_get(&e->app.store, IID, W_FEATURE, &l) != 0)
		return -1;
	value(SIDE_PB, f, a, sizeof(a));
	value(SIDE_TR, f, b, sizeof(b));
	if (f == F_NAME) {
		snprintf(sa, sizeof(sa), "%s", l.snap_name ? l.snap_name : "");
		snprintf(sb, sizeof(sb), "%s", sa);
	} else if (f == F_DESC) {
		/* The snapshot keeps each side's own text. */
		ok = l.snap_pb_desc != NULL &&
		    strcmp(l.snap_pb_desc, w.f.desc) == 0;
		pb_text(ok ? l.snap_pb_desc : "", sa, sizeof(sa));
		snprintf(sb, sizeof(sb), "%s", l.snap_tracker_desc ?
		    l.snap_tracker_desc : "");
		while (strlen(sb) > 0 && (sb[strlen(sb) - 1] == '\n' ||
		    sb[strlen(sb) - 1] == ' '))
			sb[strlen(sb) - 1] = '\0';
		/* Jira's is an ADF document: its text, as the issue's. */
		if (w.kind == KIND_JIRA)
			mem_tracker_desc_text(w.kind, l.snap_tracker_desc ?
			    l.snap_tracker_desc : "", sb, sizeof(sb));
	} else {
		ok = l.snap_status != NULL &&
		    strcmp(l.snap_status, w.f.status) == 0;
		snprintf(sa, sizeof(sa), "%s", ok ? state_of(l.snap_status) :
		    "?");
		/* The state itself (a Jira status), compared by its class. */
		ok = l.snap_state != NULL && strcmp(l.snap_state, w.i.state) ==
		    0;
		snprintf(sb, sizeof(sb), "%s", !ok ? "?" :
		    mem_tracker_class(w.kind, l.snap_state));
	}
	ok = strcmp(a, b) == 0 && strcmp(a, sa) == 0 && strcmp(b, sb) == 0;
	if (!ok && why != NULL)
		snprintf(why, len, "%s: productboard \"%.60s\", tracker "
		    "\"%.60s\", snapshot \"%.60s\"/\"%.60s\"",
		    field_names[f], a, b, sa, sb);
	store_link_release(&l);
	return ok;
}

/* A person edits one field on one side. */
static void
edit(struct env *e, struct seq *s)
{
	enum world_side	 side = rnd(s, 2) ? SIDE_TR : SIDE_PB;
	enum world_field f = (enum world_field)rnd(s, F_COUNT);
	/* Numbered in the sequence, so that a replay shows the same values. */
	unsigned	 n = (unsigned)(s->edits[0] + s->edits[1] + 1);

	/* A field both sides and the snapshot agree on starts afresh. */
	if (settled(e, f, NULL, 0) == 1)
		s->given[f][0] = s->given[f][1] = 0;
	if (side == SIDE_PB)
		mem_pb_edit(&w, f, n);
	else
		mem_tracker_edit(&w, f, n);
	s->edits[side]++;
	s->n->edits++;
	if ((cut_sides & 1 << side) && !s->window) {
		s->window = 1;
		s->n->windows++;
	}
	s->given[f][side] = 1;
	value(side, f, s->last[f][side], sizeof(s->last[f][side]));
	if (side == SIDE_TR && f == F_STATUS && w.kind == KIND_JIRA)
		step(s, "tr:status=%s(%s)", s->last[f][side], w.i.state);
	else
		step(s, "%s:%s=%s", side == SIDE_PB ? "pb" : "tr",
		    field_names[f], s->last[f][side]);
}

/* Jobs waiting or running, or -1. */
static long long
jobs(struct env *e)
{
	struct store_health h;

	if (store_health(&e->app.store, &h) == -1)
		return -1;
	return h.jobs_ready + h.jobs_leased;
}

/*
 * A person edits while a job runs, before the service answers one of its
 * reads: the read sees the edit or not, as the service orders them.
 */
static void
edit_meanwhile(void)
{
	struct seq	*s = running;

	if (s == NULL || s->edits_left == 0 || (int)rnd(s, 100) >= s->mid_pct)
		return;
	step(s, "(during the job)");
	s->n->concurrent++;
	s->edits_left--;
	edit(s->e, s);
}

/* A service fails one call in fault_pct, half of them after doing it. */
static int
fail_call(void)
{
	struct seq	*s = running;

	if (s == NULL || (int)rnd(s, 1000) >= s->fault_pct * 10)
		return 0;
	s->n->faults++;
	step(s, "(call failed)");
	return 1 + (int)rnd(s, 2);
}

/* Removes pool entry i. */
static void
take_out(int i)
{
	memmove(&w.pool[i], &w.pool[i + 1], (size_t)(w.npool - i - 1) *
	    sizeof(w.pool[0]));
	w.npool--;
}

/*
 * The sender hands delivery i to pbsync: removed from the pool once
 * acknowledged, kept (to be sent again) when it was not or when keep.
 */
static int
send_one(struct env *e, struct seq *s, int i, int keep, const char *how)
{
	struct world_delivery d = w.pool[i];
	/* Counted only where it is checked: the count is not free. */
	int		 again = d.acked && d.key[0] != '\0';
	long long	 before = again ? jobs(e) : 0;
	int		 st = deliver(e, &d);

	s->n->delivered++;
	step(s, "deliver:%s%s%s=%d", d.side == SIDE_PB ? "pb" : "tr",
	    d.echo ? "(echo)" : "", how, st);
	/* A delivery id pbsync acknowledged is known: no second job. */
	if (again && jobs(e) != before)
		return failed(s, "a delivery sent again made a job");
	if (st == 200 || st == 204) {
		if (!keep)
			take_out(i);
		else
			w.pool[i].acked = 1;
		return 0;
	}
	if (st == 503)
		return 0;	/* the sender tries again later */
	return failed(s, "pbsync answered %d to a good delivery", st);
}

/*
 * The worker runs one job and is killed at its call number `at`: before
 * the service applied it, or after (the answer never comes back).  The
 * killed job is left where it stood: its database connection is closed
 * without a word (SQLite rolls back what was not committed, as for a
 * process that died), its memory is abandoned, and its lease and link
 * lock stay until time passes.  1 if the kill came, 0 if the job ended
 * first, -1 on a store error.
 */
static int
crash_step(struct env *e, int at, int after)
{
	volatile int	 rc = 0;

	crash_at = at;
	crash_after = after;
	calls = 0;
	/* What the dead job held is not a leak of the engine's. */
	if (__lsan_disable != NULL)
		__lsan_disable();
	job_start();
	if (setjmp(crash_jmp) == 0)
		rc = jobs_run_one(&e->app) == -1 ? -1 : 0;
	else {
		rc = 1;
		cut_job();
		/* What the process took with it: its deadline, its limit. */
		http_set_deadline(0);
		proc_cpu_budget(0);
		drop_store(e);
	}
	if (__lsan_enable != NULL)
		__lsan_enable();
	crash_at = 0;
	if (rc != -1 && app_store(&e->app) == -1)
		rc = -1;
	return rc;
}

/* Time passes: leases, locks and backoffs run out. */
static void
later(struct seq *s)
{
	w.now += 5000;
	step(s, "time");
}

/*
 * Lets everything settle: the senders deliver what is left (each once),
 * the worker runs what is due, time passes, until neither a delivery nor
 * a job is waiting.  0, or 1 (failed) when that does not happen.
 */
static int
quiesce(struct env *e, struct seq *s)
{
	struct store_health h;
	int		 round;

	for (round = 0; round < MAX_ROUNDS; round++) {
		while (w.npool > 0 && s->why[0] == '\0')
			send_one(e, s, (int)rnd(s, (uint64_t)w.npool), 0, "");
		if (drain(e) == -1)
			return failed(s, "the worker does not settle");
		if (store_health(&e->app.store, &h) == -1)
			return failed(s, "cannot read the queue");
		if (h.jobs_dead > 0)
			return failed(s, "a job died");
		if (w.npool == 0 && h.jobs_ready == 0 && h.jobs_leased == 0)
			return s->why[0] != '\0';
		later(s);
	}
	return failed(s, "still busy after %d rounds", MAX_ROUNDS);
}

/* One random event between the edits. */
static int
event(struct env *e, struct seq *s, int crash_pct, int dup_pct, int drop_pct,
    int reorder, int ack_pct)
{
	uint64_t	 r = rnd(s, 100);
	int		 i, at, after, rc;

	if (r < 45 && w.npool > 0) {
		i = reorder ? (int)rnd(s, (uint64_t)w.npool) : 0;
		s->n->reordered += i > 0;
		if ((int)rnd(s, 100) < drop_pct) {
			step(s, "drop:%s", w.pool[i].side == SIDE_PB ? "pb" :
			    "tr");
			take_out(i);
			s->n->dropped++;
			s->dropped = 1;
			return 0;
		}
		if ((int)rnd(s, 100) < ack_pct) {
			/* Committed, but the answer is lost: sent again. */
			s->n->acks_lost++;
			return send_one(e, s, i, 1, "(ack lost)");
		}
		if ((int)rnd(s, 100) < dup_pct) {
			s->n->duplicated++;
			return send_one(e, s, i, 1, "(dup)");
		}
		return send_one(e, s, i, 0, "");
	}
	if (r < 90) {
		s->n->steps++;
		if ((int)rnd(s, 100) >= crash_pct) {
			step(s, "work");
			job_start();
			return jobs_run_one(&e->app) == -1 ?
			    failed(s, "the worker failed") : 0;
		}
		at = 1 + (int)rnd(s, 6);
		after = (int)rnd(s, 2);
		rc = crash_step(e, at, after);
		step(s, "work(kill at call %d %s)%s", at, after ? "after" :
		    "before", rc == 1 ? "" : ":ended first");
		s->n->crashes += rc == 1;
		return rc == -1 ? failed(s, "the worker failed") : 0;
	}
	later(s);
	return 0;
}

/* The checks at the end of a sequence: 0, or 1 with s->why set. */
static int
check(struct env *e, struct seq *s)
{
	enum world_field f;
	char		 why[400], v[WORLD_DESC];
	int		 rc;

	if (w.unexpected)
		return failed(s, "%s", w.what);
	/* The footer finds the issue again after a crash: it must stay. */
	if (strstr(w.i.desc, "pbsync:feature=" W_FEATURE) == NULL)
		return failed(s, "the issue lost pbsync's footer");
	if (w.lost_pool)
		return failed(s, "the model's delivery pool overflowed");
	if (w.noop_writes)
		return failed(s, "%d write(s) that changed nothing (echo)",
		    w.noop_writes);
	/* One write more is the documented limit of a cut round (cut_sides). */
	if (w.tr_writes > s->edits[SIDE_PB] + s->window)
		return failed(s, "%d tracker writes for %d productboard edits "
		    "(echo)", w.tr_writes, s->edits[SIDE_PB]);
	if (w.pb_writes > s->edits[SIDE_TR] + s->window)
		return failed(s, "%d productboard writes for %d tracker edits "
		    "(echo)", w.pb_writes, s->edits[SIDE_TR]);
	for (f = 0; f < F_COUNT; f++) {
		if ((rc = settled(e, f, why, sizeof(why))) == -1)
			return failed(s, "the link is gone");
		if (rc == 0)
			return failed(s, "not converged: %s", why);
		value(SIDE_PB, f, v, sizeof(v));
		if ((s->given[f][0] || s->given[f][1]) &&
		    !(s->given[f][0] && strcmp(v, s->last[f][0]) == 0) &&
		    !(s->given[f][1] && strcmp(v, s->last[f][1]) == 0))
			return failed(s, "lost change: %s ends \"%s\", the "
			    "last edits were \"%s\" (productboard) and \"%s\" "
			    "(tracker)", field_names[f], v, s->given[f][0] ?
			    s->last[f][0] : "-", s->given[f][1] ?
			    s->last[f][1] : "-");
	}
	return 0;
}

/* Runs the sequence of a seed from the template: 0 passed, 1 failed. */
static int
sequence(struct env *e, uint64_t seed, struct counts *n, struct seq *s)
{
	static const int crash[] = { 0, 10, 25, 50 }, dup[] = { 0, 20, 50 },
	    drop[] = { 0, 0, 0, 20 }, ack[] = { 0, 0, 10 },
	    mid[] = { 0, 0, 30 }, bad[] = { 0, 3, 8 };
	int		 events, cp, dp, xp, ap, reorder;

	memset(s, 0, sizeof(*s));
	cut_sides = 0;
	s->rng = seed * 0x2545f4914f6cdd1dULL;
	s->n = n;
	w = e->tmpl_world;
	unlink(e->wal);
	unlink(e->shm);
	if ((e->pg == NULL && write_file(e->db, e->tmpl, e->tmpl_len) == -1) ||
	    app_store(&e->app) == -1 || (e->pg != NULL &&
	    db_exec(e->app.store.conn, "SELECT model_reset()") == -1))
		return failed(s, "cannot open the sequence's database");
	cp = crash[rnd(s, 4)];
	dp = dup[rnd(s, 3)];
	xp = drop[rnd(s, 4)];
	ap = ack[rnd(s, 3)];
	reorder = (int)rnd(s, 2);
	s->edits_left = 1 + (int)rnd(s, 4);
	s->mid_pct = mid[rnd(s, 3)];
	s->fault_pct = bad[rnd(s, 3)];
	step(s, "[crash %d%% dup %d%% drop %d%% ack-lost %d%% during-job "
	    "%d%% failing calls %d%% %s]", cp, dp, xp, ap, s->mid_pct,
	    s->fault_pct, reorder ? "reordered" : "in order");
	events = 2 + (int)rnd(s, 5);
	s->e = e;
	running = s;
	meanwhile = edit_meanwhile;
	fault = fail_call;
	while ((s->edits_left > 0 || events > 0) && s->why[0] == '\0') {
		if (s->edits_left > 0 && (int)rnd(s, (uint64_t)(s->edits_left +
		    events)) < s->edits_left) {
			edit(e, s);
			s->edits_left--;
		} else {
			event(e, s, cp, dp, xp, reorder, ap);
			events--;
		}
	}
	/* The senders give up on what is left, or deliver it. */
	/* The services recover; the people are done. */
	running = NULL;
	meanwhile = NULL;
	fault = NULL;
	if (s->why[0] == '\0' && w.npool > 0 && xp > 0 && rnd(s, 2)) {
		step(s, "drop:all");
		n->dropped += w.npool;
		w.npool = 0;
		s->dropped = 1;
	}
	if (s->why[0] == '\0' && quiesce(e, s) == 0 && s->dropped) {
		/* Dropped deliveries are what reconcile is for. */
		step(s, "reconcile");
		n->reconciles++;
		if (store_job_enqueue(&e->app.store, IID, "reconcile", "all",
		    NULL, util_now()) != 0)
			failed(s, "cannot enqueue the reconcile");
		else
			quiesce(e, s);
	}
	if (s->why[0] == '\0')
		check(e, s);
	n->writes += w.pb_writes + w.tr_writes;
	drop_store(e);
	return s->why[0] != '\0';
}

static long
env_long(const char *name, long def)
{
	const char	*v = getenv(name);
	char		*end;
	long		 n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= 0 ? n : def;
}

/* Runs the sequences of one tracker and prints its TAP line: 0 or 1. */
static int
tracker(int num, enum world_kind k, uint64_t first, long runs)
{
	struct env	*e;
	struct counts	 n;
	struct seq	*s;
	uint64_t	 seed;
	const char	*kind = world_kind_name(k);
	long		 shown = 0;
	int		 bad = 0;
	struct buf	 more;
	const char	*tpath = getenv("PBSYNC_MODEL_TRACES");
	char		 tname[300];
	FILE		*traces = NULL;

	memset(&n, 0, sizeof(n));
	buf_init(&more, 2048);
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		free(e);
		printf("not ok %d - %s: out of memory\n", num, kind);
		return 1;
	}
	if (tpath != NULL && *tpath != '\0') {
		snprintf(tname, sizeof(tname), "%s.%s", tpath, kind);
		/* A line at a time: a run a sanitizer stops keeps them all. */
		if ((traces = fopen(tname, "w")) != NULL)
			setvbuf(traces, NULL, _IOLBF, 0);
	}
	if (setup(e, k) == -1) {
		printf("not ok %d - %s: setup failed\n", num, kind);
		bad = 1;
		goto out;
	}
	now_running.kind = kind;
	now_running.trace = s->trace;
	for (seed = first; seed < first + (uint64_t)runs; seed++) {
		now_running.seed = seed;
		n.seqs++;
		bad = sequence(e, seed, &n, s);
		if (traces != NULL)
			fprintf(traces, "%s %llu %s: %s\n", kind,
			    (unsigned long long)seed, bad ? s->why : "ok",
			    s->trace);
		if (bad == 0)
			continue;
		n.failed++;
		if (shown >= SHOW_FAILED && more.len < 1000)
			buf_printf(&more, " %llu", (unsigned long long)seed);
		if (shown++ < SHOW_FAILED)
			printf("# %s seed %llu failed: %s\n#   replay: "
			    "PBSYNC_MODEL_TRACKER=%s PBSYNC_MODEL_SEED=%llu\n"
			    "#   steps: %s\n", kind, (unsigned long long)seed,
			    s->why, kind, (unsigned long long)seed, s->trace);
	}
	bad = n.failed > 0;
	if (more.len > 0)
		printf("# %s also failed with the seeds%s\n", kind,
		    buf_str(&more));
	printf("%sok %d - %s: %ld sequences, %ld failed; %ld edits, %ld "
	    "deliveries (%ld duplicated, %ld acks lost, %ld dropped, %ld out "
	    "of order), %ld worker steps, %ld killed mid-job, %ld edits "
	    "during a job, %ld failed calls, %ld reconciles, %ld writes; "
	    "%ld edits of a side whose round was cut after a write\n",
	    bad ? "not " : "", num, kind, n.seqs, n.failed,
	    n.edits, n.delivered, n.duplicated, n.acks_lost, n.dropped,
	    n.reordered, n.steps, n.crashes, n.concurrent, n.faults,
	    n.reconciles, n.writes, n.windows);
out:
	if (traces != NULL)
		fclose(traces);
	teardown(e);
	buf_release(&more);
	free(e);
	free(s);
	return bad;
}

/*
 * Runs a tracker's sequences in a child whose TAP line comes back through
 * a pipe, so the trackers share the cores.  The child's pid, its output
 * in *fd; -1 when it cannot start.
 */
static pid_t
start(int num, enum world_kind k, uint64_t first, long runs, int *fd)
{
	int	 p[2];
	pid_t	 pid;

	fflush(stdout);
	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], STDOUT_FILENO) == -1)
			_exit(2);
		close(p[1]);
		/* 3: failed with its TAP line; a sanitizer exits otherwise. */
		exit(tracker(num, k, first, runs) ? 3 : 0);
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

/* Copies a child's output, then its verdict: 0 passed, 1 failed. */
static int
finish(int num, pid_t pid, int fd)
{
	char	 b[4096];
	ssize_t	 n;
	int	 status;

	while ((n = read(fd, b, sizeof(b))) > 0 || (n == -1 && errno == EINTR))
		if (n > 0)
			fwrite(b, 1, (size_t)n, stdout);
	close(fd);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* A sanitizer's report or a crash: no TAP line came. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 3)
		printf("not ok %d - the run stopped (status %d)\n", num,
		    status);
	return 1;
}

int
main(void)
{
	const char	*only = getenv("PBSYNC_MODEL_TRACKER");
	long		 seed = env_long("PBSYNC_MODEL_SEED", 0);
	long		 runs = env_long("PBSYNC_MODEL_RUNS", seed > 0 ? 1 :
			    10000);
	uint64_t	 first = seed > 0 ? (uint64_t)seed : 1;
	pid_t		 pid[KIND_COUNT];
	int		 fd[KIND_COUNT], bad = 0, t;

#ifdef M_TRIM_THRESHOLD
	/*
	 * glibc gives the top of the heap back after each large free and
	 * faults it in again: thrice the run time here.  Keep it.
	 */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
	verbose = env_long("PBSYNC_MODEL_CALLS", 0) > 0;
	if (only != NULL && *only != '\0') {
		for (t = 0; t < KIND_COUNT && strcmp(only,
		    world_kind_name((enum world_kind)t)) != 0; t++)
			;
		if (t == KIND_COUNT) {
			printf("not ok 1 - PBSYNC_MODEL_TRACKER=%s: not "
			    "gitlab, github or jira\n1..1\n", only);
			return 1;
		}
		bad = tracker(1, (enum world_kind)t, first, runs);
		printf("1..1\n");
		return bad;
	}
	for (t = 0; t < KIND_COUNT; t++)
		if ((pid[t] = start(t + 1, (enum world_kind)t, first, runs,
		    &fd[t])) == -1)
			bad |= tracker(t + 1, (enum world_kind)t, first, runs);
	for (t = 0; t < KIND_COUNT; t++)
		if (pid[t] != -1)
			bad |= finish(t + 1, pid[t], fd[t]);
	printf("1..%d\n", KIND_COUNT);
	return bad;
}
