/*
 * fuzz_conv.h: the round trip both converter harnesses check, starting
 * from HTML (fuzz_html2md) or from Markdown (fuzz_md2html).  Beyond not
 * crashing, each converter must keep its promises:
 *
 *  - normalised Markdown and Productboard's kind of HTML
 *    (tests/unit/conv_check.h);
 *  - a fixed point after one round (md2html.h): from the start HTML h0
 *    (the input, or md2html of it), md1 = html2md(h0), h1 = md2html(md1),
 *    md2 = html2md(h1), h2 = md2html(md2); md2 is md1 and h2 is h1;
 *  - the text a reader sees: the text of h1 is the text of h0
 *    (fuzz_conv_text), so that nothing a person wrote is lost, added or
 *    changed on the way, whatever happens to its markup.
 *
 * The last two for inputs up to FUZZ_CONV_DEEP bytes: the larger ones
 * (tests/fuzz/worst/) test the converters' speed.
 */
#ifndef PBSYNC_FUZZ_CONV_H
#define PBSYNC_FUZZ_CONV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/conv_check.h"
#include "base/buf.h"
#include "convert/html.h"
#include "convert/html2md.h"
#include "convert/md2html.h"

#define FUZZ_CONV_MAX	(1u << 24)
#define FUZZ_CONV_DEEP	65536

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static inline void
fuzz_conv_fail(const char *what, const struct buf *b)
{
	fprintf(stderr, "%s:\n%s\n", what, buf_str(b));
	abort();
}

/*
 * Appends s with each run of ASCII white space as one space, and without
 * a WORD JOINER right after a reference sigil.
 */
static inline void
fuzz_conv_put(struct buf *t, const char *s, size_t n)
{
	size_t	 i, k = strlen(HTML2MD_WJ);

	for (i = 0; i < n; i++)
		if (n - i >= k && memcmp(s + i, HTML2MD_WJ, k) == 0 &&
		    t->len > 0 && strchr("@#!&$~%{[-", t->data[t->len - 1]))
			i += k - 1;
		else if (memchr(" \t\n\r\f", s[i], 5) == NULL)
			buf_putc(t, s[i]);
		else if (t->len > 0 && t->data[t->len - 1] != ' ')
			buf_putc(t, ' ');
}

/*
 * The text a reader sees of html, in t: the text nodes of html_parse()'s
 * tree in document order, white space collapsed, a space between blocks
 * and for <br>, none at either end.  What html.h drops is not text: tags
 * and attributes, comments, and the content of script, style, textarea
 * and the other elements html.c skips whole; neither are list numbers,
 * checkboxes and code languages.  What html.h makes text is: an image is
 * its alt text (or address), a link without text its address.  A WORD
 * JOINER right after a sigil of html2md_ref_break() is no text either: it
 * is invisible, and md2html drops one there when a reference would
 * follow, taking it for the one html2md puts.
 */
static inline int
fuzz_conv_text(const char *html, size_t len, struct buf *t)
{
	struct html_node *root, *n;

	if ((root = html_parse(html, len)) == NULL)
		return -1;
	for (n = root->first; n != NULL;) {
		if (n->tag == HTML_TEXT)
			fuzz_conv_put(t, n->text, n->len);
		else if (n->tag == HTML_BR || html_is_block(n->tag))
			fuzz_conv_put(t, " ", 1);
		if (n->first != NULL) {
			n = n->first;
			continue;
		}
		while (n != root && n->next == NULL) {
			n = n->parent;
			if (html_is_block(n->tag))
				fuzz_conv_put(t, " ", 1);
		}
		n = n == root ? NULL : n->next;
	}
	html_free(root);
	if (t->len > 0 && t->data[t->len - 1] == ' ')
		t->data[--t->len] = '\0';
	if (t->len > 0 && t->data[0] == ' ')
		memmove(t->data, t->data + 1, t->len--);
	return 0;
}

static inline int
fuzz_conv_same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && memcmp(buf_str(a), buf_str(b), a->len) == 0;
}

/* Converts to Markdown (html_first) or HTML, back, and checks both. */
static inline void
fuzz_conv_round(const uint8_t *data, size_t size, int html_first)
{
	struct buf	 h0, md1, h1, md2, h2, t0, t1;
	const char	*in = (const char *)data;
	char		 why[128];

	buf_init(&h0, FUZZ_CONV_MAX);
	buf_init(&md1, FUZZ_CONV_MAX);
	buf_init(&h1, FUZZ_CONV_MAX);
	buf_init(&md2, FUZZ_CONV_MAX);
	buf_init(&h2, FUZZ_CONV_MAX);
	buf_init(&t0, FUZZ_CONV_MAX);
	buf_init(&t1, FUZZ_CONV_MAX);
	if (html_first)
		buf_append(&h0, in, size);
	else {
		if (md2html_convert(in, size, &h0) == -1)
			fuzz_conv_fail("md2html failed", &h0);
		if (!conv_html_ok(buf_str(&h0), h0.len, why, sizeof(why)))
			fuzz_conv_fail(why, &h0);
	}
	if (html2md_convert(buf_str(&h0), h0.len, &md1) == -1)
		fuzz_conv_fail("html2md failed", &h0);
	if (!conv_md_ok(buf_str(&md1), md1.len))
		fuzz_conv_fail("html2md: not normalised", &md1);
	if (!conv_md_no_command(buf_str(&md1), md1.len))
		fuzz_conv_fail("html2md: a line is a GitLab quick action", &md1);
	if ((html_first || size <= FUZZ_CONV_DEEP) &&
	    md2html_convert(buf_str(&md1), md1.len, &h1) == -1)
		fuzz_conv_fail("md2html failed", &md1);
	if (!conv_html_ok(buf_str(&h1), h1.len, why, sizeof(why)))
		fuzz_conv_fail(why, &h1);
	if (size > FUZZ_CONV_DEEP)
		goto done;
	if (fuzz_conv_text(buf_str(&h0), h0.len, &t0) == -1 ||
	    fuzz_conv_text(buf_str(&h1), h1.len, &t1) == -1)
		fuzz_conv_fail("html_parse failed", &h1);
	if (!fuzz_conv_same(&t0, &t1)) {
		fprintf(stderr, "h0:\n%s\nmd1:\n%s\nh1:\n%s\ntext of h0:\n%s\n",
		    buf_str(&h0), buf_str(&md1), buf_str(&h1), buf_str(&t0));
		fuzz_conv_fail("text changed, text of h1", &t1);
	}
	if (html2md_convert(buf_str(&h1), h1.len, &md2) == -1 ||
	    md2html_convert(buf_str(&md2), md2.len, &h2) == -1)
		fuzz_conv_fail("second round failed", &h1);
	if (!fuzz_conv_same(&md1, &md2)) {
		fprintf(stderr, "h0:\n%s\nmd1:\n%s\nh1:\n%s\n", buf_str(&h0),
		    buf_str(&md1), buf_str(&h1));
		fuzz_conv_fail("Markdown not a fixed point, md2", &md2);
	}
	if (!fuzz_conv_same(&h1, &h2)) {
		fprintf(stderr, "h0:\n%s\nmd1:\n%s\nh1:\n%s\n", buf_str(&h0),
		    buf_str(&md1), buf_str(&h1));
		fuzz_conv_fail("HTML not a fixed point, h2", &h2);
	}
done:
	buf_release(&h0);
	buf_release(&md1);
	buf_release(&h1);
	buf_release(&md2);
	buf_release(&h2);
	buf_release(&t0);
	buf_release(&t1);
}

#endif
