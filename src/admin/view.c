#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/view.h"
#include "base/log.h"
#include "base/util.h"

#define CSP	"default-src 'none'; style-src 'self'; img-src 'self'; " \
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

void
view_headers(struct resp *rs)
{
	/* resp_serialize adds nosniff and Cache-Control: no-store. */
	resp_header(rs, "Content-Security-Policy", CSP);
	resp_header(rs, "X-Frame-Options", "DENY");
	resp_header(rs, "Referrer-Policy", "no-referrer");
	resp_header(rs, "Cross-Origin-Opener-Policy", "same-origin");
	resp_header(rs, "Cross-Origin-Resource-Policy", "same-origin");
}

void
view_time(double t, char out[32])
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
view_vars(struct view *ad, const char *title)
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
view_page(struct view *ad, int status, const char *name,
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
view_message(struct view *ad, int status, const char *title,
    const char *message)
{
	struct tmpl_vars *v = view_vars(ad, title);

	tmpl_set(v, "message", message);
	tmpl_set(v, "back_url", "");
	view_page(ad, status, "message.html", v);
}

void
view_redirect(struct view *ad, const char *path)
{
	resp_empty(ad->rs, 303);
	if (resp_header(ad->rs, "Location", path) == -1)
		resp_text(ad->rs, 500, "internal error");
}

void
view_audit(struct view *ad, const char *iid, const char *detail)
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

int
view_read_form(struct view *ad, const struct form_field *fields, size_t n)
{
	int	 st;

	if (!req_content_type_is(ad->rq, "application/x-www-form-urlencoded")) {
		view_message(ad, 415, "Unsupported form",
		    "This page only accepts its own forms.");
		return -1;
	}
	if ((st = req_read_body(ad->rq, VIEW_MAX_BODY, ad->rd)) != 0) {
		view_message(ad, st, "Form refused", st == 413 ?
		    "The form is too large." : "The form could not be read.");
		return -1;
	}
	if (form_parse(&ad->form, fields, n, buf_str(&ad->rq->body),
	    ad->rq->body.len) == -1) {
		form_release(&ad->form);
		crypto_wipe(ad->rq->body.data, ad->rq->body.len);
		view_message(ad, 400, "Form refused",
		    "The form could not be read.");
		return -1;
	}
	/* The body may hold a token or a password: keep only the parse. */
	crypto_wipe(ad->rq->body.data, ad->rq->body.len);
	ad->has_form = 1;
	return 0;
}

int
view_post(struct view *ad, const struct form_field *fields, size_t n)
{
	if (view_read_form(ad, fields, n) == -1)
		return -1;
	if (!session_csrf_ok(&ad->sess, form_str(&ad->form, "csrf"))) {
		log_warn("admin: %s without a valid csrf token (user \"%s\")",
		    ad->rq->path, ad->sess.user);
		view_message(ad, 403, "Form refused", "This form has expired "
		    "or was not sent from the pbsync pages, so nothing was "
		    "changed. Go back, reload the page and try again.");
		return -1;
	}
	return 0;
}

