#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "html.h"

struct parser {
	const char		*p, *end;
	struct html_node	*root, *cur;
	int			 depth;
	int			 nomem;
};

static const char *blocks[] = { "p", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "pre", "blockquote", "hr", "table", "thead", "tbody",
    "tr", "td", "th", "div", "br" };

int
html_is_block(const char *tag)
{
	size_t	 i;

	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]) - 1; i++)
		if (strcmp(tag, blocks[i]) == 0)
			return 1;
	return 0;
}

static int
is_void(const char *tag)
{
	return strcmp(tag, "br") == 0 || strcmp(tag, "hr") == 0 ||
	    strcmp(tag, "img") == 0 || strcmp(tag, "input") == 0;
}

static struct html_node *
add(struct parser *ps, const char *tag)
{
	struct html_node *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		ps->nomem = 1;
		return NULL;
	}
	snprintf(n->tag, sizeof(n->tag), "%s", tag);
	n->parent = ps->cur;
	if (ps->cur->last != NULL)
		ps->cur->last->next = n;
	else
		ps->cur->first = n;
	ps->cur->last = n;
	return n;
}

static void
put_utf8(struct buf *b, uint32_t cp)
{
	char	 u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
		return;
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, u, 4);
	}
}

/* Decodes one entity at p (after '&'); returns bytes used, 0 if none. */
static size_t
entity(const char *p, const char *end, struct buf *b)
{
	static const struct { const char *n; uint32_t cp; } named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
		{ "apos", '\'' }, { "nbsp", 0xa0 }, { "mdash", 0x2014 },
		{ "ndash", 0x2013 }, { "hellip", 0x2026 }, { "rsquo", 0x2019 },
		{ "lsquo", 0x2018 }, { "rdquo", 0x201d }, { "ldquo", 0x201c },
		{ "copy", 0xa9 }, { "euro", 0x20ac },
	};
	const char	*q = p;
	uint32_t	 cp = 0;
	size_t		 i, n;

	if (q < end && *q == '#') {
		int hex = ++q < end && (*q == 'x' || *q == 'X');

		q += hex;
		for (n = 0; q < end && n < 8 && (hex ? isxdigit((unsigned char)*q)
		    : isdigit((unsigned char)*q)); q++, n++)
			cp = cp * (hex ? 16 : 10) + (uint32_t)(isdigit(
			    (unsigned char)*q) ? *q - '0' : (tolower(
			    (unsigned char)*q) - 'a' + 10));
		if (n == 0 || q >= end || *q != ';')
			return 0;
		put_utf8(b, cp);
		return (size_t)(q - p) + 1;
	}
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		n = strlen(named[i].n);
		if ((size_t)(end - p) > n && strncmp(p, named[i].n, n) == 0 &&
		    p[n] == ';') {
			put_utf8(b, named[i].cp);
			return n + 1;
		}
	}
	return 0;
}

/* Adds text up to the next tag, decoding entities. */
static void
text(struct parser *ps)
{
	struct buf	 b;
	struct html_node *n;
	size_t		 used;

	buf_init(&b, (size_t)(ps->end - ps->p) * 4 + 16);
	while (ps->p < ps->end && !(*ps->p == '<' && ps->p + 1 < ps->end &&
	    (isalpha((unsigned char)ps->p[1]) || ps->p[1] == '/' ||
	    ps->p[1] == '!'))) {
		if (*ps->p == '&' && (used = entity(ps->p + 1, ps->end, &b)) > 0)
			ps->p += used + 1;
		else if (*ps->p == '\0')
			ps->p++;		/* NUL bytes are dropped */
		else
			buf_putc(&b, *ps->p++);
	}
	if (b.len > 0 && (n = add(ps, "")) != NULL)
		n->text = buf_detach(&b);
	buf_release(&b);
}

/* Reads an attribute value (quoted or not) into a heap string. */
static char *
attr_value(struct parser *ps)
{
	struct buf	 b;
	char		 q = 0;
	size_t		 used;

	buf_init(&b, 8192);
	if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\''))
		q = *ps->p++;
	while (ps->p < ps->end && (q ? *ps->p != q :
	    !isspace((unsigned char)*ps->p) && *ps->p != '>')) {
		if (*ps->p == '&' && (used = entity(ps->p + 1, ps->end, &b)) > 0)
			ps->p += used + 1;
		else
			buf_putc(&b, *ps->p++);
	}
	if (q && ps->p < ps->end)
		ps->p++;
	return buf_detach(&b);
}

static void
attrs(struct parser *ps, struct html_node *n)
{
	char	 name[16];
	size_t	 k;
	char	*v;

	for (;;) {
		while (ps->p < ps->end && (isspace((unsigned char)*ps->p) ||
		    *ps->p == '/'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p == '>')
			break;
		for (k = 0; ps->p < ps->end && !isspace((unsigned char)*ps->p)
		    && *ps->p != '=' && *ps->p != '>' && *ps->p != '/'; ps->p++)
			if (k < sizeof(name) - 1)
				name[k++] = (char)tolower((unsigned char)*ps->p);
		name[k] = '\0';
		v = NULL;
		if (ps->p < ps->end && *ps->p == '=') {
			ps->p++;
			v = attr_value(ps);
		}
		if (n != NULL && v != NULL && strcmp(name, "href") == 0 &&
		    n->href == NULL) {
			n->href = v;
			v = NULL;
		} else if (n != NULL && v != NULL && strcmp(name, "class") == 0 &&
		    strncmp(v, "language-", 9) == 0 && n->lang == NULL) {
			n->lang = strdup(v + 9);
		} else if (n != NULL && v != NULL && strcmp(name, "start") == 0)
			n->start = strtol(v, NULL, 10);
		else if (n != NULL && strcmp(name, "checked") == 0)
			n->checked = 1;
		free(v);
	}
	if (ps->p < ps->end)
		ps->p++;			/* '>' */
}

/* Skips to the end of s (case-insensitive), e.g. "</script>" or "-->". */
static void
skip_past(struct parser *ps, const char *s)
{
	size_t	 n = strlen(s);

	while (ps->p < ps->end && !((size_t)(ps->end - ps->p) >= n &&
	    strncasecmp(ps->p, s, n) == 0))
		ps->p++;
	ps->p = ps->p < ps->end ? ps->p + n : ps->end;
}

static void
close_tag(struct parser *ps, const char *tag)
{
	struct html_node *n;

	for (n = ps->cur; n != ps->root; n = n->parent)
		if (strcmp(n->tag, tag) == 0)
			break;
	if (n == ps->root)
		return;			/* stray end tag */
	while (ps->cur != n) {
		ps->cur = ps->cur->parent;
		ps->depth--;
	}
	ps->cur = n->parent;
	ps->depth--;
}

static void
tag(struct parser *ps)
{
	char		 name[16];
	size_t		 k = 0;
	int		 closing;
	struct html_node *n;

	ps->p++;				/* '<' */
	if (ps->p < ps->end && *ps->p == '!') {
		skip_past(ps, ps->end - ps->p >= 3 && strncmp(ps->p, "!--", 3)
		    == 0 ? "-->" : ">");
		return;
	}
	if ((closing = *ps->p == '/'))
		ps->p++;
	while (ps->p < ps->end && isalnum((unsigned char)*ps->p)) {
		if (k < sizeof(name) - 1)
			name[k++] = (char)tolower((unsigned char)*ps->p);
		ps->p++;
	}
	name[k] = '\0';
	if (closing) {
		attrs(ps, NULL);
		close_tag(ps, name);
		return;
	}
	if (strcmp(name, "script") == 0 || strcmp(name, "style") == 0) {
		skip_past(ps, strcmp(name, "script") == 0 ? "</script" :
		    "</style");
		skip_past(ps, ">");
		return;
	}
	/* Too deep: keep the text, drop the element. */
	if (ps->depth >= HTML_MAX_DEPTH) {
		attrs(ps, NULL);
		return;
	}
	/* A new list item or cell closes the open one. */
	if ((strcmp(name, "li") == 0 && strcmp(ps->cur->tag, "li") == 0) ||
	    (strcmp(name, "p") == 0 && strcmp(ps->cur->tag, "p") == 0))
		close_tag(ps, ps->cur->tag);
	if ((n = add(ps, name)) == NULL)
		return;
	attrs(ps, n);
	if (!is_void(name)) {
		ps->cur = n;
		ps->depth++;
	}
}

struct html_node *
html_parse(const char *s, size_t len)
{
	struct parser	 ps;

	memset(&ps, 0, sizeof(ps));
	if ((ps.root = calloc(1, sizeof(*ps.root))) == NULL)
		return NULL;
	ps.cur = ps.root;
	ps.p = s;
	ps.end = s + len;
	while (ps.p < ps.end && !ps.nomem) {
		if (*ps.p == '<' && ps.p + 1 < ps.end &&
		    (isalpha((unsigned char)ps.p[1]) || ps.p[1] == '/' ||
		    ps.p[1] == '!'))
			tag(&ps);
		else
			text(&ps);
	}
	if (ps.nomem) {
		html_free(ps.root);
		return NULL;
	}
	return ps.root;
}

void
html_free(struct html_node *n)
{
	struct html_node *c, *next;

	if (n == NULL)
		return;
	for (c = n->first; c != NULL; c = next) {
		next = c->next;
		html_free(c);
	}
	free(n->text);
	free(n->href);
	free(n->lang);
	free(n);
}
