/*
 * md2html_int.h: what the md2html*.c files share.
 */
#ifndef PBSYNC_MD2HTML_INT_H
#define PBSYNC_MD2HTML_INT_H

#include <stddef.h>

#include <cmark.h>

#include "base/buf.h"
#include "convert/html.h"

#define MD2HTML_OPTS	(CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8)
/*
 * Nodes nested deeper lose their tags, so that html2md reads all the HTML
 * back (html.h keeps HTML_MAX_DEPTH levels).
 */
#define MD2HTML_MAX_DEPTH HTML_MAX_DEPTH

/* One conversion. */
struct md2html {
	struct buf	*b;		/* the HTML */
	int		 err;		/* an append failed */
	const char	*src;		/* the Markdown that cmark parsed */
	size_t		 len;
	size_t		*lines;		/* where line i + 1 starts in src */
	size_t		 nlines;
	int		 prev, prev2;	/* the last two text bytes written */
	int		 in_a;		/* inside <a>: links are text */
};

void	 md2html_put(struct md2html *, const char *, size_t);
void	 md2html_puts(struct md2html *, const char *);
void	 md2html_tag(struct md2html *, const char *);
void	 md2html_text(struct md2html *, const char *, size_t);
/* Line (1-based) of the source without its newline, or NULL. */
const char *md2html_line(const struct md2html *, int line, size_t *len);
/* Renders node n and what is below it; depth is that of n's parent. */
void	 md2html_render(struct md2html *, cmark_node *n, int depth);

/* md2html_ext.c: what CommonMark lacks; 0 or -1 (out of memory). */
int	 md2html_extend(struct md2html *, cmark_node *root);
/* "[ ]" or "[x]" if paragraph p opens a task item, else NULL. */
const char *md2html_task(cmark_node *p);
/* The tag ("b", "br", ...) of inline HTML that html2md writes, or NULL. */
const char *md2html_inline_tag(const char *, int *closing);
void	 md2html_strip(cmark_node *p, size_t n);

/* md2html_table.c: renders paragraph p as a table and returns 1 if it
 * is one, else 0. */
int	 md2html_table(struct md2html *, cmark_node *p, int depth);

#endif
