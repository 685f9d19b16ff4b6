#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "base/buf.h"
#include "convert/html.h"
#include "convert/mdext.h"
#include "convert/mdtable.h"

/*
 * Line 'line' of paragraph p without its container prefix: the first
 * line starts at p's column, the others lose the spaces and '>' of the
 * quotes and list items around p, up to that column.  Trimmed; *indent
 * is how far the text stood in from there (a tab counts as four).
 */
static const char *
para_line(const struct mdext *r, cmark_node *p, int line, size_t *n,
    size_t *indent)
{
	const char	*s;
	size_t		 col = (size_t)cmark_node_get_start_column(p) - 1, k = 0;

	if ((s = mdext_line(r, line, n)) == NULL)
		return NULL;
	if (line == cmark_node_get_start_line(p))
		k = col < *n ? col : *n;
	else
		while (k < col && k < *n && (s[k] == ' ' || s[k] == '>'))
			k++;
	s += k;
	*n -= k;
	for (*indent = 0; *n > 0 && (*s == ' ' || *s == '\t'); s++, (*n)--)
		*indent += *s == '\t' ? 4 : 1;
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

/*
 * Splits a table row into cells (GFM spec §4.10), each NUL-terminated
 * and trimmed in out: leading and trailing '|' are optional, "\|" is a
 * '|' inside a cell (also in code spans).  Returns the number of cells.
 */
static size_t
split(const char *s, size_t n, struct buf *out)
{
	size_t	 i = 0, k = 0, start;

	buf_reset(out);
	if (n > 0 && s[0] == '|')
		i++;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (i < n) {
		start = out->len;
		for (; i < n && s[i] != '|'; i++) {
			if (s[i] == '\\' && i + 1 < n) {
				if (s[i + 1] != '|' && buf_putc(out, '\\') == -1)
					return 0;
				i++;
			}
			if (buf_putc(out, s[i]) == -1)
				return 0;
		}
		while (out->len > start && (out->data[out->len - 1] == ' ' ||
		    out->data[out->len - 1] == '\t'))
			out->len--;
		if (buf_putc(out, '\0') == -1)
			return 0;
		k++;
		i++;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
	}
	return k;
}

/* 1 if the cells in b (k of them) make a delimiter row. */
static int
delimiter_row(const struct buf *b, size_t k)
{
	const char	*c = buf_str(b);
	size_t		 i, d;

	if (k == 0)
		return 0;
	for (i = 0; i < k; i++, c += strlen(c) + 1) {
		d = *c == ':';
		if (c[d] != '-')
			return 0;
		d += strspn(c + d, "-");
		d += c[d] == ':';
		if (c[d] != '\0')
			return 0;
	}
	return 1;
}

/*
 * Appends the cells of one row, cut to cols (and padded to it if pad),
 * each as a line of its own after "x " and a blank line: the cells are
 * inline Markdown (GFM tables hold no blocks), and the "x " keeps each
 * one paragraph whatever it starts with, read like the start of a line.
 */
static int
cells_source(struct buf *src, const struct buf *b, size_t k, size_t cols,
    int pad)
{
	const char	*c = buf_str(b);
	size_t		 i;

	for (i = 0; i < cols && (pad || i < k); i++) {
		if (buf_puts(src, "x ") == -1 ||
		    buf_puts(src, i < k ? c : "") == -1 ||
		    buf_puts(src, "\n\n") == -1)
			return -1;
		if (i < k)
			c += strlen(c) + 1;
	}
	return 0;
}

/* A custom block that writes enter and leave around its children. */
static cmark_node *
block(cmark_node *parent, const char *enter, const char *leave)
{
	cmark_node	*n;

	if ((n = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK)) == NULL)
		return NULL;
	if (!cmark_node_set_on_enter(n, enter) ||
	    !cmark_node_set_on_exit(n, leave) ||
	    !cmark_node_append_child(parent, n)) {
		cmark_node_free(n);
		return NULL;
	}
	return n;
}

/*
 * Adds one row of cols cells to parent from the next cols paragraphs of
 * the cells' document, moving *p past them: each cell a custom block
 * holding its paragraph, without the "x ".  0 or -1 (out of memory).
 */
static int
row(cmark_node *parent, cmark_node **p, size_t cols, int head)
{
	cmark_node	*tr, *cell, *para;
	size_t		 i;

	if ((tr = block(parent, "<tr>", "</tr>")) == NULL)
		return -1;
	for (i = 0; i < cols; i++) {
		if ((cell = block(tr, head ? "<th>" : "<td>",
		    head ? "</th>" : "</td>")) == NULL)
			return -1;
		if ((para = *p) == NULL)
			continue;
		*p = cmark_node_next(para);
		mdext_strip(para, 2);		/* the "x " */
		cmark_node_unlink(para);
		if (!cmark_node_append_child(cell, para)) {
			cmark_node_free(para);
			return -1;
		}
	}
	return 0;
}

/*
 * Replaces paragraph p by a table if it is a GFM pipe table (GFM spec
 * §4.10): its first line the header, its second the delimiter row with as
 * many cells, every further line a row.  All cells are parsed as one cmark
 * document, a paragraph each, which moves into the table's cells.  Short
 * rows are padded with empty cells while the padding stays within twice
 * the cells there are (html2md's rule): past that, a ragged table would
 * make output quadratic in its input, and its short rows stay short.
 * 1 if p was a table (and is freed), 0 if not, -1 (out of memory).
 */
static int
table(const struct mdext *r, cmark_node *p)
{
	struct buf	 b, src;
	const char	*s;
	cmark_node	*doc = NULL, *para, *tab = NULL, *part;
	size_t		 n, cols, k, in, *width = NULL, all, padding = 0;
	int		 line, first = cmark_node_get_start_line(p);
	int		 last = cmark_node_get_end_line(p), rc = 0, pad;

	if (last <= first)
		return 0;
	buf_init(&b, r->len + 16);
	buf_init(&src, (r->len + 16) * 4);
	/* Four columns in, the delimiter row would be code (as cmark-gfm). */
	if ((s = para_line(r, p, first + 1, &n, &in)) == NULL || in >= 4 ||
	    !delimiter_row(&b, cols = split(s, n, &b)) ||
	    (s = para_line(r, p, first, &n, &in)) == NULL ||
	    (k = split(s, n, &b)) != cols)
		goto out;
	rc = -1;
	if (cells_source(&src, &b, k, cols, 1) == -1 ||
	    (width = calloc((size_t)(last - first) + 1, sizeof(*width))) == NULL)
		goto out;
	all = cols;
	for (line = first + 2; line <= last; line++) {
		s = para_line(r, p, line, &n, &in);
		k = split(s != NULL ? s : "", s != NULL ? n : 0, &b);
		width[line - first] = k < cols ? k : cols;
		all += width[line - first];
		padding += cols - width[line - first];
	}
	pad = padding <= 2 * all;
	for (line = first + 2; line <= last; line++) {
		s = para_line(r, p, line, &n, &in);
		k = split(s != NULL ? s : "", s != NULL ? n : 0, &b);
		if (cells_source(&src, &b, k, cols, pad) == -1)
			goto out;
	}
	if ((doc = cmark_parse_document(buf_str(&src), src.len,
	    MDEXT_OPTS)) == NULL || mdext_extend(r, doc) == -1 ||
	    (tab = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK)) == NULL ||
	    !cmark_node_set_on_enter(tab, "<table>") ||
	    !cmark_node_set_on_exit(tab, "</table>"))
		goto out;
	para = cmark_node_first_child(doc);
	if ((part = block(tab, "<thead>", "</thead>")) == NULL ||
	    row(part, &para, cols, 1) == -1)
		goto out;
	if (last > first + 1 &&
	    (part = block(tab, "<tbody>", "</tbody>")) == NULL)
		goto out;
	for (line = first + 2; line <= last; line++)
		if (row(part, &para, pad ? cols : width[line - first], 0) == -1)
			goto out;
	if (!cmark_node_insert_before(p, tab))
		goto out;
	tab = NULL;
	cmark_node_free(p);
	rc = 1;
out:
	if (tab != NULL)
		cmark_node_free(tab);
	if (doc != NULL)
		cmark_node_free(doc);
	free(width);
	buf_release(&b);
	buf_release(&src);
	return rc;
}

/* The number of p's ancestors: its depth as md2html counts it. */
static int
depth(cmark_node *p)
{
	int	 d = 0;

	while ((p = cmark_node_parent(p)) != NULL)
		d++;
	return d;
}

/* A paragraph that may be a table with room for its cells' levels. */
static int
candidate(cmark_node *n)
{
	return cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH &&
	    depth(n) + 4 <= HTML_MAX_DEPTH;
}

int
mdtable_build(const struct mdext *r, cmark_node *root)
{
	cmark_node	**v;
	size_t		 k, i;
	int		 rc = 0;

	/* The paragraphs first, as the tree changes on the way. */
	if (mdext_nodes(root, candidate, &v, &k) == -1)
		return -1;
	for (i = 0; i < k && rc == 0; i++)
		if (table(r, v[i]) == -1)
			rc = -1;
	free(v);
	return rc;
}
