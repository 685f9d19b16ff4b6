/*
 * pbsyncctl: the admin's shell tool.
 *
 * Its commands are the rows of commands[] at the end of this file: each
 * row names what runs and carries the help that "pbsyncctl --help" and
 * "pbsyncctl help COMMAND" print (ctl.c), which pbsyncctl(8) matches.
 * The handlers parse nothing but their own options and call the flows.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/util.h"
#include "cli/ctl.h"
#include "cli/doctor.h"
#include "flows/integ.h"
#include "flows/jobs.h"
#include "flows/link.h"
#include "notify/notify.h"
#include "trackers/tracker.h"

/* -- notification channels (DESIGN §9): what the API and the page do -- */

static int
channel_list(struct app *a, char *argv[])
{
	struct store_channel	*ch;
	size_t			 n, i;

	if (app_store(a) == -1 ||
	    store_channel_list(&a->store, argv[0], &ch, &n) != 0)
		return 1;
	for (i = 0; i < n; i++)
		printf("%s	...%s	%s	%s	failures %lld%s%s\n",
		    ch[i].type, ch[i].url_tail, ch[i].events,
		    ch[i].active ? "on" : "off", ch[i].failures,
		    ch[i].last_error != NULL ? "\t" : "",
		    ch[i].last_error != NULL ? ch[i].last_error : "");
	store_channels_free(ch, n);
	return 0;
}

static int
channel_test(struct app *a, char *argv[])
{
	char	 msg[512];
	int	 sent;

	sent = notify_test(a, argv[0], argv[1], msg, sizeof(msg)) ==
	    NOTIFY_SENT;
	printf("%s %s\n", sent ? "sent:" : "not sent:", msg);
	return sent ? 0 : 1;
}

/* What a change of a channel says, and a new signing secret. */
struct channel_out {
	char	 msg[512];
	char	 secret[NOTIFY_SECRET_MAX];
};

/*
 * Says how a change of a channel went and shows a new signing secret
 * once: only its sealed form is kept.
 */
static int
channel_changed(enum notify_rc rc, struct channel_out *o)
{
	if (rc != NOTIFY_OK)
		fprintf(stderr, "pbsyncctl: %s\n", o->msg);
	else
		printf("%s\n", o->msg);
	if (rc == NOTIFY_OK && o->secret[0] != '\0')
		printf("signing secret (shown once): %s\n", o->secret);
	crypto_wipe(o->secret, sizeof(o->secret));
	return rc == NOTIFY_OK ? 0 : 1;
}

static int
channel_connect(struct app *a, char *argv[])
{
	struct channel_out o = { "", "" };

	return channel_changed(notify_connect(a, argv[0], argv[1], argv[2],
	    argv[3], o.secret, o.msg, sizeof(o.msg)), &o);
}

static int
channel_disconnect(struct app *a, char *argv[])
{
	struct channel_out o = { "", "" };

	return channel_changed(notify_disconnect(a, argv[0], argv[1], o.msg,
	    sizeof(o.msg)), &o);
}

static int
channel_rotate(struct app *a, char *argv[])
{
	struct channel_out o = { "", "" };

	return channel_changed(notify_rotate(a, argv[0], argv[1], 86400,
	    o.secret, o.msg, sizeof(o.msg)), &o);
}

static int
run_init(struct app *a, char *argv[])
{
	char	 where[PATH_MAX + 64];

	if (access(a->conf.key_file, F_OK) == 0)
		printf("key file %s exists, kept\n", a->conf.key_file);
	else if (crypto_key_create(a->conf.key_file) == -1)
		return 1;
	else
		printf("created key file %s\n", a->conf.key_file);
	if (app_store(a) == -1)
		return 1;
	store_where(a->conf.database, where, sizeof(where));
	printf("database %s at schema version %d\n", where,
	    store_schema_version(&a->store));
	return 0;
}

/* The Argon2id hash of a password read from stdin (heap), or NULL. */
static char *
read_password(void)
{
	char	 pw[512], *hash;

	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "pbsyncctl: no password on stdin\n");
		return NULL;
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	if (strlen(pw) < 10) {
		crypto_wipe(pw, sizeof(pw));
		fprintf(stderr, "pbsyncctl: use at least 10 characters\n");
		return NULL;
	}
	hash = crypto_pw_hash(pw);
	crypto_wipe(pw, sizeof(pw));
	return hash;
}

/* admin add|passwd|remove NAME */
static int
cmd_admin(struct app *a, const char *verb, const char *name)
{
	char	*hash = NULL;
	int	 rc;

	if (strcmp(verb, "remove") != 0 && (hash = read_password()) == NULL)
		return 1;
	if (app_store(a) == -1) {
		free(hash);
		return 1;
	}
	if (strcmp(verb, "add") == 0)
		rc = store_admin_add(&a->store, name, hash);
	else if (strcmp(verb, "passwd") == 0)
		rc = store_admin_passwd(&a->store, name, hash);
	else
		rc = store_admin_remove(&a->store, name);
	free(hash);
	if (rc == STORE_EXISTS)
		fprintf(stderr, "pbsyncctl: admin \"%s\" exists\n", name);
	else if (rc == STORE_NOTFOUND)
		fprintf(stderr, "pbsyncctl: no admin \"%s\"\n", name);
	else if (rc == 0)
		printf("admin \"%s\" %s\n", name, strcmp(verb, "add") == 0 ?
		    "added" : strcmp(verb, "passwd") == 0 ?
		    "has a new password (its sessions end)" : "removed");
	return rc == 0 ? 0 : 1;
}

static int
admin_add(struct app *a, char *argv[])
{
	return cmd_admin(a, "add", argv[0]);
}

static int
admin_passwd(struct app *a, char *argv[])
{
	return cmd_admin(a, "passwd", argv[0]);
}

static int
admin_remove(struct app *a, char *argv[])
{
	return cmd_admin(a, "remove", argv[0]);
}

/* token add NAME --role R: the new token is printed once, only its hash
 * is kept. */
static int
token_add(struct app *a, char *argv[])
{
	char	 tok[CRYPTO_SECRET_LEN + 8], h[CRYPTO_HASH_LEN + 1];
	char	 raw[CRYPTO_SECRET_LEN + 1];
	int	 rc;

	if (strcmp(argv[1], "--role") != 0 || (strcmp(argv[2], "admin") != 0 &&
	    strcmp(argv[2], "viewer") != 0))
		return CTL_USAGE;
	if (app_store(a) == -1)
		return 1;
	if (*argv[0] == '\0' || strlen(argv[0]) > 64 ||
	    !util_text_ok(argv[0], strlen(argv[0]))) {
		fprintf(stderr, "pbsyncctl: a token name is 1 to 64 "
		    "characters\n");
		return 1;
	}
	crypto_random_secret(raw);
	snprintf(tok, sizeof(tok), "pbs_%s", raw);
	crypto_digest(tok, h);
	rc = store_token_add(&a->store, argv[0], h, argv[2], util_now());
	if (rc == STORE_EXISTS)
		fprintf(stderr, "pbsyncctl: token \"%s\" exists\n", argv[0]);
	else if (rc == 0)
		printf("%s\n", tok);
	crypto_wipe(raw, sizeof(raw));
	crypto_wipe(tok, sizeof(tok));
	return rc == 0 ? 0 : 1;
}

static int
token_remove(struct app *a, char *argv[])
{
	int	 rc;

	if (app_store(a) == -1)
		return 1;
	if ((rc = store_token_remove(&a->store, argv[0])) == 0)
		printf("token \"%s\" removed\n", argv[0]);
	else if (rc == STORE_NOTFOUND)
		fprintf(stderr, "pbsyncctl: no token \"%s\"\n", argv[0]);
	return rc == 0 ? 0 : 1;
}

static int
integration_add(struct app *a, char *argv[])
{
	const struct tracker_ops *ops;
	struct integ_form f;
	cJSON		*opts = cJSON_CreateObject();
	char		 id[33], err[512], *opt = NULL;
	const char	*eq;
	int		 i, rc = CTL_USAGE;

	memset(&f, 0, sizeof(f));
	for (i = 0; argv[i] != NULL && argv[i + 1] != NULL; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--option") == 0 && (eq = strchr(v, '=')) !=
		    NULL && eq > v) {
			/* NAME=VALUE: one of the tracker's settings. */
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)(eq - v), v);
			cJSON_DeleteItemFromObjectCaseSensitive(opts, name);
			cJSON_AddStringToObject(opts, name, eq + 1);
		} else if (strcmp(k, "--name") == 0)
			f.name = v;
		else if (strcmp(k, "--label") == 0)
			f.column_label = v;
		else if (strcmp(k, "--tracker") == 0)
			f.tracker_kind = v;
		/* --gitlab-url: the name from before GitHub, kept. */
		else if (strcmp(k, "--url") == 0 ||
		    strcmp(k, "--gitlab-url") == 0)
			f.tracker_url = v;
		else if (strcmp(k, "--project") == 0)
			f.tracker_project = v;
		else if (strcmp(k, "--conflict") == 0)
			f.conflict_policy = v;
		else if (strcmp(k, "--on-delete") == 0)
			f.delete_policy = v;
		else if (strcmp(k, "--status-map") == 0)
			f.status_map = v;
		else
			goto out;
	}
	if (argv[i] != NULL || opts == NULL ||
	    (f.tracker_options = opt = cJSON_PrintUnformatted(opts)) == NULL)
		goto out;
	rc = 1;
	ops = f.tracker_kind != NULL ? tracker_find(f.tracker_kind) :
	    tracker_kinds[0];
	if (ops == NULL) {
		fprintf(stderr, "pbsyncctl: unknown tracker \"%s\" (",
		    f.tracker_kind);
		for (i = 0; tracker_kinds[i] != NULL; i++)
			fprintf(stderr, "%s%s", i > 0 ? ", " : "",
			    tracker_kinds[i]->kind);
		fprintf(stderr, ")\n");
		goto out;
	}
	if (f.column_label == NULL)
		f.column_label = ops->title;
	f.pb_token = getenv("PBSYNC_PB_TOKEN");
	/* PBSYNC_GL_TOKEN: the name from before GitHub, kept. */
	if ((f.tracker_token = getenv("PBSYNC_TRACKER_TOKEN")) == NULL)
		f.tracker_token = getenv("PBSYNC_GL_TOKEN");
	if (integ_create(a, &f, id, err, sizeof(err)) == -1) {
		fprintf(stderr, "pbsyncctl: %s\n", err);
		goto out;
	}
	printf("%s\n", id);
	rc = 0;
out:
	cJSON_Delete(opts);
	cJSON_free(opt);
	return rc;
}

/* 0 if integration id exists, else 1 with a message. */
static int
known(struct app *a, const char *id, struct store_integration *in)
{
	int	 rc;

	if ((rc = store_integration_get(&a->store, id, in)) == 0)
		return 0;
	fprintf(stderr, "pbsyncctl: %s\n", rc == STORE_NOTFOUND ?
	    "no such integration" : "cannot read the integration");
	return 1;
}

/* Prints one integration's settings, upstream ids and health, never a
 * token or a secret. */
static int
cmd_integration_show(struct app *a, const char *id)
{
	struct store_integration in;
	struct store_isum s;
	char		 t[32];

	if (app_store(a) == -1 || known(a, id, &in) != 0)
		return 1;
	if (store_isum_get(&a->store, id, &s) != 0) {
		store_integration_release(&in);
		return 1;
	}
	util_format_time(s.created_at, t);
	printf("id\t%s\nname\t%s\ncolumn_label\t%s\n"
	    "productboard_token\t...%s\ntracker\t%s\ntracker_url\t%s\n"
	    "tracker_project\t%s\ntracker_token\t...%s\n"
	    "conflict_policy\t%s\ndelete_policy\t%s\ncreated\t%s\n",
	    s.id, s.name, s.column_label, s.pb_token_tail, s.tracker_kind,
	    s.tracker_url, s.tracker_project_name, s.tracker_token_tail,
	    s.conflict_policy, s.delete_policy, t);
	if (s.last_ok_at > 0)
		util_format_time(s.last_ok_at, t);
	printf("links\t%lld\njobs_waiting\t%lld\njobs_failed\t%lld\n"
	    "last_sync\t%s\nhooks\t%s\ntoken_refused\t%s\n", s.links,
	    s.jobs_waiting, s.jobs_dead, s.last_ok_at > 0 ? t : "never",
	    s.has_hook && s.has_plugin && s.has_webhook ? "registered" :
	    "incomplete", s.auth_failed != NULL ? s.auth_failed : "no");
	printf("plugin_integration_id\t%s\nwebhook_id\t%s\n"
	    "tracker_hook_id\t%s\n", in.pb_plugin_id ? in.pb_plugin_id : "",
	    in.pb_webhook_id ? in.pb_webhook_id : "",
	    in.tracker_hook_id ? in.tracker_hook_id : "");
	store_integration_release(&in);
	store_isum_release(&s);
	return 0;
}

/* The integration's links, newest first, one per line. */
static int
cmd_links(struct app *a, const char *id)
{
	struct store_integration in;
	struct store_link *v;
	long long	 before = 0;
	size_t		 n, i;
	char		 t[32];

	if (app_store(a) == -1 || known(a, id, &in) != 0)
		return 1;
	store_integration_release(&in);
	printf("feature\tissue\tstate\tlast_sync\turl\n");
	do {
		if (store_link_page(&a->store, id, before, 500, &v, &n) == -1)
			return 1;
		for (i = 0; i < n; i++) {
			if (v[i].last_sync_at > 0)
				util_format_time(v[i].last_sync_at, t);
			printf("%s\t%s\t%s\t%s\t%s\n", v[i].feature_id,
			    v[i].issue_key ? v[i].issue_key : "",
			    v[i].issue_state ? v[i].issue_state :
			    v[i].state, v[i].last_sync_at > 0 ? t : "never",
			    v[i].issue_url ? v[i].issue_url : "");
			before = v[i].id;
		}
		store_links_free(v, n);
	} while (n == 500);
	return 0;
}

/* The integration's dead jobs with their last error. */
static int
cmd_dead_jobs(struct app *a, const char *id)
{
	struct store_integration in;
	struct store_job *v;
	size_t		 n, i;

	if (app_store(a) == -1 || known(a, id, &in) != 0)
		return 1;
	store_integration_release(&in);
	if (store_job_dead_list(&a->store, id, 1000, &v, &n) == -1)
		return 1;
	printf("job\tkind\tkey\tattempts\terror\n");
	for (i = 0; i < n; i++)
		printf("%lld\t%s\t%s\t%lld\t%s\n", v[i].id, v[i].kind,
		    v[i].key, v[i].attempts,
		    v[i].last_error ? v[i].last_error : "");
	store_jobs_free(v, n);
	return 0;
}

static int
cmd_retry(struct app *a, const char *id, const char *job)
{
	long		 jid;
	int		 rc;

	if (app_store(a) == -1)
		return 1;
	if (util_parse_long(job, 1, LONG_MAX, &jid) == -1) {
		fprintf(stderr, "pbsyncctl: %s is not a job number\n", job);
		return 1;
	}
	if ((rc = store_job_revive_in(&a->store, id, jid, util_now())) != 0) {
		fprintf(stderr, "pbsyncctl: %s\n", rc == STORE_NOTFOUND ?
		    "no such failed job in this integration" :
		    "cannot revive the job");
		return 1;
	}
	printf("job %ld queued again\n", jid);
	return 0;
}

static int
integration_list(struct app *a, char *argv[])
{
	struct store_integration in;
	char		**ids;
	size_t		 n, i;

	if (app_store(a) == -1 ||
	    store_integration_ids(&a->store, &ids, &n) == -1)
		return 1;
	for (i = 0; i < n; i++) {
		if (store_integration_get(&a->store, ids[i], &in) == 0) {
			printf("%s\t%s\t%s\t%s\n", in.id, in.name,
			    in.tracker_kind, in.tracker_project_name);
			store_integration_release(&in);
		}
		free(ids[i]);
	}
	free(ids);
	return 0;
}

static int
integration_delete(struct app *a, char *argv[])
{
	struct buf	 report;
	int		 rc;

	if (app_store(a) == -1)
		return 1;
	buf_init(&report, 65536);
	rc = integ_delete(a, argv[0], &report);
	fputs(buf_str(&report), rc == 0 ? stdout : stderr);
	buf_release(&report);
	return rc == 0 ? 0 : 1;
}

/* The handlers of the commands that take an integration id and more. */
static int
integration_show(struct app *a, char *argv[])
{
	return cmd_integration_show(a, argv[0]);
}

static int
run_links(struct app *a, char *argv[])
{
	return cmd_links(a, argv[0]);
}

static int
run_jobs_dead(struct app *a, char *argv[])
{
	return cmd_dead_jobs(a, argv[0]);
}

static int
run_link(struct app *a, char *argv[])
{
	char		 msg[2048];
	enum link_rc	 rc;

	rc = link_existing(a, argv[0], argv[1], argv[2], "pbsyncctl", msg,
	    sizeof(msg));
	fprintf(rc == LINK_DONE ? stdout : stderr, "%s%s\n",
	    rc == LINK_DONE ? "" : "pbsyncctl: ", msg);
	return rc == LINK_DONE ? 0 : 1;
}

static int
run_retry(struct app *a, char *argv[])
{
	return cmd_retry(a, argv[0], argv[1]);
}

/* Enqueues a reconcile job for every integration. */
static int
enqueue_reconcile(struct app *a)
{
	char	**ids;
	size_t	 n, i;
	int	 rc = 0;

	if (app_store(a) == -1 ||
	    store_integration_ids(&a->store, &ids, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (store_job_enqueue(&a->store, ids[i], "reconcile", "all",
		    NULL, util_now()) != 0)
			rc = -1;
		free(ids[i]);
	}
	free(ids);
	return rc;
}

/*
 * Delivery keys forgotten per statement: each batch is its own short write
 * transaction, so a webhook waits for one batch, never for a whole prune.
 */
#define PRUNE_BATCH	5000
/* How often the worker prunes; drain prunes once a run (cron: a minute). */
#define PRUNE_EVERY_MS	(3600 * 1000)

/*
 * Forgets the delivery keys older than conf.delivery_retention_s, batch
 * after batch until none is left: 0, or -1 on a database error (logged;
 * the next prune catches up).
 */
static int
prune_deliveries(struct app *a)
{
	double	 before = util_now() - (double)a->conf.delivery_retention_s;
	long	 total = 0;
	int	 n;

	if (app_store(a) == -1)
		return -1;
	do {
		n = store_delivery_prune(&a->store, before, PRUNE_BATCH);
		if (n == -1)
			return -1;
		total += n;
	} while (n == PRUNE_BATCH && !proc_stopping);
	if (total > 0)
		log_info("forgot %ld delivery keys older than %ld s", total,
		    a->conf.delivery_retention_s);
	return 0;
}

/*
 * Runs jobs; forever (worker, with a periodic reconcile: GitLab sends
 * nothing when an issue is deleted) or until none is due (drain).  Both
 * prune the delivery keys first, the worker again every PRUNE_EVERY_MS.
 */
static int
cmd_jobs(struct app *a, int forever, enum jobs_lane lane)
{
	int64_t	 started = util_mono_ms(), next_reconcile = started;
	int64_t	 next_prune = started;
	int	 rc;

	proc_catch_stop(NULL);
	/* Listening before the first lease: no job queued after it waits. */
	if (forever)
		jobs_wait_lane(a, lane, 0);
	while (!proc_stopping) {
		if (lane != JOBS_NOTIFY && util_mono_ms() >= next_prune) {
			prune_deliveries(a);
			next_prune = forever ? util_mono_ms() + PRUNE_EVERY_MS :
			    INT64_MAX;
		}
		if (forever && lane != JOBS_NOTIFY &&
		    util_mono_ms() >= next_reconcile) {
			enqueue_reconcile(a);
			if (next_reconcile == started)
				log_info("worker started, reconcile every "
				    "%ld s", (long)a->conf.reconcile_interval_s);
			next_reconcile = util_mono_ms() +
			    a->conf.reconcile_interval_s * 1000;
		}
		if ((rc = jobs_run_lane(a, lane)) == 1)
			continue;
		if (!forever)
			return rc == 0 ? 0 : 1;
		if (rc == 0)
			jobs_wait_lane(a, lane, a->conf.worker_poll_ms);
		else
			usleep(1000000);
	}
	return 0;
}

/*
 * The worker's loops run in children that are started again if they die:
 * a job over its CPU budget ends the process that runs it.  One runs the
 * sync's jobs, the other the notifications, so a receiver that hangs for
 * its 10 s never holds up a sync.
 */
static int
worker_child(void *arg)
{
	struct app	*a = arg;

	if (app_store(a) == -1)
		return 1;
	return cmd_jobs(a, 1, proc_slot == 0 ? JOBS_SYNC : JOBS_NOTIFY);
}

/*
 * Each child opens a connection of its own: one opened before a fork is
 * no child's to use (two processes on one PostgreSQL connection mix
 * their messages; SQLite forbids it), so the supervisor closes its own.
 */
static int
run_worker(struct app *a, char *argv[])
{
	if (a->store_ok) {
		store_close(&a->store);
		a->store_ok = 0;
	}
	return proc_supervise(2, worker_child, a);
}

static int
run_drain(struct app *a, char *argv[])
{
	return cmd_jobs(a, 0, JOBS_ALL);
}

static int
run_reconcile(struct app *a, char *argv[])
{
	return enqueue_reconcile(a) == 0 ? cmd_jobs(a, 0, JOBS_ALL) : 1;
}

/* doctor [ID]: it opens the configuration and store itself, step by step. */
static int
run_doctor(struct app *a, char *argv[])
{
	return doctor_run(argv[0]);
}

/* -- the commands ------------------------------------------------------ */

static const struct ctl_opt token_add_opts[] = {
	{ "--role admin | viewer", "what the token may do through the API:\n"
	    "admin reads and writes, viewer only reads" },
	{ NULL, NULL }
};

static const struct ctl_opt integration_add_opts[] = {
	{ "--name NAME", "the integration's name, 1 to 200 characters" },
	{ "--tracker KIND", "gitlab (the default), github or jira" },
	{ "--url URL", "the tracker's API: https://gitlab.com or\n"
	    "https://api.github.com by default;\n"
	    "GitHub Enterprise Server: https://HOST/api/v3" },
	{ "--gitlab-url URL", "the same as --url, by its older name" },
	{ "--project PROJECT", "the GitLab project (group/project),\n"
	    "GitHub repository (owner/repo) or Jira\nproject key" },
	{ "--option NAME=VALUE", "a setting of the tracker; Jira:\n"
	    "email=the account's e-mail (required),\n"
	    "issue_type=the type of new issues (Task)" },
	{ "--label LABEL", "the column label in Productboard, 1 to 10\n"
	    "characters; by default the tracker's name" },
	{ "--conflict latest | productboard | tracker",
	    "which side wins when both changed a field:\n"
	    "the later change (the default) or always one" },
	{ "--on-delete keep | close | label", "what a deleted feature's issue "
	    "gets: nothing\n(the default), closed, or the label\n"
	    "productboard::deleted" },
	{ "--status-map JSON", "the status mapping (see pbsyncctl(8)); by\n"
	    "default done-like statuses close the issue" },
	{ NULL, NULL }
};

static const struct ctl_opt help_opts[] = {
	{ "--help", "after a command: that command's help" },
	{ "-h", "alone, as --help alone: the list of commands" },
	{ NULL, NULL }
};

/*
 * Every command: its words, its arguments as pbsyncctl(8) writes them,
 * its help, its argument counts, whether it opens the configuration and
 * store first, and its handler.  tests/ops/test_ops.py holds the help to
 * the manual page.
 */
static const struct ctl_cmd commands[] = {
	{ "init", "", "create the key file and the database, or\n"
	    "bring its schema up to date", NULL, NULL, 0, 0, 1, run_init },
	{ "admin add", "NAME", "add an admin user; its password (10 or more\n"
	    "characters) is a line on standard input", NULL, NULL, 1, 1, 1,
	    admin_add },
	{ "admin passwd", "NAME", "set an admin's password from standard\n"
	    "input; its sessions end", NULL, NULL, 1, 1, 1, admin_passwd },
	{ "admin remove", "NAME", "remove an admin user and end its sessions",
	    NULL, NULL, 1, 1, 1, admin_remove },
	{ "token add", "NAME --role admin | viewer", "create an API token and "
	    "print it once;\nonly its hash is kept", NULL, token_add_opts, 3,
	    3, 1, token_add },
	{ "token remove", "NAME", "revoke an API token", NULL, NULL, 1, 1, 1,
	    token_remove },
	{ "integration add", "--name NAME [--tracker KIND] [--url URL] "
	    "--project PROJECT [OPTION ...]", "create an integration and "
	    "print its id",
	    "It checks both tokens, creates the Productboard plugin column "
	    "and webhook\nand the tracker's webhook, and undoes the earlier "
	    "steps if one fails.\nThe Productboard token is read from "
	    "PBSYNC_PB_TOKEN, the tracker's from\nPBSYNC_TRACKER_TOKEN "
	    "(or PBSYNC_GL_TOKEN).", integration_add_opts, 0, -1, 1,
	    integration_add },
	{ "integration list", "", "one line per integration: id, name,\n"
	    "tracker, project", NULL, NULL, 0, 0, 1, integration_list },
	{ "integration show", "ID", "an integration's settings, token tails,\n"
	    "upstream ids and health", NULL, NULL, 1, 1, 1,
	    integration_show },
	{ "integration delete", "ID", "remove the plugin column and both\n"
	    "webhooks upstream, then the integration", NULL, NULL, 1, 1, 1,
	    integration_delete },
	{ "channel connect", "ID TYPE URL [EVENTS]", "connect a notification "
	    "channel: TYPE\nslack, discord or webhook; EVENTS * or a\n"
	    "comma list", NULL, NULL, 3, 4, 1, channel_connect },
	{ "channel list", "ID", "the integration's notification channels",
	    NULL, NULL, 1, 1, 1, channel_list },
	{ "channel disconnect", "ID TYPE", "delete a notification channel",
	    NULL, NULL, 2, 2, 1, channel_disconnect },
	{ "channel test", "ID TYPE", "send a sample and say what the "
	    "receiver\nanswered", NULL, NULL, 2, 2, 1, channel_test },
	{ "channel rotate", "ID webhook", "a new signing secret, printed "
	    "once; the\nold one stays valid for a day", NULL, NULL, 2, 2, 1,
	    channel_rotate },
	{ "links", "ID", "the integration's links, newest first", NULL, NULL,
	    1, 1, 1, run_links },
	{ "link", "ID FEATURE ISSUE", "link an existing issue to a feature",
	    "FEATURE is the feature's Productboard URL or id, ISSUE the issue's "
	    "URL or\nits reference in the tracker's terms (group/project#12, "
	    "owner/repo#12,\n#12, KEY-12). A feature already linked, an issue "
	    "linked to another\nfeature, an issue of another project and a "
	    "missing one are refused.\nThe first sync follows the "
	    "integration's conflict policy and says which\nside each field "
	    "kept.", NULL, 3, 3, 1, run_link },
	{ "jobs", "ID", "the integration's failed jobs and their\nerrors",
	    NULL, NULL, 1, 1, 1, run_jobs_dead },
	{ "retry", "ID JOB", "queue a failed job again", NULL, NULL, 2, 2, 1,
	    run_retry },
	{ "worker", "", "run jobs until stopped (SIGTERM, SIGINT)", NULL,
	    NULL, 0, 0, 1, run_worker },
	{ "drain", "", "run jobs until none is due, then exit\n(cron)", NULL,
	    NULL, 0, 0, 1, run_drain },
	{ "reconcile", "", "re-check every link now", NULL, NULL, 0, 0, 1,
	    run_reconcile },
	{ "doctor", "[ID]", "check the configuration, the key file, the\n"
	    "database and every integration (or one)",
	    "One line per check, \"ok\", \"warn\" or \"FAIL\", with what to "
	    "do about a\nwarning or a failure. Exit status 0 when no check "
	    "failed, 1 otherwise.", NULL, 0, 1, 0, run_doctor },
	/* Answered by ctl_help before any row runs. */
	{ "help", "[COMMAND]", "the list of commands, or a command's\n"
	    "synopsis and options", NULL, help_opts, 0, -1, 0, NULL },
	{ NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL }
};

int
main(int argc, char *argv[])
{
	const struct ctl_cmd *c;
	struct app	 a;
	int		 n, rc;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = ctl_help(commands, argc - 1, argv + 1)) != CTL_NOHELP)
		return rc;
	c = ctl_find(commands, argc - 1, argv + 1, &n);
	if (c == NULL || c->run == NULL || !ctl_arity_ok(c, argc - 1 - n))
		return ctl_usage(commands, argc - 1, argv + 1);
	if (!c->app)
		rc = c->run(NULL, argv + 1 + n);
	else if (app_open(&a, "pbsyncctl") == -1)
		return 1;
	else {
		rc = c->run(&a, argv + 1 + n);
		app_close(&a);
	}
	return rc == CTL_USAGE ? ctl_usage(commands, argc - 1, argv + 1) : rc;
}
