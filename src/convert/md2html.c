#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "base/buf.h"
#include "convert/html.h"
#include "convert/html2md.h"
#include "convert/md2html.h"
#include "convert/mdext.h"
#include "convert/mdtable.h"

/*
 * Nodes nested deeper lose their tags, so that html2md reads all the HTML
 * back (html.h keeps HTML_MAX_DEPTH levels).
 */
#define MD2HTML_MAX_DEPTH HTML_MAX_DEPTH
/* Image openers "![" read as such; later ones are text (see clean()). */
#define MAX_IMAGES	1024

/* One conversion. */
struct md2html {
	struct buf	*b;		/* the HTML */
	int		 err;		/* an append failed */
	const struct mdext *x;		/* the Markdown that cmark parsed */
	int		 prev, prev2;	/* the last two text bytes written */
	int		 wj;		/* a WORD JOINER after a sigil waits */
	int		 in_a;		/* inside <a>: links are text */
	int		 hardbreaks;	/* a single newline is a <br/> */
};

/* Appends the WORD JOINER that waits, which no text follows. */
static void
joiner(struct md2html *r)
{
	if (!r->wj)
		return;
	r->wj = 0;
	if (!r->err && buf_puts(r->b, HTML2MD_WJ) == -1)
		r->err = 1;
	r->prev2 = (unsigned char)HTML2MD_WJ[1];
	r->prev = (unsigned char)HTML2MD_WJ[2];
}

static void
md2html_put(struct md2html *r, const char *s, size_t n)
{
	joiner(r);
	if (!r->err && buf_append(r->b, s, n) == -1)
		r->err = 1;
}

static void
md2html_puts(struct md2html *r, const char *s)
{
	md2html_put(r, s, strlen(s));
}

/* Appends an element's tag (s is "<p>", "</p>", ...); text restarts. */
static void
md2html_tag(struct md2html *r, const char *s)
{
	md2html_puts(r, s);
	r->prev = r->prev2 = 0;
}

/*
 * Appends text without the WORD JOINER html2md put after a reference
 * sigil (html2md.h): escaped as HTML text, or as it is (a title).  A
 * joiner after a sigil waits for the next text, which may be another
 * node's (an escaped character, an entity): it goes if that would make
 * a reference, and stays before other text or a tag.
 */
static void
unjoined(struct md2html *r, const char *s, size_t n, int escape)
{
	size_t		 i, k = strlen(HTML2MD_WJ);

	for (i = 0; i < n; i++) {
		if (r->wj && html2md_ref_break(r->prev2, r->prev,
		    (unsigned char)s[i]))
			r->wj = 0;
		joiner(r);
		if (n - i >= k && memcmp(s + i, HTML2MD_WJ, k) == 0 &&
		    html2md_sigil(r->prev2, r->prev)) {
			r->wj = 1;
			i += k - 1;
			continue;
		}
		if (!r->err && (escape ? html_put_escaped(r->b, s + i, 1) :
		    buf_putc(r->b, s[i])) == -1)
			r->err = 1;
		r->prev2 = r->prev;
		r->prev = (unsigned char)s[i];
	}
}

/* Appends Markdown text as HTML text (see unjoined()). */
static void
md2html_text(struct md2html *r, const char *s, size_t n)
{
	unjoined(r, s, n, 1);
}

/* 1 if the byte before i in out is a backslash that escapes. */
static int
escaped(const struct buf *out)
{
	size_t	 n = 0;

	while (n < out->len && out->data[out->len - 1 - n] == '\\')
		n++;
	return n % 2;
}

/*
 * Copies md to out with invalid UTF-8 and NUL as U+FFFD and CR LF and CR
 * as LF, as cmark would read them: cmark's columns are then byte offsets
 * into out.  Past MAX_IMAGES image openers "![" the '!' is escaped:
 * cmark 0.30.2 takes quadratic time over "![[]()" repeated in a paragraph
 * (fixed in 0.30.3), and no description has that many images.
 */
static int
clean(struct buf *out, const char *md, size_t len)
{
	size_t		 i, k, images = 0;
	uint32_t	 cp;
	int		 rc = 0;

	for (i = 0; i < len && rc == 0; i += k) {
		k = html_utf8_decode(md + i, len - i, &cp);
		if (md[i] == '!' && i + 1 < len && md[i + 1] == '[' &&
		    ++images > MAX_IMAGES && !escaped(out))
			rc = buf_putc(out, '\\');
		if (rc != 0)
			break;
		if (md[i] == '\r') {
			rc = buf_putc(out, '\n');
			k += i + 1 < len && md[i + 1] == '\n';
		} else if (md[i] == '\0' || (cp == 0xfffd && k == 1))
			rc = buf_puts(out, "\xef\xbf\xbd");
		else
			rc = buf_append(out, md + i, k);
	}
	return rc;
}

/* The fence a line opens or closes (CommonMark §4.5): its length, or 0. */
static size_t
fence_at(const char *l, size_t n, char *c)
{
	size_t	 i = 0, j;

	while (i < n && i < 3 && l[i] == ' ')
		i++;
	if (i == n || (l[i] != '`' && l[i] != '~'))
		return 0;
	for (j = i; j < n && l[j] == l[i]; j++)
		;
	if (j - i < 3 || (l[i] == '`' && memchr(l + j, '`', n - j) != NULL))
		return 0;
	*c = l[i];
	return j - i;
}

/* Tracks fenced code through one line: 1 while inside. */
static int
in_fence(const char *l, size_t n, char *fc, size_t *fk)
{
	char	 c = 0;
	size_t	 k = fence_at(l, n, &c);

	if (*fk == 0 && k > 0) {
		*fc = c;
		*fk = k;
	} else if (*fk > 0 && k >= *fk && c == *fc &&
	    strspn(l, " `~") >= n)
		*fk = 0;
	return *fk > 0;
}

static int
is_quote_fence(const char *l, size_t n)
{
	return n >= 3 && strncmp(l, ">>>", 3) == 0 &&
	    strspn(l + 3, " \t") == n - 3;
}

/* The next line after s (in s..e), or e. */
static const char *
next_line(const char *s, const char *e, size_t *n)
{
	const char	*nl = memchr(s, '\n', (size_t)(e - s));

	*n = (size_t)((nl != NULL ? nl : e) - s);
	return nl != NULL ? nl + 1 : e;
}

/*
 * GitLab's multi-line block quotes: a ">>>" line, text, a ">>>" line
 * (GLFM "Multiline blockquote").  The text gets "> ", the fences become
 * blank lines; ">>>" inside fenced code is left alone.
 */
static int
quotes(struct buf *out, const char *s, size_t len)
{
	const char	*e = s + len, *p, *q, *close;
	size_t		 n, m, fk = 0, fk2;
	char		 fc = 0, fc2;
	int		 rc = 0;

	for (p = s; p < e && rc == 0; p = q) {
		q = next_line(p, e, &n);
		close = NULL;
		if (fk == 0 && is_quote_fence(p, n)) {
			fk2 = 0;
			for (close = q; close < e; close = next_line(close, e,
			    &m)) {
				next_line(close, e, &m);
				if (!in_fence(close, m, &fc2, &fk2) &&
				    is_quote_fence(close, m))
					break;
			}
		}
		if (close == NULL || close >= e) {
			in_fence(p, n, &fc, &fk);
			rc = buf_append(out, p, (size_t)(q - p));
			continue;
		}
		rc = buf_putc(out, '\n');
		for (p = q; p < close && rc == 0; p = q) {
			q = next_line(p, e, &m);
			in_fence(p, m, &fc, &fk);
			rc = buf_puts(out, m > 0 ? "> " : ">");
			if (rc == 0)
				rc = buf_append(out, p, (size_t)(q - p));
		}
		q = next_line(close, e, &m);
		if (rc == 0)
			rc = buf_putc(out, '\n');
	}
	return rc;
}

static int
is_leaf(cmark_node *n)
{
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_HTML_BLOCK: case CMARK_NODE_THEMATIC_BREAK:
	case CMARK_NODE_CODE_BLOCK: case CMARK_NODE_TEXT:
	case CMARK_NODE_SOFTBREAK: case CMARK_NODE_LINEBREAK:
	case CMARK_NODE_CODE: case CMARK_NODE_HTML_INLINE:
		return 1;
	default:
		return 0;
	}
}

/*
 * 1 if list item i needs blank lines between its blocks, as html2md sees
 * it: a block after the first that is not a list, or an ordered list not
 * starting at 1 after a paragraph, which could not interrupt it.
 */
static int
loose_item(cmark_node *i)
{
	cmark_node	*c, *prev = NULL;

	for (c = cmark_node_first_child(i); c != NULL; prev = c,
	    c = cmark_node_next(c))
		if (prev != NULL && (cmark_node_get_type(c) != CMARK_NODE_LIST ||
		    (cmark_node_get_type(prev) == CMARK_NODE_PARAGRAPH &&
		    cmark_node_get_list_type(c) == CMARK_ORDERED_LIST &&
		    cmark_node_get_list_start(c) != 1)))
			return 1;
	return 0;
}

/* 1 if paragraph p is a table cell's (mdtable.h): its line is not ours. */
static int
in_cell(cmark_node *p)
{
	cmark_node	*c = cmark_node_parent(p);

	return c != NULL && cmark_node_get_type(c) == CMARK_NODE_CUSTOM_BLOCK;
}

/*
 * 1 if paragraph p is in a tight list, where it takes no <p>.  Tight is
 * html2md's idea of it, not cmark's: html2md writes a list tight unless
 * an item needs it loose, so a loose list of one-paragraph items would
 * not survive a round trip.
 */
static int
tight(cmark_node *p)
{
	cmark_node	*item = cmark_node_parent(p), *list, *i;

	if (in_cell(p))
		return 1;
	if (item == NULL || cmark_node_get_type(item) != CMARK_NODE_ITEM ||
	    (list = cmark_node_parent(item)) == NULL)
		return 0;
	for (i = cmark_node_first_child(list); i != NULL;
	    i = cmark_node_next(i))
		if (loose_item(i))
			return 0;
	return 1;
}

/*
 * <a href> for a link or image to an allowed address, not inside another
 * link (an image in a link is text); else nothing.  The node's user data
 * says on leaving whether it opened an anchor.
 */
static void
anchor(struct md2html *r, cmark_node *n, int enter)
{
	static const char opened[] = "a";
	const char	*url = cmark_node_get_url(n);
	struct buf	 h;

	if (!enter) {
		if (cmark_node_get_user_data(n) == opened) {
			md2html_tag(r, "</a>");
			r->in_a--;
		}
		return;
	}
	if (url == NULL || !html_href_ok(url) || r->in_a > 0)
		return;
	cmark_node_set_user_data(n, (void *)opened);
	r->in_a++;
	buf_init(&h, r->b->max);
	md2html_tag(r, "<a href=\"");
	if (!r->err && html_put_escaped_href(r->b, url) == -1)
		r->err = 1;
	md2html_tag(r, "\">");
	if (cmark_node_first_child(n) == NULL)
		md2html_text(r, url, strlen(url));
	buf_release(&h);
}

/*
 * GitLab's table of contents, "[[_TOC_]]" or "[TOC]" alone in a
 * paragraph: kept as written (html2md writes it back unescaped).
 */
static int
toc(struct md2html *r, cmark_node *p)
{
	const char	*s;
	size_t		 n;

	if (cmark_node_get_start_line(p) != cmark_node_get_end_line(p) ||
	    (s = mdext_line(r->x, cmark_node_get_start_line(p), &n)) == NULL)
		return 0;
	while (n > 0 && (*s == ' ' || *s == '>'))
		s++, n--;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if ((n != 9 || strncmp(s, "[[_TOC_]]", 9) != 0) &&
	    (n != 5 || strncmp(s, "[TOC]", 5) != 0))
		return 0;
	md2html_tag(r, "<p>");
	md2html_text(r, s, n);
	md2html_tag(r, "</p>");
	return 1;
}

/* The tags of container n, on entering or leaving it. */
static void
container(struct md2html *r, cmark_node *n, int enter)
{
	const char	*s;
	char		 ol[32];

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_BLOCK_QUOTE:
		md2html_tag(r, enter ? "<blockquote>" : "</blockquote>");
		break;
	case CMARK_NODE_LIST:
		if (cmark_node_get_list_type(n) != CMARK_ORDERED_LIST)
			md2html_tag(r, enter ? "<ul>" : "</ul>");
		else if (!enter)
			md2html_tag(r, "</ol>");
		else if (cmark_node_get_list_start(n) == 1)
			md2html_tag(r, "<ol>");
		else {
			snprintf(ol, sizeof(ol), "<ol start=\"%d\">",
			    cmark_node_get_list_start(n));
			md2html_tag(r, ol);
		}
		break;
	case CMARK_NODE_ITEM:
		md2html_tag(r, enter ? "<li>" : "</li>");
		break;
	case CMARK_NODE_PARAGRAPH:
		if (!tight(n))
			md2html_tag(r, enter ? "<p>" : "</p>");
		if (enter && (s = mdext_task(n)) != NULL)
			md2html_tag(r, s[1] == ' ' ? "<input type=\"checkbox\"/>" :
			    "<input type=\"checkbox\" checked=\"checked\"/>");
		break;
	case CMARK_NODE_HEADING:
		if (cmark_node_get_heading_level(n) == 1)
			md2html_tag(r, enter ? "<h1>" : "</h1>");
		else
			md2html_tag(r, enter ? "<h2>" : "</h2>");
		break;
	case CMARK_NODE_EMPH:
		md2html_tag(r, enter ? "<i>" : "</i>");
		break;
	case CMARK_NODE_STRONG:
		md2html_tag(r, enter ? "<b>" : "</b>");
		break;
	case CMARK_NODE_LINK: case CMARK_NODE_IMAGE:
		anchor(r, n, enter);
		break;
	case CMARK_NODE_CUSTOM_BLOCK:		/* mdtable.h */
		md2html_tag(r, enter ? cmark_node_get_on_enter(n) :
		    cmark_node_get_on_exit(n));
		break;
	case CMARK_NODE_CUSTOM_INLINE:
		if ((s = cmark_node_get_on_enter(n)) != NULL &&
		    cmark_node_first_child(n) != NULL) {
			md2html_tag(r, enter ? "<" : "</");
			md2html_tag(r, s);
			md2html_tag(r, ">");
		}
		break;
	default:
		break;
	}
}

/* Code blocks as <pre><code>, with the fence's language if it has one. */
static void
code_block(struct md2html *r, cmark_node *n, int tags)
{
	const char	*info = cmark_node_get_fence_info(n);
	const char	*lit = cmark_node_get_literal(n);
	size_t		 k, len = lit != NULL ? strlen(lit) : 0;

	while (len > 0 && lit[len - 1] == '\n')
		len--;
	joiner(r);
	if (tags) {
		k = info == NULL ? 0 : strspn(info, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+#.-");
		md2html_tag(r, "<pre><code");
		if (k > 0) {
			md2html_puts(r, " class=\"language-");
			md2html_put(r, info, k);
			md2html_puts(r, "\"");
		}
		md2html_tag(r, ">");
	}
	if (!r->err && html_put_escaped(r->b, lit, len) == -1)
		r->err = 1;
	if (tags)
		md2html_tag(r, "</code></pre>");
}

/*
 * Raw HTML blocks are shown as text, one <br/> per line break; the
 * comment html2md puts after a list (HTML2MD_END_LIST) is nothing.
 */
static void
html_block(struct md2html *r, cmark_node *n, int tags)
{
	const char	*s = cmark_node_get_literal(n), *nl;
	size_t		 len = s != NULL ? strlen(s) : 0;

	while (len > 0 && s[len - 1] == '\n')
		len--;
	if (len == strlen(HTML2MD_END_LIST) &&
	    memcmp(s, HTML2MD_END_LIST, len) == 0)
		return;			/* html2md's, as in GitLab: nothing */
	if (tags)
		md2html_tag(r, "<p>");
	while ((nl = memchr(s, '\n', len)) != NULL) {
		md2html_text(r, s, (size_t)(nl - s));
		md2html_tag(r, "<br/>");
		len -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	md2html_text(r, s, len);
	if (tags)
		md2html_tag(r, "</p>");
}

static void
leaf(struct md2html *r, cmark_node *n, int tags)
{
	const char	*s = cmark_node_get_literal(n);
	int		 closing;

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_CODE_BLOCK:
		code_block(r, n, tags);
		break;
	case CMARK_NODE_HTML_BLOCK:
		html_block(r, n, tags);
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		if (tags)
			md2html_tag(r, "<hr/>");
		break;
	case CMARK_NODE_TEXT:
		md2html_text(r, s, strlen(s));
		break;
	case CMARK_NODE_SOFTBREAK:
		if (r->hardbreaks)
			md2html_tag(r, "<br/>");
		else
			md2html_text(r, " ", 1);
		break;
	case CMARK_NODE_LINEBREAK:
		md2html_tag(r, "<br/>");
		break;
	case CMARK_NODE_CODE:
		md2html_tag(r, "<code>");
		if (!r->err && html_put_escaped(r->b, s, strlen(s)) == -1)
			r->err = 1;
		md2html_tag(r, "</code>");
		break;
	case CMARK_NODE_HTML_INLINE:
		s = s != NULL ? s : "";
		if ((s = mdext_inline_tag(s, &closing)) != NULL &&
		    strcmp(s, "br") == 0 && !closing)
			md2html_tag(r, "<br/>");
		else
			md2html_text(r, cmark_node_get_literal(n),
			    strlen(cmark_node_get_literal(n)));
		break;
	default:
		break;
	}
}

/*
 * Walks n's subtree with cmark's iterator (no recursion, however deep the
 * Markdown nests).  Below MD2HTML_MAX_DEPTH elements lose their tags, and
 * block ones leave a space, so that the HTML stays within html.h's depth.
 */
static void
render(struct md2html *r, cmark_node *n, int depth)
{
	cmark_iter	*it;
	cmark_event_type ev;
	int		 tags;

	if ((it = cmark_iter_new(n)) == NULL) {
		r->err = 1;
		return;
	}
	while (!r->err && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (is_leaf(n)) {
			/* <pre><code> is two levels. */
			leaf(r, n, depth + 1 + (cmark_node_get_type(n) ==
			    CMARK_NODE_CODE_BLOCK) <= MD2HTML_MAX_DEPTH);
			continue;
		}
		if (ev == CMARK_EVENT_ENTER)
			depth++;
		tags = depth <= MD2HTML_MAX_DEPTH;
		if (ev == CMARK_EVENT_ENTER && tags &&
		    cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH &&
		    !in_cell(n) && toc(r, n)) {
			cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
			depth--;
			continue;
		}
		if (tags)
			container(r, n, ev == CMARK_EVENT_ENTER);
		else if (ev == CMARK_EVENT_ENTER &&
		    cmark_node_get_type(n) < CMARK_NODE_FIRST_INLINE &&
		    cmark_node_previous(n) != NULL)
			md2html_text(r, " ", 1);	/* between blocks */
		if (ev == CMARK_EVENT_EXIT)
			depth--;
	}
	cmark_iter_free(it);
}

/*
 * Writes the HTML of md into html: rendered from cmark's tree, then read
 * back and written in the normal form of html_write(), which is what
 * html2md would make of it.
 */
static int
convert(const char *md, size_t len, struct buf *html, int hardbreaks)
{
	struct md2html	 r;
	struct mdext	 x;
	struct buf	 c, src, raw;
	cmark_node	*doc = NULL;
	struct html_node *tree = NULL;
	int		 rc = -1;

	memset(&r, 0, sizeof(r));
	r.hardbreaks = hardbreaks;
	memset(&x, 0, sizeof(x));
	buf_init(&c, len * 3 + 16);
	buf_init(&src, len * 5 + 16);
	buf_init(&raw, html->max < SIZE_MAX / 4 ? html->max * 2 + 4096 :
	    html->max);
	r.b = &raw;
	if (clean(&c, md, len) == -1 || quotes(&src, buf_str(&c), c.len) == -1)
		goto out;
	r.x = &x;
	if (mdext_init(&x, buf_str(&src), src.len) == -1 ||
	    (doc = cmark_parse_document(x.src, x.len, MDEXT_OPTS)) == NULL ||
	    mdext_extend(&x, doc) == -1 ||
	    mdtable_build(&x, doc) == -1)
		goto out;
	render(&r, doc, -1);
	joiner(&r);
	if (r.err || (tree = html_parse(buf_str(&raw), raw.len)) == NULL)
		goto out;
	html_collapse_space(tree);
	rc = html_write(html, tree);
out:
	if (doc != NULL)
		cmark_node_free(doc);
	html_free(tree);
	mdext_release(&x);
	buf_release(&c);
	buf_release(&src);
	buf_release(&raw);
	return rc;
}

/* Appends what convert() made, or leaves out as it was. */
static int
convert_into(const char *md, size_t len, struct buf *out, int hardbreaks)
{
	struct buf	 html;
	int		 rc = -1;

	buf_init(&html, out->max);
	if (convert(md, len, &html, hardbreaks) == 0 &&
	    buf_append(out, buf_str(&html), html.len) == 0)
		rc = 0;
	buf_release(&html);
	return rc;
}

int
md2html_convert(const char *md, size_t len, struct buf *out)
{
	return convert_into(md, len, out, 0);
}

int
md2html_convert_breaks(const char *md, size_t len, struct buf *out)
{
	return convert_into(md, len, out, 1);
}

char *
md2html_title(const char *s)
{
	struct md2html	 r;
	struct buf	 b;

	memset(&r, 0, sizeof(r));
	buf_init(&b, strlen(s) + 16);
	r.b = &b;
	unjoined(&r, s, strlen(s), 0);
	joiner(&r);
	if (r.err || buf_puts(&b, "") == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

int
md2html_normalize(const char *html, size_t len, struct buf *out)
{
	struct buf	 md;
	int		 rc = -1;

	buf_init(&md, out->max < SIZE_MAX / 8 ? out->max * 4 + 64 : out->max);
	if (html2md_convert(html, len, &md) == 0 &&
	    md2html_convert(buf_str(&md), md.len, out) == 0)
		rc = 0;
	buf_release(&md);
	return rc;
}
