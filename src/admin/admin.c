/*
 * admin: the configuration pages under /admin/ (DESIGN §1, §6).
 *
 * Routes:
 *   GET  /admin/                      integrations list
 *   GET  /admin/login, POST           login form, login
 *   POST /admin/logout
 *   GET  /admin/new, POST             create form, create
 *   GET  /admin/i/ID                  links, sync log, failed jobs
 *   GET  /admin/i/ID/edit, POST       edit form, save
 *   GET  /admin/i/ID/delete, POST     confirm page, delete and report
 *   POST /admin/i/ID/retry            retry a failed job
 *   GET  /admin/static/admin.css      the style sheet
 * Every answer carries the security headers; every page but the login
 * needs a session, and every POST a CSRF token.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "base/log.h"
#include "base/util.h"
#include "web/health.h"

#define CSP	"default-src 'none'; style-src 'self'; img-src 'self'; " \
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const struct form_field login_fields[] = {
	{ "csrf", FORM_LINE, 64, 0, 0 },
	{ "user", FORM_LINE, 64, 0, 0 },
	{ "password", FORM_SECRET, 1024, 0, 0 },
};

static void
security_headers(struct resp *rs)
{
	/* resp_serialize adds nosniff and Cache-Control: no-store. */
	resp_header(rs, "Content-Security-Policy", CSP);
	resp_header(rs, "X-Frame-Options", "DENY");
	resp_header(rs, "Referrer-Policy", "no-referrer");
	resp_header(rs, "Cross-Origin-Opener-Policy", "same-origin");
	resp_header(rs, "Cross-Origin-Resource-Policy", "same-origin");
}

void
admin_time(double t, char out[32])
{
	char	*p;

	if (t <= 0) {
		snprintf(out, 32, "never");
		return;
	}
	util_format_time(t, out);
	if ((p = strchr(out, 'T')) != NULL)
		*p = ' ';
	if ((p = strchr(out, 'Z')) != NULL)
		snprintf(p, 32 - (size_t)(p - out), " UTC");
}

struct tmpl_vars *
admin_vars(struct admin *ad, const char *title)
{
	struct tmpl_vars *v;

	if ((v = tmpl_vars_new()) == NULL)
		return NULL;
	tmpl_set(v, "title", title);
	tmpl_set_flag(v, "logged_in", ad->sess.valid);
	tmpl_set(v, "user", ad->sess.valid ? ad->sess.user : "");
	tmpl_set(v, "csrf", ad->sess.valid ? ad->sess.csrf : "");
	tmpl_set(v, "notice", "");
	tmpl_set(v, "error", "");
	return v;
}

void
admin_page(struct admin *ad, int status, const char *name,
    struct tmpl_vars *v)
{
	struct resp	*rs = ad->rs;
	struct tmpl	 t;

	if (v == NULL) {
		resp_text(rs, 500, "internal error");
		return;
	}
	resp_text(rs, status, "");
	snprintf(rs->content_type, sizeof(rs->content_type),
	    "text/html; charset=utf-8");
	tmpl_init(&t, ad->app->conf.templates, &rs->body);
	if (tmpl_render_vars(&t, name, v) == -1) {
		buf_reset(&rs->body);
		resp_text(rs, 500, "internal error: the page could not be "
		    "rendered (see the log)");
	}
	tmpl_vars_free(v);
}

void
admin_message(struct admin *ad, int status, const char *title,
    const char *message)
{
	struct tmpl_vars *v = admin_vars(ad, title);

	tmpl_set(v, "message", message);
	admin_page(ad, status, "message.html", v);
}

void
admin_redirect(struct admin *ad, const char *path)
{
	resp_empty(ad->rs, 303);
	if (resp_header(ad->rs, "Location", path) == -1)
		resp_text(ad->rs, 500, "internal error");
}

void
admin_audit(struct admin *ad, const char *iid, const char *detail)
{
	struct store_log l;

	memset(&l, 0, sizeof(l));
	snprintf(l.integration_id, sizeof(l.integration_id), "%s", iid);
	l.actor = ad->sess.valid ? ad->sess.user : "";
	l.action = "admin";
	l.result = "info";
	l.detail = detail;
	store_log(&ad->app->store, &l);
}

/* Reads and parses the body; 0, or -1 with the answer given. */
static int
read_form(struct admin *ad, const struct form_field *fields, size_t n)
{
	int	 st;

	if (!req_content_type_is(ad->rq, "application/x-www-form-urlencoded")) {
		admin_message(ad, 415, "Unsupported form",
		    "This page only accepts its own forms.");
		return -1;
	}
	if ((st = req_read_body(ad->rq, ADMIN_MAX_BODY, ad->rd)) != 0) {
		admin_message(ad, st, "Form refused", st == 413 ?
		    "The form is too large." : "The form could not be read.");
		return -1;
	}
	if (form_parse(&ad->form, fields, n, buf_str(&ad->rq->body),
	    ad->rq->body.len) == -1) {
		form_release(&ad->form);
		crypto_wipe(ad->rq->body.data, ad->rq->body.len);
		admin_message(ad, 400, "Form refused",
		    "The form could not be read.");
		return -1;
	}
	/* The body may hold a token or a password: keep only the parse. */
	crypto_wipe(ad->rq->body.data, ad->rq->body.len);
	ad->has_form = 1;
	return 0;
}

int
admin_post(struct admin *ad, const struct form_field *fields, size_t n)
{
	if (read_form(ad, fields, n) == -1)
		return -1;
	if (!session_csrf_ok(&ad->sess, form_str(&ad->form, "csrf"))) {
		log_warn("admin: %s without a valid csrf token (user \"%s\")",
		    ad->rq->path, ad->sess.user);
		admin_message(ad, 403, "Form refused", "This form has expired "
		    "or was not sent from the pbsync pages, so nothing was "
		    "changed. Go back, reload the page and try again.");
		return -1;
	}
	return 0;
}

static void
serve_css(struct admin *ad)
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

/* The login form, with its pre-login CSRF cookie (double submit). */
static void
login_form(struct admin *ad, int status, const char *user, const char *error)
{
	struct tmpl_vars *v = admin_vars(ad, "Log in");
	char		 pre[CRYPTO_SECRET_LEN + 1];

	if (form_cookie(req_param(ad->rq, "HTTP_COOKIE"),
	    SESSION_LOGIN_COOKIE, pre, sizeof(pre)) == -1 ||
	    strlen(pre) != CRYPTO_SECRET_LEN) {
		crypto_random_secret(pre);
		session_cookie(ad->app, ad->rs, SESSION_LOGIN_COOKIE, pre);
	}
	tmpl_set(v, "csrf", pre);
	tmpl_set(v, "login_user", user != NULL ? user : "");
	tmpl_set(v, "error", error != NULL ? error : "");
	tmpl_set_flag(v, "insecure_url",
	    strncmp(ad->app->conf.public_url, "https://", 8) != 0 &&
	    !session_insecure_ok(ad->app->conf.public_url));
	tmpl_set(v, "public_url", ad->app->conf.public_url);
	admin_page(ad, status, "login.html", v);
}

static void
login(struct admin *ad)
{
	char		 pre[CRYPTO_SECRET_LEN + 1], cookie[CRYPTO_SECRET_LEN + 1];
	char		 msg[160];
	const char	*user, *pw, *csrf;
	struct session	 s;
	long		 wait;

	if (read_form(ad, login_fields, 3) == -1)
		return;
	user = form_str(&ad->form, "user");
	pw = form_str(&ad->form, "password");
	csrf = form_str(&ad->form, "csrf");
	if (form_cookie(req_param(ad->rq, "HTTP_COOKIE"),
	    SESSION_LOGIN_COOKIE, pre, sizeof(pre)) == -1 || csrf == NULL ||
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
	switch (session_login(ad->app, user, pw, &s, cookie, &wait)) {
	case SESSION_OK:
		if (ad->sess.valid)
			session_end(ad->app, &ad->sess);
		session_cookie(ad->app, ad->rs, SESSION_COOKIE, cookie);
		session_cookie(ad->app, ad->rs, SESSION_LOGIN_COOKIE, NULL);
		crypto_wipe(cookie, sizeof(cookie));
		ad->sess = s;
		admin_redirect(ad, "/admin/");
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
		admin_message(ad, 503, "Login unavailable", "pbsync cannot "
		    "check logins right now (see the log). Try again later.");
		return;
	}
}

static void
logout(struct admin *ad)
{
	static const struct form_field f[] = { { "csrf", FORM_LINE, 64, 0, 0 } };

	if (admin_post(ad, f, 1) == -1)
		return;
	session_end(ad->app, &ad->sess);
	log_info("admin \"%s\" logged out", ad->sess.user);
	session_cookie(ad->app, ad->rs, SESSION_COOKIE, NULL);
	memset(&ad->sess, 0, sizeof(ad->sess));
	admin_redirect(ad, "/admin/login");
}

/* 1 if the method is one of the route's; answers 405 otherwise. */
static int
method(struct admin *ad, int get, int post)
{
	enum req_method m = ad->rq->method;

	if ((get && (m == REQ_GET || m == REQ_HEAD)) || (post && m == REQ_POST))
		return 1;
	resp_header(ad->rs, "Allow", get && post ? "GET, HEAD, POST" : get ?
	    "GET, HEAD" : "POST");
	admin_message(ad, 405, "Method not allowed",
	    "This address does not accept that kind of request.");
	return 0;
}

/* Splits "/admin/i/<id><rest>": the rest, or NULL when no id. */
static const char *
integration_path(struct admin *ad)
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

static void
route(struct admin *ad)
{
	const char	*path = ad->rq->path, *rest;

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
			admin_redirect(ad, "/admin/");
		else
			login_form(ad, 200, NULL, NULL);
		return;
	}
	if (!ad->sess.valid) {
		if (ad->rq->method == REQ_GET || ad->rq->method == REQ_HEAD)
			admin_redirect(ad, "/admin/login");
		else
			admin_message(ad, 403, "Please log in", "Your session "
			    "has ended, so nothing was changed. Log in and try "
			    "again.");
		return;
	}
	if (strcmp(path, "/admin/logout") == 0) {
		if (method(ad, 0, 1))
			logout(ad);
	} else if (strcmp(path, "/admin/") == 0 || strcmp(path, "/admin") == 0) {
		if (method(ad, 1, 0))
			admin_list(ad);
	} else if (strcmp(path, "/admin/new") == 0) {
		if (method(ad, 1, 1))
			admin_create(ad);
	} else if (strncmp(path, "/admin/i/", 9) == 0 &&
	    (rest = integration_path(ad)) != NULL) {
		if (*rest == '\0' || strcmp(rest, "/") == 0) {
			if (method(ad, 1, 0))
				admin_integration(ad);
		} else if (strcmp(rest, "/edit") == 0) {
			if (method(ad, 1, 1))
				admin_edit(ad);
		} else if (strcmp(rest, "/delete") == 0) {
			if (method(ad, 1, 1))
				admin_delete(ad);
		} else if (strcmp(rest, "/retry") == 0) {
			if (method(ad, 0, 1))
				admin_retry(ad);
		} else
			admin_message(ad, 404, "Not found",
			    "There is no such page.");
	} else
		admin_message(ad, 404, "Not found", "There is no such page.");
}

void
admin_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	struct admin	 ad;

	if (health_handle(a, rq, rs))
		return;
	memset(&ad, 0, sizeof(ad));
	ad.app = a;
	ad.rq = rq;
	ad.rs = rs;
	ad.rd = rd;
	security_headers(rs);
	if (strncmp(rq->path, "/admin", 6) != 0 ||
	    (rq->path[6] != '\0' && rq->path[6] != '/'))
		admin_message(&ad, 404, "Not found", "There is no such page.");
	else if (app_store(a) == -1)
		admin_message(&ad, 503, "Unavailable", "The pbsync database "
		    "cannot be opened (see the log). Run pbsyncctl init, then "
		    "reload this page.");
	else
		route(&ad);
	if (ad.has_form)
		form_release(&ad.form);
	crypto_wipe(&ad.sess, sizeof(ad.sess));
}
