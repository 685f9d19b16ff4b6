#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "convert/adf.h"
#include "convert/html.h"

/*
 * The node and mark names follow Atlassian's reference
 * (https://developer.atlassian.com/cloud/jira/platform/apis/document/
 * nodes/ and .../marks/) and its JSON schema (@atlaskit/adf-schema,
 * json-schema/v1/full.json).
 */

/* Text marks, outermost first after the link, which encloses them all. */
#define MK_STRONG	0x01u
#define MK_EM		0x02u
#define MK_UNDERLINE	0x04u
#define MK_STRIKE	0x08u
#define MK_CODE		0x10u
#define NMARKS		5

static const struct {
	unsigned	 bit;
	const char	*adf, *open, *close;
} marks[NMARKS] = {
	{ MK_STRONG, "strong", "<b>", "</b>" },
	{ MK_EM, "em", "<i>", "</i>" },
	{ MK_UNDERLINE, "underline", "<u>", "</u>" },
	{ MK_STRIKE, "strike", "<s>", "</s>" },
	{ MK_CODE, "code", "<code>", "</code>" },
};

/* The characters kept of a code block's language (as html2md keeps). */
#define LANG_CHARS	"abcdefghijklmnopqrstuvwxyz" \
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+#.-"

#define GLYPH_OPEN	"\xe2\x98\x90"	/* U+2610 BALLOT BOX */
#define GLYPH_DONE	"\xe2\x98\x91"	/* U+2611, WITH CHECK */
#define DEFAULT_URL	"https://app.productboard.com"

/* The "type" of an ADF node, or "" (our own nodes have it first). */
static const char *
type_of(const cJSON *n)
{
	const char	*t;

	t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(n, "type"));
	return t != NULL ? t : "";
}

static int
is_type(const cJSON *n, const char *t)
{
	return n != NULL && strcmp(type_of(n), t) == 0;
}

/* The string attrs.key of n, or NULL. */
static const char *
attr_str(const cJSON *n, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(n, "attrs"), key));
}

/*
 * HTML → ADF.  Where blocks go decides which nodes they may become: a
 * blockquote takes paragraphs, lists and code blocks; a listItem the
 * same (a taskList only for a moment, until its list decides); a table
 * cell all but tables; the document everything.
 */
enum where {
	W_DOC,
	W_CELL,
	W_QUOTE,
	W_ITEM
};

/* One conversion. */
struct fh {
	int		 err;		/* out of memory */
	size_t		 max;		/* scratch buffers' cap */
	int		 ids;		/* localIds to number */
};

/* The inline content of one paragraph, heading or task being built. */
struct run {
	cJSON		*arr;
	struct buf	 text;		/* text not yet a node */
	unsigned	 marks;		/* its marks */
	const char	*href;		/* its link, or NULL */
	struct buf	 blank;		/* lone blanks, waiting */
	unsigned	 bmarks;	/* their marks (~0u: mixed) */
	const char	*bhref;
	int		 endsp;		/* last text out ends blank */
	unsigned	 brs;		/* breaks waiting for content */
	size_t		 shown;		/* visible pieces so far */
	int		 heading;	/* breaks are spaces */
};

static void	 blocks(struct fh *, const struct html_node *,
		    const struct html_node *, cJSON *, enum where);
static void	 inlines(struct fh *, struct run *, const struct html_node *,
		    const struct html_node *, unsigned, const char *);

/* Adds n to array arr; on failure n goes and the error is noted. */
static cJSON *
add(struct fh *fh, cJSON *arr, cJSON *n)
{
	if (n == NULL || arr == NULL || !cJSON_AddItemToArray(arr, n)) {
		cJSON_Delete(n);
		fh->err = 1;
		return NULL;
	}
	return n;
}

/* Sets o[key] (a constant string) to v; on failure v goes. */
static cJSON *
set(struct fh *fh, cJSON *o, const char *key, cJSON *v)
{
	if (o == NULL || v == NULL || !cJSON_AddItemToObjectCS(o, key, v)) {
		cJSON_Delete(v);
		fh->err = 1;
		return NULL;
	}
	return v;
}

/* A new node {"type": type}, or NULL. */
static cJSON *
node(struct fh *fh, const char *type)
{
	cJSON	*n;

	if ((n = cJSON_CreateObject()) == NULL) {
		fh->err = 1;
		return NULL;
	}
	if (set(fh, n, "type", cJSON_CreateStringReference(type)) == NULL) {
		cJSON_Delete(n);
		return NULL;
	}
	return n;
}

/* A new node with an empty content array, which *content gets. */
static cJSON *
container(struct fh *fh, const char *type, cJSON **content)
{
	cJSON	*n;

	*content = NULL;
	if ((n = node(fh, type)) != NULL &&
	    (*content = set(fh, n, "content", cJSON_CreateArray())) == NULL) {
		cJSON_Delete(n);
		n = NULL;
	}
	return n;
}

/* An empty paragraph: where ADF needs a block and HTML had none. */
static cJSON *
empty_para(struct fh *fh)
{
	cJSON	*c;

	return container(fh, "paragraph", &c);
}

/* A text node; s is copied. */
static cJSON *
text_node(struct fh *fh, const char *s)
{
	cJSON	*t;

	if ((t = node(fh, "text")) != NULL &&
	    set(fh, t, "text", cJSON_CreateString(s)) == NULL) {
		cJSON_Delete(t);
		t = NULL;
	}
	return t;
}

/* A localId to be numbered by number_ids(). */
static cJSON *
local_id(struct fh *fh)
{
	fh->ids = 1;
	return cJSON_CreateStringReference("");
}

/*
 * Numbers the localIds of task lists and items in document order, so
 * that the same document gets the same ids however it was built.
 */
static void
number_ids(struct fh *fh, cJSON *arr, unsigned long *k)
{
	cJSON	*c, *attrs;
	char	 id[32];

	cJSON_ArrayForEach(c, arr) {
		if ((is_type(c, "taskList") || is_type(c, "taskItem")) &&
		    (attrs = cJSON_GetObjectItemCaseSensitive(c, "attrs")) !=
		    NULL) {
			snprintf(id, sizeof(id), "pbsync-%lu", ++*k);
			if (!cJSON_ReplaceItemInObjectCaseSensitive(attrs,
			    "localId", cJSON_CreateString(id)))
				fh->err = 1;
		}
		number_ids(fh, cJSON_GetObjectItemCaseSensitive(c, "content"),
		    k);
	}
}

static void	 end_blank(struct fh *, struct run *, unsigned,
		    const char *);

/*
 * Turns the waiting text of r into a text node with its marks.  Then r
 * has no marks and no link: the link's address may go.  Blanks waiting
 * (at the end of a link) become text without marks, which waits for
 * more text without marks.
 */
static void
flush(struct fh *fh, struct run *r)
{
	cJSON	*t, *m, *mk, *attrs;
	size_t	 i;

	if (r->blank.len > 0) {
		end_blank(fh, r, ~0u, NULL);
		if (r->marks == 0 && r->href == NULL)
			return;
	}
	if (r->text.len > 0 && !fh->err &&
	    (t = add(fh, r->arr, text_node(fh, buf_str(&r->text)))) != NULL &&
	    (r->marks != 0 || r->href != NULL) &&
	    (m = set(fh, t, "marks", cJSON_CreateArray())) != NULL) {
		for (i = 0; i < NMARKS; i++)
			if (r->marks & marks[i].bit)
				add(fh, m, node(fh, marks[i].adf));
		if (r->href != NULL && (mk = add(fh, m, node(fh, "link"))) !=
		    NULL && (attrs = set(fh, mk, "attrs",
		    cJSON_CreateObject())) != NULL)
			set(fh, attrs, "href", cJSON_CreateString(r->href));
	}
	if (r->text.len > 0)
		r->endsp = r->text.data[r->text.len - 1] == ' ';
	buf_reset(&r->text);
	r->marks = 0;
	r->href = NULL;
}

static int
same_href(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * Blanks that are a text node of their own (between two elements) wait
 * for the text after them: marks on them show nothing, so html_write()
 * drops the elements around them, and they keep their marks only
 * between texts of the same marks (where html_write() merges them).
 */
static void
wait_blank(struct fh *fh, struct run *r, const char *s, size_t n,
    unsigned mk, const char *href)
{
	if (r->blank.len == 0) {
		r->bmarks = mk;
		r->bhref = href;
	} else if (mk != r->bmarks || !same_href(href, r->bhref))
		r->bmarks = ~0u;
	if (buf_append(&r->blank, s, n) == -1)
		fh->err = 1;
}

/* Places the waiting blanks before text of marks mk and link href. */
static void
end_blank(struct fh *fh, struct run *r, unsigned mk, const char *href)
{
	/* Collapsed, blanks in a row are one space, none after a space. */
	if (r->text.len > 0 ? r->text.data[r->text.len - 1] == ' ' :
	    r->endsp) {
		buf_reset(&r->blank);
		return;
	}
	if (r->brs == 0 && r->text.len > 0 && mk == r->marks &&
	    mk == r->bmarks && same_href(href, r->href) &&
	    same_href(href, r->bhref)) {
		if (buf_putc(&r->text, ' ') == -1)
			fh->err = 1;
	} else if (r->brs == 0) {
		buf_reset(&r->blank);	/* flush() must not come back */
		if (r->marks != 0 || r->href != NULL)
			flush(fh, r);
		r->marks = 0;
		r->href = NULL;
		if (buf_putc(&r->text, ' ') == -1)
			fh->err = 1;
	}
	buf_reset(&r->blank);
}

/*
 * Adds n bytes of text with marks and link to r.  Blanks before any
 * content go; line breaks wait for content after them, so that none
 * ends a line of nothing (html_write() drops those too).
 */
static void
put_text(struct fh *fh, struct run *r, const char *s, size_t n,
    unsigned mk, const char *href)
{
	size_t	 i;
	int	 vis;

	if (n == 0)
		return;
	if (mk & MK_CODE)
		mk = MK_CODE;		/* code combines with link only */
	for (i = 0; i < n && s[i] == ' '; i++)
		;
	vis = i < n || (mk & MK_CODE);
	if (!vis && r->shown == 0)
		return;
	if (!vis) {
		wait_blank(fh, r, s, n, mk, href);
		return;
	}
	if (r->blank.len > 0)
		end_blank(fh, r, mk, href);
	if (r->brs > 0) {
		flush(fh, r);
		for (; r->brs > 0; r->brs--)
			add(fh, r->arr, node(fh, "hardBreak"));
		r->endsp = 1;
	}
	if (r->text.len > 0 && (mk != r->marks || !same_href(href, r->href)))
		flush(fh, r);
	r->marks = mk;
	r->href = href;
	if (buf_append(&r->text, s, n) == -1)
		fh->err = 1;
	r->shown += vis;
}

/*
 * Text of a text node.  White space that <pre> kept, and the spaces that
 * stand for breaks in code, are laid out here as html_collapse_space()
 * lays out other text: a run is one space, none at a line start.
 */
static void
inline_text(struct fh *fh, struct run *r, const char *s, size_t n,
    unsigned mk, const char *href)
{
	struct buf	 t;
	size_t		 i;
	int		 sp;

	if (!(mk & MK_CODE) && strcspn(s, "\t\n\f") >= n) {
		put_text(fh, r, s, n, mk, href);
		return;
	}
	buf_init(&t, fh->max);
	sp = r->brs > 0 || r->shown == 0 || r->blank.len > 0 ||
	    (r->text.len > 0 && r->text.data[r->text.len - 1] == ' ');
	for (i = 0; i < n && !fh->err; i++) {
		if (strchr(" \t\n\f", s[i]) == NULL) {
			sp = 0;
			if (buf_putc(&t, s[i]) == -1)
				fh->err = 1;
		} else if (!sp) {
			sp = 1;
			if (buf_putc(&t, ' ') == -1)
				fh->err = 1;
		}
	}
	put_text(fh, r, buf_str(&t), t.len, mk, href);
	buf_release(&t);
}

/*
 * Drops the blanks that end the line so far, as html_collapse_space()
 * does before a line end: in the waiting text, else in the text node
 * that went out last (once: endsp says it ends in a space).
 */
static void
line_end(struct run *r)
{
	cJSON	*last;
	char	*t;
	size_t	 n;

	buf_reset(&r->blank);
	while (r->text.len > 0 && r->text.data[r->text.len - 1] == ' ')
		r->text.data[--r->text.len] = '\0';
	if (r->text.len > 0 || !r->endsp || r->arr->child == NULL)
		return;
	r->endsp = 0;
	last = r->arr->child->prev;	/* cJSON keeps the tail there */
	if (!is_type(last, "text") || (t = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(last, "text"))) == NULL)
		return;
	for (n = strlen(t); n > 0 && t[n - 1] == ' '; n--)
		t[n - 1] = '\0';
	if (n == 0)
		cJSON_Delete(cJSON_DetachItemViaPointer(r->arr, last));
}

/* Appends the text below n, <br> and blocks as sep (html2md does too). */
static void
raw_text(struct fh *fh, const struct html_node *n, struct buf *b,
    const char *sep)
{
	const struct html_node *c;

	for (c = n->first; c != NULL && !fh->err; c = c->next) {
		if (c->tag == HTML_TEXT) {
			if (buf_append(b, c->text, c->len) == -1)
				fh->err = 1;
		} else if (c->tag == HTML_BR || html_is_block(c->tag)) {
			if (buf_puts(b, sep) == -1)
				fh->err = 1;
			raw_text(fh, c, b, sep);
		} else
			raw_text(fh, c, b, sep);
	}
}

/* Inline code: its text in one code mark, white space as spaces. */
static void
code_span(struct fh *fh, struct run *r, const struct html_node *c,
    unsigned mk, const char *href)
{
	struct buf	 t;

	buf_init(&t, fh->max);
	raw_text(fh, c, &t, " ");
	inline_text(fh, r, buf_str(&t), t.len, mk | MK_CODE, href);
	buf_release(&t);
}

/*
 * A link: a link mark on its text when html_href_ok() takes the address,
 * in the form html_put_href() gives it; links do not nest.  A link
 * without text shows its address, as html2md does.
 */
static void
link(struct fh *fh, struct run *r, const struct html_node *a, unsigned mk,
    const char *href)
{
	struct buf	 h;
	size_t		 shown = r->shown;

	if (href != NULL || a->href == NULL || !html_href_ok(a->href)) {
		inlines(fh, r, a->first, NULL, mk, href);
		return;
	}
	buf_init(&h, fh->max);
	if (html_put_href(&h, a->href) == -1 || buf_puts(&h, "") == -1) {
		fh->err = 1;
		buf_release(&h);
		return;
	}
	inlines(fh, r, a->first, NULL, mk, h.data);
	if (r->shown == shown)
		put_text(fh, r, h.data, h.len, mk, h.data);
	flush(fh, r);		/* the text points at h */
	buf_release(&h);
}

/* A block boundary inside inline content: one line break. */
static void
boundary(struct fh *fh, struct run *r)
{
	line_end(r);
	if (r->shown > 0 && r->heading)
		wait_blank(fh, r, " ", 1, 0, NULL);
	else if (r->shown > 0 && r->brs == 0)
		r->brs = 1;
}

static void
inlines(struct fh *fh, struct run *r, const struct html_node *c,
    const struct html_node *stop, unsigned mk, const char *href)
{
	for (; c != NULL && c != stop && !fh->err; c = c->next) {
		switch (c->tag) {
		case HTML_TEXT:
			inline_text(fh, r, c->text, c->len, mk, href);
			break;
		case HTML_B:
			inlines(fh, r, c->first, NULL, mk | MK_STRONG, href);
			break;
		case HTML_I:
			inlines(fh, r, c->first, NULL, mk | MK_EM, href);
			break;
		case HTML_U:
			inlines(fh, r, c->first, NULL, mk | MK_UNDERLINE, href);
			break;
		case HTML_S:
			inlines(fh, r, c->first, NULL, mk | MK_STRIKE, href);
			break;
		case HTML_CODE:
			code_span(fh, r, c, mk, href);
			break;
		case HTML_A:
			link(fh, r, c, mk, href);
			break;
		case HTML_BR:
			line_end(r);
			if (r->shown > 0 && r->heading)	/* a space */
				wait_blank(fh, r, " ", 1, 0, NULL);
			else if (r->shown > 0)
				r->brs++;
			break;
		case HTML_IMG: case HTML_INPUT:
			break;
		default:
			if (html_is_block(c->tag))
				boundary(fh, r);
			inlines(fh, r, c->first, NULL, mk, href);
			if (html_is_block(c->tag))
				boundary(fh, r);
			break;
		}
	}
}

/*
 * Adds to arr a paragraph (level 0) or heading of the inline siblings
 * first..stop (excluded), unless they show nothing.  Returns it or NULL.
 */
static cJSON *
para(struct fh *fh, const struct html_node *first,
    const struct html_node *stop, cJSON *arr, int level)
{
	struct run	 r;
	cJSON		*n, *attrs;

	memset(&r, 0, sizeof(r));
	if ((r.arr = cJSON_CreateArray()) == NULL) {
		fh->err = 1;
		return NULL;
	}
	buf_init(&r.text, fh->max);
	buf_init(&r.blank, fh->max);
	r.heading = level > 0;
	inlines(fh, &r, first, stop, 0, NULL);
	line_end(&r);			/* blanks at the end go */
	flush(fh, &r);
	buf_release(&r.text);
	buf_release(&r.blank);
	if (r.arr->child == NULL || fh->err) {
		cJSON_Delete(r.arr);
		return NULL;
	}
	if ((n = node(fh, level > 0 ? "heading" : "paragraph")) == NULL) {
		cJSON_Delete(r.arr);
		return NULL;
	}
	if (level > 0 && (attrs = set(fh, n, "attrs", cJSON_CreateObject())) !=
	    NULL)
		set(fh, attrs, "level", cJSON_CreateNumber(level));
	set(fh, n, "content", r.arr);
	return add(fh, arr, n);
}

/*
 * A code block: the text of pre, with <br> as newlines, less the newline
 * browsers drop after <pre> and the final newlines (as html2md), and the
 * language of <pre class> or <code class>.  Text without marks.
 */
static void
code_block(struct fh *fh, const struct html_node *pre, cJSON *arr)
{
	const char	*lang = pre->lang;
	struct buf	 t;
	char		*s, *l;
	size_t		 n, k;
	cJSON		*cb, *content, *attrs;

	if (lang == NULL && pre->first != NULL && pre->first->tag == HTML_CODE)
		lang = pre->first->lang;
	buf_init(&t, fh->max);
	raw_text(fh, pre, &t, "\n");
	if (buf_puts(&t, "") == -1)
		fh->err = 1;
	s = t.data;
	n = t.len;
	if (n > 0 && s[0] == '\n' && pre->first != NULL &&
	    pre->first->tag == HTML_TEXT)
		s++, n--;
	while (n > 0 && s[n - 1] == '\n')
		n--;
	if (!fh->err && (cb = add(fh, arr, container(fh, "codeBlock",
	    &content))) != NULL) {
		/* An empty one has no language (HTML drops its <code>). */
		if (n > 0 && lang != NULL &&
		    (k = strspn(lang, LANG_CHARS)) > 0) {
			if ((l = strndup(lang, k)) == NULL)
				fh->err = 1;
			else if ((attrs = set(fh, cb, "attrs",
			    cJSON_CreateObject())) != NULL)
				set(fh, attrs, "language",
				    cJSON_CreateString(l));
			free(l);
		}
		if (n > 0) {
			s[n] = '\0';
			add(fh, content, text_node(fh, s));
		}
	}
	buf_release(&t);
}

/* One list item while its list decides what it becomes. */
struct item {
	cJSON		*content;	/* its blocks */
	enum html_check	 check;
};

/* 1 if blocks fit a taskItem: a paragraph, then nested task lists. */
static int
task_shape(const cJSON *content)
{
	const cJSON	*c = content->child;

	if (c != NULL && is_type(c, "paragraph"))
		c = c->next;
	for (; c != NULL; c = c->next)
		if (!is_type(c, "taskList"))
			return 0;
	return 1;
}

/*
 * Puts the checkbox glyph first in the first paragraph of content (one
 * is added if there is none), joined to unmarked text after it.
 */
static void
glyph(struct fh *fh, cJSON *content, enum html_check check)
{
	const char	*g = check == HTML_CHECK_DONE ? GLYPH_DONE :
			    GLYPH_OPEN;
	cJSON		*p = content->child, *inl, *t;
	struct buf	 s;

	if (p == NULL || !is_type(p, "paragraph")) {
		if ((p = empty_para(fh)) == NULL ||
		    !cJSON_InsertItemInArray(content, 0, p)) {
			cJSON_Delete(p);
			fh->err = 1;
			return;
		}
	}
	if ((inl = cJSON_GetObjectItemCaseSensitive(p, "content")) == NULL &&
	    (inl = set(fh, p, "content", cJSON_CreateArray())) == NULL)
		return;
	t = inl->child;
	buf_init(&s, fh->max);
	if (buf_puts(&s, g) == -1 || (t != NULL && buf_putc(&s, ' ') == -1)) {
		fh->err = 1;
	} else if (t != NULL && is_type(t, "text") &&
	    cJSON_GetObjectItemCaseSensitive(t, "marks") == NULL) {
		/* One text node, as the HTML back would give. */
		if (buf_puts(&s, cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(t, "text"))) == -1 ||
		    !cJSON_ReplaceItemInObjectCaseSensitive(t, "text",
		    cJSON_CreateString(buf_str(&s))))
			fh->err = 1;
	} else if ((t = text_node(fh, buf_str(&s))) != NULL &&
	    !cJSON_InsertItemInArray(inl, 0, t)) {
		cJSON_Delete(t);
		fh->err = 1;
	}
	buf_release(&s);
}

/*
 * Turns the taskList tl into a bulletList where it may not stay: each
 * taskItem a listItem whose paragraph starts with its glyph, each nested
 * task list a list in the item before it.  Each node is turned once.
 */
static void
untask(struct fh *fh, cJSON *tl)
{
	cJSON		*old, *fresh, *c, *li = NULL, *lc = NULL, *p, *inl;
	enum html_check	 check;

	old = cJSON_GetObjectItemCaseSensitive(tl, "content");
	if ((fresh = cJSON_CreateArray()) == NULL) {
		fh->err = 1;
		return;
	}
	while (old != NULL && (c = old->child) != NULL && !fh->err) {
		cJSON_DetachItemViaPointer(old, c);
		if (is_type(c, "taskList")) {
			untask(fh, c);
			if (li == NULL &&
			    (li = add(fh, fresh, container(fh, "listItem",
			    &lc))) != NULL)
				add(fh, lc, empty_para(fh));
			add(fh, lc, c);
			continue;
		}
		check = strcmp(attr_str(c, "state") != NULL ?
		    attr_str(c, "state") : "", "DONE") == 0 ? HTML_CHECK_DONE :
		    HTML_CHECK_OPEN;
		inl = cJSON_DetachItemFromObjectCaseSensitive(c, "content");
		cJSON_Delete(c);
		if ((li = add(fh, fresh, container(fh, "listItem", &lc))) ==
		    NULL || (p = add(fh, lc, node(fh, "paragraph"))) == NULL) {
			cJSON_Delete(inl);
			break;
		}
		set(fh, p, "content", inl != NULL ? inl : cJSON_CreateArray());
		glyph(fh, lc, check);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(tl, "attrs");
	if (!cJSON_ReplaceItemInObjectCaseSensitive(tl, "type",
	    cJSON_CreateStringReference("bulletList")) ||
	    !cJSON_ReplaceItemInObjectCaseSensitive(tl, "content", fresh)) {
		fh->err = 1;
		cJSON_Delete(fresh);
	}
}

/* A taskList of items that all have task_shape(). */
static void
task_list(struct fh *fh, struct item *v, size_t k, cJSON *arr)
{
	cJSON	*tl, *content, *ti, *attrs, *c, *next, *p;
	size_t	 i;

	if ((tl = add(fh, arr, container(fh, "taskList", &content))) == NULL ||
	    (attrs = set(fh, tl, "attrs", cJSON_CreateObject())) == NULL ||
	    set(fh, attrs, "localId", local_id(fh)) == NULL)
		return;
	for (i = 0; i < k && !fh->err; i++) {
		if ((ti = add(fh, content, node(fh, "taskItem"))) == NULL ||
		    (attrs = set(fh, ti, "attrs", cJSON_CreateObject())) ==
		    NULL)
			return;
		set(fh, attrs, "localId", local_id(fh));
		set(fh, attrs, "state", cJSON_CreateStringReference(
		    v[i].check == HTML_CHECK_DONE ? "DONE" : "TODO"));
		c = v[i].content->child;
		if (c != NULL && is_type(c, "paragraph")) {
			next = c->next;
			p = cJSON_DetachItemFromObjectCaseSensitive(c,
			    "content");
			set(fh, ti, "content", p != NULL ? p :
			    cJSON_CreateArray());
			c = next;
		} else
			set(fh, ti, "content", cJSON_CreateArray());
		for (; c != NULL; c = next) {
			next = c->next;
			add(fh, content, cJSON_DetachItemViaPointer(
			    v[i].content, c));
		}
	}
}

/*
 * A bulletList or orderedList.  Task items start with their glyph, task
 * lists inside the items become lists too, and an item that does not
 * start with a paragraph or code block gets an empty paragraph first.
 */
static void
plain_list(struct fh *fh, const struct html_node *l, struct item *v,
    size_t k, cJSON *arr)
{
	cJSON	*ln, *content, *li, *c, *attrs, *p;
	size_t	 i;

	ln = add(fh, arr, container(fh, l->tag == HTML_OL ? "orderedList" :
	    "bulletList", &content));
	if (ln != NULL && l->tag == HTML_OL && l->start != 1 &&
	    (attrs = set(fh, ln, "attrs", cJSON_CreateObject())) != NULL)
		set(fh, attrs, "order", cJSON_CreateNumber((double)l->start));
	for (i = 0; i < k && !fh->err; i++) {
		for (c = v[i].content->child; c != NULL; c = c->next)
			if (is_type(c, "taskList"))
				untask(fh, c);
		if (v[i].check != HTML_CHECK_NONE)
			glyph(fh, v[i].content, v[i].check);
		c = v[i].content->child;
		if (c == NULL || (!is_type(c, "paragraph") &&
		    !is_type(c, "codeBlock"))) {
			if ((p = empty_para(fh)) == NULL ||
			    !cJSON_InsertItemInArray(v[i].content, 0, p)) {
				cJSON_Delete(p);
				fh->err = 1;
				return;
			}
		}
		if ((li = add(fh, content, node(fh, "listItem"))) == NULL)
			return;
		set(fh, li, "content", v[i].content);
		v[i].content = NULL;
	}
}

/*
 * A list: its items (stray content between them is an item of its own,
 * empty items go), then a taskList if every item is a task and task
 * lists may go here, else a plain list.
 */
static void
list(struct fh *fh, const struct html_node *l, cJSON *arr, enum where w)
{
	const struct html_node *c, *stop;
	struct item	*v = NULL, *t;
	size_t		 k = 0, cap = 0, i;
	int		 tasks = w != W_QUOTE;

	for (c = l->first; c != NULL && !fh->err; c = stop) {
		for (stop = c->next; c->tag != HTML_LI && stop != NULL &&
		    stop->tag != HTML_LI; stop = stop->next)
			;
		/* Doubling: a list may have as many items as input bytes. */
		if (k == cap) {
			if ((t = reallocarray(v, cap * 2 + 8, sizeof(*v))) ==
			    NULL) {
				fh->err = 1;
				break;
			}
			v = t;
			cap = cap * 2 + 8;
		}
		v[k].check = c->tag == HTML_LI ? html_task_check(c) :
		    HTML_CHECK_NONE;
		if ((v[k].content = cJSON_CreateArray()) == NULL) {
			fh->err = 1;
			break;
		}
		if (c->tag == HTML_LI)
			blocks(fh, c->first, NULL, v[k].content, W_ITEM);
		else
			blocks(fh, c, stop, v[k].content, W_ITEM);
		if (v[k].content->child == NULL &&
		    v[k].check == HTML_CHECK_NONE) {
			cJSON_Delete(v[k].content);
			continue;
		}
		tasks &= v[k].check != HTML_CHECK_NONE &&
		    task_shape(v[k].content);
		k++;
	}
	if (k > 0 && !fh->err) {
		if (tasks)
			task_list(fh, v, k, arr);
		else
			plain_list(fh, l, v, k, arr);
	}
	for (i = 0; i < k; i++)
		cJSON_Delete(v[i].content);
	free(v);
}

/* A table cell of html cell c, or an empty one (c NULL) for padding. */
static void
cell(struct fh *fh, const struct html_node *c, cJSON *row)
{
	cJSON	*n, *content;

	n = add(fh, row, container(fh, c != NULL && c->tag == HTML_TH ?
	    "tableHeader" : "tableCell", &content));
	if (n != NULL && c != NULL)
		blocks(fh, c->first, NULL, content, W_CELL);
	if (n != NULL && content->child == NULL)
		add(fh, content, empty_para(fh));
}

/*
 * A table (only the document may hold one; elsewhere its cells' content
 * joins the blocks around it).  Short rows are padded while the padding
 * stays within twice the cells there are: a ragged table is valid ADF,
 * a quadratic one is not linear.
 */
static void
table(struct fh *fh, const struct html_node *t, cJSON *arr, enum where w)
{
	const struct html_node **v = NULL, *c;
	size_t		 k = 0, cap = 0, i, j, n, cols = 0, all = 0;
	cJSON		*tbl, *content, *attrs, *row, *rc;
	int		 pad;

	if (html_table_rows(t, &v, &k, &cap) == -1)
		fh->err = 1;
	for (i = 0; i < k; i++) {
		n = html_row_cells(v[i]);
		all += n;
		cols = n > cols ? n : cols;
	}
	if (w != W_DOC) {
		for (i = 0; i < k && !fh->err; i++)
			for (c = v[i]->first; c != NULL; c = c->next)
				if (c->tag == HTML_TD || c->tag == HTML_TH)
					blocks(fh, c->first, NULL, arr, w);
		free(v);
		return;
	}
	pad = cols > 0 && k <= (2 * all + 64) / cols;
	if (cols > 0 && (tbl = add(fh, arr, container(fh, "table", &content)))
	    != NULL && (attrs = set(fh, tbl, "attrs", cJSON_CreateObject())) !=
	    NULL) {
		set(fh, attrs, "isNumberColumnEnabled", cJSON_CreateFalse());
		set(fh, attrs, "layout",
		    cJSON_CreateStringReference("default"));
		for (i = 0; i < k && !fh->err; i++) {
			if ((n = html_row_cells(v[i])) == 0 || (row = add(fh, content,
			    container(fh, "tableRow", &rc))) == NULL)
				continue;
			for (c = v[i]->first; c != NULL; c = c->next)
				if (c->tag == HTML_TD || c->tag == HTML_TH)
					cell(fh, c, rc);
			for (j = n; pad && j < cols; j++)
				cell(fh, NULL, rc);
		}
	}
	free(v);
}

/* A blockquote of the blocks in q, unless it holds none. */
static void
quote(struct fh *fh, const struct html_node *q, cJSON *arr)
{
	cJSON	*n, *content;

	if ((n = container(fh, "blockquote", &content)) == NULL)
		return;
	blocks(fh, q->first, NULL, content, W_QUOTE);
	if (content->child == NULL)
		cJSON_Delete(n);
	else
		add(fh, arr, n);
}

/* One block element where w says what may go. */
static void
block(struct fh *fh, const struct html_node *c, cJSON *arr, enum where w)
{
	int	 top = w == W_DOC || w == W_CELL;

	switch (c->tag) {
	case HTML_P:
		para(fh, c->first, NULL, arr, 0);
		break;
	case HTML_UL: case HTML_OL:
		list(fh, c, arr, w);
		break;
	case HTML_PRE:
		code_block(fh, c, arr);
		break;
	case HTML_BLOCKQUOTE:
		if (top)
			quote(fh, c, arr);
		else
			blocks(fh, c->first, NULL, arr, w);
		break;
	case HTML_HR:
		if (top)
			add(fh, arr, node(fh, "rule"));
		break;
	case HTML_TABLE:
		table(fh, c, arr, w);
		break;
	default:		/* h1 to h6 */
		para(fh, c->first, NULL, arr, !top ? 0 :
		    html_heading_level(c->tag) == 1 ? 1 : 2);
		break;
	}
}

static int
is_block_node(const struct html_node *n)
{
	return n->tag != HTML_TEXT && html_is_block(n->tag);
}

/* Blocks whose content joins the blocks around them (as in html2md). */
static int
is_flat(const struct html_node *n)
{
	return n->tag == HTML_DIV || n->tag == HTML_LI || n->tag == HTML_TR ||
	    n->tag == HTML_TD || n->tag == HTML_TH || n->tag == HTML_THEAD ||
	    n->tag == HTML_TBODY || n->tag == HTML_TFOOT;
}

/*
 * Adds the siblings c..stop (excluded) to arr as blocks for w: a run of
 * inline siblings is a paragraph, generic containers are flattened.
 */
static void
blocks(struct fh *fh, const struct html_node *c, const struct html_node *stop,
    cJSON *arr, enum where w)
{
	const struct html_node *next;

	for (; c != NULL && c != stop && !fh->err; c = next) {
		next = c->next;
		if (!is_block_node(c)) {
			while (next != NULL && next != stop &&
			    !is_block_node(next))
				next = next->next;
			para(fh, c, next, arr, 0);
		} else if (is_flat(c))
			blocks(fh, c->first, NULL, arr, w);
		else
			block(fh, c, arr, w);
	}
}

/* Prints doc as compact JSON onto out; 0 or -1, out unchanged then. */
static int
print_doc(const cJSON *doc, struct buf *out)
{
	char	*s;
	int	 rc;

	if ((s = cJSON_PrintUnformatted(doc)) == NULL)
		return -1;
	rc = buf_append(out, s, strlen(s));
	cJSON_free(s);
	return rc;
}

/* A new empty document, or NULL. */
static cJSON *
new_doc(struct fh *fh)
{
	cJSON	*doc;

	if ((doc = cJSON_CreateObject()) == NULL) {
		fh->err = 1;
		return NULL;
	}
	set(fh, doc, "version", cJSON_CreateNumber(1));
	set(fh, doc, "type", cJSON_CreateStringReference("doc"));
	set(fh, doc, "content", cJSON_CreateArray());
	if (fh->err) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

int
adf_from_html(const char *html, size_t len, struct buf *out)
{
	struct html_node *root;
	struct fh	 fh;
	cJSON		*doc;
	unsigned long	 k = 0;
	int		 rc = -1;

	if ((root = html_parse(html, len)) == NULL)
		return -1;
	html_collapse_space(root);
	memset(&fh, 0, sizeof(fh));
	/* Decoded text is at most 3 bytes a byte (U+FFFD), hrefs likewise. */
	fh.max = len < (SIZE_MAX - 64) / 4 ? len * 4 + 64 : SIZE_MAX;
	if ((doc = new_doc(&fh)) != NULL) {
		blocks(&fh, root->first, NULL,
		    cJSON_GetObjectItemCaseSensitive(doc, "content"), W_DOC);
		if (fh.ids)
			number_ids(&fh, cJSON_GetObjectItemCaseSensitive(doc,
			    "content"), &k);
		if (!fh.err)
			rc = print_doc(doc, out);
	}
	cJSON_Delete(doc);
	html_free(root);
	return rc;
}

/*
 * ADF → HTML.  The HTML is written as it comes, then read back and
 * written in html_write()'s normal form, which also drops what shows
 * nothing.  Open marks stay open across text nodes while they last, and
 * new ones open inside them, so "<s>a <b>b</b> c</s>" comes back whole.
 */
struct th {
	struct buf	*b;
	int		 err;
	int		 stack[NMARKS + 1];	/* open levels */
	int		 n;
	const char	*href;		/* the open link, or NULL */
};

static void	 th_blocks(struct th *, const cJSON *, int, int);
static void	 th_block(struct th *, const cJSON *, int);
static void	 th_inline(struct th *, const cJSON *, int);

static void
wput(struct th *th, const char *s)
{
	if (!th->err && buf_puts(th->b, s) == -1)
		th->err = 1;
}

/*
 * Appends s as HTML text: invalid UTF-8 as U+FFFD, control characters
 * but tab, newline and form feed dropped (as html_parse() does), & < >
 * " escaped.
 */
static void
th_text(struct th *th, const char *s)
{
	size_t		 n, i, k;
	uint32_t	 cp;
	const char	*rep;

	if (s == NULL)
		return;
	n = strlen(s);
	for (i = 0; i < n && !th->err; i += k) {
		k = html_utf8_decode(s + i, n - i, &cp);
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\f') ||
		    cp == 0x7f)
			continue;
		rep = cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ?
		    "&gt;" : cp == '"' ? "&quot;" : cp == 0xfffd && k == 1 ?
		    "\xef\xbf\xbd" : NULL;
		if (rep != NULL)
			wput(th, rep);
		else if (buf_append(th->b, s + i, k) == -1)
			th->err = 1;
	}
}

/* 1 if level l (0 the link, 1.. marks[l - 1]) is on in (mk, href). */
static int
level_on(unsigned mk, const char *href, int l)
{
	return l == 0 ? href != NULL : (mk & marks[l - 1].bit) != 0;
}

/*
 * Makes (mk, href) the open marks: keeps the open tags from the outside
 * in while they are wanted (a link only to the same address), closes
 * the rest and opens what is missing, the link first.
 */
static void
marks_to(struct th *th, unsigned mk, const char *href)
{
	unsigned	 kept = 0;
	int		 keep, l;

	for (keep = 0; keep < th->n; keep++) {
		l = th->stack[keep];
		if (!level_on(mk, href, l) || (l == 0 &&
		    strcmp(href, th->href) != 0))
			break;
		kept |= 1u << l;
	}
	while (th->n > keep) {
		l = th->stack[--th->n];
		wput(th, l == 0 ? "</a>" : marks[l - 1].close);
	}
	if (!(kept & 1))
		th->href = NULL;
	for (l = 0; l <= NMARKS; l++) {
		if (!level_on(mk, href, l) || (kept & (1u << l)))
			continue;
		th->stack[th->n++] = l;
		if (l > 0) {
			wput(th, marks[l - 1].open);
			continue;
		}
		th->href = href;
		wput(th, "<a href=\"");
		if (!th->err && html_put_escaped_href(th->b, href) == -1)
			th->err = 1;
		wput(th, "\">");
	}
}

/* The marks with open tags. */
static unsigned
open_marks(const struct th *th)
{
	unsigned	 mk = 0;
	int		 i;

	for (i = 0; i < th->n; i++)
		if (th->stack[i] > 0)
			mk |= marks[th->stack[i] - 1].bit;
	return mk;
}

/* The marks of text node n that HTML has, and its link if allowed. */
static void
text_marks(const cJSON *n, unsigned *mk, const char **href)
{
	const cJSON	*m;
	const char	*t;
	size_t		 i;

	*mk = 0;
	*href = NULL;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(n, "marks")) {
		t = type_of(m);
		for (i = 0; i < NMARKS; i++)
			if (strcmp(t, marks[i].adf) == 0)
				*mk |= marks[i].bit;
		if (strcmp(t, "link") == 0 && attr_str(m, "href") != NULL &&
		    html_href_ok(attr_str(m, "href")))
			*href = attr_str(m, "href");
	}
}

/* A link to url showing text (or the url), or the text alone. */
static void
th_link(struct th *th, const char *url, const char *text)
{
	if (text == NULL || *text == '\0')
		text = url;
	marks_to(th, 0, url != NULL && html_href_ok(url) ? url : NULL);
	th_text(th, text);
	marks_to(th, 0, NULL);
}

/* A date node: its timestamp (milliseconds) as a UTC date. */
static void
th_date(struct th *th, const char *ts)
{
	char		 out[32], *end;
	long long	 ms;
	time_t		 t;
	struct tm	 tm;

	if (ts == NULL)
		return;
	ms = strtoll(ts, &end, 10);
	t = (time_t)(ms / 1000);
	if (end == ts || *end != '\0' || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, sizeof(out), "%Y-%m-%d", &tm) == 0)
		th_text(th, ts);
	else
		th_text(th, out);
}

/* Media: a link to an external image, else its alt text. */
static void
th_media(struct th *th, const cJSON *n)
{
	const char	*ty = attr_str(n, "type"), *url = attr_str(n, "url");

	if (ty != NULL && strcmp(ty, "external") == 0 && url != NULL)
		th_link(th, url, attr_str(n, "alt"));
	else {
		marks_to(th, 0, NULL);
		th_text(th, attr_str(n, "alt"));
	}
}

/* All the text below n, for nodes nested past ADF_MAX_DEPTH. */
static void
th_flat(struct th *th, const cJSON *n)
{
	const cJSON	*c;

	if (!cJSON_IsObject(n))
		return;
	th_text(th, cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(n, "text")));
	th_text(th, attr_str(n, "text"));
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(n, "content"))
		th_flat(th, c);
	if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(n, "content")))
		wput(th, " ");
}

/* The inline nodes of ADF, which a run of blocks puts in a paragraph. */
static int
is_inline(const cJSON *n)
{
	static const char *const names[] = { "text", "hardBreak", "mention",
	    "emoji", "date", "status", "inlineCard", "mediaInline",
	    "placeholder", "inlineExtension" };
	const char	*t = type_of(n);
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(t, names[i]) == 0)
			return 1;
	return 0;
}

static void
th_inlines(struct th *th, const cJSON *arr, int depth)
{
	const cJSON	*c;

	cJSON_ArrayForEach(c, arr)
		th_inline(th, c, depth);
}

/*
 * One inline node.  Block nodes met here (hostile or unknown input)
 * give their inline content between line breaks.
 */
static void
th_inline(struct th *th, const cJSON *n, int depth)
{
	const char	*t = type_of(n), *s;
	const cJSON	*c;
	unsigned	 mk;
	const char	*href;

	if (!cJSON_IsObject(n) || th->err)
		return;
	if (depth > ADF_MAX_DEPTH) {
		marks_to(th, 0, NULL);
		th_flat(th, n);
		return;
	}
	if (strcmp(t, "text") == 0) {
		s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(n,
		    "text"));
		if (s != NULL && *s != '\0') {
			text_marks(n, &mk, &href);
			marks_to(th, mk, href);
			th_text(th, s);
		}
	} else if (strcmp(t, "hardBreak") == 0) {
		/* Inside <code> a <br/> would read back as a space. */
		marks_to(th, open_marks(th) & ~MK_CODE, th->href);
		wput(th, "<br/>");
	}
	else if (strcmp(t, "inlineCard") == 0)
		th_link(th, attr_str(n, "url"), NULL);
	else if (strcmp(t, "media") == 0 || strcmp(t, "mediaInline") == 0)
		th_media(th, n);
	else if (strcmp(t, "date") == 0) {
		marks_to(th, 0, NULL);
		th_date(th, attr_str(n, "timestamp"));
	} else if (strcmp(t, "emoji") == 0) {
		marks_to(th, 0, NULL);
		th_text(th, attr_str(n, "text") != NULL ? attr_str(n, "text") :
		    attr_str(n, "shortName"));
	} else if (strcmp(t, "placeholder") == 0)
		return;
	else if (is_inline(n)) {	/* mention, status, extensions */
		marks_to(th, 0, NULL);
		th_text(th, attr_str(n, "text"));
	} else {
		/* Unknown: its text; content as a block's, between breaks. */
		c = cJSON_GetObjectItemCaseSensitive(n, "content");
		marks_to(th, 0, NULL);
		th_text(th, cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(n, "text")));
		if (cJSON_IsArray(c)) {
			wput(th, "<br/>");
			th_inlines(th, c, depth + 1);
			wput(th, "<br/>");
		}
	}
}

/* Closes the open marks and writes s. */
static void
wclose(struct th *th, const char *s)
{
	marks_to(th, 0, NULL);
	wput(th, s);
}

/* A paragraph or heading of the inline content of n. */
static void
th_para(struct th *th, const cJSON *n, const char *open, const char *close,
    int depth)
{
	wput(th, open);
	th_inlines(th, cJSON_GetObjectItemCaseSensitive(n, "content"), depth);
	wclose(th, close);
}

/* The text of a code block, kept as it is. */
static void
th_code(struct th *th, const cJSON *n)
{
	const cJSON	*c, *first;
	const char	*lang = attr_str(n, "language"), *s;
	size_t		 k;
	int		 code;

	k = lang != NULL ? strspn(lang, LANG_CHARS) : 0;
	first = cJSON_GetObjectItemCaseSensitive(n, "content");
	first = first != NULL ? first->child : NULL;
	s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first,
	    "text"));
	/* Bare <pre> as Productboard writes it, but for a newline first. */
	code = k > 0 || (s != NULL && *s == '\n');
	wput(th, code ? "<pre><code" : "<pre>");
	if (k > 0) {
		wput(th, " class=\"language-");
		if (!th->err && buf_append(th->b, lang, k) == -1)
			th->err = 1;
		wput(th, "\"");
	}
	if (code)
		wput(th, ">");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(n, "content")) {
		if (is_type(c, "hardBreak"))
			wput(th, "\n");
		else
			th_flat(th, c);
	}
	wput(th, code ? "</code></pre>" : "</pre>");
}

/* The items of a list: listItems, anything else in an item of its own. */
static void
th_list(struct th *th, const cJSON *n, int depth)
{
	const cJSON	*c, *order;
	char		 t[48];
	double		 v;

	if (is_type(n, "orderedList")) {
		order = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(n, "attrs"), "order");
		v = cJSON_IsNumber(order) ? order->valuedouble : 1;
		v = v >= 0 && v <= 999999999 ? v : v < 0 ? 0 : 999999999;
		if ((long)v != 1) {
			snprintf(t, sizeof(t), "<ol start=\"%ld\">", (long)v);
			wput(th, t);
		} else
			wput(th, "<ol>");
	} else
		wput(th, "<ul>");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(n, "content")) {
		wput(th, "<li>");
		if (is_type(c, "listItem"))
			th_blocks(th, cJSON_GetObjectItemCaseSensitive(c,
			    "content"), depth + 1, 1);
		else if (is_type(c, "decisionItem") || is_type(c, "taskItem") ||
		    is_type(c, "paragraph"))
			th_inlines(th, cJSON_GetObjectItemCaseSensitive(c,
			    "content"), depth + 1);
		else if (is_inline(c))
			th_inline(th, c, depth + 1);
		else
			th_block(th, c, depth + 1);
		wclose(th, "</li>");
	}
	wput(th, is_type(n, "orderedList") ? "</ol>" : "</ul>");
}

/* A checkbox list: task items, nested task lists in the item before. */
static void
th_tasks(struct th *th, const cJSON *n, int depth)
{
	const cJSON	*c;
	const char	*state;
	int		 open = 0;

	wput(th, "<ul>");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(n, "content")) {
		if (is_type(c, "taskList")) {
			if (!open)
				wput(th, "<li>");
			open = 1;
			th_tasks(th, c, depth + 1);
			continue;
		}
		if (open)
			wput(th, "</li>");
		open = 1;
		if (!is_type(c, "taskItem") && !is_type(c, "blockTaskItem")) {
			wput(th, "<li>");
			th_block(th, c, depth + 1);
			marks_to(th, 0, NULL);
			continue;
		}
		state = attr_str(c, "state");
		wput(th, state != NULL && strcmp(state, "DONE") == 0 ?
		    "<li><input type=\"checkbox\" checked=\"checked\"/>" :
		    "<li><input type=\"checkbox\"/>");
		if (is_type(c, "taskItem"))
			th_inlines(th, cJSON_GetObjectItemCaseSensitive(c,
			    "content"), depth + 1);
		else
			th_blocks(th, cJSON_GetObjectItemCaseSensitive(c,
			    "content"), depth + 1, 1);
		marks_to(th, 0, NULL);
	}
	if (open)
		wput(th, "</li>");
	wput(th, "</ul>");
}

/* One row of a table; anything but cells is a cell of its own. */
static void
th_row(struct th *th, const cJSON *r, int depth)
{
	const cJSON	*c;
	int		 any = 0, hd;

	wput(th, "<tr>");
	if (is_type(r, "tableRow"))
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r,
		    "content")) {
			hd = is_type(c, "tableHeader");
			wput(th, hd ? "<th>" : "<td>");
			if (hd || is_type(c, "tableCell"))
				th_blocks(th, cJSON_GetObjectItemCaseSensitive(
				    c, "content"), depth + 1, 1);
			else
				th_block(th, c, depth + 1);
			wclose(th, hd ? "</th>" : "</td>");
			any = 1;
		}
	if (!any) {
		wput(th, "<td>");
		th_block(th, r, depth);
		wclose(th, "</td>");
	}
	wput(th, "</tr>");
}

/* A table, its rows as they come (th cells for tableHeader). */
static void
th_table(struct th *th, const cJSON *n, int depth)
{
	const cJSON	*r;

	wput(th, "<table>");
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(n, "content"))
		th_row(th, r, depth + 1);
	wput(th, "</table>");
}

/* One block node; unknown ones give their text and content. */
static void
th_block(struct th *th, const cJSON *n, int depth)
{
	const cJSON	*lv, *content;
	const char	*t = type_of(n), *s;

	if (!cJSON_IsObject(n) || th->err)
		return;
	if (depth > ADF_MAX_DEPTH) {
		wput(th, "<p>");
		th_flat(th, n);
		wput(th, "</p>");
		return;
	}
	content = cJSON_GetObjectItemCaseSensitive(n, "content");
	if (strcmp(t, "paragraph") == 0 || strcmp(t, "caption") == 0 ||
	    strcmp(t, "decisionItem") == 0 || strcmp(t, "taskItem") == 0)
		th_para(th, n, "<p>", "</p>", depth + 1);
	else if (strcmp(t, "heading") == 0) {
		lv = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(n, "attrs"), "level");
		if (cJSON_IsNumber(lv) && lv->valuedouble == 1)
			th_para(th, n, "<h1>", "</h1>", depth + 1);
		else
			th_para(th, n, "<h2>", "</h2>", depth + 1);
	} else if (strcmp(t, "bulletList") == 0 ||
	    strcmp(t, "orderedList") == 0 || strcmp(t, "decisionList") == 0)
		th_list(th, n, depth + 1);
	else if (strcmp(t, "taskList") == 0)
		th_tasks(th, n, depth + 1);
	else if (strcmp(t, "codeBlock") == 0)
		th_code(th, n);
	else if (strcmp(t, "blockquote") == 0) {
		wput(th, "<blockquote>");
		th_blocks(th, content, depth + 1, 0);
		wput(th, "</blockquote>");
	} else if (strcmp(t, "rule") == 0)
		wput(th, "<hr/>");
	else if (strcmp(t, "table") == 0)
		th_table(th, n, depth + 1);
	else if (strcmp(t, "media") == 0 || strcmp(t, "blockCard") == 0 ||
	    strcmp(t, "embedCard") == 0) {
		wput(th, "<p>");
		if (strcmp(t, "media") == 0)
			th_media(th, n);
		else
			th_link(th, attr_str(n, "url"), NULL);
		wput(th, "</p>");
	} else {
		/* expand, panel, layouts, mediaSingle, extensions, unknown */
		if ((s = attr_str(n, "title")) != NULL ||
		    (s = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(n, "text"))) != NULL) {
			wput(th, "<p>");
			th_text(th, s);
			wput(th, "</p>");
		}
		th_blocks(th, content, depth + 1, 0);
	}
}

/*
 * The blocks of arr; runs of inline nodes become paragraphs.  In list
 * items and table cells (bare) a first paragraph that no paragraph
 * follows is written without <p>, as Productboard writes them.
 */
static void
th_blocks(struct th *th, const cJSON *arr, int depth, int bare)
{
	const cJSON	*c;
	int		 inpara = 0;

	cJSON_ArrayForEach(c, arr) {
		if (th->err)
			return;
		if (is_inline(c)) {
			if (!inpara)
				wput(th, "<p>");
			inpara = 1;
			th_inline(th, c, depth);
			continue;
		}
		if (inpara)
			wclose(th, "</p>");
		inpara = 0;
		if (bare && c == arr->child && is_type(c, "paragraph") &&
		    (c->next == NULL || !is_type(c->next, "paragraph"))) {
			th_inlines(th, cJSON_GetObjectItemCaseSensitive(c,
			    "content"), depth + 1);
			marks_to(th, 0, NULL);
		} else
			th_block(th, c, depth);
	}
	if (inpara)
		wclose(th, "</p>");
}

int
adf_to_html(const char *adf, size_t len, struct buf *out)
{
	struct th	 th;
	struct buf	 raw;
	struct html_node *root;
	cJSON		*doc;
	size_t		 i;
	int		 rc = -1;

	for (i = 0; i < len && (adf[i] == ' ' || adf[i] == '\t' ||
	    adf[i] == '\r' || adf[i] == '\n'); i++)
		;
	if (i == len)
		return 0;
	if ((doc = cJSON_ParseWithLength(adf, len)) == NULL)
		return -1;
	memset(&th, 0, sizeof(th));
	/* Escaping takes at most 6 bytes for the 2 of \", tags fewer. */
	buf_init(&raw, len < (SIZE_MAX - 65536) / 8 ? len * 8 + 65536 :
	    SIZE_MAX);
	th.b = &raw;
	if (cJSON_IsString(doc)) {
		wput(&th, "<p>");
		th_text(&th, doc->valuestring);
		wput(&th, "</p>");
	} else if (cJSON_IsArray(doc))
		th_blocks(&th, doc, 0, 0);
	else if (is_type(doc, "doc"))
		th_blocks(&th, cJSON_GetObjectItemCaseSensitive(doc, "content"),
		    0, 0);
	else if (is_inline(doc)) {
		wput(&th, "<p>");
		th_inline(&th, doc, 0);
		wclose(&th, "</p>");
	} else
		th_block(&th, doc, 0);
	marks_to(&th, 0, NULL);
	cJSON_Delete(doc);
	if (!th.err && (root = html_parse(buf_str(&raw), raw.len)) != NULL) {
		html_collapse_space(root);
		buf_reset(&raw);
		raw.max = out->max;
		if (html_write(&raw, root) == 0 &&
		    buf_append(out, buf_str(&raw), raw.len) == 0)
			rc = 0;
		html_free(root);
	}
	buf_release(&raw);
	return rc;
}

/*
 * The footer.  A document is read with cJSON as it is (Jira adds attrs
 * and localIds of its own), only the footer's nodes are looked at.
 */

/* Parses an ADF document, blank text as an empty one; NULL if not one. */
static cJSON *
parse_doc(const char *s, size_t len)
{
	struct fh	 fh;
	cJSON		*doc;
	size_t		 i;

	for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
	    s[i] == '\n'); i++)
		;
	memset(&fh, 0, sizeof(fh));
	if (i == len)
		return new_doc(&fh);
	if ((doc = cJSON_ParseWithLength(s, len)) == NULL)
		return NULL;
	if (!is_type(doc, "doc") || (cJSON_GetObjectItemCaseSensitive(doc,
	    "content") == NULL && set(&fh, doc, "content",
	    cJSON_CreateArray()) == NULL) ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "content"))) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

/* The text of a paragraph that is one text node, else NULL. */
static const char *
sole_text(const cJSON *p)
{
	const cJSON	*c;

	if (!is_type(p, "paragraph"))
		return NULL;
	c = cJSON_GetObjectItemCaseSensitive(p, "content");
	if (c == NULL || (c = c->child) == NULL || !is_type(c, "text") ||
	    c->next != NULL)
		return NULL;
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c,
	    "text"));
}

/* 1 if s is ADF_MARKER_PREFIX and an id without blanks. */
static int
is_marker(const char *s)
{
	size_t	 n = strlen(ADF_MARKER_PREFIX);

	if (s == NULL || strncmp(s, ADF_MARKER_PREFIX, n) != 0 ||
	    s[n] == '\0')
		return 0;
	for (s += n; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ')
			return 0;
	return 1;
}

/* The first top-level paragraph of doc that is a marker, or NULL. */
static cJSON *
find_marker(const cJSON *doc)
{
	cJSON	*c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "content"))
		if (is_marker(sole_text(c)))
			return c;
	return NULL;
}

/* 1 if p is a paragraph showing nothing. */
static int
empty_paragraph(const cJSON *p)
{
	const cJSON	*c = cJSON_GetObjectItemCaseSensitive(p, "content");

	return is_type(p, "paragraph") && (c == NULL || c->child == NULL);
}

/* 1 if p is a paragraph that starts with ADF_MARKER_LEAD. */
static int
lead_paragraph(const cJSON *p)
{
	const cJSON	*c = cJSON_GetObjectItemCaseSensitive(p, "content");
	const char	*s;

	if (!is_type(p, "paragraph") || c == NULL || c->child == NULL)
		return 0;
	s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->child,
	    "text"));
	return s != NULL && strncmp(s, ADF_MARKER_LEAD,
	    strlen(ADF_MARKER_LEAD)) == 0;
}

int
adf_marker_strip(const char *s, size_t len, struct buf *out)
{
	cJSON	*doc, *content, *m, *prev, *next;
	int	 found, rc;

	if ((doc = parse_doc(s, len)) == NULL)
		return -1;
	content = cJSON_GetObjectItemCaseSensitive(doc, "content");
	if ((found = (m = find_marker(doc)) != NULL)) {
		/* The node before c: cJSON's first node's prev is the last. */
#define BEFORE(c)	((c) != content->child ? (c)->prev : NULL)
		if ((prev = BEFORE(m)) != NULL && lead_paragraph(prev))
			m = prev;
		if ((prev = BEFORE(m)) != NULL && is_type(prev, "rule"))
			m = prev;
		while ((prev = BEFORE(m)) != NULL && empty_paragraph(prev))
			m = prev;
#undef BEFORE
		for (; m != NULL; m = next) {
			next = m->next;
			cJSON_Delete(cJSON_DetachItemViaPointer(content, m));
		}
	}
	rc = print_doc(doc, out);
	cJSON_Delete(doc);
	return rc == -1 ? -1 : found;
}

int
adf_marker_find(const char *s, size_t len, const char *marker)
{
	cJSON		*doc;
	const char	*t;
	int		 rc = 0;

	if ((doc = parse_doc(s, len)) == NULL)
		return 0;
	t = sole_text(find_marker(doc));
	rc = t != NULL && marker != NULL && strcmp(t, marker) == 0;
	cJSON_Delete(doc);
	return rc;
}

/* s with line ends and tabs as spaces and other control bytes dropped. */
static char *
one_line(const char *s)
{
	struct buf	 b;
	size_t		 n = strlen(s), i, k;
	uint32_t	 cp;

	buf_init(&b, n * 3 + 16);
	for (i = 0; i < n; i += k) {
		k = html_utf8_decode(s + i, n - i, &cp);
		if (cp == '\n' || cp == '\r' || cp == '\t') {
			if (buf_putc(&b, ' ') == -1)
				break;
		} else if (cp < 0x20 || cp == 0x7f)
			continue;
		else if (buf_append(&b, cp == 0xfffd && k == 1 ?
		    "\xef\xbf\xbd" : s + i, cp == 0xfffd && k == 1 ? 3 : k) ==
		    -1)
			break;
	}
	if (i < n || buf_puts(&b, "") == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* A text node of s with a link or code mark (href NULL: code). */
static cJSON *
marked_text(struct fh *fh, const char *s, const char *href)
{
	cJSON	*t, *m, *attrs;

	if ((t = text_node(fh, s)) == NULL ||
	    (m = set(fh, t, "marks", cJSON_CreateArray())) == NULL ||
	    (m = add(fh, m, node(fh, href != NULL ? "link" : "code"))) == NULL)
		return t;
	if (href != NULL && (attrs = set(fh, m, "attrs", cJSON_CreateObject()))
	    != NULL)
		set(fh, attrs, "href", cJSON_CreateString(href));
	return t;
}

int
adf_marker_append(struct buf *b, const char *fid, const char *name,
    const char *url)
{
	struct fh	 fh;
	struct buf	 nb, mark;
	cJSON		*doc, *content, *p, *pc;
	char		*title = NULL;
	const char	*u;
	size_t		 i;
	int		 rc = -1;

	for (i = 0; fid[i] != '\0'; i++)
		if ((unsigned char)fid[i] <= ' ')
			return -1;
	if (i == 0 || (doc = parse_doc(buf_str(b), b->len)) == NULL)
		return -1;
	memset(&fh, 0, sizeof(fh));
	buf_init(&mark, strlen(fid) + sizeof(ADF_MARKER_PREFIX));
	u = url;
	for (i = 0; u != NULL && u[i] != '\0'; i++)
		if ((unsigned char)u[i] < ' ' || u[i] == 0x7f)
			u = NULL;
	if (u == NULL || strncmp(u, "http", 4) != 0 || !html_href_ok(u))
		u = DEFAULT_URL;
	title = one_line(name != NULL ? name : "");
	content = cJSON_GetObjectItemCaseSensitive(doc, "content");
	if (title != NULL && buf_puts(&mark, ADF_MARKER_PREFIX) == 0 &&
	    buf_puts(&mark, fid) == 0) {
		if (content->child != NULL)
			add(&fh, content, node(&fh, "rule"));
		if ((p = add(&fh, content, container(&fh, "paragraph", &pc))) !=
		    NULL) {
			add(&fh, pc, text_node(&fh, ADF_MARKER_LEAD));
			add(&fh, pc, marked_text(&fh, *title != '\0' &&
			    strspn(title, " ") < strlen(title) ? title :
			    "Untitled feature", u));
			add(&fh, pc, text_node(&fh, "."));
		}
		if ((p = add(&fh, content, container(&fh, "paragraph", &pc))) !=
		    NULL)
			add(&fh, pc, marked_text(&fh, buf_str(&mark), NULL));
		buf_init(&nb, b->max);
		if (!fh.err && print_doc(doc, &nb) == 0) {
			buf_release(b);
			*b = nb;
			rc = 0;
		} else
			buf_release(&nb);
	}
	free(title);
	buf_release(&mark);
	cJSON_Delete(doc);
	return rc;
}
