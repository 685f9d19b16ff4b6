#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark.h>

#include "convert/html.h"
#include "convert/html2md.h"
#include "convert/mdext.h"

int
mdext_init(struct mdext *x, const char *src, size_t len)
{
	size_t	 i, k = 1;

	memset(x, 0, sizeof(*x));
	x->src = src;
	x->len = len;
	for (i = 0; i < len; i++)
		k += src[i] == '\n';
	if ((x->lines = calloc(k, sizeof(*x->lines))) == NULL)
		return -1;
	x->nlines = 1;
	for (i = 0; i < len; i++)
		if (src[i] == '\n')
			x->lines[x->nlines++] = i + 1;
	return 0;
}

void
mdext_release(struct mdext *x)
{
	free(x->lines);
	x->lines = NULL;
}

const char *
mdext_line(const struct mdext *x, int line, size_t *len)
{
	size_t	 s, e;

	if (line < 1 || (size_t)line > x->nlines)
		return NULL;
	s = x->lines[line - 1];
	e = (size_t)line < x->nlines ? x->lines[line] - 1 : x->len;
	*len = e - s;
	return x->src + s;
}

/* Task items: the paragraph's user data says which box it opens with. */
static const char task_open[] = "[ ]", task_done[] = "[x]";

/* The inline HTML tags read back, and the tag each one stands for. */
static const struct {
	const char	*name;
	const char	*tag;
} inline_tags[] = {
	{ "b", "b" }, { "strong", "b" }, { "i", "i" }, { "em", "i" },
	{ "s", "s" }, { "del", "s" }, { "strike", "s" }, { "u", "u" },
	{ "ins", "u" }, { "br", "br" },
};

/* A possible delimiter of strike-through or of an inline HTML pair. */
struct delim {
	cmark_node	*node;
	const char	*tag;		/* what a pair becomes: "s", "u", ... */
	int		 html;		/* <s> pairs with </s>, not with ~~ */
	int		 open, close;
};

struct delims {
	struct delim	*v;
	size_t		 n, cap;
};

/* The flanking class of cp, reading non-ASCII as letters. */
static enum html2md_class
klass(uint32_t cp)
{
	enum html2md_class c = html2md_class(cp);

	return c == HTML2MD_UNSURE ? HTML2MD_LETTER : c;
}

/* The class of the character at the edge of inline node n (NULL: none). */
static enum html2md_class
edge(cmark_node *n, int first)
{
	const char	*s;
	uint32_t	 cp;
	size_t		 len;

	if (n == NULL)
		return HTML2MD_SPACE;
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_TEXT:
		s = cmark_node_get_literal(n);
		if (s == NULL || (len = strlen(s)) == 0)
			return HTML2MD_SPACE;
		if (first)
			html_utf8_decode(s, len, &cp);
		else
			html_utf8_decode_last(s, len, &cp);
		break;
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		return HTML2MD_SPACE;
	default:
		return HTML2MD_PUNCT;	/* '`', '*', ']', ')', '>', ... */
	}
	return klass(cp);
}

static int
add_delim(struct delims *d, cmark_node *n, const char *tag, int html,
    int open, int close)
{
	struct delim	*t;

	if (d->n == d->cap) {
		if ((t = reallocarray(d->v, d->cap * 2 + 8, sizeof(*t))) == NULL)
			return -1;
		d->v = t;
		d->cap = d->cap * 2 + 8;
	}
	d->v[d->n].node = n;
	d->v[d->n].tag = tag;
	d->v[d->n].html = html;
	d->v[d->n].open = open;
	d->v[d->n++].close = close;
	return 0;
}

/* A new text node holding s[0..n), inserted before 'before'. */
static cmark_node *
text_before(cmark_node *before, const char *s, size_t n)
{
	cmark_node	*t;
	char		*c;

	if ((c = strndup(s, n)) == NULL ||
	    (t = cmark_node_new(CMARK_NODE_TEXT)) == NULL) {
		free(c);
		return NULL;
	}
	if (!cmark_node_set_literal(t, c) || !cmark_node_insert_before(before,
	    t)) {
		cmark_node_free(t);
		t = NULL;
	}
	free(c);
	return t;
}

/*
 * Splits text node t at each "~~" (exactly two tildes: GitLab's
 * strike-through) into delimiter nodes, with the flanking rules of '*'.
 * cmark merges escaped tildes into the text, so "\~\~" reads as "~~"
 * here; html2md never writes two tildes of text in a row.
 */
static int
split_tildes(cmark_node *t, struct delims *d)
{
	const char	*lit = cmark_node_get_literal(t);
	enum html2md_class l, r, before, after;
	cmark_node	*piece;
	char		*s;
	size_t		 n, i, k, start = 0;
	uint32_t	 cp;

	if (lit == NULL || strstr(lit, "~~") == NULL)
		return 0;
	if ((s = strdup(lit)) == NULL)
		return -1;
	n = strlen(s);
	before = edge(cmark_node_previous(t), 0);
	after = edge(cmark_node_next(t), 1);
	for (i = 0; i < n; i = k) {
		for (k = i; k < n && s[k] == '~'; k++)
			;
		if (k == i) {
			k++;
			continue;
		}
		if (k - i != 2)
			continue;
		l = before;
		if (i > 0) {
			html_utf8_decode_last(s, i, &cp);
			l = klass(cp);
		}
		r = after;
		if (k < n) {
			html_utf8_decode(s + k, n - k, &cp);
			r = klass(cp);
		}
		if ((i > start && text_before(t, s + start, i - start) ==
		    NULL) || (piece = text_before(t, "~~", 2)) == NULL ||
		    add_delim(d, piece, "s", 0, html2md_can_open(l, r),
		    html2md_can_close(l, r)) == -1) {
			free(s);
			return -1;
		}
		start = k;
	}
	if (start == n)
		cmark_node_free(t);
	else if (start > 0 && !cmark_node_set_literal(t, s + start)) {
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

const char *
mdext_inline_tag(const char *s, int *closing)
{
	char		 name[8];
	size_t		 k = 0, i;

	if (s == NULL || *s++ != '<')
		return NULL;
	if ((*closing = *s == '/'))
		s++;
	while (k < sizeof(name) - 1 && ((*s >= 'a' && *s <= 'z') ||
	    (*s >= 'A' && *s <= 'Z')))
		name[k++] = *s++;
	name[k] = '\0';
	while (*s == ' ')
		s++;
	if (*s == '/' && !*closing && strcasecmp(name, "br") == 0)
		s++;
	if (strcmp(s, ">") != 0)
		return NULL;
	for (i = 0; i < sizeof(inline_tags) / sizeof(inline_tags[0]); i++)
		if (strcasecmp(name, inline_tags[i].name) == 0)
			return inline_tags[i].tag;
	return NULL;
}

/* Moves the nodes between two delimiters into a new element, tag. */
static int
wrap(cmark_node *open, cmark_node *close, const char *tag)
{
	cmark_node	*w, *n, *next;

	if ((w = cmark_node_new(CMARK_NODE_CUSTOM_INLINE)) == NULL ||
	    !cmark_node_set_on_enter(w, tag) ||
	    !cmark_node_insert_before(open, w)) {
		cmark_node_free(w);
		return -1;
	}
	for (n = cmark_node_next(open); n != close; n = next) {
		next = cmark_node_next(n);
		if (!cmark_node_append_child(w, n))
			return -1;
	}
	cmark_node_free(open);
	cmark_node_free(close);
	return 0;
}

/* The tags pairs become; a kind is one of them, from HTML or not. */
static const char *const pair_tags[] = { "b", "i", "s", "u" };
#define KINDS	(2 * (sizeof(pair_tags) / sizeof(pair_tags[0]) + 1))

static size_t
kind(const struct delim *d)
{
	size_t	 k;

	for (k = 0; k < sizeof(pair_tags) / sizeof(pair_tags[0]); k++)
		if (strcmp(pair_tags[k], d->tag) == 0)
			break;
	return 2 * k + (d->html != 0);
}

/*
 * Pairs the delimiters of one container, innermost first (CommonMark
 * §6.2's "process emphasis", simplified): a closer takes the nearest
 * opener of its kind and drops the unmatched ones in between, which stay
 * text.  Pairs found are wrapped at once.  Linear in the delimiters: each
 * kind chains its openers from the latest, and a link found dropped is
 * cut for good (no index is pushed twice), so no closer rescans the stack.
 */
static int
match(struct delims *d)
{
	size_t		*stack = NULL, *pos = NULL, *prev = NULL;
	size_t		 head[KINDS], top = 0, i, j, k;
	const size_t	 none = SIZE_MAX;
	int		 rc = 0;

	if (d->n == 0)
		return 0;
	if ((stack = calloc(d->n, sizeof(*stack))) == NULL ||
	    (pos = calloc(d->n, sizeof(*pos))) == NULL ||
	    (prev = calloc(d->n, sizeof(*prev))) == NULL) {
		rc = -1;
		goto out;
	}
	for (k = 0; k < KINDS; k++)
		head[k] = none;
	for (i = 0; i < d->n && rc == 0; i++) {
		k = kind(&d->v[i]);
		if (d->v[i].close) {
			/* Skips the openers of this kind discarded since. */
			while ((j = head[k]) != none &&
			    (pos[j] >= top || stack[pos[j]] != j))
				head[k] = prev[j];
			if (j != none && strcmp(d->v[j].tag, d->v[i].tag) == 0) {
				rc = wrap(d->v[j].node, d->v[i].node,
				    d->v[i].tag);
				top = pos[j];
				head[k] = prev[j];
				continue;
			}
		}
		if (d->v[i].open) {
			pos[i] = top;
			prev[i] = head[k];
			head[k] = i;
			stack[top++] = i;
		}
	}
out:
	free(stack);
	free(pos);
	free(prev);
	return rc;
}

/* 1 if link n is an autolink, whose text is no Markdown. */
static int
autolink(cmark_node *n)
{
	cmark_node	*c = cmark_node_first_child(n);
	const char	*url = cmark_node_get_url(n), *lit;

	if (c == NULL || cmark_node_next(c) != NULL ||
	    cmark_node_get_type(c) != CMARK_NODE_TEXT || url == NULL)
		return 0;
	lit = cmark_node_get_literal(c);
	return lit != NULL && (strcmp(lit, url) == 0 ||
	    (strncmp(url, "mailto:", 7) == 0 && strcmp(lit, url + 7) == 0));
}

/* Strike-through and inline HTML pairs among the children of parent. */
static int
pairs(cmark_node *parent)
{
	struct delims	 d;
	cmark_node	*c, *next;
	const char	*tag;
	int		 closing, rc = 0;

	if (cmark_node_get_type(parent) == CMARK_NODE_LINK && autolink(parent))
		return 0;
	memset(&d, 0, sizeof(d));
	for (c = cmark_node_first_child(parent); c != NULL && rc == 0;
	    c = next) {
		next = cmark_node_next(c);
		if (cmark_node_get_type(c) == CMARK_NODE_TEXT)
			rc = split_tildes(c, &d);
		else if (cmark_node_get_type(c) == CMARK_NODE_HTML_INLINE &&
		    (tag = mdext_inline_tag(cmark_node_get_literal(c), &closing)) !=
		    NULL && strcmp(tag, "br") != 0)
			rc = add_delim(&d, c, tag, 1, !closing, closing);
	}
	if (rc == 0)
		rc = match(&d);
	free(d.v);
	return rc;
}

void
mdext_strip(cmark_node *p, size_t n)
{
	cmark_node	*c;
	const char	*lit;
	size_t		 len;

	while (n > 0 && (c = cmark_node_first_child(p)) != NULL &&
	    cmark_node_get_type(c) == CMARK_NODE_TEXT) {
		lit = cmark_node_get_literal(c);
		len = lit != NULL ? strlen(lit) : 0;
		if (len <= n) {
			cmark_node_free(c);
			n -= len;
		} else {
			cmark_node_set_literal(c, lit + n);
			n = 0;
		}
	}
}

/*
 * A GLFM task item: its first paragraph starts with "[ ]", "[x]" or
 * "[X]" and white space, read in the source since cmark's text nodes no
 * longer show what was escaped.  The box is taken out of the text and
 * marked on the paragraph.
 */
static void
task(const struct mdext *r, cmark_node *item)
{
	cmark_node	*p = cmark_node_first_child(item), *c;
	const char	*s, *lit;
	size_t		 len, have = 0;

	if (p == NULL || cmark_node_get_type(p) != CMARK_NODE_PARAGRAPH ||
	    (s = mdext_line(r, cmark_node_get_start_line(p), &len)) == NULL ||
	    cmark_node_get_start_column(p) < 1 ||
	    (size_t)cmark_node_get_start_column(p) - 1 + 3 > len)
		return;
	s += cmark_node_get_start_column(p) - 1;
	len -= (size_t)cmark_node_get_start_column(p) - 1;
	if (s[0] != '[' || (s[1] != ' ' && s[1] != 'x' && s[1] != 'X') ||
	    s[2] != ']' || (len > 3 && s[3] != ' ' && s[3] != '\t'))
		return;
	len = len > 3 ? 4 : 3;
	for (c = cmark_node_first_child(p); c != NULL && have < len &&
	    cmark_node_get_type(c) == CMARK_NODE_TEXT; c = cmark_node_next(c))
		have += (lit = cmark_node_get_literal(c)) != NULL ?
		    strlen(lit) : 0;
	if (have < len)
		return;			/* "[x]" is a link here */
	mdext_strip(p, len);
	cmark_node_set_user_data(p, (void *)(s[1] == ' ' ? task_open :
	    task_done));
}

const char *
mdext_task(cmark_node *p)
{
	const char	*t = cmark_node_get_user_data(p);

	return t == task_open || t == task_done ? t : NULL;
}

int
mdext_nodes(cmark_node *root, int (*keep)(cmark_node *), cmark_node ***out,
    size_t *len)
{
	cmark_iter	*it;
	cmark_node	*n, **v = NULL, **t;
	cmark_event_type ev;
	size_t		 k = 0, cap = 0;

	*out = NULL;
	*len = 0;
	if ((it = cmark_iter_new(root)) == NULL)
		return -1;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER || !keep(n))
			continue;
		if (k == cap) {
			if ((t = reallocarray(v, cap * 2 + 16, sizeof(*v))) ==
			    NULL) {
				cmark_iter_free(it);
				free(v);
				return -1;
			}
			v = t;
			cap = cap * 2 + 16;
		}
		v[k++] = n;
	}
	cmark_iter_free(it);
	*out = v;
	*len = k;
	return 0;
}

/* The nodes extend works on: task items and inline containers. */
static int
extended(cmark_node *n)
{
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_ITEM: case CMARK_NODE_PARAGRAPH:
	case CMARK_NODE_HEADING: case CMARK_NODE_EMPH:
	case CMARK_NODE_STRONG: case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		return 1;
	default:
		return 0;
	}
}

/*
 * Applies what CommonMark lacks to a parsed document: task items, then
 * strike-through and inline HTML pairs in every inline container.  The
 * containers are collected first, as the tree changes on the way.
 */
int
mdext_extend(const struct mdext *r, cmark_node *root)
{
	cmark_node	**v;
	size_t		 k, i;
	int		 rc = 0;

	if (mdext_nodes(root, extended, &v, &k) == -1)
		return -1;
	for (i = 0; i < k && rc == 0; i++)
		if (cmark_node_get_type(v[i]) == CMARK_NODE_ITEM)
			task(r, v[i]);
		else
			rc = pairs(v[i]);
	free(v);
	return rc;
}
