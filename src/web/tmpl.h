/*
 * tmpl: HTML templates that escape every value by default
 * (kcgi khttp_template(3), with mustache-like sections).
 *
 * A template is a file of the template directory (conf.templates).  Its
 * text is copied as is, except for tags:
 *
 *   {{key}}               the key callback writes the value
 *   {{#name}}...{{/name}} a section: the section callback renders the body
 *                         zero or more times (rows, optional blocks)
 *   {{^name}}...{{/name}} the same callback, told it is inverted: rendered
 *                         when the section would render nothing
 *   {{>file.html}}        another template of the directory, inlined
 *   {{!comment}}          nothing
 *
 * Callbacks write values through tmpl_text (HTML-escaped: safe in text and
 * in quoted attributes, which is how templates write them), tmpl_url (an
 * href or action: http(s) or site-relative only, percent-encoded, then
 * HTML-escaped) or tmpl_raw_const, which is only for constant markup
 * written in the code, never for data.
 *
 * struct tmpl_vars is the usual callback: a dictionary of values and rows
 * filled by a handler, rendered by tmpl_render_vars.  A key the template
 * names but the handler did not set is an error, so a typo cannot silently
 * print nothing.
 */
#ifndef PBSYNC_TMPL_H
#define PBSYNC_TMPL_H

#include <stddef.h>

#include "base/buf.h"

#define TMPL_MAX_SIZE	(256u << 10)	/* largest template file */
#define TMPL_MAX_DEPTH	16		/* nested sections and includes */

struct tmpl {
	const char	*dir;		/* template directory */
	struct buf	*out;
	int		 depth;
	char		 err[160];	/* why a render failed, for the log */
};

/* The text of one section, handed to the section callback. */
struct tmpl_body {
	const char	*p;
	size_t		 len;
	const char	*file;		/* for error messages */
};

struct tmpl_cb {
	/* Writes the value of key: 0, or -1 (unknown key, no memory). */
	int	(*key)(struct tmpl *, const char *key, void *arg);
	/*
	 * Renders body with tmpl_body as often as section name asks
	 * (inverted: once if it would render nothing).  0 or -1.
	 */
	int	(*section)(struct tmpl *, const char *name,
		    const struct tmpl_body *, int inverted, void *arg);
	void	*arg;
};

void	 tmpl_init(struct tmpl *, const char *dir, struct buf *out);
/* Renders template file name into t->out: 0, or -1 with t->err set. */
int	 tmpl_render(struct tmpl *, const char *name, const struct tmpl_cb *);
/* Renders a section body once with cb: 0 or -1. */
int	 tmpl_body(struct tmpl *, const struct tmpl_body *,
	    const struct tmpl_cb *);

/* Writers for callbacks: 0 or -1. */
int	 tmpl_text(struct tmpl *, const char *);
int	 tmpl_url(struct tmpl *, const char *);
/* Raw output: only for constant markup from the code, never for data. */
int	 tmpl_raw_const(struct tmpl *, const char *);

/*
 * Escapers, one per context (STYLE "Output escaping"), appending to a
 * buffer: 0 or -1.
 *
 * html: & < > " ' become entities; invalid UTF-8 and control characters
 * other than tab, CR and LF become U+FFFD.  Safe in element text and in
 * quoted attribute values.
 * attr: html, plus ` and = as entities, for attribute values written by
 * code rather than templates.
 * url: a URL for href/action.  Only http:, https: and site-relative
 * references ("/x", "?q", "#f") pass; anything else (javascript:, data:,
 * "//host") is written as "#invalid-url".  Bytes outside RFC 3986's
 * unreserved and reserved sets are percent-encoded, then the result is
 * HTML-escaped.
 * component: percent-encodes everything but RFC 3986 unreserved
 * characters: one query value or path segment.
 */
int	 tmpl_escape_html(struct buf *, const char *);
int	 tmpl_escape_attr(struct buf *, const char *);
int	 tmpl_escape_url(struct buf *, const char *);
int	 tmpl_escape_component(struct buf *, const char *);

/*
 * The dictionary callback.  Setters copy their value (except
 * tmpl_set_const, which keeps the pointer: string literals only) and never
 * fail: an allocation failure is remembered and makes the render fail.
 * tmpl_row appends a row to a list section and returns it; a row looks up
 * keys it lacks in its parent.  A section is shown once for a set,
 * non-empty value or a flag, once per row for a list, not at all when
 * unset or empty.
 */
struct tmpl_vars;

struct tmpl_vars *tmpl_vars_new(void);
void	 tmpl_vars_free(struct tmpl_vars *);
void	 tmpl_set(struct tmpl_vars *, const char *key, const char *value);
void	 tmpl_setf(struct tmpl_vars *, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 tmpl_set_url(struct tmpl_vars *, const char *key, const char *url);
void	 tmpl_set_const(struct tmpl_vars *, const char *key,
	    const char *markup);
void	 tmpl_set_flag(struct tmpl_vars *, const char *key, int on);
/* Declares an empty list (so {{^name}} renders); rows add to it. */
void	 tmpl_list(struct tmpl_vars *, const char *name);
struct tmpl_vars *tmpl_row(struct tmpl_vars *, const char *section);
/* The text value of key in v or its parents, or NULL. */
const char *tmpl_get(const struct tmpl_vars *, const char *key);
/* Renders template name with v: 0, or -1 with t->err set. */
int	 tmpl_render_vars(struct tmpl *, const char *name, struct tmpl_vars *);

#endif
