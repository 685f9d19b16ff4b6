#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/util.h"
#include "convert/html.h"

#define F_VOID		0x1	/* no content, no end tag */
#define F_RAW		0x2	/* content dropped up to the end tag */
#define F_IGNORE	0x4	/* the tag itself is dropped, content kept */

#define MAX_ATTR	65536	/* longer attribute values are dropped */

struct tagdef {
	const char	*name;
	enum html_tag	 tag;
	unsigned	 flags;
};

static const struct tagdef tagdefs[] = {
	{ "a", HTML_A, 0 }, { "b", HTML_B, 0 }, { "strong", HTML_B, 0 },
	{ "i", HTML_I, 0 }, { "em", HTML_I, 0 }, { "u", HTML_U, 0 },
	{ "ins", HTML_U, 0 }, { "s", HTML_S, 0 }, { "del", HTML_S, 0 },
	{ "strike", HTML_S, 0 }, { "code", HTML_CODE, 0 },
	{ "tt", HTML_CODE, 0 }, { "kbd", HTML_CODE, 0 },
	{ "samp", HTML_CODE, 0 }, { "p", HTML_P, 0 }, { "h1", HTML_H1, 0 },
	{ "h2", HTML_H2, 0 }, { "h3", HTML_H3, 0 }, { "h4", HTML_H4, 0 },
	{ "h5", HTML_H5, 0 }, { "h6", HTML_H6, 0 },
	{ "br", HTML_BR, F_VOID }, { "hr", HTML_HR, F_VOID },
	{ "img", HTML_IMG, F_VOID }, { "input", HTML_INPUT, F_VOID },
	{ "pre", HTML_PRE, 0 }, { "blockquote", HTML_BLOCKQUOTE, 0 },
	{ "ul", HTML_UL, 0 }, { "menu", HTML_UL, 0 }, { "dir", HTML_UL, 0 },
	{ "ol", HTML_OL, 0 }, { "li", HTML_LI, 0 },
	{ "table", HTML_TABLE, 0 }, { "thead", HTML_THEAD, 0 },
	{ "tbody", HTML_TBODY, 0 }, { "tfoot", HTML_TFOOT, 0 },
	{ "tr", HTML_TR, 0 }, { "td", HTML_TD, 0 }, { "th", HTML_TH, 0 },
	{ "div", HTML_DIV, 0 }, { "section", HTML_DIV, 0 },
	{ "article", HTML_DIV, 0 }, { "header", HTML_DIV, 0 },
	{ "footer", HTML_DIV, 0 }, { "main", HTML_DIV, 0 },
	{ "nav", HTML_DIV, 0 }, { "aside", HTML_DIV, 0 },
	{ "figure", HTML_DIV, 0 }, { "figcaption", HTML_DIV, 0 },
	{ "address", HTML_DIV, 0 }, { "details", HTML_DIV, 0 },
	{ "summary", HTML_DIV, 0 }, { "center", HTML_DIV, 0 },
	{ "dl", HTML_DIV, 0 }, { "dt", HTML_DIV, 0 }, { "dd", HTML_DIV, 0 },
	{ "form", HTML_DIV, 0 }, { "fieldset", HTML_DIV, 0 },
	{ "legend", HTML_DIV, 0 }, { "hgroup", HTML_DIV, 0 },
	{ "script", HTML_SPAN, F_RAW }, { "style", HTML_SPAN, F_RAW },
	{ "template", HTML_SPAN, F_RAW }, { "textarea", HTML_SPAN, F_RAW },
	{ "title", HTML_SPAN, F_RAW }, { "iframe", HTML_SPAN, F_RAW },
	{ "noscript", HTML_SPAN, F_RAW }, { "noembed", HTML_SPAN, F_RAW },
	{ "noframes", HTML_SPAN, F_RAW }, { "xmp", HTML_SPAN, F_RAW },
	{ "svg", HTML_SPAN, F_RAW }, { "math", HTML_SPAN, F_RAW },
	{ "object", HTML_SPAN, F_RAW }, { "select", HTML_SPAN, F_RAW },
	{ "html", HTML_SPAN, F_IGNORE }, { "head", HTML_SPAN, F_IGNORE },
	{ "body", HTML_SPAN, F_IGNORE }, { "meta", HTML_SPAN, F_IGNORE },
	{ "link", HTML_SPAN, F_IGNORE }, { "base", HTML_SPAN, F_IGNORE },
	{ "col", HTML_SPAN, F_IGNORE }, { "colgroup", HTML_SPAN, F_IGNORE },
	{ "caption", HTML_SPAN, F_IGNORE }, { "area", HTML_SPAN, F_IGNORE },
	{ "embed", HTML_SPAN, F_IGNORE }, { "source", HTML_SPAN, F_IGNORE },
	{ "track", HTML_SPAN, F_IGNORE }, { "param", HTML_SPAN, F_IGNORE },
	{ "wbr", HTML_SPAN, F_IGNORE },
};

static const struct tagdef unknown = { "", HTML_SPAN, 0 };

/* Named character references: the common ones (WHATWG "entities"). */
static const struct {
	const char	*name;
	uint32_t	 cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", 0xa0 }, { "ensp", 0x2002 },
	{ "emsp", 0x2003 }, { "thinsp", 0x2009 }, { "zwnj", 0x200c },
	{ "zwj", 0x200d }, { "ndash", 0x2013 }, { "mdash", 0x2014 },
	{ "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "sbquo", 0x201a },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "bdquo", 0x201e },
	{ "dagger", 0x2020 }, { "bull", 0x2022 }, { "hellip", 0x2026 },
	{ "prime", 0x2032 }, { "lsaquo", 0x2039 }, { "rsaquo", 0x203a },
	{ "euro", 0x20ac }, { "trade", 0x2122 }, { "copy", 0xa9 },
	{ "reg", 0xae }, { "deg", 0xb0 }, { "plusmn", 0xb1 },
	{ "times", 0xd7 }, { "divide", 0xf7 }, { "micro", 0xb5 },
	{ "para", 0xb6 }, { "middot", 0xb7 }, { "sect", 0xa7 },
	{ "cent", 0xa2 }, { "pound", 0xa3 }, { "yen", 0xa5 },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "iexcl", 0xa1 },
	{ "iquest", 0xbf }, { "shy", 0xad }, { "frac12", 0xbd },
	{ "frac14", 0xbc }, { "frac34", 0xbe }, { "larr", 0x2190 },
	{ "uarr", 0x2191 }, { "rarr", 0x2192 }, { "darr", 0x2193 },
	{ "harr", 0x2194 }, { "rArr", 0x21d2 }, { "le", 0x2264 },
	{ "ge", 0x2265 }, { "ne", 0x2260 }, { "minus", 0x2212 },
	{ "infin", 0x221e }, { "auml", 0xe4 }, { "Auml", 0xc4 },
	{ "ouml", 0xf6 }, { "Ouml", 0xd6 }, { "uuml", 0xfc },
	{ "Uuml", 0xdc }, { "szlig", 0xdf }, { "eacute", 0xe9 },
	{ "Eacute", 0xc9 }, { "egrave", 0xe8 }, { "ecirc", 0xea },
	{ "agrave", 0xe0 }, { "aacute", 0xe1 }, { "ccedil", 0xe7 },
	{ "ntilde", 0xf1 }, { "oacute", 0xf3 }, { "uacute", 0xfa },
	{ "iacute", 0xed },
};

/* &#128; to &#159; mean Windows-1252 (WHATWG "numeric character ref"). */
static const uint16_t cp1252[32] = {
	0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
	0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
};

/* The attributes the tree keeps, as read from one start tag. */
struct attrs {
	struct buf	 href, cls, start, type, dchecked, dtype, src, alt;
	int		 checked;
	int		 selfclose;
};

struct parser {
	const char		*p, *end;
	struct html_node	*root, *cur;
	int			 skipped;	/* open elements too deep to keep */
	size_t			 nodes;
	int			 err;
	struct buf		 text;		/* scratch for decoded text */
};

int
html_is_block(enum html_tag t)
{
	switch (t) {
	case HTML_DIV: case HTML_P: case HTML_H1: case HTML_H2: case HTML_H3:
	case HTML_H4: case HTML_H5: case HTML_H6: case HTML_HR: case HTML_PRE:
	case HTML_BLOCKQUOTE: case HTML_UL: case HTML_OL: case HTML_LI:
	case HTML_TABLE: case HTML_THEAD: case HTML_TBODY: case HTML_TFOOT:
	case HTML_TR: case HTML_TD: case HTML_TH:
		return 1;
	default:
		return 0;
	}
}

int
html_heading_level(enum html_tag t)
{
	return t >= HTML_H1 && t <= HTML_H6 ? (int)(t - HTML_H1) + 1 : 0;
}

size_t
html_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	size_t	 len;

	if ((len = util_utf8_decode(s, n, cp)) > 0)
		return len;
	*cp = 0xfffd;
	return 1;
}

size_t
html_utf8_decode_last(const char *s, size_t n, uint32_t *cp)
{
	size_t	 j = n;

	while (j > 0 && n - j < 3 && ((unsigned char)s[j - 1] & 0xc0) == 0x80)
		j--;
	if (j > 0 && (unsigned char)s[j - 1] >= 0xc0)
		j--;
	if (j == n || html_utf8_decode(s + j, n - j, cp) != n - j) {
		*cp = (unsigned char)s[n - 1] < 0x80 ?
		    (unsigned char)s[n - 1] : 0xfffd;
		return 1;
	}
	return n - j;
}

/* Appends code point cp as UTF-8; control characters are dropped. */
static int
put_cp(struct buf *b, uint32_t cp)
{
	char	 u[4];

	if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\f') ||
	    cp == 0x7f)
		return 0;
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char)cp;
		return buf_append(b, u, 1);
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		return buf_append(b, u, 2);
	}
	if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		return buf_append(b, u, 3);
	}
	u[0] = (char)(0xf0 | cp >> 18);
	u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	u[3] = (char)(0x80 | (cp & 0x3f));
	return buf_append(b, u, 4);
}

/*
 * Reads a character reference at p (just after '&'): returns the bytes
 * used and sets *cp, or 0 if there is none.  Numeric references need not
 * end in ';' (as in browsers); named ones must.
 */
static size_t
entity(const char *p, const char *end, uint32_t *cp)
{
	const char	*q = p;
	uint32_t	 v = 0;
	size_t		 i, n;
	int		 hex, digits = 0;

	if (q < end && *q == '#') {
		q++;
		hex = q < end && (*q == 'x' || *q == 'X');
		q += hex;
		for (; q < end && (hex ? isxdigit((unsigned char)*q) :
		    isdigit((unsigned char)*q)); q++, digits++)
			if (v <= 0x10ffff)
				v = v * (hex ? 16 : 10) + (uint32_t)(isdigit(
				    (unsigned char)*q) ? *q - '0' :
				    tolower((unsigned char)*q) - 'a' + 10);
		if (digits == 0)
			return 0;
		if (q < end && *q == ';')
			q++;
		if (v >= 0x80 && v <= 0x9f)
			v = cp1252[v - 0x80];
		*cp = v == 0 || v > 0x10ffff ? 0xfffd : v;
		return (size_t)(q - p);
	}
	for (n = 0; p + n < end && n < 8 && isalnum((unsigned char)p[n]); n++)
		;
	if (p + n >= end || p[n] != ';')
		return 0;
	for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
		if (strlen(entities[i].name) == n &&
		    strncmp(entities[i].name, p, n) == 0) {
			*cp = entities[i].cp;
			return n + 1;
		}
	return 0;
}

/*
 * Appends s..e to b decoded: entities, CR LF and CR to LF, invalid UTF-8
 * to U+FFFD, NUL and other control bytes dropped.
 */
static int
decode(struct buf *b, const char *s, const char *e)
{
	uint32_t	 cp;
	size_t		 n;

	while (s < e) {
		if (*s == '&' && (n = entity(s + 1, e, &cp)) > 0) {
			s += n + 1;
		} else if (*s == '\r') {
			cp = '\n';
			s += s + 1 < e && s[1] == '\n' ? 2 : 1;
		} else
			s += html_utf8_decode(s, (size_t)(e - s), &cp);
		if (put_cp(b, cp) == -1)
			return -1;
	}
	return 0;
}

static const struct tagdef *
lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(tagdefs) / sizeof(tagdefs[0]); i++)
		if (tagdefs[i].name[0] == name[0] &&
		    strcmp(tagdefs[i].name, name) == 0)
			return &tagdefs[i];
	return &unknown;
}

static struct html_node *
new_node(struct parser *ps, enum html_tag tag)
{
	struct html_node *n;

	if (ps->nodes >= HTML_MAX_NODES ||
	    (n = calloc(1, sizeof(*n))) == NULL) {
		ps->err = 1;
		return NULL;
	}
	ps->nodes++;
	n->tag = tag;
	n->start = 1;
	return n;
}

/* Links n into parent, before 'before' (NULL: at the end). */
static void
link_node(struct html_node *parent, struct html_node *n,
    struct html_node *before)
{
	n->parent = parent;
	n->next = before;
	n->prev = before != NULL ? before->prev : parent->last;
	if (n->prev != NULL)
		n->prev->next = n;
	else
		parent->first = n;
	if (before != NULL)
		before->prev = n;
	else
		parent->last = n;
}

static int
in_table_context(const struct html_node *n)
{
	return n->tag == HTML_TABLE || n->tag == HTML_THEAD ||
	    n->tag == HTML_TBODY || n->tag == HTML_TFOOT || n->tag == HTML_TR;
}

static int
is_table_part(enum html_tag t)
{
	return t == HTML_THEAD || t == HTML_TBODY || t == HTML_TFOOT ||
	    t == HTML_TR || t == HTML_TD || t == HTML_TH;
}

/*
 * Adds the decoded text in ps->text to the current node, or before the
 * table when the current node is a table part (HTML's foster parenting),
 * merging it into a text node just before.
 */
static void
add_text(struct parser *ps)
{
	struct html_node *parent = ps->cur, *before = NULL, *prev, *n;
	const char	*s = buf_str(&ps->text);
	char		*t;
	size_t		 len = ps->text.len, cap;

	if (len == 0)
		return;
	if (in_table_context(parent)) {
		if (strspn(s, " \t\n\f") == len)
			return;
		while (parent->tag != HTML_TABLE)
			parent = parent->parent;
		before = parent;
		parent = parent->parent;
	}
	prev = before != NULL ? before->prev : parent->last;
	if (prev != NULL && prev->tag == HTML_TEXT) {
		/* Doubling: text between dropped tags joins up many times. */
		if (prev->len + len + 1 > prev->cap) {
			cap = prev->cap * 2 > prev->len + len + 1 ?
			    prev->cap * 2 : prev->len + len + 1;
			if ((t = realloc(prev->text, cap)) == NULL) {
				ps->err = 1;
				return;
			}
			prev->text = t;
			prev->cap = cap;
		}
		memcpy(prev->text + prev->len, s, len + 1);
		prev->len += len;
		return;
	}
	if ((n = new_node(ps, HTML_TEXT)) == NULL)
		return;
	if ((n->text = malloc(len + 1)) == NULL) {
		free(n);
		ps->err = 1;
		return;
	}
	memcpy(n->text, s, len + 1);
	n->len = len;
	n->cap = len + 1;
	link_node(parent, n, before);
}

/* 1 if p starts a tag, an end tag, a comment or a declaration. */
static int
markup_start(const char *p, const char *end)
{
	return p + 1 < end && p[0] == '<' && (isalpha((unsigned char)p[1]) ||
	    p[1] == '/' || p[1] == '!' || p[1] == '?');
}

static void
text(struct parser *ps)
{
	const char	*s = ps->p;

	ps->p++;		/* the first byte is text even if it is '<' */
	while (ps->p < ps->end && !markup_start(ps->p, ps->end))
		ps->p++;
	buf_reset(&ps->text);
	if (decode(&ps->text, s, ps->p) == -1)
		ps->err = 1;
	else
		add_text(ps);
}

/* Moves past the next s (or to the end); s is matched without case. */
static void
skip_past(struct parser *ps, const char *s)
{
	size_t	 n = strlen(s);

	while (ps->p < ps->end && ((size_t)(ps->end - ps->p) < n ||
	    strncasecmp(ps->p, s, n) != 0))
		ps->p++;
	ps->p = (size_t)(ps->end - ps->p) >= n ? ps->p + n : ps->end;
}

/* Comments and declarations (HTML §13.2.5.42 onwards, simplified). */
static void
comment(struct parser *ps)
{
	if (ps->end - ps->p >= 4 && strncmp(ps->p, "<!--", 4) == 0) {
		ps->p += 4;
		if (ps->p < ps->end && *ps->p == '>')
			ps->p++;
		else if (ps->end - ps->p >= 2 && strncmp(ps->p, "->", 2) == 0)
			ps->p += 2;
		else
			skip_past(ps, "-->");
	} else
		skip_past(ps, ">");
}

/* Skips the content of a raw text element up to its end tag. */
static void
skip_raw(struct parser *ps, const char *name)
{
	size_t	 n = strlen(name);
	const char *q;

	for (; ps->p < ps->end; ps->p++) {
		if ((size_t)(ps->end - ps->p) < n + 2 || ps->p[0] != '<' ||
		    ps->p[1] != '/' || strncasecmp(ps->p + 2, name, n) != 0)
			continue;
		q = ps->p + 2 + n;
		if (q == ps->end || *q == '>' || *q == '/' ||
		    isspace((unsigned char)*q)) {
			ps->p = q;
			skip_past(ps, ">");
			return;
		}
	}
}

static void
attrs_init(struct attrs *a)
{
	memset(a, 0, sizeof(*a));
	buf_init(&a->href, MAX_ATTR);
	buf_init(&a->cls, MAX_ATTR);
	buf_init(&a->start, 32);
	buf_init(&a->type, 32);
	buf_init(&a->dchecked, 32);
	buf_init(&a->dtype, 32);
	buf_init(&a->src, MAX_ATTR);
	buf_init(&a->alt, MAX_ATTR);
}

static void
attrs_release(struct attrs *a)
{
	buf_release(&a->href);
	buf_release(&a->cls);
	buf_release(&a->start);
	buf_release(&a->type);
	buf_release(&a->dchecked);
	buf_release(&a->dtype);
	buf_release(&a->src);
	buf_release(&a->alt);
}

/* The buffer that keeps attribute name, or NULL if it is not kept. */
static struct buf *
attr_slot(struct attrs *a, const char *name)
{
	if (strcmp(name, "href") == 0)
		return &a->href;
	if (strcmp(name, "class") == 0)
		return &a->cls;
	if (strcmp(name, "start") == 0)
		return &a->start;
	if (strcmp(name, "type") == 0)
		return &a->type;
	if (strcmp(name, "data-checked") == 0)
		return &a->dchecked;
	if (strcmp(name, "data-type") == 0)
		return &a->dtype;
	if (strcmp(name, "src") == 0)
		return &a->src;
	if (strcmp(name, "alt") == 0)
		return &a->alt;
	return NULL;
}

/*
 * Reads the attributes up to and including '>' (HTML §13.2.5.32-40,
 * simplified).  Returns 0, or -1 if the input ends inside the tag, which
 * drops the tag as browsers do.
 */
static int
read_attrs(struct parser *ps, struct attrs *a)
{
	char		 name[16];
	const char	*v, *ve;
	struct buf	*slot;
	size_t		 k;
	char		 q;

	for (;;) {
		while (ps->p < ps->end && (isspace((unsigned char)*ps->p) ||
		    *ps->p == '/')) {
			a->selfclose = *ps->p == '/';
			ps->p++;
		}
		if (ps->p >= ps->end)
			return -1;
		if (*ps->p == '>') {
			ps->p++;
			return 0;
		}
		a->selfclose = 0;
		k = 0;
		do {
			if (k < sizeof(name) - 1)
				name[k++] = (char)tolower((unsigned char)*ps->p);
			ps->p++;
		} while (ps->p < ps->end && !isspace((unsigned char)*ps->p) &&
		    *ps->p != '/' && *ps->p != '>' && *ps->p != '=');
		name[k] = '\0';
		while (ps->p < ps->end && isspace((unsigned char)*ps->p))
			ps->p++;
		if (strcmp(name, "checked") == 0)
			a->checked = 1;
		if (ps->p >= ps->end || *ps->p != '=')
			continue;
		ps->p++;
		while (ps->p < ps->end && isspace((unsigned char)*ps->p))
			ps->p++;
		q = ps->p < ps->end && (*ps->p == '"' || *ps->p == '\'') ?
		    *ps->p++ : 0;
		v = ps->p;
		while (ps->p < ps->end && (q ? *ps->p != q :
		    !isspace((unsigned char)*ps->p) && *ps->p != '>'))
			ps->p++;
		ve = ps->p;
		if (q) {
			if (ps->p >= ps->end)
				return -1;
			ps->p++;
		}
		if ((slot = attr_slot(a, name)) != NULL && slot->len == 0 &&
		    decode(slot, v, ve) == -1)
			buf_release(slot);	/* too long: dropped */
	}
}

/* The language of class="language-x" (or "lang-x"), or NULL. */
static char *
code_lang(const char *cls)
{
	const char	*p = cls, *s;
	size_t		 n;

	while (*p != '\0') {
		p += strspn(p, " \t\n\f");
		n = strcspn(p, " \t\n\f");
		s = strncmp(p, "language-", 9) == 0 ? p + 9 :
		    strncmp(p, "lang-", 5) == 0 ? p + 5 : NULL;
		if (s != NULL && s < p + n)
			return strndup(s, (size_t)(p + n - s));
		p += n;
	}
	return NULL;
}

/* Copies the kept attributes of a into n; 0 or -1 (out of memory). */
static int
apply_attrs(struct html_node *n, struct attrs *a)
{
	const char	*dc = buf_str(&a->dchecked);
	char		*end;
	long		 v;

	if (n->tag == HTML_A && a->href.len > 0 &&
	    (n->href = strdup(buf_str(&a->href))) == NULL)
		return -1;
	if ((n->tag == HTML_PRE || n->tag == HTML_CODE) && a->cls.len > 0)
		n->lang = code_lang(buf_str(&a->cls));
	if (n->tag == HTML_OL && a->start.len > 0) {
		v = strtol(buf_str(&a->start), &end, 10);
		if (end != buf_str(&a->start))	/* else browsers use 1 */
			n->start = v < 0 ? 0 : v > 999999999 ? 999999999 : v;
	}
	if (n->tag == HTML_INPUT && strcasecmp(buf_str(&a->type),
	    "checkbox") == 0)
		n->check = a->checked ? HTML_CHECK_DONE : HTML_CHECK_OPEN;
	if (n->tag == HTML_LI && (a->dchecked.len > 0 ||
	    strcasecmp(buf_str(&a->dtype), "taskItem") == 0))
		n->check = strcasecmp(dc, "true") == 0 ||
		    strcmp(dc, "checked") == 0 ? HTML_CHECK_DONE :
		    HTML_CHECK_OPEN;
	return 0;
}

/* Closes n and everything opened inside it. */
static void
pop_to(struct parser *ps, struct html_node *n)
{
	ps->cur = n->parent;
}

static int
same_tag(enum html_tag a, enum html_tag b)
{
	return a == b || (html_heading_level(a) && html_heading_level(b));
}

/*
 * The nearest open element with tag t, without crossing a table cell or
 * table (unless t is a table part), or NULL.
 */
static struct html_node *
open_element(struct parser *ps, enum html_tag t)
{
	struct html_node *n;

	for (n = ps->cur; n != ps->root; n = n->parent) {
		if (same_tag(n->tag, t))
			return n;
		if (n->tag == HTML_TABLE ||
		    (!is_table_part(t) && (n->tag == HTML_TD ||
		    n->tag == HTML_TH)))
			return NULL;
		if (t == HTML_LI && (n->tag == HTML_UL || n->tag == HTML_OL))
			return NULL;
		if ((t == HTML_TD || t == HTML_TH) && n->tag == HTML_TR)
			return NULL;
	}
	return NULL;
}

/* Closes what a start tag t closes implicitly (HTML §13.2.6.4.7). */
static void
implicit_close(struct parser *ps, enum html_tag t)
{
	struct html_node *n;

	if (html_is_block(t) && !is_table_part(t) &&
	    (n = open_element(ps, HTML_P)) != NULL)
		pop_to(ps, n);
	if (html_heading_level(t) && html_heading_level(ps->cur->tag))
		pop_to(ps, ps->cur);
	if (t == HTML_LI && (n = open_element(ps, HTML_LI)) != NULL)
		pop_to(ps, n);
	if (t == HTML_A && (n = open_element(ps, HTML_A)) != NULL)
		pop_to(ps, n);
	if ((t == HTML_TD || t == HTML_TH) &&
	    ((n = open_element(ps, HTML_TD)) != NULL ||
	    (n = open_element(ps, HTML_TH)) != NULL))
		pop_to(ps, n);
	if ((t == HTML_TR || t == HTML_THEAD || t == HTML_TBODY ||
	    t == HTML_TFOOT) && (n = open_element(ps, HTML_TR)) != NULL)
		pop_to(ps, n);
	if ((t == HTML_THEAD || t == HTML_TBODY || t == HTML_TFOOT) &&
	    ((n = open_element(ps, HTML_THEAD)) != NULL ||
	    (n = open_element(ps, HTML_TBODY)) != NULL ||
	    (n = open_element(ps, HTML_TFOOT)) != NULL))
		pop_to(ps, n);
}

/* 1 if inline content directly in t gets a paragraph in Markdown. */
static int
holds_paragraph(enum html_tag t)
{
	return t == HTML_ROOT || t == HTML_DIV || t == HTML_BLOCKQUOTE ||
	    t == HTML_LI || t == HTML_UL || t == HTML_OL;
}

/*
 * The levels Markdown adds at an element t in parent: the paragraph
 * around inline content in a block container, the item around what a
 * list holds outside its items, the body around a table's rows, and
 * the paragraph every table cell holds (mdtable.c), counted at the cell.
 */
static int
added_levels(enum html_tag parent, enum html_tag t)
{
	return (!html_is_block(t) && holds_paragraph(parent)) +
	    ((parent == HTML_UL || parent == HTML_OL) && t != HTML_LI) +
	    (parent == HTML_TABLE && t == HTML_TR) +
	    (t == HTML_TD || t == HTML_TH);
}

/*
 * The depth an element t would have below the current node, counting
 * what Markdown adds (added_levels()), so that the Markdown nests no
 * deeper than the HTML kept.
 */
static int
depth_of(const struct parser *ps, enum html_tag t)
{
	const struct html_node *n;
	int		 d = 1 + added_levels(ps->cur->tag, t);

	for (n = ps->cur; n != ps->root; n = n->parent)
		d += 1 + added_levels(n->parent->tag, n->tag);
	return d;
}

/* A space where a block or line break went for being too deep. */
static void
gap(struct parser *ps, enum html_tag t)
{
	if (!html_is_block(t) && t != HTML_BR)
		return;
	buf_reset(&ps->text);
	if (buf_putc(&ps->text, ' ') == -1)
		ps->err = 1;
	else
		add_text(ps);
}

/* Adds an element below the current node and opens it unless void. */
static struct html_node *
open(struct parser *ps, enum html_tag t, int empty)
{
	struct html_node *n;

	if (depth_of(ps, t) > HTML_MAX_DEPTH) {
		if (!empty)
			ps->skipped++;
		gap(ps, t);
		return NULL;
	}
	if ((n = new_node(ps, t)) == NULL)
		return NULL;
	link_node(ps->cur, n, NULL);
	if (!empty)
		ps->cur = n;
	return n;
}

/* 1 if an open table exists above the current node. */
static int
table_open(struct parser *ps)
{
	const struct html_node *n;

	for (n = ps->cur; n != ps->root; n = n->parent)
		if (n->tag == HTML_TABLE)
			return 1;
	return 0;
}

/* Here, not with the writer: the parser needs it for images. */
int
html_href_ok(const char *href)
{
	static const char *ok[] = { "http://", "https://", "mailto:",
	    "urn:pb:node:" };
	char		 scheme[16];
	size_t		 i, k = 0;

	while (*href != '\0' && (unsigned char)*href <= ' ')
		href++;
	for (; *href != '\0' && k < sizeof(scheme) - 1; href++)
		if (*href != '\t' && *href != '\n' && *href != '\r')
			scheme[k++] = (char)tolower((unsigned char)*href);
	scheme[k] = '\0';
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncmp(scheme, ok[i], strlen(ok[i])) == 0)
			return 1;
	return 0;
}

/* Here too: the parser gives a link without text its address. */
int
html_put_href(struct buf *b, const char *href)
{
	const char	*e;
	unsigned char	 c;

	while (*href != '\0' && (unsigned char)*href <= ' ')
		href++;
	for (e = href + strlen(href); e > href &&
	    (unsigned char)e[-1] <= ' '; e--)
		;
	for (; href < e; href++) {
		c = (unsigned char)*href;
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c <= ' ' || c == 0x7f || strchr("\"<>\\`", c) != NULL) {
			if (buf_printf(b, "%%%02X", c) == -1)
				return -1;
		} else if (buf_putc(b, (char)c) == -1)
			return -1;
	}
	return 0;
}

/* 1 if a link is open above the current node (at most HTML_MAX_DEPTH). */
static int
in_link(const struct parser *ps)
{
	const struct html_node *n;

	for (n = ps->cur; n != ps->root; n = n->parent)
		if (n->tag == HTML_A)
			return 1;
	return 0;
}

/*
 * An image as md2html renders a Markdown one, since Productboard holds
 * none: a link to its address with the alt text (else the address) as
 * text, or that text alone where the address may not be a link
 * (html_href_ok) or where no link can go (in a link, in a table's rows).
 */
static void
image(struct parser *ps, struct attrs *a)
{
	struct html_node *n = NULL, *up = ps->cur;
	const struct buf *t = a->alt.len > 0 ? &a->alt : &a->src;

	if (a->src.len > 0 && html_href_ok(buf_str(&a->src)) &&
	    !in_link(ps) && !in_table_context(ps->cur) &&
	    (n = open(ps, HTML_A, 1)) != NULL) {
		if ((n->href = strdup(buf_str(&a->src))) == NULL) {
			ps->err = 1;
			return;
		}
		ps->cur = n;
	}
	buf_reset(&ps->text);
	if (buf_append(&ps->text, buf_str(t), t->len) == -1)
		ps->err = 1;
	else
		add_text(ps);
	ps->cur = up;
}

static void
start_tag(struct parser *ps, const char *name, struct attrs *a)
{
	const struct tagdef *d = lookup(name);
	struct html_node *n;

	if (d->flags & F_RAW) {
		if (!a->selfclose)
			skip_raw(ps, name);
		return;
	}
	if (d->flags & F_IGNORE)
		return;
	if (d->tag == HTML_IMG) {
		image(ps, a);
		return;
	}
	if (is_table_part(d->tag) ? !table_open(ps) :
	    in_table_context(ps->cur))
		return;			/* the tag goes, its text stays */
	implicit_close(ps, d->tag);
	if ((d->tag == HTML_TD || d->tag == HTML_TH) &&
	    ps->cur->tag != HTML_TR && open(ps, HTML_TR, 0) == NULL)
		return;
	n = open(ps, d->tag, (d->flags & F_VOID) || a->selfclose);
	if (n != NULL && apply_attrs(n, a) == -1)
		ps->err = 1;
	/* A task item's checkbox goes where an <input> would, or nowhere. */
	if (n != NULL && n->tag == HTML_LI && ps->cur == n &&
	    depth_of(ps, HTML_INPUT) > HTML_MAX_DEPTH)
		n->check = HTML_CHECK_NONE;
}

static void
end_tag(struct parser *ps, const char *name)
{
	const struct tagdef *d = lookup(name);
	struct html_node *n;

	if (d->flags & (F_RAW | F_IGNORE))
		return;
	if (d->tag == HTML_BR) {	/* </br> is <br> to browsers */
		open(ps, HTML_BR, 1);
		return;
	}
	if (d->flags & F_VOID)
		return;
	if (ps->skipped > 0) {
		ps->skipped--;
		gap(ps, d->tag);
		return;
	}
	if ((n = open_element(ps, d->tag)) != NULL)
		pop_to(ps, n);
}

/* A start or end tag at ps->p ('<' followed by a letter or '/'). */
static void
tag(struct parser *ps)
{
	char		 name[16];
	size_t		 k = 0;
	int		 closing;
	struct attrs	 a;

	ps->p++;
	if ((closing = *ps->p == '/'))
		ps->p++;
	if (ps->p >= ps->end || !isalpha((unsigned char)*ps->p)) {
		if (closing && ps->p < ps->end && *ps->p == '>')
			ps->p++;		/* "</>" is nothing */
		else
			skip_past(ps, ">");	/* bogus comment */
		return;
	}
	while (ps->p < ps->end && !isspace((unsigned char)*ps->p) &&
	    *ps->p != '/' && *ps->p != '>') {
		if (k < sizeof(name) - 1)
			name[k++] = (char)tolower((unsigned char)*ps->p);
		ps->p++;
	}
	name[k] = '\0';
	if (k == sizeof(name) - 1)
		name[0] = '\0';			/* too long to be known */
	attrs_init(&a);
	if (read_attrs(ps, &a) == 0) {
		if (closing)
			end_tag(ps, name);
		else
			start_tag(ps, name, &a);
	}
	attrs_release(&a);
}

/* 1 if n holds no text but white space. */
static int
blank(const struct html_node *n)
{
	const struct html_node *c;

	if (n->tag == HTML_TEXT)
		return strspn(n->text, " \t\n\f") == n->len;
	for (c = n->first; c != NULL; c = c->next)
		if (!blank(c))
			return 0;
	return 1;
}

/*
 * Gives link a, which holds no text, its address as text; what it held
 * goes before it, where its white space stays a gap.
 */
static void
show_address(struct parser *ps, struct html_node *a)
{
	struct html_node *c, *t;
	struct buf	 h;

	while ((c = a->first) != NULL) {
		if ((a->first = c->next) == NULL)
			a->last = NULL;
		else
			a->first->prev = NULL;
		link_node(a->parent, c, a);
	}
	buf_init(&h, MAX_ATTR * 3 + 1);
	if (html_put_href(&h, a->href) == -1 || buf_puts(&h, "") == -1 ||
	    (t = new_node(ps, HTML_TEXT)) == NULL) {
		ps->err = 1;
		buf_release(&h);
		return;
	}
	t->len = h.len;
	t->cap = h.len + 1;
	t->text = buf_detach(&h);
	link_node(a, t, NULL);
}

/* Every link that may stay one and has no text shows its address. */
static void
show_addresses(struct parser *ps)
{
	struct html_node *n = ps->root->first;

	while (n != NULL && !ps->err) {
		if (n->tag == HTML_A && n->href != NULL &&
		    html_href_ok(n->href) && blank(n))
			show_address(ps, n);
		else if (n->first != NULL && n->tag != HTML_A) {
			n = n->first;	/* links do not nest (implicit_close) */
			continue;
		}
		while (n != ps->root && n->next == NULL)
			n = n->parent;
		n = n == ps->root ? NULL : n->next;
	}
}

struct html_node *
html_parse(const char *s, size_t len)
{
	struct parser	 ps;

	memset(&ps, 0, sizeof(ps));
	buf_init(&ps.text, len * 3 + 16);	/* U+FFFD is 3 bytes */
	if ((ps.root = new_node(&ps, HTML_ROOT)) == NULL)
		return NULL;
	ps.cur = ps.root;
	ps.p = s;
	ps.end = s + len;
	while (ps.p < ps.end && !ps.err) {
		if (!markup_start(ps.p, ps.end))
			text(&ps);
		else if (ps.p[1] == '!' || ps.p[1] == '?')
			comment(&ps);
		else
			tag(&ps);
	}
	if (!ps.err)
		show_addresses(&ps);
	buf_release(&ps.text);
	if (ps.err) {
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

int
html_table_rows(const struct html_node *n, const struct html_node ***v,
    size_t *k, size_t *cap)
{
	const struct html_node *c, **t;

	for (c = n->first; c != NULL; c = c->next) {
		if ((c->tag == HTML_THEAD || c->tag == HTML_TBODY ||
		    c->tag == HTML_TFOOT) && html_table_rows(c, v, k, cap) == -1)
			return -1;
		if (c->tag != HTML_TR)
			continue;
		if (*k == *cap) {
			if ((t = reallocarray(*v, *cap * 2 + 8, sizeof(**v))) ==
			    NULL)
				return -1;
			*v = t;
			*cap = *cap * 2 + 8;
		}
		(*v)[(*k)++] = c;
	}
	return 0;
}

size_t
html_row_cells(const struct html_node *tr)
{
	const struct html_node *c;
	size_t		 k = 0;

	for (c = tr->first; c != NULL; c = c->next)
		k += c->tag == HTML_TD || c->tag == HTML_TH;
	return k;
}

enum html_check
html_task_check(const struct html_node *li)
{
	const struct html_node *c;
	int		 level;

	if (li->check != HTML_CHECK_NONE)
		return li->check;
	for (c = li->first, level = 0; c != NULL && level < 3; level++) {
		while (c != NULL && c->tag == HTML_TEXT && c->len == 0)
			c = c->next;
		if (c == NULL || c->tag == HTML_TEXT)
			break;
		if (c->tag == HTML_INPUT)
			return c->check;
		if (html_is_block(c->tag) && c->tag != HTML_P &&
		    c->tag != HTML_DIV)
			break;		/* a nested list's item is not ours */
		c = c->first;
	}
	return HTML_CHECK_NONE;
}
