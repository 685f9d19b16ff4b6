#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "convert/html.h"

/*
 * html_norm: the output side of html.h: white space as browsers lay it
 * out, escaping, and the writer of Productboard's XHTML.
 */

/* White-space state while laying out one block's inline content. */
struct space {
	int			 space;	/* at line start or after a space */
	struct html_node	*last;	/* last text node with content */
};

/* Ends a line: its trailing space goes. */
static void
line_end(struct space *w)
{
	if (w->last != NULL && w->last->len > 0 &&
	    w->last->text[w->last->len - 1] == ' ')
		w->last->text[--w->last->len] = '\0';
	w->last = NULL;
	w->space = 1;
}

static void
squeeze(struct html_node *t, struct space *w)
{
	size_t	 r, o = 0;

	for (r = 0; r < t->len; r++) {
		if (strchr(" \t\n\f", t->text[r]) == NULL) {
			t->text[o++] = t->text[r];
			w->space = 0;
		} else if (!w->space) {
			t->text[o++] = ' ';
			w->space = 1;
		}
	}
	t->text[o] = '\0';
	t->len = o;
	if (o > 0)
		w->last = t;
}

static void
collapse(struct html_node *n, struct space *w)
{
	struct html_node *c;

	for (c = n->first; c != NULL; c = c->next) {
		if (c->tag == HTML_TEXT)
			squeeze(c, w);
		else if (c->tag == HTML_BR || c->tag == HTML_PRE ||
		    html_is_block(c->tag)) {
			line_end(w);
			if (c->tag != HTML_PRE)
				collapse(c, w);
			line_end(w);
		} else
			collapse(c, w);
	}
}

void
html_collapse_space(struct html_node *root)
{
	struct space	 w = { 1, NULL };

	collapse(root, &w);
	line_end(&w);
}

int
html_put_escaped(struct buf *b, const char *s, size_t n)
{
	const char	*e = s + n, *run = s;
	const char	*rep;

	for (; s < e; s++) {
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: continue;
		}
		if (buf_append(b, run, (size_t)(s - run)) == -1 ||
		    buf_puts(b, rep) == -1)
			return -1;
		run = s + 1;
	}
	return buf_append(b, run, (size_t)(e - run));
}

int
html_put_escaped_href(struct buf *b, const char *href)
{
	struct buf	 h;
	int		 rc;

	buf_init(&h, b->max);
	rc = html_put_href(&h, href) == -1 ||
	    html_put_escaped(b, buf_str(&h), h.len) == -1 ? -1 : 0;
	buf_release(&h);
	return rc;
}

/* One run of writing. */
struct wr {
	struct buf	*b;
	int		 err;
	int		 heading;	/* <br> is a space in headings */
	unsigned	 marks;		/* open b, i, u, s: mark_bit() */
	/* The content of the inline run being written, for its breaks. */
	const struct html_node *first, *last;
	int		 started, ended;
};

static void
wput(struct wr *w, const char *s)
{
	if (!w->err && buf_puts(w->b, s) == -1)
		w->err = 1;
}

/* 1 if n holds text, a checkbox, a rule, code or a table cell. */
static int
visible(const struct html_node *n)
{
	const struct html_node *c;

	switch (n->tag) {
	case HTML_TEXT:
		return strspn(n->text, " ") < n->len;
	case HTML_INPUT:
		return n->check != HTML_CHECK_NONE;
	case HTML_HR: case HTML_PRE: case HTML_TD: case HTML_TH:
		return 1;
	case HTML_BR: case HTML_IMG:
		return 0;
	case HTML_CODE:
		for (c = n->first; c != NULL; c = c->next)
			if ((c->tag == HTML_TEXT && c->len > 0) ||
			    (c->tag != HTML_TEXT && visible(c)))
				return 1;
		return 0;
	default:
		for (c = n->first; c != NULL; c = c->next)
			if (visible(c))
				return 1;
		return 0;
	}
}

/* Content units of an inline run: visible text, checkboxes, code. */
static void
units(struct wr *w, const struct html_node *n)
{
	const struct html_node *c;

	for (c = n; c != NULL; c = c->next == NULL || html_is_block(
	    c->next->tag) ? NULL : c->next) {
		if (c->tag == HTML_TEXT || c->tag == HTML_INPUT ||
		    c->tag == HTML_CODE) {
			if (!visible(c))
				continue;
			if (w->first == NULL)
				w->first = c;
			w->last = c;
		} else if (c->first != NULL && !html_is_block(c->tag))
			units(w, c->first);
	}
}

static void	 write_nodes(struct wr *, const struct html_node *,
		    const struct html_node *, int);

/* A start tag or end tag for element n ("<p>", "</ol>", ...). */
static void
write_tag(struct wr *w, const struct html_node *n, int close)
{
	static const char *names[] = {
		[HTML_P] = "p", [HTML_H1] = "h1", [HTML_H2] = "h2",
		[HTML_H3] = "h2", [HTML_H4] = "h2", [HTML_H5] = "h2",
		[HTML_H6] = "h2", [HTML_PRE] = "pre",
		[HTML_BLOCKQUOTE] = "blockquote", [HTML_UL] = "ul",
		[HTML_OL] = "ol", [HTML_LI] = "li", [HTML_TABLE] = "table",
		[HTML_THEAD] = "thead", [HTML_TBODY] = "tbody",
		[HTML_TFOOT] = "tbody", [HTML_TR] = "tr", [HTML_TD] = "td",
		[HTML_TH] = "th", [HTML_B] = "b", [HTML_I] = "i",
		[HTML_U] = "u", [HTML_S] = "s", [HTML_CODE] = "code",
		[HTML_A] = "a",
	};
	char	 t[32];

	if (n->tag >= sizeof(names) / sizeof(names[0]) ||
	    names[n->tag] == NULL)
		return;
	wput(w, close ? "</" : "<");
	wput(w, names[n->tag]);
	if (!close && n->tag == HTML_OL && n->start != 1) {
		snprintf(t, sizeof(t), " start=\"%ld\"", n->start);
		wput(w, t);
	}
	if (!close && n->tag == HTML_CODE && n->lang != NULL &&
	    strspn(n->lang, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
	    "YZ0123456789_+#.-") > 0) {
		wput(w, " class=\"language-");
		if (!w->err && buf_append(w->b, n->lang, strspn(n->lang,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_+#.-")) == -1)
			w->err = 1;
		wput(w, "\"");
	}
	if (!close && n->tag == HTML_A) {
		wput(w, " href=\"");
		if (!w->err && html_put_escaped_href(w->b, n->href) == -1)
			w->err = 1;
		wput(w, "\"");
	}
	wput(w, ">");
}

/* The bit of b, i, u or s in struct wr's marks; 0 for other tags. */
static unsigned
mark_bit(enum html_tag t)
{
	return t == HTML_B ? 1 : t == HTML_I ? 2 : t == HTML_U ? 4 :
	    t == HTML_S ? 8 : 0;
}

/* Writes element or text n; siblings up to 'end' share its tag. */
static void
write_node(struct wr *w, const struct html_node *n,
    const struct html_node *end)
{
	const struct html_node *c;
	int		 tag, heading = w->heading;
	unsigned	 marks = w->marks;

	switch (n->tag) {
	case HTML_TEXT:
		if (!w->err && html_put_escaped(w->b, n->text, n->len) == -1)
			w->err = 1;
		if (n == w->first)
			w->started = 1;
		if (n == w->last)
			w->ended = 1;
		return;
	case HTML_BR:
		if (w->heading)
			wput(w, " ");
		else if (w->started && !w->ended)
			wput(w, "<br/>");
		return;
	case HTML_HR:
		wput(w, "<hr/>");
		return;
	case HTML_INPUT:
		if (n->check != HTML_CHECK_NONE)
			wput(w, n->check == HTML_CHECK_DONE ? "<input type=\""
			    "checkbox\" checked=\"checked\"/>" :
			    "<input type=\"checkbox\"/>");
		if (n == w->first)
			w->started = 1;
		if (n == w->last)
			w->ended = 1;
		return;
	case HTML_IMG:
		return;
	default:
		break;
	}
	/* Empty blocks go; empty inline elements keep their spaces. */
	tag = n->tag != HTML_SPAN && n->tag != HTML_DIV &&
	    (n->tag != HTML_A || (n->href != NULL && html_href_ok(n->href)));
	if (!visible(n)) {
		if (html_is_block(n->tag))
			return;
		tag = 0;
	}
	/* Inside its own kind (<i><i>) a mark shows nothing more. */
	if (w->marks & mark_bit(n->tag))
		tag = 0;
	w->marks |= mark_bit(n->tag);
	if (tag)
		write_tag(w, n, 0);
	w->heading |= html_heading_level(n->tag) > 0;
	for (c = n; ; c = c->next) {
		write_nodes(w, c->first, NULL, html_is_block(n->tag) ||
		    n->tag == HTML_ROOT);
		if (c == end)
			break;
	}
	if (n->tag == HTML_CODE) {
		if (n == w->first)
			w->started = 1;
		if (n == w->last)
			w->ended = 1;
	}
	w->heading = heading;
	w->marks = marks;
	if (tag)
		write_tag(w, n, 1);
}

/*
 * Writes siblings n..stop (excluded), the content of a block if 'block':
 * each run of inline siblings there loses the <br> at its ends.
 * Neighbours with the same b, i, u or s tag become one, as html2md reads
 * them.
 */
static void
write_nodes(struct wr *w, const struct html_node *n,
    const struct html_node *stop, int block)
{
	const struct html_node *e;
	int		 inrun = 0;

	for (; n != NULL && n != stop; n = e->next) {
		e = n;
		if (html_is_block(n->tag) || n->tag == HTML_HR) {
			inrun = 0;
			write_node(w, n, n);
			continue;
		}
		if (block && !inrun) {
			w->first = w->last = NULL;
			w->started = w->ended = 0;
			units(w, n);
			inrun = 1;
		}
		if (n->tag == HTML_B || n->tag == HTML_I || n->tag == HTML_U ||
		    n->tag == HTML_S)
			while (e->next != NULL && e->next != stop &&
			    e->next->tag == n->tag)
				e = e->next;
		write_node(w, n, e);
	}
}

int
html_write(struct buf *b, const struct html_node *root)
{
	struct wr	 w;

	memset(&w, 0, sizeof(w));
	w.b = b;
	write_nodes(&w, root->first, NULL, 1);
	return w.err ? -1 : 0;
}
