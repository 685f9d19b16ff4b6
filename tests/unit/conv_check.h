/*
 * conv_check.h: what the converters promise about their output, checked
 * by test_html2md, test_md2html and the fuzz harnesses.
 *
 * conv_html_ok: HTML is what Productboard accepts in a description
 * (productboard-api.md §5.4, productboard-api-v2.md §3.2): only its
 * tags, every tag closed in order (XHTML style, void tags as "<br/>"),
 * only the attributes md2html writes, quoted, and text without a raw
 * '<', '>' or a stray '&'.
 *
 * conv_md_ok: Markdown is normalised: no white space at line ends but
 * inside code blocks (as cmark reads them), which keep theirs, one final
 * newline (none when empty), no blank line at either end, no NUL.
 *
 * conv_md_no_command: no line GitLab could run as a quick action: none
 * starts with '/' and a letter, whatever GitLab takes for a code region
 * (Gitlab::QuickActions::Extractor pairs a line starting "```" with the
 * next line of exactly "```", which other lines can throw off).
 */
#ifndef PBSYNC_CONV_CHECK_H
#define PBSYNC_CONV_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#define CONV_DEPTH	64

static const char *const conv_tags[] = { "h1", "h2", "p", "b", "i", "u",
    "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "table",
    "thead", "tbody", "tr", "th", "td", NULL };
static const char *const conv_void[] = { "hr/", "br/", NULL };

static inline int
conv_in(const char *const *list, const char *s, size_t n)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && strncmp(*list, s, n) == 0)
			return 1;
	return 0;
}

/* 1 if the attributes of tag (at s, n bytes up to '>') are allowed. */
static inline int
conv_attrs(const char *tag, size_t tl, const char *s, size_t n)
{
	if (n == 0)
		return 1;
	if (tl == 1 && tag[0] == 'a')
		return n > 8 && strncmp(s, " href=\"", 7) == 0 &&
		    s[n - 1] == '"' && memchr(s + 7, '"', n - 8) == NULL;
	if (tl == 2 && strncmp(tag, "ol", 2) == 0)
		return n > 9 && strncmp(s, " start=\"", 8) == 0 &&
		    s[n - 1] == '"' && strspn(s + 8, "0123456789") == n - 9;
	if (tl == 4 && strncmp(tag, "code", 4) == 0)
		return strncmp(s, " class=\"language-", 17) == 0 &&
		    s[n - 1] == '"' && memchr(s + 17, '"', n - 18) == NULL;
	if (tl == 5 && strncmp(tag, "input", 5) == 0)
		return (n == 17 && strncmp(s, " type=\"checkbox\"/", 17) == 0) ||
		    (n == 35 && strncmp(s, " type=\"checkbox\" checked="
		    "\"checked\"/", 35) == 0);
	return 0;
}

/* 1 if html (len bytes) is fine; else 0 with the reason in why. */
static inline int
conv_html_ok(const char *html, size_t len, char *why, size_t wl)
{
	const char	*p = html, *e = html + len, *gt, *stack[CONV_DEPTH];
	size_t		 sl[CONV_DEPTH], top = 0, n, tl;
	int		 closing;

	while (p < e) {
		if (*p == '>') {
			snprintf(why, wl, "raw '>' at %zu", (size_t)(p - html));
			return 0;
		}
		if (*p == '&') {
			n = strspn(p + 1, "#abcdefghijklmnopqrstuvwxyz"
			    "0123456789");
			if (n == 0 || p + 1 + n >= e || p[1 + n] != ';') {
				snprintf(why, wl, "stray '&' at %zu",
				    (size_t)(p - html));
				return 0;
			}
		}
		if (*p != '<') {
			p++;
			continue;
		}
		if ((gt = memchr(p, '>', (size_t)(e - p))) == NULL ||
		    memchr(p + 1, '<', (size_t)(gt - p - 1)) != NULL) {
			snprintf(why, wl, "raw '<' at %zu", (size_t)(p - html));
			return 0;
		}
		closing = p[1] == '/';
		p += 1 + closing;
		tl = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
		n = (size_t)(gt - p);
		if (conv_in(conv_void, p, n) || (tl == 5 && !closing &&
		    strncmp(p, "input", 5) == 0 && gt[-1] == '/' &&
		    conv_attrs(p, tl, p + tl, n - tl))) {
			p = gt + 1;
			continue;
		}
		if (!conv_in(conv_tags, p, tl) || (closing && n != tl) ||
		    (!closing && !conv_attrs(p, tl, p + tl, n - tl))) {
			snprintf(why, wl, "tag \"%.*s\" not allowed", (int)n, p);
			return 0;
		}
		if (!closing) {
			if (top == CONV_DEPTH) {
				snprintf(why, wl, "nested too deep");
				return 0;
			}
			stack[top] = p;
			sl[top++] = tl;
		} else if (top == 0 || sl[top - 1] != tl ||
		    strncmp(stack[top - 1], p, tl) != 0) {
			snprintf(why, wl, "</%.*s> closes nothing", (int)tl, p);
			return 0;
		} else
			top--;
		p = gt + 1;
	}
	if (top > 0) {
		snprintf(why, wl, "<%.*s> not closed", (int)sl[top - 1],
		    stack[top - 1]);
		return 0;
	}
	return 1;
}

/* Marks in code (lines + 1 bytes) the lines of md in cmark's code blocks. */
static inline int
conv_code_lines(const char *md, size_t len, unsigned char *code, size_t lines)
{
	cmark_node	*doc, *n;
	cmark_iter	*it;
	int		 l;

	if ((doc = cmark_parse_document(md, len, CMARK_OPT_DEFAULT)) == NULL)
		return -1;
	if ((it = cmark_iter_new(doc)) == NULL) {
		cmark_node_free(doc);
		return -1;
	}
	while (cmark_iter_next(it) != CMARK_EVENT_DONE)
		if (cmark_node_get_type(n = cmark_iter_get_node(it)) ==
		    CMARK_NODE_CODE_BLOCK)
			for (l = cmark_node_get_start_line(n);
			    l <= cmark_node_get_end_line(n) && l > 0 &&
			    (size_t)l <= lines; l++)
				code[l] = 1;
	cmark_iter_free(it);
	cmark_node_free(doc);
	return 0;
}

static inline int
conv_md_ok(const char *md, size_t len)
{
	unsigned char	*code;
	size_t		 i, lines = 1, line = 1;
	int		 ok = 1;

	if (len == 0)
		return 1;
	if (md[0] == '\n' || md[len - 1] != '\n' ||
	    (len > 1 && md[len - 2] == '\n') || memchr(md, '\0', len) != NULL)
		return 0;
	for (i = 0; i < len; i++)
		lines += md[i] == '\n';
	if ((code = calloc(lines + 1, 1)) == NULL ||
	    conv_code_lines(md, len, code, lines) == -1) {
		free(code);
		return 0;
	}
	for (i = 0; i + 1 < len && ok; i++) {
		if ((md[i] == ' ' || md[i] == '\t') && md[i + 1] == '\n' &&
		    !code[line])
			ok = 0;
		line += md[i] == '\n';
	}
	free(code);
	return ok;
}

static inline int
conv_md_no_command(const char *md, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i++)
		if ((i == 0 || md[i - 1] == '\n') && md[i] == '/' &&
		    ((md[i + 1] >= 'a' && md[i + 1] <= 'z') ||
		    (md[i + 1] >= 'A' && md[i + 1] <= 'Z')))
			return 0;
	return 1;
}

#endif
