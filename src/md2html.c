#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark.h>

#include "html2md.h"
#include "md2html.h"

#define MAX_DEPTH	48
#define MAX_TABLES	64
#define STRIKE		"\xee\x80\x80"	/* U+E000 stands for "~~" */
#define TABLE_MARK	"\xee\x80\x81"	/* U+E001 + n: table placeholder */

struct out {
	struct buf	*b;
	int		 strike;	/* inside ~~ */
	char		*tables[MAX_TABLES];
	size_t		 ntables;
};

static void	 render(struct out *, cmark_node *, int depth);

static void
esc(struct buf *b, const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		default: buf_putc(b, s[i]); break;
		}
}

/* Text of code: STRIKE markers were "~~" in the source. */
static void
esc_code(struct buf *b, const char *s)
{
	const char	*m;

	while ((m = strstr(s, STRIKE)) != NULL) {
		esc(b, s, (size_t)(m - s));
		buf_puts(b, "~~");
		s = m + 3;
	}
	esc(b, s, strlen(s));
}

/* Text: STRIKE markers toggle <s>. */
static void
text(struct out *o, const char *s)
{
	const char	*m;

	while ((m = strstr(s, STRIKE)) != NULL) {
		esc(o->b, s, (size_t)(m - s));
		buf_puts(o->b, o->strike ? "</s>" : "<s>");
		o->strike = !o->strike;
		s = m + 3;
	}
	esc(o->b, s, strlen(s));
}

static int
href_ok(const char *h)
{
	return h != NULL && (strncmp(h, "https://", 8) == 0 ||
	    strncmp(h, "http://", 7) == 0 || strncmp(h, "mailto:", 7) == 0 ||
	    strncmp(h, "urn:pb:node:", 12) == 0);
}

static void
children(struct out *o, cmark_node *n, int depth)
{
	cmark_node	*c;

	for (c = cmark_node_first_child(n); c != NULL; c = cmark_node_next(c))
		render(o, c, depth + 1);
}

/* Wraps children in <tag>...</tag>. */
static void
element(struct out *o, cmark_node *n, int depth, const char *tag)
{
	buf_printf(o->b, "<%s>", tag);
	children(o, n, depth);
	buf_printf(o->b, "</%s>", tag);
}

static void
inline_html(struct out *o, const char *s)
{
	static const struct { const char *in, *out; } map[] = {
		{ "<ins>", "<u>" }, { "</ins>", "</u>" }, { "<u>", "<u>" },
		{ "</u>", "</u>" }, { "<s>", "<s>" }, { "</s>", "</s>" },
		{ "<del>", "<s>" }, { "</del>", "</s>" }, { "<br>", "<br/>" },
		{ "<br/>", "<br/>" }, { "<br />", "<br/>" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(s, map[i].in) == 0) {
			buf_puts(o->b, map[i].out);
			return;
		}
	text(o, s);
}

static void
list(struct out *o, cmark_node *n, int depth)
{
	int	 start = cmark_node_get_list_start(n);

	if (cmark_node_get_list_type(n) == CMARK_ORDERED_LIST) {
		if (start > 1)
			buf_printf(o->b, "<ol start=\"%d\">", start);
		else
			buf_puts(o->b, "<ol>");
		children(o, n, depth);
		buf_puts(o->b, "</ol>");
	} else
		element(o, n, depth, "ul");
}

static void
paragraph(struct out *o, cmark_node *n, int depth)
{
	cmark_node	*parent = cmark_node_parent(n);
	cmark_node	*c = cmark_node_first_child(n);
	const char	*lit;
	int		 tight = parent != NULL &&
			    cmark_node_get_type(parent) == CMARK_NODE_ITEM &&
			    cmark_node_get_list_tight(cmark_node_parent(parent));

	lit = c != NULL && cmark_node_next(c) == NULL &&
	    cmark_node_get_type(c) == CMARK_NODE_TEXT ?
	    cmark_node_get_literal(c) : NULL;
	if (lit != NULL && strncmp(lit, TABLE_MARK, 3) == 0) {
		size_t k = (size_t)strtoul(lit + 3, NULL, 10);

		if (k < o->ntables) {
			buf_puts(o->b, o->tables[k]);
			return;
		}
	}
	if (!tight)
		buf_puts(o->b, "<p>");
	children(o, n, depth);
	if (o->strike) {
		buf_puts(o->b, "</s>");
		o->strike = 0;
	}
	if (!tight)
		buf_puts(o->b, "</p>");
}

/* 1 for the "[ ] " or "[x] " that opens a task list item (GLFM). */
static int
task_item(cmark_node *n, const char *s)
{
	cmark_node	*p = cmark_node_parent(n);

	return cmark_node_previous(n) == NULL && p != NULL &&
	    cmark_node_previous(p) == NULL && cmark_node_parent(p) != NULL &&
	    cmark_node_get_type(cmark_node_parent(p)) == CMARK_NODE_ITEM &&
	    (strncmp(s, "[ ] ", 4) == 0 || strncmp(s, "[x] ", 4) == 0 ||
	    strncmp(s, "[X] ", 4) == 0);
}

static void
render(struct out *o, cmark_node *n, int depth)
{
	const char	*s;
	int		 lvl;

	if (depth > MAX_DEPTH) {
		if ((s = cmark_node_get_literal(n)) != NULL)
			text(o, s);
		children(o, n, depth);
		return;
	}
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_DOCUMENT:
		children(o, n, depth);
		break;
	case CMARK_NODE_BLOCK_QUOTE:
		element(o, n, depth, "blockquote");
		break;
	case CMARK_NODE_LIST:
		list(o, n, depth);
		break;
	case CMARK_NODE_ITEM:
		element(o, n, depth, "li");
		break;
	case CMARK_NODE_CODE_BLOCK:
		s = cmark_node_get_fence_info(n);
		if (s != NULL && *s != '\0' && strcspn(s, " \"<>&") > 0) {
			buf_puts(o->b, "<pre><code class=\"language-");
			esc(o->b, s, strcspn(s, " \"<>&"));
			buf_puts(o->b, "\">");
		} else
			buf_puts(o->b, "<pre><code>");
		s = cmark_node_get_literal(n);
		if (s != NULL) {
			size_t len = strlen(s);

			while (len > 0 && s[len - 1] == '\n')
				len--;
			char *t = strndup(s, len);
			if (t != NULL)
				esc_code(o->b, t);
			free(t);
		}
		buf_puts(o->b, "</code></pre>");
		break;
	case CMARK_NODE_HTML_BLOCK:
		buf_puts(o->b, "<p>");
		s = cmark_node_get_literal(n);
		if (s != NULL) {
			size_t len = strlen(s);

			while (len > 0 && s[len - 1] == '\n')
				len--;
			esc(o->b, s, len);
		}
		buf_puts(o->b, "</p>");
		break;
	case CMARK_NODE_PARAGRAPH:
		paragraph(o, n, depth);
		break;
	case CMARK_NODE_HEADING:
		lvl = cmark_node_get_heading_level(n);
		element(o, n, depth, lvl <= 1 ? "h1" : "h2");
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		buf_puts(o->b, "<hr/>");
		break;
	case CMARK_NODE_TEXT:
		s = cmark_node_get_literal(n);
		if (s != NULL && task_item(n, s)) {
			buf_puts(o->b, s[1] == ' ' ? "<input type=\"checkbox\"/>" :
			    "<input type=\"checkbox\" checked/>");
			s += 4;
		}
		text(o, s != NULL ? s : "");
		break;
	case CMARK_NODE_SOFTBREAK:
		buf_putc(o->b, ' ');
		break;
	case CMARK_NODE_LINEBREAK:
		buf_puts(o->b, "<br/>");
		break;
	case CMARK_NODE_CODE:
		s = cmark_node_get_literal(n);
		if (s != NULL && html2md_is_reference(s, strlen(s)))
			text(o, s);		/* html2md's guard, undone */
		else {
			buf_puts(o->b, "<code>");
			esc_code(o->b, s != NULL ? s : "");
			buf_puts(o->b, "</code>");
		}
		break;
	case CMARK_NODE_HTML_INLINE:
		inline_html(o, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_EMPH:
		element(o, n, depth, "i");
		break;
	case CMARK_NODE_STRONG:
		element(o, n, depth, "b");
		break;
	case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		s = cmark_node_get_url(n);
		if (!href_ok(s)) {
			children(o, n, depth);
			break;
		}
		buf_puts(o->b, "<a href=\"");
		esc(o->b, s, strlen(s));
		buf_puts(o->b, "\">");
		if (cmark_node_first_child(n) == NULL)
			esc(o->b, s, strlen(s));
		children(o, n, depth);
		buf_puts(o->b, "</a>");
		break;
	default:
		children(o, n, depth);
		break;
	}
}

/* Inline HTML of one table cell, rendered through cmark. */
static void
cell(struct out *o, const char *s, size_t n, const char *tag)
{
	struct out	 sub;
	cmark_node	*doc, *p;

	memset(&sub, 0, sizeof(sub));
	sub.b = o->b;
	buf_printf(o->b, "<%s>", tag);
	doc = cmark_parse_document(s, n, CMARK_OPT_DEFAULT |
	    CMARK_OPT_VALIDATE_UTF8);
	if (doc != NULL && (p = cmark_node_first_child(doc)) != NULL &&
	    cmark_node_get_type(p) == CMARK_NODE_PARAGRAPH) {
		children(&sub, p, 1);
		if (sub.strike)
			buf_puts(o->b, "</s>");
	}
	cmark_node_free(doc);
	buf_printf(o->b, "</%s>", tag);
}

static int
is_row(const char *l, size_t n)
{
	while (n > 0 && (*l == ' ') && n--)
		l++;
	return n > 0 && *l == '|';
}

static int
is_sep(const char *l, size_t n)
{
	size_t	 i, dashes = 0;

	if (!is_row(l, n))
		return 0;
	for (i = 0; i < n; i++)
		if (l[i] == '-')
			dashes++;
		else if (strchr("|: \t\r", l[i]) == NULL)
			return 0;
	return dashes > 0;
}

/* Renders one table row, splitting on unescaped '|'. */
static void
row(struct out *o, const char *l, size_t n, const char *tag)
{
	size_t	 i = 0, start;

	while (i < n && l[i] == ' ')
		i++;
	if (i < n && l[i] == '|')
		i++;
	buf_puts(o->b, "<tr>");
	while (i < n) {
		start = i;
		while (i < n && l[i] != '|')
			i += l[i] == '\\' && i + 1 < n ? 2 : 1;
		if (i >= n && strspn(l + start, " \t\r") == n - start)
			break;
		cell(o, l + start, i - start, tag);
		i++;
	}
	buf_puts(o->b, "</tr>");
}

/*
 * Takes pipe tables out of the source (CommonMark has none): each becomes
 * a placeholder paragraph, rendered as <table> when it is met.  Also turns
 * unescaped "~~" into STRIKE markers.  Returns the rewritten source.
 */
static char *
prepare(struct out *o, const char *md, size_t len)
{
	struct buf	 src, t;
	size_t		 i = 0, e, e2, e3;

	buf_init(&src, len * 2 + 64);
	while (i < len) {
		e = i;
		while (e < len && md[e] != '\n')
			e++;
		e2 = e < len ? e + 1 : e;
		while (e2 < len && md[e2] != '\n')
			e2++;
		if (o->ntables < MAX_TABLES && is_row(md + i, e - i) &&
		    e < len && is_sep(md + e + 1, e2 - e - 1)) {
			buf_init(&t, len * 8 + 64);
			struct out sub = *o;
			sub.b = &t;
			buf_puts(&t, "<table><thead>");
			row(&sub, md + i, e - i, "th");
			buf_puts(&t, "</thead><tbody>");
			i = e2 < len ? e2 + 1 : e2;
			while (i < len) {
				e3 = i;
				while (e3 < len && md[e3] != '\n')
					e3++;
				if (!is_row(md + i, e3 - i))
					break;
				row(&sub, md + i, e3 - i, "td");
				i = e3 < len ? e3 + 1 : e3;
			}
			buf_puts(&t, "</tbody></table>");
			o->tables[o->ntables] = buf_detach(&t);
			buf_printf(&src, "\n" TABLE_MARK "%zu\n\n", o->ntables++);
			continue;
		}
		for (; i < e; i++) {
			if (md[i] == '\\' && i + 1 < len) {
				buf_putc(&src, md[i++]);
				buf_putc(&src, md[i]);
			} else if (md[i] == '~' && i + 1 < len && md[i + 1] == '~') {
				buf_puts(&src, STRIKE);
				i++;
			} else
				buf_putc(&src, md[i]);
		}
		if (i < len && md[i] == '\n')
			buf_putc(&src, md[i++]);
	}
	return buf_detach(&src);
}

int
md2html_convert(const char *md, size_t len, struct buf *out)
{
	struct out	 o;
	cmark_node	*doc;
	char		*src;
	struct buf	 t;
	size_t		 i;
	int		 rc = -1;

	memset(&o, 0, sizeof(o));
	buf_init(&t, out->max);
	o.b = &t;
	if ((src = prepare(&o, md, len)) == NULL)
		goto out;
	doc = cmark_parse_document(src, strlen(src), CMARK_OPT_DEFAULT |
	    CMARK_OPT_VALIDATE_UTF8);
	if (doc == NULL)
		goto out;
	render(&o, doc, 0);
	cmark_node_free(doc);
	rc = buf_append(out, buf_str(&t), t.len);
out:
	free(src);
	for (i = 0; i < o.ntables; i++)
		free(o.tables[i]);
	buf_release(&t);
	return rc;
}
