/*
 * html: a small, forgiving HTML reader for rich-text descriptions.
 *
 * html_parse() builds a tree from Productboard's rich-text HTML
 * (productboard-api.md §5.4, productboard-api-v2.md §3.2) and from anything
 * worse, the way a browser would recover: unknown tags keep their text,
 * unclosed tags close at their parent's end, stray end tags are ignored,
 * <p>, <li>, <td> and <tr> close their open predecessor, text inside a
 * table but outside a cell moves before the table.  Entities are decoded,
 * text is valid UTF-8 without NUL or other control bytes (invalid bytes
 * become U+FFFD), CR LF becomes LF.  Comments, <script>, <style> and the
 * like are dropped with their content.  An <img> becomes a link to its
 * src with its alt text (or the src) as text, or that text alone where
 * no link may go, as md2html renders a Markdown image.  A link that may
 * stay one (html_href_ok) with no text but white space shows its address
 * (in html_put_href()'s form) as its text, and what it held goes before
 * it, as md2html renders "[](address)".  Elements nested deeper than
 * HTML_MAX_DEPTH are dropped and their text kept (flattened, a block or
 * <br> as a space); inline content in a block container counts one level
 * more, for the paragraph Markdown puts around it, and so do what a list
 * holds outside its items (for the item), a table's rows outside a body
 * and every table cell (for its paragraph).
 *
 * The tree keeps only what a converter needs: the tag, text, href, a
 * code language, <ol start> and checkbox state.  html.c reads HTML,
 * html_norm.c lays it out and writes it.
 */
#ifndef PBSYNC_HTML_H
#define PBSYNC_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define HTML_MAX_DEPTH	32		/* element nesting kept */
#define HTML_MAX_NODES	(1u << 20)	/* more fails the parse */

enum html_tag {
	HTML_ROOT,
	HTML_TEXT,
	HTML_SPAN,		/* unknown or plain inline: transparent */
	HTML_DIV,		/* generic block container */
	HTML_P, HTML_H1, HTML_H2, HTML_H3, HTML_H4, HTML_H5, HTML_H6,
	HTML_BR, HTML_HR, HTML_PRE, HTML_BLOCKQUOTE,
	HTML_UL, HTML_OL, HTML_LI,
	HTML_TABLE, HTML_THEAD, HTML_TBODY, HTML_TFOOT, HTML_TR, HTML_TD,
	HTML_TH,
	HTML_B,			/* b, strong */
	HTML_I,			/* i, em */
	HTML_U,			/* u, ins */
	HTML_S,			/* s, del, strike */
	HTML_CODE,		/* code, tt, kbd, samp */
	HTML_A, HTML_IMG, HTML_INPUT
};

enum html_check {
	HTML_CHECK_NONE,
	HTML_CHECK_OPEN,	/* an unchecked checkbox or task item */
	HTML_CHECK_DONE		/* a checked one */
};

struct html_node {
	enum html_tag		 tag;
	char			*text;	/* HTML_TEXT: NUL-terminated */
	size_t			 len;	/* HTML_TEXT: bytes in text */
	size_t			 cap;	/* HTML_TEXT: bytes allocated */
	char			*href;	/* HTML_A: the href, or NULL */
	char			*lang;	/* HTML_PRE, HTML_CODE: class="language-x" */
	long			 start;	/* HTML_OL: first number (default 1) */
	enum html_check		 check;	/* HTML_INPUT, HTML_LI */
	struct html_node	*parent, *first, *last, *prev, *next;
};

/*
 * Parses len bytes of HTML into a tree rooted at an HTML_ROOT node, which
 * the caller frees with html_free().  NULL when memory runs out or the
 * input has more than HTML_MAX_NODES nodes; any byte sequence is accepted.
 */
struct html_node *html_parse(const char *, size_t);
void	 html_free(struct html_node *);

/*
 * Collapses white space in the text nodes below root as a browser lays it
 * out: runs of ASCII white space become one space, spaces at the start
 * and end of a block or around <br> go, <pre> is kept as it is.
 */
void	 html_collapse_space(struct html_node *root);

/* 1 for elements that start a block of their own (p, li, table, ...). */
int	 html_is_block(enum html_tag);

/* Heading level 1..6 of h1..h6, else 0. */
int	 html_heading_level(enum html_tag);

/*
 * Decodes the UTF-8 sequence at s (n > 0 bytes left) into *cp and returns
 * its length; an invalid or truncated sequence gives U+FFFD and 1.
 */
size_t	 html_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* The same for the last code point of s (n > 0 bytes). */
size_t	 html_utf8_decode_last(const char *s, size_t n, uint32_t *cp);

/*
 * 1 if href may become a link on either side: http, https and mailto,
 * and Productboard's urn:pb:node: placeholders, which must travel back
 * unchanged (productboard-api-v2.md §3.2).  Anything else (javascript:,
 * data:, relative paths) is shown as text.
 */
int	 html_href_ok(const char *href);
/*
 * Appends the rows of a table (those of thead, tbody and tfoot too, not
 * those of tables in its cells) to the array *v of *k rows and room for
 * *cap: 0, or -1 out of memory.
 */
int	 html_table_rows(const struct html_node *table,
	    const struct html_node ***v, size_t *k, size_t *cap);
/*
 * The checkbox of a task item: on the li, or an <input> opening it (in
 * its paragraph or div, not in a nested list).
 */
enum html_check html_task_check(const struct html_node *li);
/* The cells (td, th) of a table row. */
size_t	 html_row_cells(const struct html_node *tr);

/*
 * Appends href to b in the one form both converters use, so that links
 * survive html → md → html unchanged: surrounding white space trimmed,
 * tab, CR and LF removed (as browsers do), and space, control bytes,
 * '"', '<', '>', '\\' and '`' percent-encoded.  Idempotent.
 * Returns 0, or -1 past b's maximum.
 */
int	 html_put_href(struct buf *b, const char *href);

/* Appends s escaped for HTML text and attribute values (& < > "). */
int	 html_put_escaped(struct buf *b, const char *s, size_t n);
/* Appends href as html_put_href() does, escaped for an attribute. */
int	 html_put_escaped_href(struct buf *b, const char *href);

/*
 * Appends the tree below root as Productboard's XHTML (productboard-api.md
 * §5.4): only its tags (h3 to h6 as h2), void ones as "<br/>", attributes
 * quoted, text escaped; links only to html_href_ok() addresses.  It is
 * the normal form the converters agree on: empty blocks are dropped,
 * empty inline elements keep only their spaces, <br> at the ends of a
 * line of text goes (in headings it is a space), and neighbouring b, i,
 * u or s elements merge.  Call html_collapse_space() first.
 * Returns 0, or -1 past b's maximum.
 */
int	 html_write(struct buf *b, const struct html_node *root);

#endif
