/*
 * mdext: a Markdown source as cmark parsed it, and what CommonMark lacks
 * that GitLab's Markdown has, added to cmark's tree before it is rendered:
 * task items, strike-through and the inline HTML pairs html2md writes.
 *
 * Below md2html and mdtable, which call it; it calls neither.
 */
#ifndef PBSYNC_MDEXT_H
#define PBSYNC_MDEXT_H

#include <stddef.h>

#include <cmark.h>

#define MDEXT_OPTS	(CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8)

/* The source cmark parses, with where each line starts. */
struct mdext {
	const char	*src;
	size_t		 len;
	size_t		*lines;		/* where line i + 1 starts in src */
	size_t		 nlines;
};

/* Indexes the lines of src (kept, not copied): 0, or -1 (out of memory). */
int	 mdext_init(struct mdext *, const char *src, size_t len);
void	 mdext_release(struct mdext *);
/* Line (1-based) of the source without its newline, or NULL. */
const char *mdext_line(const struct mdext *, int line, size_t *len);
/*
 * The nodes of root's tree that keep accepts, in document order, as a heap
 * array in *out (free() it) of *len: 0, or -1 (out of memory).
 */
int	 mdext_nodes(cmark_node *root, int (*keep)(cmark_node *),
	    cmark_node ***out, size_t *len);
/* Adds what CommonMark lacks to root's tree; 0 or -1 (out of memory). */
int	 mdext_extend(const struct mdext *, cmark_node *root);
/* "[ ]" or "[x]" if paragraph p opens a task item, else NULL. */
const char *mdext_task(cmark_node *p);
/* The tag ("b", "br", ...) of inline HTML that html2md writes, or NULL. */
const char *mdext_inline_tag(const char *, int *closing);
/* Removes the first n bytes of text from the start of paragraph p. */
void	 mdext_strip(cmark_node *p, size_t n);

#endif
