/*
 * html2md: Productboard rich-text HTML → GitLab Flavored Markdown.
 *
 * Covers Productboard's subset (productboard-api.md §5.4; tables,
 * checklists and code languages since 2026-09-21, productboard-api-v2.md
 * §3.2) and degrades gracefully on anything else (see html.h).  The
 * mapping follows gittab-api.md §6:
 *
 *  - h1 is "#", h2 to h6 are "##": Productboard has two heading levels, so
 *    deeper ones fold into the second and round trips stay fixed points.
 *  - b, i, s become "**", "*", "~~"; where CommonMark's flanking rules
 *    would not read them back (say "<b>Note:</b>text"), the same tags are
 *    written as inline HTML <b>, <i>, <s>, which GitLab renders.
 *  - u becomes <ins>...</ins>: Markdown has no underline and GitLab's
 *    sanitiser drops <u> but keeps <ins>, which browsers underline.
 *  - br is a line ending in "\"; in table cells it is <br>.
 *  - links: only http, https, mailto and urn:pb:node: hrefs stay links
 *    (html_href_ok); the others become their text.
 *  - pipe tables with the first row as header; checklists as "- [ ]".
 *
 * Text is escaped so that Markdown cannot misread it, and GitLab
 * references (@user, #12, !3, ~label, %milestone, &epic, $snippet, and
 * {+ +} inline diffs) are broken by a U+2060 WORD JOINER after the sigil:
 * GitLab's reference patterns need the name right after the sigil, so
 * "@<U+2060>alice" notifies nobody and links nowhere, yet looks the
 * same.  md2html drops the joiner again, so html → md → html gives back
 * the same HTML, and both sides reach a fixed point after one round.
 *
 *  - code blocks keep their white space (but for final newlines) in a
 *    "```" fence, "~~~" when the code holds "```", indented when a line
 *    starts with '/' (GitLab's quick actions), with HTML2MD_END_LIST
 *    before it after a list.
 *  - images are links to their src with the alt text (html.h).
 *
 * The output is normalised: blocks separated by one blank line, no
 * trailing white space outside code blocks, one final newline; empty
 * input gives empty output.
 */
#ifndef PBSYNC_HTML2MD_H
#define PBSYNC_HTML2MD_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* The U+2060 WORD JOINER that html2md puts after a reference sigil. */
#define HTML2MD_WJ	"\xe2\x81\xa0"
/*
 * An empty HTML comment, alone as a block, between a list and an
 * indented code block, which would be the list's otherwise: GitLab and
 * GitHub show nothing, and md2html drops it.
 */
#define HTML2MD_END_LIST	"<!-- -->"

/*
 * Appends the Markdown for len bytes of HTML (any bytes) to out.  Returns
 * 0, or -1 when the result would exceed out's maximum or memory runs out;
 * out is then unchanged.
 */
int	 html2md_convert(const char *html, size_t len, struct buf *out);

/*
 * 1 if a WORD JOINER goes between sigil and c in text: sigil starts a
 * GitLab reference when c follows it; before is the byte before the
 * sigil ('\0' at the start).
 */
int	 html2md_ref_break(int before, int sigil, int c);
/*
 * 1 if html2md may put a WORD JOINER after c (before is the byte before
 * it), depending on what follows: c is a sigil there.
 */
int	 html2md_sigil(int before, int c);
/*
 * A title for GitLab, which parses references and mentions in titles
 * too: s with HTML2MD_WJ after each sigil html2md_ref_break names, as in
 * descriptions (plain text otherwise).  A heap string, or NULL.
 */
char	*html2md_title(const char *s);

/*
 * Character classes of CommonMark's flanking rules (spec §6.2), shared
 * with md2html so that both read "**" and "~~" the same way.  ASCII is
 * exact; Unicode white space (Zs) is HTML2MD_SPACE; other non-ASCII is
 * HTML2MD_UNSURE, which html2md reads the safe way.
 */
enum html2md_class {
	HTML2MD_SPACE,
	HTML2MD_PUNCT,
	HTML2MD_LETTER,
	HTML2MD_UNSURE
};

enum html2md_class html2md_class(uint32_t cp);
/* 1 if a delimiter run between before and after can open (close). */
int	 html2md_can_open(enum html2md_class before, enum html2md_class after);
int	 html2md_can_close(enum html2md_class before, enum html2md_class after);

#endif
