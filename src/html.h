/*
 * html: a small, forgiving HTML reader for rich-text descriptions.
 *
 * Builds a tree from Productboard's rich-text HTML (and anything worse):
 * unknown tags keep their text, unclosed tags are closed at their
 * parent's end, stray end tags are ignored, entities are decoded to UTF-8,
 * comments and <script>/<style> content are dropped, and nesting deeper
 * than HTML_MAX_DEPTH is flattened.  Never fails on any input except out
 * of memory.
 */
#ifndef PBSYNC_HTML_H
#define PBSYNC_HTML_H

#include <stddef.h>

#define HTML_MAX_DEPTH	32

struct html_node {
	char			 tag[12];	/* lower case; "" for text */
	char			*text;		/* text nodes: decoded UTF-8 */
	char			*href;		/* <a href> */
	char			*lang;		/* class="language-x" */
	long			 start;		/* <ol start>; 0 if none */
	int			 checked;	/* <input type=checkbox checked> */
	struct html_node	*parent;
	struct html_node	*first, *last, *next;
};

/* Parses len bytes into a tree rooted at a node with tag "". */
struct html_node *html_parse(const char *, size_t);
void	 html_free(struct html_node *);
/* 1 for tags that start a block (p, h1..h6, ul, ol, li, pre, ...). */
int	 html_is_block(const char *tag);

#endif
