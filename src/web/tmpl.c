#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/util.h"
#include "web/tmpl.h"

#define MAX_NAME	64

void
tmpl_init(struct tmpl *t, const char *dir, struct buf *out)
{
	memset(t, 0, sizeof(*t));
	t->dir = dir;
	t->out = out;
}

/*
 * Sets t->err to "template FILE: WHAT" or "... WHAT \"NAME\"" once (the
 * first cause is the useful one) and returns -1.
 */
static int
fail(struct tmpl *t, const char *file, const char *what, const char *name)
{
	if (t->err[0] == '\0')
		snprintf(t->err, sizeof(t->err), "template %s: %s%s%s%s",
		    file != NULL ? file : "?", what, name != NULL ? " \"" : "",
		    name != NULL ? name : "", name != NULL ? "\"" : "");
	return -1;
}

/* The entity escaper shared by html and attr. */
static int
escape(struct buf *b, const char *s, int attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	 left = strlen(s), n;
	uint32_t cp;
	int	 rc = 0;

	while (left > 0 && rc == 0) {
		switch (*p) {
		case '&':
			rc = buf_puts(b, "&amp;");
			break;
		case '<':
			rc = buf_puts(b, "&lt;");
			break;
		case '>':
			rc = buf_puts(b, "&gt;");
			break;
		case '"':
			rc = buf_puts(b, "&quot;");
			break;
		case '\'':
			rc = buf_puts(b, "&#39;");
			break;
		case '`':
			rc = attr ? buf_puts(b, "&#96;") : buf_putc(b, '`');
			break;
		case '=':
			rc = attr ? buf_puts(b, "&#61;") : buf_putc(b, '=');
			break;
		default:
			if ((*p < 0x20 && *p != '\t' && *p != '\n' &&
			    *p != '\r') || *p == 0x7f ||
			    (n = util_utf8_decode((const char *)p, left, &cp)) == 0) {
				rc = buf_puts(b, "\xef\xbf\xbd");
				break;
			}
			rc = buf_append(b, p, n);
			p += n - 1;
			left -= n - 1;
			break;
		}
		p++;
		left--;
	}
	return rc;
}

int
tmpl_escape_html(struct buf *b, const char *s)
{
	return escape(b, s, 0);
}

int
tmpl_escape_attr(struct buf *b, const char *s)
{
	return escape(b, s, 1);
}

static int
unreserved(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int
ishex(int c)
{
	return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 1 for the references an href may hold (see tmpl.h). */
static int
url_allowed(const char *u)
{
	if (strncasecmp(u, "https://", 8) == 0 ||
	    strncasecmp(u, "http://", 7) == 0)
		return 1;
	if (u[0] == '/')	/* not "//host" nor "/\host" */
		return u[1] != '/' && u[1] != '\\';
	return u[0] == '?' || u[0] == '#';
}

int
tmpl_escape_url(struct buf *b, const char *u)
{
	static const char reserved[] = ":/?#[]@!$&'()*+,;=";
	struct buf	 enc;
	const unsigned char *p;
	int		 rc = 0;

	if (!url_allowed(u))
		return buf_puts(b, "#invalid-url");
	buf_init(&enc, 3 * strlen(u) + 1);
	for (p = (const unsigned char *)u; *p != '\0' && rc == 0; p++) {
		if (unreserved(*p) || (*p != '\0' && strchr(reserved, *p)) ||
		    (*p == '%' && ishex(p[1]) && ishex(p[2])))
			rc = buf_putc(&enc, (char)*p);
		else
			rc = buf_printf(&enc, "%%%02X", *p);
	}
	if (rc == 0)
		rc = escape(b, buf_str(&enc), 0);
	buf_release(&enc);
	return rc;
}

int
tmpl_escape_component(struct buf *b, const char *s)
{
	const unsigned char *p;
	int		 rc = 0;

	for (p = (const unsigned char *)s; *p != '\0' && rc == 0; p++)
		rc = unreserved(*p) ? buf_putc(b, (char)*p) :
		    buf_printf(b, "%%%02X", *p);
	return rc;
}

int
tmpl_text(struct tmpl *t, const char *s)
{
	return tmpl_escape_html(t->out, s != NULL ? s : "");
}

int
tmpl_url(struct tmpl *t, const char *s)
{
	return tmpl_escape_url(t->out, s != NULL ? s : "");
}

int
tmpl_raw_const(struct tmpl *t, const char *s)
{
	return buf_puts(t->out, s);
}

/* 1 for a file name we load: [a-z0-9_-] words and dots, no leading dot. */
static int
name_ok(const char *n)
{
	size_t	 i;

	if (n[0] == '\0' || n[0] == '.' || strlen(n) > MAX_NAME)
		return 0;
	for (i = 0; n[i] != '\0'; i++)
		if (!islower((unsigned char)n[i]) &&
		    !isdigit((unsigned char)n[i]) && n[i] != '_' &&
		    n[i] != '-' && n[i] != '.')
			return 0;
	return strstr(n, "..") == NULL;
}

/* Reads dir/name into a heap string: 0 or -1 with t->err set. */
static int
load(struct tmpl *t, const char *name, char **text, size_t *len)
{
	char	 path[4096];
	FILE	*f = NULL;
	char	*p = NULL;
	size_t	 n;
	int	 rc = -1;

	*text = NULL;
	if (!name_ok(name))
		return fail(t, name, "bad template name", NULL);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", t->dir, name) >=
	    sizeof(path))
		return fail(t, name, "path too long", NULL);
	if ((f = fopen(path, "r")) == NULL)
		return fail(t, name, "cannot open:", strerror(errno));
	if ((p = malloc(TMPL_MAX_SIZE + 1)) == NULL)
		goto out;
	n = fread(p, 1, TMPL_MAX_SIZE + 1, f);
	if (ferror(f) || n > TMPL_MAX_SIZE) {
		fail(t, name, ferror(f) ? "read error" : "too large", NULL);
		goto out;
	}
	p[n] = '\0';
	*text = p;
	*len = n;
	p = NULL;
	rc = 0;
out:
	free(p);
	fclose(f);
	return rc;
}

struct tag {
	char		 kind;		/* 0, '#', '^', '/', '>', '!' */
	char		 name[MAX_NAME + 1];
	const char	*start;		/* the "{{" */
	const char	*end;		/* after the "}}" */
};

/*
 * Finds the next tag in [p, end): 1 with tag filled, 0 when none is left,
 * -1 for a malformed one.
 */
static int
next_tag(const char *p, const char *end, struct tag *tg)
{
	const char	*q, *close;
	size_t		 n = 0;

	for (q = p; q + 1 < end; q++)
		if (q[0] == '{' && q[1] == '{')
			break;
	if (q + 1 >= end)
		return 0;
	memset(tg, 0, sizeof(*tg));
	tg->start = q;
	q += 2;
	if (q < end && strchr("#^/>!", *q) != NULL && *q != '\0')
		tg->kind = *q++;
	for (close = q; close + 1 < end; close++)
		if (close[0] == '}' && close[1] == '}')
			break;
	if (close + 1 >= end)
		return -1;
	tg->end = close + 2;
	if (tg->kind == '!')
		return 1;
	while (q < close && *q == ' ')
		q++;
	while (q < close && *q != ' ') {
		if (!isalnum((unsigned char)*q) && *q != '_' && *q != '.' &&
		    *q != '-')
			return -1;
		if (n == MAX_NAME)
			return -1;
		tg->name[n++] = *q++;
	}
	while (q < close && *q == ' ')
		q++;
	return n > 0 && q == close ? 1 : -1;
}

/*
 * Finds the {{/name}} closing the section opened just before p: 0 with
 * the body end and the close tag's end, -1 when unbalanced.
 */
static int
section_end(const char *p, const char *end, const char *name,
    const char **body_end, const char **after)
{
	struct tag	 tg;
	int		 depth = 1, rc;

	while ((rc = next_tag(p, end, &tg)) == 1) {
		if (tg.kind == '#' || tg.kind == '^')
			depth++;
		else if (tg.kind == '/' && --depth == 0) {
			if (strcmp(tg.name, name) != 0)
				return -1;
			*body_end = tg.start;
			*after = tg.end;
			return 0;
		}
		p = tg.end;
	}
	return -1;
}

static int	render_text(struct tmpl *, const char *, size_t, const char *,
		    const struct tmpl_cb *);

static int
include(struct tmpl *t, const char *name, const struct tmpl_cb *cb)
{
	char	*text;
	size_t	 len;
	int	 rc;

	if (load(t, name, &text, &len) == -1)
		return -1;
	rc = render_text(t, text, len, name, cb);
	free(text);
	return rc;
}

/* Renders [p, p+len) of template file with cb. */
static int
render_text(struct tmpl *t, const char *p, size_t len, const char *file,
    const struct tmpl_cb *cb)
{
	const char	*end = p + len, *body_end, *after;
	struct tmpl_body body;
	struct tag	 tg;
	int		 rc;

	if (++t->depth > TMPL_MAX_DEPTH) {
		t->depth--;
		return fail(t, file, "nested too deeply", NULL);
	}
	while ((rc = next_tag(p, end, &tg)) == 1) {
		if (buf_append(t->out, p, (size_t)(tg.start - p)) == -1)
			goto err;
		p = tg.end;
		switch (tg.kind) {
		case '!':
			break;
		case 0:
			if (cb->key == NULL || cb->key(t, tg.name, cb->arg) == -1) {
				fail(t, file, "cannot write key", tg.name);
				goto err;
			}
			break;
		case '#':
		case '^':
			if (section_end(p, end, tg.name, &body_end, &after) == -1) {
				fail(t, file, "unclosed section", tg.name);
				goto err;
			}
			body.p = p;
			body.len = (size_t)(body_end - p);
			body.file = file;
			if (cb->section == NULL || cb->section(t, tg.name, &body,
			    tg.kind == '^', cb->arg) == -1) {
				fail(t, file, "cannot render section", tg.name);
				goto err;
			}
			p = after;
			break;
		case '>':
			if (include(t, tg.name, cb) == -1)
				goto err;
			break;
		default:
			fail(t, file, "stray closing tag", tg.name);
			goto err;
		}
	}
	if (rc == -1) {
		fail(t, file, "malformed tag", NULL);
		goto err;
	}
	if (buf_append(t->out, p, (size_t)(end - p)) == -1)
		goto err;
	t->depth--;
	return 0;
err:
	t->depth--;
	return fail(t, file, "output too large", NULL);
}

int
tmpl_render(struct tmpl *t, const char *name, const struct tmpl_cb *cb)
{
	t->err[0] = '\0';
	if (include(t, name, cb) == -1) {
		log_err("%s", t->err);
		return -1;
	}
	return 0;
}

int
tmpl_body(struct tmpl *t, const struct tmpl_body *b, const struct tmpl_cb *cb)
{
	return render_text(t, b->p, b->len, b->file, cb);
}

/* -- the dictionary ------------------------------------------------------ */

enum kind { V_TEXT, V_URL, V_CONST, V_LIST };

struct var {
	char			*key;
	enum kind		 kind;
	char			*val;		/* V_TEXT, V_URL */
	const char		*cval;		/* V_CONST */
	struct tmpl_vars	**rows;		/* V_LIST */
	size_t			 nrows;
};

struct tmpl_vars {
	struct tmpl_vars	*parent;
	struct var		*v;
	size_t			 n;
	int			 oom;
};

struct tmpl_vars *
tmpl_vars_new(void)
{
	return calloc(1, sizeof(struct tmpl_vars));
}

static void
var_clear(struct var *v)
{
	size_t	 i;

	free(v->val);
	for (i = 0; i < v->nrows; i++)
		tmpl_vars_free(v->rows[i]);
	free(v->rows);
	v->val = NULL;
	v->rows = NULL;
	v->nrows = 0;
	v->cval = NULL;
}

void
tmpl_vars_free(struct tmpl_vars *vs)
{
	size_t	 i;

	if (vs == NULL)
		return;
	for (i = 0; i < vs->n; i++) {
		var_clear(&vs->v[i]);
		free(vs->v[i].key);
	}
	free(vs->v);
	free(vs);
}

/* The entry for key in vs itself, created empty when absent; NULL: OOM. */
static struct var *
slot(struct tmpl_vars *vs, const char *key)
{
	struct var	*tmp;
	size_t		 i;

	if (vs == NULL)
		return NULL;
	for (i = 0; i < vs->n; i++)
		if (strcmp(vs->v[i].key, key) == 0)
			return &vs->v[i];
	if ((tmp = realloc(vs->v, (vs->n + 1) * sizeof(*tmp))) == NULL) {
		vs->oom = 1;
		return NULL;
	}
	vs->v = tmp;
	memset(&tmp[vs->n], 0, sizeof(*tmp));
	if ((tmp[vs->n].key = strdup(key)) == NULL) {
		vs->oom = 1;
		return NULL;
	}
	return &vs->v[vs->n++];
}

static void
set_kind(struct tmpl_vars *vs, const char *key, enum kind k, const char *s)
{
	struct var	*v;

	if ((v = slot(vs, key)) == NULL)
		return;
	var_clear(v);
	v->kind = k;
	if (k == V_CONST)
		v->cval = s;
	else if ((v->val = strdup(s != NULL ? s : "")) == NULL)
		vs->oom = 1;
}

void
tmpl_set(struct tmpl_vars *vs, const char *key, const char *value)
{
	set_kind(vs, key, V_TEXT, value);
}

void
tmpl_setf(struct tmpl_vars *vs, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1) {
		if (vs != NULL)
			vs->oom = 1;
		va_end(ap);
		return;
	}
	va_end(ap);
	set_kind(vs, key, V_TEXT, s);
	free(s);
}

void
tmpl_set_url(struct tmpl_vars *vs, const char *key, const char *url)
{
	set_kind(vs, key, V_URL, url);
}

void
tmpl_set_const(struct tmpl_vars *vs, const char *key, const char *markup)
{
	set_kind(vs, key, V_CONST, markup);
}

void
tmpl_set_flag(struct tmpl_vars *vs, const char *key, int on)
{
	set_kind(vs, key, V_TEXT, on ? "1" : "");
}

void
tmpl_list(struct tmpl_vars *vs, const char *name)
{
	struct var	*v;

	if ((v = slot(vs, name)) == NULL || v->kind == V_LIST)
		return;
	var_clear(v);
	v->kind = V_LIST;
}

struct tmpl_vars *
tmpl_row(struct tmpl_vars *vs, const char *section)
{
	struct var		*v;
	struct tmpl_vars	**tmp, *row;

	tmpl_list(vs, section);
	if ((v = slot(vs, section)) == NULL)
		return NULL;
	if ((row = tmpl_vars_new()) == NULL ||
	    (tmp = realloc(v->rows, (v->nrows + 1) * sizeof(*tmp))) == NULL) {
		free(row);
		vs->oom = 1;
		return NULL;
	}
	row->parent = vs;
	v->rows = tmp;
	v->rows[v->nrows++] = row;
	return row;
}

/* The entry for key in vs or the nearest parent that has it. */
static const struct var *
lookup(const struct tmpl_vars *vs, const char *key)
{
	size_t	 i;

	for (; vs != NULL; vs = vs->parent)
		for (i = 0; i < vs->n; i++)
			if (strcmp(vs->v[i].key, key) == 0)
				return &vs->v[i];
	return NULL;
}

const char *
tmpl_get(const struct tmpl_vars *vs, const char *key)
{
	const struct var *v = lookup(vs, key);

	return v != NULL && (v->kind == V_TEXT || v->kind == V_URL) ?
	    v->val : NULL;
}

/* 1 if vs or any of its rows ran out of memory. */
static int
oom(const struct tmpl_vars *vs)
{
	size_t	 i, j;

	if (vs->oom)
		return 1;
	for (i = 0; i < vs->n; i++)
		for (j = 0; j < vs->v[i].nrows; j++)
			if (oom(vs->v[i].rows[j]))
				return 1;
	return 0;
}

static int
vars_key(struct tmpl *t, const char *key, void *arg)
{
	const struct var *v = lookup(arg, key);

	if (v == NULL)
		return fail(t, NULL, "unknown key", key);
	switch (v->kind) {
	case V_TEXT:
		return tmpl_text(t, v->val);
	case V_URL:
		return tmpl_url(t, v->val);
	case V_CONST:
		return tmpl_raw_const(t, v->cval);
	default:
		return fail(t, NULL, "list used as a key:", key);
	}
}

static int
vars_section(struct tmpl *t, const char *name, const struct tmpl_body *b,
    int inverted, void *arg)
{
	const struct var *v = lookup(arg, name);
	struct tmpl_cb	 cb = { vars_key, vars_section, arg };
	size_t		 i, n;

	if (v == NULL)
		n = 0;
	else if (v->kind == V_LIST)
		n = v->nrows;
	else
		n = v->kind == V_CONST ? v->cval[0] != '\0' :
		    v->val[0] != '\0';
	if (inverted)
		return n == 0 ? tmpl_body(t, b, &cb) : 0;
	if (v == NULL || v->kind != V_LIST)
		return n > 0 ? tmpl_body(t, b, &cb) : 0;
	for (i = 0; i < n; i++) {
		cb.arg = v->rows[i];
		if (tmpl_body(t, b, &cb) == -1)
			return -1;
	}
	return 0;
}

int
tmpl_render_vars(struct tmpl *t, const char *name, struct tmpl_vars *vs)
{
	struct tmpl_cb	 cb = { vars_key, vars_section, vs };

	if (vs == NULL || oom(vs)) {
		log_err("template %s: out of memory", name);
		return -1;
	}
	return tmpl_render(t, name, &cb);
}
