#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "base/conf.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/util.h"
#include "cli/doctor.h"
#include "flows/ctx.h"
#include "flows/integ.h"
#include "store/store.h"
#include "trackers/tracker.h"
#include "upstream/pb.h"

enum verdict { OK, WARN, FAIL };

struct doctor {
	int	 n[3];		/* checks by verdict */
};

/* What to do about an integration whose registrations are gone. */
#define RECREATE	"delete the integration (pbsyncctl integration " \
			"delete %s) and create it again; its links go with it"
#define NETWORK		"check %s, http_proxy and the network of this host"

/* Writes s with control characters as '?': names and paths come from
 * outside and must not rewrite the terminal. */
static void
put_clean(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void	 say(struct doctor *, enum verdict, const char *check,
		    const char *fix, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));

/*
 * One check's line: its verdict, its name and what it saw (fmt), then,
 * for a warning or a failure, what to do (fix, or NULL).
 */
static void
say(struct doctor *d, enum verdict v, const char *check, const char *fix,
    const char *fmt, ...)
{
	static const char *const word[] = { "ok", "warn", "FAIL" };
	char		 seen[2048];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(seen, sizeof(seen), fmt, ap);
	va_end(ap);
	d->n[v]++;
	printf("%-4s  %s: ", word[v], check);
	put_clean(seen);
	if (v != OK && fix != NULL) {
		fputs("; fix: ", stdout);
		put_clean(fix);
	}
	putchar('\n');
}

/* "the token ...abcd", or "the token" when it is too short for a tail. */
static const char *
token_name(const char *tail, char *out, size_t len)
{
	snprintf(out, len, "the token%s%s", tail != NULL && *tail != '\0' ?
	    " ..." : "", tail != NULL ? tail : "");
	return out;
}

/*
 * What a failed call got, for people.  Only the status of an answer: its
 * words come from the other side and might quote what was sent.
 */
static const char *
failure(enum http_err e, const struct upstream *u, char *out, size_t len)
{
	if (e == HTTP_ERATE)
		snprintf(out, len, "rate limited, for %ld s", u->retry_after);
	else if (e == HTTP_ECLIENT || e == HTTP_ESERVER ||
	    e == HTTP_EREDIRECT)
		snprintf(out, len, "HTTP %ld", u->status);
	else
		snprintf(out, len, "%s", u->err[0] != '\0' ? u->err :
		    http_strerror(e));
	return out;
}

/* -- the installation ------------------------------------------------- */

/* The configuration loads: 0 with c filled (conf_release it), or -1. */
static int
check_config(struct doctor *d, struct conf *c)
{
	const char	*path = conf_path();
	int		 exists = access(path, F_OK) == 0;

	/* conf_load names the bad line on stderr (the log is not open). */
	if (conf_load(c) == -1) {
		say(d, FAIL, "config", "correct what the error on standard "
		    "error names (pbsync.conf(5) lists the keys and their "
		    "values); the programs refuse to start until then",
		    "%s, or a PBSYNC_ variable, does not load", path);
		return -1;
	}
	say(d, OK, "config", NULL, exists ? "%s loads" :
	    "%s does not exist: the defaults apply", path);
	return 0;
}

/* The key file: there, owner-only, 32 bytes, readable by this user. */
static void
check_key(struct doctor *d, const struct conf *c)
{
	const char	*path = c->key_file;
	struct crypto_key k;
	struct stat	 st;
	char		 fix[PATH_MAX + 64];

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			say(d, FAIL, "key file", "restore it from a backup: "
			    "without it no stored token opens (pbsyncctl init "
			    "makes a new one, for a new installation)",
			    "%s does not exist", path);
		else
			say(d, FAIL, "key file", "run doctor as the service "
			    "user", "%s: %s", path, strerror(errno));
		return;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(fix, sizeof(fix), "chmod 600 %s", path);
		say(d, FAIL, "key file", fix, "%s has mode %04o: group or "
		    "others may read it, and the programs refuse it", path,
		    (unsigned)(st.st_mode & 07777));
		return;
	}
	if (st.st_size != CRYPTO_KEY_BYTES) {
		say(d, FAIL, "key file", "restore it from a backup", "%s is "
		    "%lld bytes, not %d", path, (long long)st.st_size,
		    CRYPTO_KEY_BYTES);
		return;
	}
	if (crypto_key_load(&k, path) == -1) {
		say(d, FAIL, "key file", "run doctor as the service user, who "
		    "owns it", "%s cannot be read (the error above says why)",
		    path);
		return;
	}
	crypto_key_release(&k);
	say(d, OK, "key file", NULL, "%s, mode %04o", path,
	    (unsigned)(st.st_mode & 07777));
}

/*
 * 1 if the database file is there, or the PostgreSQL schema holds
 * pbsync's tables (or the server cannot be asked: opening it says why);
 * opening a missing one would create it.
 */
static int
check_database_file(struct doctor *d, const struct conf *c)
{
	struct stat	 st;
	char		 where[PATH_MAX + 64];

	if (store_postgresql(c->database)) {
		if (store_initialised(c->database) != 0)
			return 1;
		store_where(c->database, where, sizeof(where));
		say(d, FAIL, "database", "run pbsyncctl init as the service "
		    "user, or set database in the configuration to where it "
		    "is", "%s has no pbsync tables", where);
		return 0;
	}
	if (strcmp(c->database, ":memory:") == 0 ||
	    strncmp(c->database, "file:", 5) == 0 ||
	    stat(c->database, &st) == 0)
		return 1;
	say(d, FAIL, "database", "run pbsyncctl init as the service user, "
	    "or set database in the configuration to where it is",
	    "%s does not exist", c->database);
	return 0;
}

/* The store opened at this pbsync's schema version: 0 or -1. */
static int
check_store(struct doctor *d, struct app *a)
{
	const char	*log = *a->conf.log_file != '\0' ? a->conf.log_file :
			    "standard error";
	char		 fix[PATH_MAX + 128], where[PATH_MAX + 64];
	int		 v, latest = store_latest_version();

	store_where(a->conf.database, where, sizeof(where));
	if (!a->store_ok) {
		snprintf(fix, sizeof(fix), "%s says why; %s", log,
		    store_postgresql(a->conf.database) ? "check that the "
		    "server runs and the role may connect and create tables" :
		    "check the owner and mode of the file and its directory");
		say(d, FAIL, "database", fix, "%s does not open", where);
		return -1;
	}
	if ((v = store_schema_version(&a->store)) != latest) {
		say(d, FAIL, "database", "run pbsyncctl init", "%s is at schema "
		    "version %d, this pbsync's is %d", where, v, latest);
		return -1;
	}
	say(d, OK, "database", NULL, "%s opens, schema version %d", where, v);
	return 0;
}

/* -- an integration --------------------------------------------------- */

/* The key opens the integration's sealed tokens (and hook secret): 0/-1. */
static int
check_sealed(struct doctor *d, struct app *a,
    const struct store_integration *in, const struct tracker_ops *ops)
{
	const char	*col[] = { "pb_token", "tracker_token",
			    "tracker_hook_secret" };
	const char	*val[] = { in->pb_token, in->tracker_token,
			    in->tracker_hook_secret };
	/* A signing tracker's secret is sealed too; else it is a hash. */
	size_t		 i, n = ops->auth == TRACKER_AUTH_HMAC_SHA256 ? 3 : 2;
	char		*v;

	if (!a->key.loaded) {
		say(d, FAIL, "tokens", "make the key file load (above)", "not "
		    "opened: the key file is not loaded");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((v = ctx_open_sealed(a, in->id, col[i], val[i])) == NULL) {
			say(d, FAIL, "tokens", "restore the key file the "
			    "integration was created with, or delete the "
			    "integration and create it again", "the key file "
			    "does not open its %s: it is not the key it was "
			    "sealed with", col[i]);
			return -1;
		}
		crypto_free_secret(v);
	}
	say(d, OK, "tokens", NULL, "the key file opens its %s", n == 3 ?
	    "two tokens and its webhook secret" : "two tokens");
	return 0;
}

/*
 * A call that checks a token failed: what the answer means, and what to
 * do.  who is "Productboard" or the tracker, url_key the configuration
 * key or the field that names the API, and what the token must be
 * allowed to do.
 */
static void
refused(struct doctor *d, const char *who, enum http_err e,
    const struct upstream *u, const char *tail, const char *url_key,
    const char *what)
{
	char	 tok[64], why[600], fix[1200];

	token_name(tail, tok, sizeof(tok));
	failure(e, u, why, sizeof(why));
	if (e == HTTP_ECLIENT && u->status == 401)
		say(d, FAIL, who, "make a new token and set it on the "
		    "integration's Edit page", "%s refused %s (%s): revoked or "
		    "expired", who, tok, why);
	else if (e == HTTP_ECLIENT && u->status == 403)
		say(d, FAIL, who, "give the token that right, or set one that "
		    "has it on the integration's Edit page", "%s may not %s "
		    "(%s)", tok, what, why);
	else if (e == HTTP_ERATE)
		say(d, WARN, who, "run doctor again later", "not checked: %s",
		    why);
	else {
		snprintf(fix, sizeof(fix), NETWORK, url_key);
		say(d, FAIL, who, fix, "%s could not be reached with %s (%s)",
		    who, tok, why);
	}
}

/* Productboard answers the token: 0, or -1 (the registrations unchecked). */
static int
check_productboard(struct doctor *d, struct ctx *c)
{
	cJSON		*st = NULL;
	enum http_err	 e;
	char		 tok[64];
	int		 n;

	e = pb_statuses(&c->pb, &st);
	n = cJSON_GetArraySize(st);
	cJSON_Delete(st);
	if (e != HTTP_OK) {
		refused(d, "Productboard", e, &c->pb.up, c->in.pb_token_tail,
		    "productboard_api_url", "read features");
		return -1;
	}
	say(d, OK, "Productboard", NULL, "%s reads the %d feature statuses",
	    token_name(c->in.pb_token_tail, tok, sizeof(tok)), n);
	return 0;
}

/* The tracker answers the token, which may write issues: 0 or -1. */
static int
check_tracker(struct doctor *d, struct ctx *c)
{
	const struct tracker_ops *ops = c->tr.ops;
	struct tracker_project p;
	enum http_err	 e;
	char		 tok[64], fix[1200];
	int		 rc = 0;

	token_name(c->in.tracker_token_tail, tok, sizeof(tok));
	e = tracker_project(&c->tr, c->in.tracker_project, &p);
	if (e == HTTP_ECLIENT && c->tr.up.status == 404) {
		say(d, FAIL, ops->title, "check that it still exists and that "
		    "the token's user is a member; set a token that sees it on "
		    "the integration's Edit page", "%s does not exist or %s "
		    "cannot see it", c->in.tracker_project_name, tok);
		return -1;
	}
	if (e != HTTP_OK) {
		snprintf(fix, sizeof(fix), "the integration's %s URL (%s)",
		    ops->title, c->in.tracker_url);
		refused(d, ops->title, e, &c->tr.up, c->in.tracker_token_tail,
		    fix, "read the project");
		return -1;
	}
	if (!p.can_write) {
		say(d, FAIL, ops->title, "give the token's user that role, or "
		    "set another token on the integration's Edit page",
		    "%s %s", ops->need_write, p.name);
		rc = -1;
	} else if (integ_hook_by_hand(&c->in))
		say(d, OK, ops->title, NULL, "%s reads %s and may write issues "
		    "(its webhook is set up by hand)", tok, p.name);
	else if (!p.can_hook)
		say(d, WARN, ops->title, "give the token's user that role: "
		    "pbsyncctl integration delete needs it too", "%s %s",
		    ops->need_hook, p.name);
	else
		say(d, OK, ops->title, NULL, "%s reads %s, may write issues and "
		    "manage its webhooks", tok, p.name);
	tracker_project_release(&p);
	return rc;
}

/*
 * How a registration's check went: e is the GET of it (HTTP_OK: there,
 * and active says whether it works), gone says what its loss means.
 */
static void
registered(struct doctor *d, struct ctx *c, const char *check,
    const char *id, enum http_err e, const struct upstream *u, int active,
    const char *off, const char *gone)
{
	char	 fix[256], why[600];

	snprintf(fix, sizeof(fix), RECREATE, c->in.id);
	if (e == HTTP_OK && active)
		say(d, OK, check, NULL, "%s exists", id);
	else if (e == HTTP_OK)
		say(d, WARN, check, off, "%s exists but is turned off", id);
	else if (e == HTTP_ECLIENT && u->status == 404)
		say(d, FAIL, check, fix, "%s is gone: %s", id, gone);
	else
		say(d, FAIL, check, "run doctor again; if it persists, see the "
		    "check above", "%s could not be checked (%s)", id,
		    failure(e, u, why, sizeof(why)));
}

/* A registration whose id the row lacks, or whose API did not answer. */
static int
unchecked(struct doctor *d, struct ctx *c, const char *check,
    const char *id, int api_ok)
{
	char	 fix[256];

	if (!api_ok) {
		say(d, WARN, check, "see the check above", "not checked: the "
		    "API did not answer the check above");
		return 1;
	}
	if (id != NULL && *id != '\0')
		return 0;
	snprintf(fix, sizeof(fix), RECREATE, c->in.id);
	say(d, FAIL, check, fix, "none is registered");
	return 1;
}

/*
 * A webhook set up by hand: pbsync cannot ask the tracker for it, so the
 * deliveries it keeps the keys of say whether it works.
 */
static void
by_hand(struct doctor *d, struct ctx *c, const char *check)
{
	long		 days = c->app->conf.delivery_retention_s / 86400;
	char		 t[32], fix[512];
	double		 at;
	int		 rc;

	snprintf(fix, sizeof(fix), "compare the webhook in %s's settings "
	    "with the integration's webhook page (/admin/i/%s/webhook): URL, "
	    "secret, events, filter; a change to an issue of the project "
	    "then shows here", c->tr.ops->title, c->in.id);
	rc = store_delivery_last(&c->app->store, c->in.id, "tracker", &at);
	if (rc == 1) {
		util_format_time(at, t);
		say(d, OK, check, NULL, "set up by hand; its last delivery "
		    "arrived %s", t);
	} else if (rc == 0)
		say(d, WARN, check, fix, "set up by hand, and no delivery from "
		    "it in the last %ld day%s", days, days == 1 ? "" : "s");
	else
		say(d, WARN, check, "see the log", "set up by hand, not checked: "
		    "the database did not answer");
}

/* The plugin integration, the Productboard webhook, the tracker's hook. */
static void
check_registrations(struct doctor *d, struct ctx *c, int pb_ok, int tr_ok)
{
	char		 check[64];
	enum http_err	 e;
	int		 on = 0;

	if (!unchecked(d, c, "plugin integration", c->in.pb_plugin_id,
	    pb_ok)) {
		e = pb_plugin_get(&c->pb, c->in.pb_plugin_id, &on);
		registered(d, c, "plugin integration", c->in.pb_plugin_id, e,
		    &c->pb.up, on, "turn it on again in Productboard "
		    "(integrationStatus \"enabled\")", "Productboard shows "
		    "no Push column for it");
	}
	if (!unchecked(d, c, "Productboard webhook", c->in.pb_webhook_id,
	    pb_ok)) {
		e = pb_webhook_get(&c->pb, c->in.pb_webhook_id);
		registered(d, c, "Productboard webhook", c->in.pb_webhook_id, e,
		    &c->pb.up, 1, NULL, "feature changes reach pbsync only "
		    "through the reconcile");
	}
	snprintf(check, sizeof(check), "%s webhook", c->tr.ops->title);
	if (integ_hook_by_hand(&c->in))
		by_hand(d, c, check);
	else if (c->tr.ops->hook_exists == NULL)
		say(d, WARN, check, "give its backend a hook_exists", "not "
		    "checked: this pbsync cannot ask %s", c->tr.ops->title);
	else if (!unchecked(d, c, check, c->in.tracker_hook_id, tr_ok)) {
		e = c->tr.ops->hook_exists(&c->tr, c->in.tracker_hook_id, &on);
		registered(d, c, check, c->in.tracker_hook_id, e, &c->tr.up, on,
		    "check that public_url reaches pbsync from the tracker, "
		    "then turn the webhook on again in its settings",
		    "issue changes reach pbsync only through the reconcile");
	}
}

/* Every check of the integration id. */
static void
check_integration(struct doctor *d, struct app *a, const char *id)
{
	const struct tracker_ops *ops;
	struct store_integration in;
	struct ctx	 c;
	int		 rc, pb_ok, tr_ok;

	if ((rc = store_integration_get(&a->store, id, &in)) != 0) {
		say(d, FAIL, "integration", "pbsyncctl integration list shows "
		    "the ids", rc == STORE_NOTFOUND ? "no integration %s" :
		    "%s cannot be read", id);
		return;
	}
	ops = tracker_find(in.tracker_kind);
	fputs("integration ", stdout);
	put_clean(in.id);
	fputs(": ", stdout);
	put_clean(in.name);
	fputs(", ", stdout);
	put_clean(ops != NULL ? ops->title : in.tracker_kind);
	putchar(' ');
	put_clean(in.tracker_project_name);
	putchar('\n');
	if (ops == NULL) {
		say(d, FAIL, "tracker", "run a pbsync that knows it", "this "
		    "pbsync has no backend \"%s\"", in.tracker_kind);
		store_integration_release(&in);
		return;
	}
	/* ctx_open takes in, and releases it when it fails. */
	if (check_sealed(d, a, &in, ops) == -1 || ctx_open(&c, a, &in) == -1) {
		store_integration_release(&in);
		return;
	}
	pb_ok = check_productboard(d, &c) == 0;
	tr_ok = check_tracker(d, &c) == 0;
	check_registrations(d, &c, pb_ok, tr_ok);
	ctx_close(&c);
}

static void
check_integrations(struct doctor *d, struct app *a, const char *only)
{
	char	**ids;
	size_t	 n, i;

	if (only != NULL) {
		check_integration(d, a, only);
		return;
	}
	if (store_integration_ids(&a->store, &ids, &n) == -1) {
		say(d, FAIL, "integrations", "see the log", "cannot be listed");
		return;
	}
	if (n == 0)
		say(d, OK, "integrations", NULL, "none yet");
	for (i = 0; i < n; i++) {
		check_integration(d, a, ids[i]);
		free(ids[i]);
	}
	free(ids);
}

int
doctor_run(const char *only)
{
	struct doctor	 d;
	struct conf	 c;
	struct app	 a;
	int		 db;

	memset(&d, 0, sizeof(d));
	log_open("pbsyncctl", LOGL_WARN, NULL);
	if (check_config(&d, &c) == 0) {
		check_key(&d, &c);
		db = check_database_file(&d, &c);
		conf_release(&c);
		/* Only now: app_open would create a missing database. */
		if (db && app_open(&a, "pbsyncctl") == -1)
			say(&d, FAIL, "startup", "see the error above",
			    "the log file or the HTTP client cannot be opened");
		else if (db) {
			if (check_store(&d, &a) == 0)
				check_integrations(&d, &a, only);
			app_close(&a);
		}
	}
	printf("%d ok, %d warn, %d FAIL\n", d.n[OK], d.n[WARN], d.n[FAIL]);
	return d.n[FAIL] > 0 ? 1 : 0;
}
