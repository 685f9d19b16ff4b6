#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "html2md.h"

#define MAX_OUT		(4u << 20)

static int	 blocks(const struct html_node *, struct buf *, const char *sep);
static void	 inl(const struct html_node *, struct buf *);

static int
is(const struct html_node *n, const char *tag)
{
	return strcmp(n->tag, tag) == 0;
}

static int
ref_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '/' ||
	    (c & 0x80);
}

int
html2md_is_reference(const char *s, size_t len)
{
	size_t	 i;

	if (len < 2 || strchr("@#!~%", s[0]) == NULL ||
	    !(isalnum((unsigned char)s[1]) || s[1] == '_'))
		return 0;
	for (i = 1; i < len; i++)
		if (!ref_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Appends text escaped for Markdown, references put in code spans. */
static void
text(const char *s, struct buf *b)
{
	size_t	 i, j, n = strlen(s);
	/* A fresh buffer keeps one leading space: wrap() moves it out. */
	int	 space = b->len > 0 && (b->data[b->len - 1] == ' ' ||
		    b->data[b->len - 1] == '\n');

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isspace(c)) {
			if (!space)
				buf_putc(b, ' ');
			space = 1;
			continue;
		}
		if (strchr("@#!~%", c) != NULL && (i == 0 || !ref_char(
		    (unsigned char)s[i - 1]))) {
			for (j = i + 1; j < n && ref_char((unsigned char)s[j]); j++)
				;
			while (j > i + 1 && s[j - 1] == '.')
				j--;
			if (html2md_is_reference(s + i, j - i)) {
				buf_putc(b, '`');
				buf_append(b, s + i, j - i);
				buf_putc(b, '`');
				i = j - 1;
				space = 0;
				continue;
			}
		}
		if (strchr("\\`*_[]<>|~", c) != NULL)
			buf_putc(b, '\\');
		else if (c == '&' && strchr(s + i, ';') != NULL &&
		    strspn(s + i + 1, "#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
		    == (size_t)(strchr(s + i, ';') - s - i - 1))
			buf_putc(b, '\\');
		buf_putc(b, (char)c);
		space = 0;
	}
}

/* Every text below n, raw (for code and pre). */
static void
raw(const struct html_node *n, struct buf *b)
{
	const struct html_node *c;

	if (n->text != NULL)
		buf_puts(b, n->text);
	if (is(n, "br"))
		buf_putc(b, '\n');
	for (c = n->first; c != NULL; c = c->next)
		raw(c, b);
}

/* Longest run of c in s. */
static size_t
longest_run(const char *s, char c)
{
	size_t	 best = 0, cur = 0;

	for (; *s != '\0'; s++) {
		cur = *s == c ? cur + 1 : 0;
		if (cur > best)
			best = cur;
	}
	return best;
}

static void
code_span(const struct html_node *n, struct buf *b)
{
	struct buf	 t;
	size_t		 k, i;
	char		*p;

	buf_init(&t, MAX_OUT);
	raw(n, &t);
	for (p = t.data; p != NULL && *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	if (t.len == 0) {
		buf_release(&t);
		return;
	}
	k = longest_run(buf_str(&t), '`') + 1;
	for (i = 0; i < k; i++)
		buf_putc(b, '`');
	if (t.data[0] == '`' || t.data[t.len - 1] == '`')
		buf_putc(b, ' ');
	buf_append(b, t.data, t.len);
	if (t.data[0] == '`' || t.data[t.len - 1] == '`')
		buf_putc(b, ' ');
	for (i = 0; i < k; i++)
		buf_putc(b, '`');
	buf_release(&t);
}

static int
href_ok(const char *h)
{
	return h != NULL && (strncmp(h, "https://", 8) == 0 ||
	    strncmp(h, "http://", 7) == 0 || strncmp(h, "mailto:", 7) == 0 ||
	    strncmp(h, "urn:pb:node:", 12) == 0);
}

static void
link(const struct html_node *n, struct buf *b)
{
	const char	*h = n->href;
	size_t		 at = b->len;

	if (!href_ok(h)) {
		inl(n, b);
		return;
	}
	buf_putc(b, '[');
	inl(n, b);
	if (b->len == at + 1)
		text(h, b);		/* no text: show the address */
	buf_puts(b, "](");
	if (strpbrk(h, " ()<>") != NULL) {
		buf_putc(b, '<');
		for (; *h != '\0'; h++)
			if (*h == '<' || *h == '>' || *h == '\n')
				buf_printf(b, "%%%02X", (unsigned char)*h);
			else
				buf_putc(b, *h);
		buf_putc(b, '>');
	} else
		buf_puts(b, h);
	buf_putc(b, ')');
}

/* Wraps the inline rendering of n in a delimiter, spaces kept outside. */
static void
wrap(const struct html_node *n, struct buf *b, const char *open,
    const char *close)
{
	struct buf	 t;
	size_t		 s = 0, e;

	buf_init(&t, MAX_OUT);
	inl(n, &t);
	e = t.len;
	while (s < e && t.data[s] == ' ')
		s++;
	while (e > s && t.data[e - 1] == ' ')
		e--;
	if (s > 0 && (b->len == 0 || b->data[b->len - 1] != ' '))
		buf_putc(b, ' ');
	if (e > s) {
		buf_puts(b, open);
		buf_append(b, t.data + s, e - s);
		buf_puts(b, close);
	}
	if (e < t.len)
		buf_putc(b, ' ');
	buf_release(&t);
}

/* Inline content of n's children. */
static void
inl(const struct html_node *n, struct buf *b)
{
	const struct html_node *c;

	for (c = n->first; c != NULL; c = c->next) {
		if (c->text != NULL)
			text(c->text, b);
		else if (is(c, "b") || is(c, "strong"))
			wrap(c, b, "**", "**");
		else if (is(c, "i") || is(c, "em"))
			wrap(c, b, "*", "*");
		else if (is(c, "u") || is(c, "ins"))
			wrap(c, b, "<ins>", "</ins>");
		else if (is(c, "s") || is(c, "del") || is(c, "strike"))
			wrap(c, b, "~~", "~~");
		else if (is(c, "code"))
			code_span(c, b);
		else if (is(c, "a"))
			link(c, b);
		else if (is(c, "br")) {
			while (b->len > 0 && b->data[b->len - 1] == ' ')
				b->data[--b->len] = '\0';
			buf_puts(b, "\\\n");
		} else if (is(c, "input"))
			continue;
		else {
			if (html_is_block(c->tag) && b->len > 0 &&
			    b->data[b->len - 1] != ' ')
				buf_putc(b, ' ');
			inl(c, b);
		}
	}
}

/* Escapes what would start a block at the start of each line of s. */
static void
line_starts(struct buf *b, size_t from)
{
	struct buf	 t;
	size_t		 i, d;
	int		 bol = 1;

	buf_init(&t, MAX_OUT);
	for (i = from; i < b->len; i++) {
		char c = b->data[i];

		if (bol) {
			while (c == ' ' && i + 1 < b->len) {
				c = b->data[++i];
			}
			for (d = i; d < b->len && isdigit((unsigned char)b->data[d]); d++)
				;
			if (c == '#' || c == '=' || ((c == '-' || c == '+') &&
			    (i + 1 == b->len || b->data[i + 1] == ' ' ||
			    b->data[i + 1] == '-')))
				buf_putc(&t, '\\');
			else if (d > i && d < b->len && (b->data[d] == '.' ||
			    b->data[d] == ')')) {
				buf_append(&t, b->data + i, d - i);
				buf_putc(&t, '\\');
				i = d;
				c = b->data[i];
			}
		}
		buf_putc(&t, c);
		bol = c == '\n';
	}
	b->len = from;
	buf_append(b, buf_str(&t), t.len);
	buf_release(&t);
}

/* One paragraph-like block: inline content, trimmed. */
static void
para(const struct html_node *n, struct buf *b)
{
	struct buf	 t;
	size_t		 s = 0, e;

	buf_init(&t, MAX_OUT);
	inl(n, &t);
	e = t.len;
	while (s < e && (t.data[s] == ' ' || t.data[s] == '\n'))
		s++;
	while (e > s && (t.data[e - 1] == ' ' || t.data[e - 1] == '\n'))
		e--;
	/* A trailing hard break means nothing at the end of a block. */
	while (e >= s + 2 && t.data[e - 1] == '\n' && t.data[e - 2] == '\\')
		e -= 2;
	if (e > s) {
		size_t from = b->len;

		buf_append(b, t.data + s, e - s);
		line_starts(b, from);
	}
	buf_release(&t);
}

/* Appends s with prefix before each line (first uses first). */
static void
indent(struct buf *b, const char *s, const char *first, const char *rest)
{
	int	 bol = 1, line = 0;

	for (; *s != '\0'; s++) {
		if (bol) {
			const char *p = line++ == 0 ? first : rest;

			/* Blank lines stay blank, except inside quotes. */
			if (*s != '\n' || strchr(p, '>') != NULL)
				buf_puts(b, p);
		}
		buf_putc(b, *s);
		bol = *s == '\n';
	}
}

/* 1 if an item holds two paragraphs: the list must be loose. */
static int
loose(const struct html_node *n)
{
	const struct html_node *c, *x;
	int		 paras;

	for (c = n->first; c != NULL; c = c->next) {
		for (paras = 0, x = c->first; x != NULL; x = x->next)
			paras += is(x, "p") || is(x, "pre") ||
			    is(x, "blockquote") || is(x, "table");
		if (paras > 1)
			return 1;
	}
	return 0;
}

static void
list(const struct html_node *n, struct buf *b)
{
	const struct html_node *c, *x;
	long		 num = n->start > 0 ? n->start : 1;
	char		 mark[32], pad[32];
	struct buf	 item;
	int		 first = 1, wide = loose(n);

	for (c = n->first; c != NULL; c = c->next) {
		if (c->text != NULL && strspn(c->text, " \t\r\n") ==
		    strlen(c->text))
			continue;
		buf_init(&item, MAX_OUT);
		for (x = c->first; x != NULL; x = x->next)
			if (is(x, "input"))
				buf_puts(&item, x->checked ? "[x] " : "[ ] ");
		if (c->text != NULL)
			text(c->text, &item);
		else
			blocks(c, &item, wide ? "\n\n" : "\n");
		if (is(n, "ol"))
			snprintf(mark, sizeof(mark), "%ld. ", num++);
		else
			snprintf(mark, sizeof(mark), "- ");
		memset(pad, ' ', strlen(mark));
		pad[strlen(mark)] = '\0';
		if (!first)
			buf_puts(b, wide ? "\n\n" : "\n");
		first = 0;
		if (item.len == 0)
			buf_puts(b, is(n, "ol") ? mark : "-");
		else
			indent(b, buf_str(&item), mark, pad);
		buf_release(&item);
	}
}

static void
pre(const struct html_node *n, struct buf *b)
{
	struct buf	 t;
	size_t		 k, i;
	const char	*lang = n->lang;

	if (lang == NULL && n->first != NULL && is(n->first, "code"))
		lang = n->first->lang;
	buf_init(&t, MAX_OUT);
	raw(n, &t);
	while (t.len > 0 && t.data[t.len - 1] == '\n')
		t.data[--t.len] = '\0';
	k = longest_run(buf_str(&t), '`') + 1;
	if (k < 3)
		k = 3;
	for (i = 0; i < k; i++)
		buf_putc(b, '`');
	if (lang != NULL && strspn(lang, "abcdefghijklmnopqrstuvwxyz0123456789+-#_.")
	    == strlen(lang))
		buf_puts(b, lang);
	buf_putc(b, '\n');
	if (t.len > 0) {
		buf_append(b, t.data, t.len);
		buf_putc(b, '\n');
	}
	for (i = 0; i < k; i++)
		buf_putc(b, '`');
	buf_release(&t);
}

/* Collects the rows (tr) below n. */
static void
rows(const struct html_node *n, const struct html_node **out, size_t *cnt,
    size_t max)
{
	const struct html_node *c;

	for (c = n->first; c != NULL && *cnt < max; c = c->next)
		if (is(c, "tr"))
			out[(*cnt)++] = c;
		else if (c->text == NULL)
			rows(c, out, cnt, max);
}

static void
table(const struct html_node *n, struct buf *b)
{
	const struct html_node *r[256], *c;
	size_t		 nr = 0, cols = 0, i, k;
	struct buf	 cell;
	char		*p;

	rows(n, r, &nr, 256);
	for (i = 0; i < nr; i++) {
		for (k = 0, c = r[i]->first; c != NULL; c = c->next)
			k += is(c, "td") || is(c, "th");
		if (k > cols)
			cols = k;
	}
	if (cols == 0)
		return;
	for (i = 0; i < nr; i++) {
		buf_putc(b, '|');
		for (k = 0, c = r[i]->first; c != NULL; c = c->next) {
			if (!is(c, "td") && !is(c, "th"))
				continue;
			buf_init(&cell, MAX_OUT);
			para(c, &cell);
			for (p = cell.data; p != NULL && *p != '\0'; p++)
				if (*p == '\n')
					*p = ' ';
			buf_printf(b, " %s |", buf_str(&cell));
			buf_release(&cell);
			k++;
		}
		for (; k < cols; k++)
			buf_puts(b, "  |");
		buf_putc(b, '\n');
		if (i == 0) {
			buf_putc(b, '|');
			for (k = 0; k < cols; k++)
				buf_puts(b, " --- |");
			buf_putc(b, '\n');
		}
	}
	b->data[--b->len] = '\0';		/* last newline */
}

static int
heading_level(const char *tag)
{
	return tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6' &&
	    tag[2] == '\0' ? tag[1] - '0' : 0;
}

/* Renders one block child into b. */
static void
block(const struct html_node *c, struct buf *b)
{
	struct buf	 t;
	int		 h;

	/* Productboard has h1 and h2 only: deeper levels fold into h2. */
	if ((h = heading_level(c->tag)) > 0) {
		if (h > 2)
			h = 2;
		buf_printf(b, "%.*s ", h, "######");
		buf_init(&t, MAX_OUT);
		para(c, &t);
		for (char *p = t.data; p != NULL && *p != '\0'; p++)
			if (*p == '\n' || (*p == '\\' && p[1] == '\n'))
				*p = ' ';
		buf_append(b, buf_str(&t), t.len);
		buf_release(&t);
	} else if (is(c, "ul") || is(c, "ol"))
		list(c, b);
	else if (is(c, "pre"))
		pre(c, b);
	else if (is(c, "hr"))
		buf_puts(b, "---");
	else if (is(c, "table"))
		table(c, b);
	else if (is(c, "blockquote")) {
		buf_init(&t, MAX_OUT);
		blocks(c, &t, "\n\n");
		indent(b, buf_str(&t), "> ", "> ");
		buf_release(&t);
	} else if (is(c, "p"))
		para(c, b);
	else
		blocks(c, b, "\n\n");	/* div, li out of a list, ... */
}

/*
 * Renders the children of n as blocks separated by sep; runs of inline
 * children form paragraphs.
 */
static int
blocks(const struct html_node *n, struct buf *b, const char *sep)
{
	const struct html_node *c, *run;
	struct html_node fake;
	size_t		 before;
	int		 any = 0;

	for (c = n->first; c != NULL; ) {
		before = b->len;
		if (any)
			buf_puts(b, sep);
		if (c->text == NULL && html_is_block(c->tag) && !is(c, "br")) {
			block(c, b);
			c = c->next;
		} else {
			/* An inline run up to the next block element. */
			memset(&fake, 0, sizeof(fake));
			fake.first = (struct html_node *)c;
			for (run = c; run->next != NULL && (run->next->text !=
			    NULL || !html_is_block(run->next->tag) ||
			    is(run->next, "br")); run = run->next)
				;
			c = run->next;
			/* Render only [first, run]: cut the chain for a moment. */
			{
				struct html_node *stop = run->next;

				((struct html_node *)run)->next = NULL;
				para(&fake, b);
				((struct html_node *)run)->next = stop;
			}
		}
		if (b->len == before + (any ? strlen(sep) : 0)) {
			b->len = before;	/* an empty block: drop its sep */
			if (b->data != NULL)
				b->data[b->len] = '\0';
		} else
			any = 1;
	}
	return any;
}

/* Drops trailing spaces of every line, and blank-only lines at the end. */
static void
tidy(struct buf *b, size_t from)
{
	size_t	 r, w = from;

	for (r = from; r < b->len; r++) {
		if (b->data[r] == '\n')
			while (w > from && b->data[w - 1] == ' ')
				w--;
		b->data[w++] = b->data[r];
	}
	while (w > from && (b->data[w - 1] == ' ' || b->data[w - 1] == '\n'))
		w--;
	b->len = w;
	if (b->data != NULL)
		b->data[w] = '\0';
}

int
html2md_convert(const char *html, size_t len, struct buf *out)
{
	struct html_node *root;
	struct buf	 t;
	int		 rc = 0;

	if ((root = html_parse(html, len)) == NULL)
		return -1;
	buf_init(&t, MAX_OUT);
	blocks(root, &t, "\n\n");
	tidy(&t, 0);
	if (t.len > 0 && (buf_append(out, t.data, t.len) == -1 ||
	    buf_putc(out, '\n') == -1))
		rc = -1;
	buf_release(&t);
	html_free(root);
	return rc;
}
