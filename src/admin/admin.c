/*
 * admin: the configuration pages under /admin/ (DESIGN §1, §6).
 *
 * Routes:
 *   GET  /admin/                      integrations list, activity dashboard
 *   GET  /admin/log                   sync log of every integration, filtered
 *   GET  /admin/login, POST           login form, login
 *   POST /admin/logout
 *   GET  /admin/new, POST             create form, create
 *   GET  /admin/i/ID                  activity, links, sync log, failed jobs
 *   GET  /admin/i/ID/links/LINK       one link's history
 *   GET  /admin/i/ID/edit, POST       edit form, save
 *   GET  /admin/i/ID/delete, POST     confirm page, delete and report
 *   POST /admin/i/ID/retry            retry a failed job
 *   POST /admin/i/ID/link             link an existing issue to a feature
 *   GET  /admin/i/ID/webhook, POST    the tracker's webhook, a new secret
 *   POST /admin/i/ID/channels         connect a notification channel
 *   POST /admin/i/ID/channels/T/test  send it a test
 *   POST /admin/i/ID/channels/T/delete  disconnect it
 *   GET  /admin/static/admin.css      the style sheet
 * Every answer carries the security headers; every page but the login
 * needs a session, and every POST a CSRF token.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "admin/api.h"
#include "admin/channels.h"
#include "admin/forms.h"
#include "admin/hooks.h"
#include "admin/pages.h"
#include "admin/synclog.h"
#include "admin/view.h"
#include "base/log.h"
#include "base/util.h"
#include "web/health.h"

static const struct form_field login_fields[] = {
	{ "csrf", FORM_LINE, 64, 0, 0 },
	{ "user", FORM_LINE, 64, 0, 0 },
	{ "password", FORM_SECRET, 1024, 0, 0 },
};

static void
serve_css(struct view *ad)
{
	char	 path[4096];
	FILE	*f;
	char	 chunk[8192];
	size_t	 n;

	snprintf(path, sizeof(path), "%s/admin.css", ad->app->conf.templates);
	if ((f = fopen(path, "r")) == NULL) {
		log_err("admin: cannot open \"%s\"", path);
		resp_text(ad->rs, 404, "not found");
		return;
	}
	resp_text(ad->rs, 200, "");
	snprintf(ad->rs->content_type, sizeof(ad->rs->content_type),
	    "text/css; charset=utf-8");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&ad->rs->body, chunk, n) == -1)
			break;
	fclose(f);
}

/*
 * The login form, with its pre-login CSRF cookie (double submit): a fresh
 * token with every form, so a token seen once is worth nothing later.
 */
static void
login_form(struct view *ad, int status, const char *user, const char *error)
{
	struct tmpl_vars *v = view_vars(ad, "Log in");
	char		 pre[CRYPTO_SECRET_LEN + 1];

	crypto_random_secret(pre);
	session_cookie(ad->app, ad->rs, SESSION_LOGIN_COOKIE, pre);
	tmpl_set(v, "csrf", pre);
	tmpl_set(v, "login_user", user != NULL ? user : "");
	tmpl_set(v, "error", error != NULL ? error : "");
	tmpl_set_flag(v, "insecure_url",
	    strncmp(ad->app->conf.public_url, "https://", 8) != 0 &&
	    !session_insecure_ok(ad->app->conf.public_url));
	tmpl_set(v, "public_url", ad->app->conf.public_url);
	view_page(ad, status, "login.html", v);
}

static void
login(struct view *ad)
{
	char		 pre[CRYPTO_SECRET_LEN + 1], cookie[CRYPTO_SECRET_LEN + 1];
	char		 device[CRYPTO_SECRET_LEN + 1], known[CRYPTO_SECRET_LEN + 1];
	char		 msg[160];
	const char	*user, *pw, *csrf;
	struct session	 s;
	struct session_try attempt;
	long		 wait;

	if (view_read_form(ad, login_fields, 3) == -1)
		return;
	user = form_str(&ad->form, "user");
	pw = form_str(&ad->form, "password");
	csrf = form_str(&ad->form, "csrf");
	if (session_read_cookie(ad->app, ad->rq, SESSION_LOGIN_COOKIE, pre,
	    sizeof(pre)) == -1 || csrf == NULL ||
	    strlen(pre) != strlen(csrf) || !crypto_equal(pre, csrf,
	    strlen(pre))) {
		login_form(ad, 403, user, "The login form expired. Please "
		    "log in again.");
		return;
	}
	if (user == NULL || *user == '\0' || pw == NULL || *pw == '\0') {
		login_form(ad, 422, user, "Enter your user name and password.");
		return;
	}
	attempt.user = user;
	attempt.password = pw;
	attempt.addr = req_param(ad->rq, "REMOTE_ADDR");
	attempt.device = session_read_cookie(ad->app, ad->rq,
	    SESSION_DEVICE_COOKIE, known, sizeof(known)) == 0 ? known : NULL;
	switch (session_login(ad->app, &attempt, &s, cookie, device, &wait)) {
	case SESSION_OK:
		if (ad->sess.valid)
			session_end(ad->app, &ad->sess);
		session_cookie(ad->app, ad->rs, SESSION_COOKIE, cookie);
		session_cookie(ad->app, ad->rs, SESSION_LOGIN_COOKIE, NULL);
		if (device[0] != '\0')
			session_device_cookie(ad->app, ad->rs, device);
		crypto_wipe(cookie, sizeof(cookie));
		crypto_wipe(device, sizeof(device));
		crypto_wipe(known, sizeof(known));
		ad->sess = s;
		view_redirect(ad, "/admin/");
		return;
	case SESSION_THROTTLED:
		snprintf(msg, sizeof(msg), "Too many wrong passwords for this "
		    "user. Wait %ld seconds, then try again.", wait);
		snprintf(pre, sizeof(pre), "%ld", wait);
		resp_header(ad->rs, "Retry-After", pre);
		login_form(ad, 429, user, msg);
		return;
	case SESSION_BAD:
		if (wait > 0)
			snprintf(msg, sizeof(msg), "Wrong user name or password. "
			    "Too many wrong passwords: wait %ld seconds before "
			    "the next try.", wait);
		else
			snprintf(msg, sizeof(msg), "Wrong user name or "
			    "password.");
		login_form(ad, 403, user, msg);
		return;
	default:
		view_message(ad, 503, "Login unavailable", "pbsync cannot "
		    "check logins right now (see the log). Try again later.");
		return;
	}
}

static void
logout(struct view *ad)
{
	static const struct form_field f[] = { { "csrf", FORM_LINE, 64, 0, 0 } };

	if (view_post(ad, f, 1) == -1)
		return;
	session_end(ad->app, &ad->sess);
	log_info("admin \"%s\" logged out", ad->sess.user);
	session_cookie(ad->app, ad->rs, SESSION_COOKIE, NULL);
	memset(&ad->sess, 0, sizeof(ad->sess));
	view_redirect(ad, "/admin/login");
}

/* 1 if the method is one of the route's; answers 405 otherwise. */
static int
method(struct view *ad, int get, int post)
{
	enum req_method m = ad->rq->method;

	if ((get && (m == REQ_GET || m == REQ_HEAD)) || (post && m == REQ_POST))
		return 1;
	resp_header(ad->rs, "Allow", get && post ? "GET, HEAD, POST" : get ?
	    "GET, HEAD" : "POST");
	view_message(ad, 405, "Method not allowed",
	    "This address does not accept that kind of request.");
	return 0;
}

/* Splits "/admin/i/<id><rest>": the rest, or NULL when no id. */
static const char *
integration_path(struct view *ad)
{
	const char	*p = ad->rq->path + strlen("/admin/i/");
	size_t		 i;

	for (i = 0; i < 32; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' &&
		    p[i] <= 'f')))
			return NULL;
	memcpy(ad->id, p, 32);
	ad->id[32] = '\0';
	return p + 32;
}

/* Splits "/links/<id>": the link id, or 0. */
static long long
link_path(const char *rest)
{
	long	 id;

	if (strncmp(rest, "/links/", 7) != 0 ||
	    util_parse_long(rest + 7, 1, 1L << 62, &id) == -1)
		return 0;
	return id;
}

/* Splits "/channels/<type>/test" or ".../delete": 0, or -1. */
static int
channel_action(const char *rest, char type[16], int *test)
{
	size_t	 n;

	if (strncmp(rest, "/channels/", 10) != 0)
		return -1;
	rest += 10;
	if ((n = strcspn(rest, "/")) == 0 || n >= 16)
		return -1;
	memcpy(type, rest, n);
	type[n] = '\0';
	*test = strcmp(rest + n, "/test") == 0;
	return *test || strcmp(rest + n, "/delete") == 0 ? 0 : -1;
}

static void
route(struct view *ad)
{
	const char	*path = ad->rq->path, *rest;
	char		 type[16];
	long long	 link;
	int		 test;

	if (strcmp(path, "/admin/static/admin.css") == 0) {
		if (method(ad, 1, 0))
			serve_css(ad);
		return;
	}
	session_load(ad->app, ad->rq, &ad->sess);
	if (strcmp(path, "/admin/login") == 0) {
		if (!method(ad, 1, 1))
			return;
		if (ad->rq->method == REQ_POST)
			login(ad);
		else if (ad->sess.valid)
			view_redirect(ad, "/admin/");
		else
			login_form(ad, 200, NULL, NULL);
		return;
	}
	if (!ad->sess.valid) {
		if (ad->rq->method == REQ_GET || ad->rq->method == REQ_HEAD)
			view_redirect(ad, "/admin/login");
		else
			view_message(ad, 403, "Please log in", "Your session "
			    "has ended, so nothing was changed. Log in and try "
			    "again.");
		return;
	}
	if (strcmp(path, "/admin/logout") == 0) {
		if (method(ad, 0, 1))
			logout(ad);
	} else if (strcmp(path, "/admin/") == 0 || strcmp(path, "/admin") == 0) {
		if (method(ad, 1, 0))
			pages_list(ad);
	} else if (strcmp(path, "/admin/new") == 0) {
		if (method(ad, 1, 1))
			forms_create(ad);
	} else if (strcmp(path, "/admin/log") == 0) {
		if (method(ad, 1, 0))
			synclog_page(ad);
	} else if (strncmp(path, "/admin/i/", 9) == 0 &&
	    (rest = integration_path(ad)) != NULL) {
		if (*rest == '\0' || strcmp(rest, "/") == 0) {
			if (method(ad, 1, 0))
				pages_integration(ad);
		} else if (strcmp(rest, "/edit") == 0) {
			if (method(ad, 1, 1))
				forms_edit(ad);
		} else if (strcmp(rest, "/delete") == 0) {
			if (method(ad, 1, 1))
				pages_delete(ad);
		} else if ((link = link_path(rest)) > 0) {
			if (method(ad, 1, 0))
				synclog_link(ad, link);
		} else if (strcmp(rest, "/retry") == 0) {
			if (method(ad, 0, 1))
				pages_retry(ad);
		} else if (strcmp(rest, "/link") == 0) {
			if (method(ad, 0, 1))
				pages_link(ad);
		} else if (strcmp(rest, "/webhook") == 0) {
			if (method(ad, 1, 1))
				hooks_page(ad);
		} else if (strcmp(rest, "/channels") == 0) {
			if (method(ad, 0, 1))
				channels_connect(ad);
		} else if (channel_action(rest, type, &test) == 0) {
			if (method(ad, 0, 1) && test)
				channels_test(ad, type);
			else if (ad->rq->method == REQ_POST)
				channels_disconnect(ad, type);
		} else
			view_message(ad, 404, "Not found",
			    "There is no such page.");
	} else
		view_message(ad, 404, "Not found", "There is no such page.");
}

void
admin_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	struct view	 ad;

	if (health_handle(a, rq, rs))
		return;
	memset(&ad, 0, sizeof(ad));
	ad.app = a;
	ad.rq = rq;
	ad.rs = rs;
	ad.rd = rd;
	view_headers(rs);
	if (strncmp(rq->path, "/api/v1/", 8) == 0)
		api_handle(a, rq, rs, rd);
	else if (strncmp(rq->path, "/admin", 6) != 0 ||
	    (rq->path[6] != '\0' && rq->path[6] != '/'))
		view_message(&ad, 404, "Not found", "There is no such page.");
	else if (app_store(a) == -1)
		view_message(&ad, 503, "Unavailable", "The pbsync database "
		    "cannot be opened (see the log). Run pbsyncctl init, then "
		    "reload this page.");
	else
		route(&ad);
	if (ad.has_form)
		form_release(&ad.form);
	crypto_wipe(&ad.sess, sizeof(ad.sess));
}
