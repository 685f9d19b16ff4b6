/*
 * admin_int.h: what the admin_*.c files share; not for other modules.
 *
 * admin.c routes a request, sets the security headers, serves the login
 * and the style sheet, and renders pages; admin_pages.c holds the
 * integrations list, the integration page, delete and retry; admin_form.c
 * the create and edit forms with the status mapping.
 */
#ifndef PBSYNC_ADMIN_INT_H
#define PBSYNC_ADMIN_INT_H

#include "admin/admin.h"
#include "web/form.h"
#include "web/session.h"
#include "web/tmpl.h"

#define ADMIN_MAX_BODY	(256u << 10)

struct admin {
	struct app		*app;
	struct req		*rq;
	struct resp		*rs;
	const struct req_reader	*rd;
	struct session		 sess;
	char			 id[33];	/* /admin/i/<id>... */
	struct form		 form;		/* a POST's fields */
	int			 has_form;
};

/* New vars with what every page shows (title, user, csrf); NULL: OOM. */
struct tmpl_vars *admin_vars(struct admin *, const char *title);
/* Renders template name with v as the answer and frees v. */
void	 admin_page(struct admin *, int status, const char *name,
	    struct tmpl_vars *v);
/* A page with only a title and a message (errors, refusals). */
void	 admin_message(struct admin *, int status, const char *title,
	    const char *message);
/* 303 See Other to a path under /admin/. */
void	 admin_redirect(struct admin *, const char *path);
/*
 * Reads a POST's form against fields, which must include "csrf", and
 * checks the token.  0, or -1 when the answer (413, 415, 400, 403) has
 * been given and nothing may change.
 */
int	 admin_post(struct admin *, const struct form_field *, size_t n);
/* "2025-01-31 12:00 UTC", or "never" for 0. */
void	 admin_time(double, char out[32]);
/* Writes an audit entry into the integration's sync log. */
void	 admin_audit(struct admin *, const char *iid, const char *detail);

/* admin_pages.c */
void	 admin_list(struct admin *);
void	 admin_integration(struct admin *);
void	 admin_delete(struct admin *);
void	 admin_retry(struct admin *);

/* admin_form.c */
void	 admin_create(struct admin *);
void	 admin_edit(struct admin *);

#endif
