/*
 * md2html: GitLab Flavored Markdown → Productboard rich-text HTML.
 *
 * Parses with libcmark (CommonMark 0.30) and walks the tree with cmark's
 * iterator, writing only tags Productboard accepts (productboard-api.md
 * §5.4, productboard-api-v2.md §3.2), well formed and XHTML style:
 * h1, h2, p, b, i, u, s, code, pre, blockquote, ul, ol, li, a, hr, br,
 * table, thead, tbody, tr, th, td and checkbox <input/>.
 *
 *  - "#" is h1; "##" to "######" are h2 (Productboard has two levels).
 *  - Links and images become <a href> for http, https, mailto and
 *    urn:pb:node: only (html_href_ok), their text otherwise.
 *  - Code blocks are <pre><code>, with class="language-x" for a fence
 *    that names its language.
 *  - Raw HTML is text, never markup, except the inline tags html2md
 *    writes: <ins>/<u>, <s>/<del>/<strike>, <b>/<strong>, <i>/<em> in
 *    matched pairs, and <br>; its HTML2MD_END_LIST block is nothing.
 *    GitLab's ">>>" block quotes are quotes.
 *  - What CommonMark lacks, done here: ~~strike~~ (two tildes, with the
 *    flanking rules of '*'), "- [ ]" / "- [x]" task items, and GFM pipe
 *    tables when simple: a paragraph whose first line is the header and
 *    whose second line is the delimiter row.  A table that starts in the
 *    middle of a paragraph stays text.
 *  - The U+2060 that html2md puts after a reference sigil is dropped.
 *
 * So md2html undoes html2md: html → md → html → md gives the same md, and
 * the HTML after one round trip equals the HTML after two.
 */
#ifndef PBSYNC_MD2HTML_H
#define PBSYNC_MD2HTML_H

#include <stddef.h>

#include "base/buf.h"

/*
 * Appends the HTML for len bytes of Markdown (any bytes) to out.  Returns
 * 0, or -1 when the result would exceed out's maximum or memory runs out;
 * out is then unchanged.
 */
int	 md2html_convert(const char *md, size_t len, struct buf *out);
/*
 * The same where a single newline is a line break (GitHub's issues and
 * comments), so what people see there is what Productboard shows.
 */
int	 md2html_convert_breaks(const char *md, size_t len, struct buf *out);

/*
 * Appends HTML in the normal form the converters reach, html → md → html,
 * so that two descriptions can be compared by meaning.  0 or -1 as above.
 */
int	 md2html_normalize(const char *html, size_t len, struct buf *out);
/*
 * A GitLab title as Productboard names it: without the word joiners that
 * html2md_title put after sigils.  A heap string, or NULL.
 */
char	*md2html_title(const char *s);

#endif
