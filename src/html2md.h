/*
 * html2md: Productboard rich-text HTML → GitLab Flavored Markdown.
 *
 * Covers Productboard's subset (productboard-api.md §5.4, plus tables and
 * checklists since 2026-09-21) and degrades gracefully on anything else.
 * Text is escaped so Markdown cannot misread it, and GitLab references in
 * text (@user, #12, !3, ~label, %milestone) are put in code spans so they
 * neither notify anyone nor link elsewhere; md2html turns such spans back
 * into text, so html → md → html is a fixed point after one round.
 * Underline has no Markdown: it becomes <ins>, which GitLab renders.
 */
#ifndef PBSYNC_HTML2MD_H
#define PBSYNC_HTML2MD_H

#include <stddef.h>

#include "buf.h"

/* Appends the Markdown for len bytes of HTML to out: 0, or -1 when out's
 * maximum would be exceeded or memory runs out. */
int	 html2md_convert(const char *html, size_t len, struct buf *out);
/* 1 if s (len bytes) is a GitLab reference that must not stay plain text. */
int	 html2md_is_reference(const char *s, size_t len);

#endif
