#include "config.h"

#include <string.h>

#include <cmark.h>

#include "base/buf.h"
#include "convert/md2html_int.h"

/*
 * Line 'line' of paragraph p without its container prefix: the first
 * line starts at p's column, the others lose the spaces and '>' of the
 * quotes and list items around p, up to that column.  Trimmed.
 */
static const char *
para_line(const struct md2html *r, cmark_node *p, int line, size_t *n)
{
	const char	*s;
	size_t		 col = (size_t)cmark_node_get_start_column(p) - 1, k = 0;

	if ((s = md2html_line(r, line, n)) == NULL)
		return NULL;
	if (line == cmark_node_get_start_line(p))
		k = col < *n ? col : *n;
	else
		while (k < col && k < *n && (s[k] == ' ' || s[k] == '>'))
			k++;
	s += k;
	*n -= k;
	while (*n > 0 && (*s == ' ' || *s == '\t'))
		s++, (*n)--;
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
 * Appends the cells of one row, padded or cut to cols, each as a line of
 * its own after "x " and a blank line: the cells are inline Markdown
 * (GFM tables hold no blocks), and the "x " keeps each one paragraph
 * whatever it starts with, read like the start of a line.
 */
static int
cells_source(struct buf *src, const struct buf *b, size_t k, size_t cols)
{
	const char	*c = buf_str(b);
	size_t		 i;

	for (i = 0; i < cols; i++) {
		if (buf_puts(src, "x ") == -1 ||
		    buf_puts(src, i < k ? c : "") == -1 ||
		    buf_puts(src, "\n\n") == -1)
			return -1;
		if (i < k)
			c += strlen(c) + 1;
	}
	return 0;
}

/* Writes one row from the next cols paragraphs, moving *p past them. */
static void
row(struct md2html *r, cmark_node **p, size_t cols, int head, int depth)
{
	cmark_node	*c, *next;
	size_t		 i;

	md2html_tag(r, "<tr>");
	for (i = 0; i < cols; i++) {
		md2html_tag(r, head ? "<th>" : "<td>");
		if (*p != NULL) {
			md2html_strip(*p, 2);		/* the "x " */
			for (c = cmark_node_first_child(*p); c != NULL;
			    c = next) {
				next = cmark_node_next(c);
				md2html_render(r, c, depth);
			}
			*p = cmark_node_next(*p);
		}
		md2html_tag(r, head ? "</th>" : "</td>");
	}
	md2html_tag(r, "</tr>");
}

/*
 * Renders paragraph p as a GFM pipe table if it is one (GFM spec §4.10):
 * its first line the header, its second the delimiter row with as many
 * cells, every further line a row.  All cells are parsed as one cmark
 * document, a paragraph each.
 */
int
md2html_table(struct md2html *r, cmark_node *p, int depth)
{
	struct buf	 b, src;
	const char	*s;
	cmark_node	*doc = NULL, *para;
	size_t		 n, cols, k;
	int		 line, first = cmark_node_get_start_line(p);
	int		 last = cmark_node_get_end_line(p), rc = 0;

	if (last <= first)
		return 0;
	buf_init(&b, r->len + 16);
	buf_init(&src, (r->len + 16) * 4);
	if ((s = para_line(r, p, first + 1, &n)) == NULL ||
	    !delimiter_row(&b, cols = split(s, n, &b)) ||
	    (s = para_line(r, p, first, &n)) == NULL ||
	    (k = split(s, n, &b)) != cols)
		goto out;
	rc = 1;
	if (cells_source(&src, &b, k, cols) == -1)
		goto fail;
	for (line = first + 2; line <= last; line++) {
		s = para_line(r, p, line, &n);
		k = split(s != NULL ? s : "", s != NULL ? n : 0, &b);
		if (cells_source(&src, &b, k, cols) == -1)
			goto fail;
	}
	if ((doc = cmark_parse_document(buf_str(&src), src.len,
	    MD2HTML_OPTS)) == NULL || md2html_extend(r, doc) == -1)
		goto fail;
	para = cmark_node_first_child(doc);
	/* Cell content counts a paragraph, as html.h's depth does. */
	md2html_tag(r, "<table><thead>");
	row(r, &para, cols, 1, depth + 4);
	md2html_tag(r, "</thead>");
	if (last > first + 1)
		md2html_tag(r, "<tbody>");
	for (line = first + 2; line <= last; line++)
		row(r, &para, cols, 0, depth + 4);
	if (last > first + 1)
		md2html_tag(r, "</tbody>");
	md2html_tag(r, "</table>");
	goto out;
fail:
	r->err = 1;
out:
	if (doc != NULL)
		cmark_node_free(doc);
	buf_release(&b);
	buf_release(&src);
	return rc;
}
