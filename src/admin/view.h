/*
 * view: one admin request being answered, and what every page does with
 * it: the security headers, the common template values, rendering,
 * messages, redirects, reading a form with its CSRF token, the audit log.
 *
 * admin.c routes and holds the login; pages.c the lists, the integration
 * page, delete and retry; forms.c the create and edit forms; channels.c
 * the actions on notification channels.  Those share only this module, so
 * they call one way: admin.c into the others, all of them into view.
 */
#ifndef PBSYNC_VIEW_H
#define PBSYNC_VIEW_H

#include "app/app.h"
#include "web/form.h"
#include "web/req.h"
#include "web/resp.h"
#include "web/session.h"
#include "web/tmpl.h"

#define VIEW_MAX_BODY	(256u << 10)

struct view {
	struct app		*app;
	struct req		*rq;
	struct resp		*rs;
	const struct req_reader	*rd;
	struct session		 sess;
	char			 id[33];	/* /admin/i/<id>... */
	struct form		 form;		/* a POST's fields */
	int			 has_form;
};

/* Content-Security-Policy and the other headers of every answer. */
void	 view_headers(struct resp *);
/* New vars with what every page shows (title, user, csrf); NULL: OOM. */
struct tmpl_vars *view_vars(struct view *, const char *title);
/* Renders template name with v as the answer and frees v. */
void	 view_page(struct view *, int status, const char *name,
	    struct tmpl_vars *v);
/* A page with only a title and a message (errors, refusals). */
void	 view_message(struct view *, int status, const char *title,
	    const char *message);
/* 303 See Other to a path under /admin/. */
void	 view_redirect(struct view *, const char *path);
/* Reads and parses a POST's form: 0, or -1 with the answer given. */
int	 view_read_form(struct view *, const struct form_field *, size_t n);
/*
 * Reads a POST's form against fields, which must include "csrf", and
 * checks the token.  0, or -1 when the answer (413, 415, 400, 403) has
 * been given and nothing may change.
 */
int	 view_post(struct view *, const struct form_field *, size_t n);
/* "2025-01-31 12:00 UTC", or "never" for 0. */
void	 view_time(double, char out[32]);
/* Writes an audit entry into the integration's sync log. */
void	 view_audit(struct view *, const char *iid, const char *detail);

#endif
