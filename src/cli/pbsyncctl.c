/*
 * pbsyncctl: the admin's shell tool.
 *
 *   pbsyncctl init                      create the key file and database
 *   pbsyncctl admin add NAME            add an admin (password on stdin)
 *   pbsyncctl admin passwd NAME         set a password (on stdin)
 *   pbsyncctl admin remove NAME         remove an admin and its sessions
 *   pbsyncctl token add NAME --role R   a JSON API token (printed once)
 *   pbsyncctl token remove NAME         revoke it
 *   pbsyncctl integration add OPTIONS   create an integration (tokens from
 *                                       PBSYNC_PB_TOKEN, PBSYNC_TRACKER_TOKEN)
 *   pbsyncctl integration list          one line per integration
 *   pbsyncctl integration show|delete ID
 *   pbsyncctl channel connect|list|disconnect|test|rotate ...
 *                                       its notification channels
 *   pbsyncctl links ID                  the integration's links, newest first
 *   pbsyncctl jobs ID                   its failed (dead) jobs
 *   pbsyncctl retry ID JOB              run a failed job again
 *   pbsyncctl worker                    run jobs forever
 *   pbsyncctl drain                     run jobs until none is due (cron)
 *   pbsyncctl reconcile                 re-check every link now
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
#include "flows/integ.h"
#include "flows/jobs.h"
#include "notify/notify.h"
#include "trackers/tracker.h"

static int
usage(void)
{
	fprintf(stderr, "usage: pbsyncctl init\n"
	    "       pbsyncctl admin add | passwd NAME   (password on stdin)\n"
	    "       pbsyncctl admin remove NAME\n"
	    "       pbsyncctl token add NAME --role admin|viewer | "
	    "remove NAME\n"
	    "       pbsyncctl integration add --name N [--tracker KIND] "
	    "[--url U] --project P\n"
	    "                 [--label L] "
	    "[--conflict latest|productboard|tracker]\n"
	    "                 [--on-delete keep|close|label] "
	    "[--status-map JSON]\n"
	    "                 (tokens in PBSYNC_PB_TOKEN, "
	    "PBSYNC_TRACKER_TOKEN)\n"
	    "       pbsyncctl integration list | show ID | delete ID\n"
	    "       pbsyncctl channel connect ID TYPE URL [EVENTS]\n"
	    "       pbsyncctl channel list ID | disconnect ID TYPE | "
	    "test ID TYPE\n"
	    "       pbsyncctl channel rotate ID webhook\n"
	    "                 (TYPE slack|discord|webhook; EVENTS * or a "
	    "comma list)\n"
	    "       pbsyncctl links ID | jobs ID | retry ID JOB\n"
	    "       pbsyncctl worker | drain | reconcile\n");
	return 2;
}

/* Notification channels (DESIGN §9): what the API and the page do. */
static int
cmd_channel(struct app *a, int argc, char *argv[])
{
	struct store_channel	*ch;
	char			 msg[512], secret[NOTIFY_SECRET_MAX];
	size_t			 n, i;
	enum notify_rc		 rc;

	if (argc == 2 && strcmp(argv[0], "list") == 0) {
		if (app_store(a) == -1 ||
		    store_channel_list(&a->store, argv[1], &ch, &n) != 0)
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
	if (argc == 3 && strcmp(argv[0], "test") == 0) {
		i = notify_test(a, argv[1], argv[2], msg, sizeof(msg)) ==
		    NOTIFY_SENT;
		printf("%s %s\n", i ? "sent:" : "not sent:", msg);
		return i ? 0 : 1;
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[0], "connect") == 0)
		rc = notify_connect(a, argv[1], argv[2], argv[3], argc == 5 ?
		    argv[4] : NULL, secret, msg, sizeof(msg));
	else if (argc == 3 && strcmp(argv[0], "disconnect") == 0)
		rc = notify_disconnect(a, argv[1], argv[2], msg, sizeof(msg));
	else if (argc == 3 && strcmp(argv[0], "rotate") == 0)
		rc = notify_rotate(a, argv[1], argv[2], 86400, secret, msg,
		    sizeof(msg));
	else
		return usage();
	if (rc != NOTIFY_OK) {
		fprintf(stderr, "pbsyncctl: %s\n", msg);
		return 1;
	}
	printf("%s\n", msg);
	/* Shown once: only its sealed form is kept. */
	if (strcmp(argv[0], "disconnect") != 0 && secret[0] != '\0')
		printf("signing secret (shown once): %s\n", secret);
	crypto_wipe(secret, sizeof(secret));
	return 0;
}

static int
cmd_init(struct app *a)
{
	if (access(a->conf.key_file, F_OK) == 0)
		printf("key file %s exists, kept\n", a->conf.key_file);
	else if (crypto_key_create(a->conf.key_file) == -1)
		return 1;
	else
		printf("created key file %s\n", a->conf.key_file);
	if (app_store(a) == -1)
		return 1;
	printf("database %s at schema version %d\n", a->conf.database,
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

/* API tokens: the new one is printed once, only its hash is kept. */
static int
cmd_token(struct app *a, int argc, char *argv[])
{
	char	 tok[CRYPTO_SECRET_LEN + 8], h[CRYPTO_HASH_LEN + 1];
	char	 raw[CRYPTO_SECRET_LEN + 1];
	int	 rc;

	if (!(argc == 4 && strcmp(argv[0], "add") == 0 &&
	    strcmp(argv[2], "--role") == 0 && (strcmp(argv[3], "admin") == 0 ||
	    strcmp(argv[3], "viewer") == 0)) &&
	    !(argc == 2 && strcmp(argv[0], "remove") == 0))
		return usage();
	if (app_store(a) == -1)
		return 1;
	if (strcmp(argv[0], "remove") == 0) {
		if ((rc = store_token_remove(&a->store, argv[1])) == 0)
			printf("token \"%s\" removed\n", argv[1]);
		else if (rc == STORE_NOTFOUND)
			fprintf(stderr, "pbsyncctl: no token \"%s\"\n", argv[1]);
		return rc == 0 ? 0 : 1;
	}
	if (*argv[1] == '\0' || strlen(argv[1]) > 64 ||
	    !util_text_ok(argv[1], strlen(argv[1]))) {
		fprintf(stderr, "pbsyncctl: a token name is 1 to 64 "
		    "characters\n");
		return 1;
	}
	crypto_random_secret(raw);
	snprintf(tok, sizeof(tok), "pbs_%s", raw);
	crypto_digest(tok, h);
	rc = store_token_add(&a->store, argv[1], h, argv[3], util_now());
	if (rc == STORE_EXISTS)
		fprintf(stderr, "pbsyncctl: token \"%s\" exists\n", argv[1]);
	else if (rc == 0)
		printf("%s\n", tok);
	crypto_wipe(raw, sizeof(raw));
	crypto_wipe(tok, sizeof(tok));
	return rc == 0 ? 0 : 1;
}

static int
cmd_integration_add(struct app *a, int argc, char *argv[])
{
	const struct tracker_ops *ops;
	struct integ_form f;
	char		 id[33], err[512];
	int		 i;

	memset(&f, 0, sizeof(f));
	for (i = 0; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--name") == 0)
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
			return usage();
	}
	if (i != argc)
		return usage();
	ops = f.tracker_kind != NULL ? tracker_find(f.tracker_kind) :
	    tracker_kinds[0];
	if (ops == NULL) {
		fprintf(stderr, "pbsyncctl: unknown tracker \"%s\" (",
		    f.tracker_kind);
		for (i = 0; tracker_kinds[i] != NULL; i++)
			fprintf(stderr, "%s%s", i > 0 ? ", " : "",
			    tracker_kinds[i]->kind);
		fprintf(stderr, ")\n");
		return 1;
	}
	if (f.column_label == NULL)
		f.column_label = ops->title;
	f.pb_token = getenv("PBSYNC_PB_TOKEN");
	/* PBSYNC_GL_TOKEN: the name from before GitHub, kept. */
	if ((f.tracker_token = getenv("PBSYNC_TRACKER_TOKEN")) == NULL)
		f.tracker_token = getenv("PBSYNC_GL_TOKEN");
	if (integ_create(a, &f, id, err, sizeof(err)) == -1) {
		fprintf(stderr, "pbsyncctl: %s\n", err);
		return 1;
	}
	printf("%s\n", id);
	return 0;
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

	if (known(a, id, &in) != 0)
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

	if (known(a, id, &in) != 0)
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

	if (known(a, id, &in) != 0)
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
cmd_integration(struct app *a, int argc, char *argv[])
{
	struct buf	 report;
	char		**ids;
	size_t		 n, i;
	int		 rc;

	if (argc >= 1 && strcmp(argv[0], "add") == 0)
		return cmd_integration_add(a, argc - 1, argv + 1);
	if (app_store(a) == -1)
		return 1;
	if (argc == 1 && strcmp(argv[0], "list") == 0) {
		if (store_integration_ids(&a->store, &ids, &n) == -1)
			return 1;
		for (i = 0; i < n; i++) {
			struct store_integration in;

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
	if (argc == 2 && strcmp(argv[0], "show") == 0)
		return cmd_integration_show(a, argv[1]);
	if (argc == 2 && strcmp(argv[0], "delete") == 0) {
		buf_init(&report, 65536);
		rc = integ_delete(a, argv[1], &report);
		fputs(buf_str(&report), rc == 0 ? stdout : stderr);
		buf_release(&report);
		return rc == 0 ? 0 : 1;
	}
	return usage();
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
		usleep(rc == 0 ? 200000 : 1000000);
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
	return cmd_jobs(arg, 1, proc_slot == 0 ? JOBS_SYNC : JOBS_NOTIFY);
}

int
main(int argc, char *argv[])
{
	struct app	 a;
	int		 rc;

	if (argc < 2)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	if (app_open(&a, "pbsyncctl") == -1)
		return 1;
	if (strcmp(argv[1], "init") == 0 && argc == 2)
		rc = cmd_init(&a);
	else if (strcmp(argv[1], "admin") == 0 && argc == 4 &&
	    (strcmp(argv[2], "add") == 0 || strcmp(argv[2], "passwd") == 0 ||
	    strcmp(argv[2], "remove") == 0))
		rc = cmd_admin(&a, argv[2], argv[3]);
	else if (strcmp(argv[1], "token") == 0)
		rc = cmd_token(&a, argc - 2, argv + 2);
	else if (strcmp(argv[1], "channel") == 0)
		rc = cmd_channel(&a, argc - 2, argv + 2);
	else if (strcmp(argv[1], "integration") == 0)
		rc = cmd_integration(&a, argc - 2, argv + 2);
	else if (argc == 3 && strcmp(argv[1], "links") == 0)
		rc = app_store(&a) == 0 ? cmd_links(&a, argv[2]) : 1;
	else if (argc == 3 && strcmp(argv[1], "jobs") == 0)
		rc = app_store(&a) == 0 ? cmd_dead_jobs(&a, argv[2]) : 1;
	else if (argc == 4 && strcmp(argv[1], "retry") == 0)
		rc = app_store(&a) == 0 ? cmd_retry(&a, argv[2], argv[3]) : 1;
	else if (strcmp(argv[1], "worker") == 0 && argc == 2)
		rc = proc_supervise(2, worker_child, &a);
	else if (strcmp(argv[1], "drain") == 0 && argc == 2)
		rc = cmd_jobs(&a, 0, JOBS_ALL);
	else if (strcmp(argv[1], "reconcile") == 0 && argc == 2)
		rc = enqueue_reconcile(&a) == 0 ? cmd_jobs(&a, 0, JOBS_ALL) : 1;
	else
		rc = usage();
	app_close(&a);
	return rc;
}
