/*
 * md2html: GitLab Flavored Markdown → Productboard rich-text HTML.
 *
 * Parses with libcmark (CommonMark) and walks the tree, emitting only the
 * tags Productboard accepts, well formed (XHTML style): h1, h2, p, b, i,
 * u, s, code, pre, blockquote, ul, ol, li, a, hr, br and tables.  Raw HTML
 * is shown as text, except the <ins>/<u>/<s>/<del> that html2md writes.
 * GitLab's ~~strike~~ and pipe tables are handled here since CommonMark
 * has neither.  Code spans holding only a GitLab reference become text
 * again (html2md put them there).
 */
#ifndef PBSYNC_MD2HTML_H
#define PBSYNC_MD2HTML_H

#include <stddef.h>

#include "buf.h"

int	 md2html_convert(const char *md, size_t len, struct buf *out);

#endif
