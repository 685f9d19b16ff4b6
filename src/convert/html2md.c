#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "convert/html.h"
#include "convert/html2md.h"

/*
 * Inline content is first written with one-byte placeholders, resolved
 * once both neighbours are known (finish()).  Text never holds control
 * bytes but tab, newline and form feed (html_parse drops them), so they
 * cannot clash.
 */
#define M_B_OPEN	'\x01'
#define M_B_CLOSE	'\x02'
#define M_I_OPEN	'\x03'
#define M_I_CLOSE	'\x04'
#define M_S_OPEN	'\x05'
#define M_S_CLOSE	'\x06'
#define M_BLOCK		'\x07'	/* a block boundary inside inline content */
#define M_BR		'\x08'	/* <br> */
#define M_C_OPEN	'\x10'	/* code span content follows */
#define M_C_CLOSE	'\x11'
#define M_US		'\x12'	/* '_', escaped unless inside a word */
#define M_AMP		'\x13'	/* '&', escaped before a character reference */
/* Blanks at the end of a code line, which tidy() must not drop. */
#define M_SP		'\x0e'
#define M_TAB		'\x0f'

/* Where inline content ends up: line breaks and escapes differ. */
enum where {
	IN_PARA,
	IN_HEADING,
	IN_CELL
};

/* One conversion. */
struct cv {
	size_t		 max;		/* the cap of every buffer */
	int		 err;		/* an append failed */
	int		 in_link;	/* links cannot nest */
	int		 in_item;	/* list items open */
	unsigned	 marks;		/* open b, i, s, u: mark_bit() */
	enum where	 where;
};

/* What one run of blocks (a container's content) emitted so far. */
struct seq {
	size_t		 n;		/* blocks */
	enum html_tag	 first;		/* the first one (HTML_P: text) */
	enum html_tag	 prev;		/* the last one */
	int		 alt;		/* the last, a list, used "*" or ")" */
	int		 loose;		/* "\n" would not keep them apart */
	int		 lead;		/* the first can go on a line of text */
};

static void	 inlines(struct cv *, const struct html_node *,
		    const struct html_node *, struct buf *);
static void	 blocks(struct cv *, const struct html_node *,
		    const struct html_node *, struct buf *, const char *,
		    struct seq *);

static void
put(struct cv *cv, struct buf *b, const char *s, size_t n)
{
	if (!cv->err && buf_append(b, s, n) == -1)
		cv->err = 1;
}

static void
puts_(struct cv *cv, struct buf *b, const char *s)
{
	put(cv, b, s, strlen(s));
}

static void
putc_(struct cv *cv, struct buf *b, char c)
{
	put(cv, b, &c, 1);
}

static int
alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
last_byte(const struct buf *b)
{
	return b->len > 0 ? (unsigned char)b->data[b->len - 1] : 0;
}

/*
 * The byte of text back bytes from the end of b, M_US and M_AMP as the
 * '_' and '&' they stand for; 0 before its start.
 */
static int
text_byte(const struct buf *b, size_t back)
{
	int	 c;

	if (b->len < back)
		return 0;
	c = (unsigned char)b->data[b->len - back];
	return c == M_US ? '_' : c == M_AMP ? '&' : c;
}

/*
 * GitLab reference patterns (gittab-api.md §6): @user and @group need a
 * name character and no word character before; #12, !3, &12 (epic) and
 * $12 (snippet) need a digit; ~label and %milestone also take a quoted
 * name; "{+", "{-", "[+" and "[-" open inline diffs.  GitHub's are a
 * subset, plus GH-12.  And "~~" in text:
 * cmark merges escaped and plain tildes into one text node, so md2html
 * could not tell "\~\~" from strike-through without the joiner.
 */
int
html2md_ref_break(int before, int sigil, int c)
{
	switch (sigil) {
	case '@':
		return (alnum(c) || c == '_') && !alnum(before) &&
		    before != '_';
	case '#': case '!': case '&': case '$':
		return digit(c);
	case '~':
		return alnum(c) || c == '_' || c == '"' || c == '~';
	case '%':
		return alnum(c) || c == '_' || c == '"';
	case '{': case '[':
		return c == '+' || c == '-';
	case '-':	/* GitHub's GH-12 */
		return digit(c) && (before == 'H' || before == 'h');
	default:
		return 0;
	}
}

int
html2md_sigil(int before, int c)
{
	return html2md_ref_break(before, c, 'a') ||
	    html2md_ref_break(before, c, '1') ||
	    html2md_ref_break(before, c, '+');
}

char *
html2md_title(const char *s)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, strlen(s) * 4 + 16);
	for (i = 0; s[i] != '\0'; i++) {
		if (html2md_ref_break(b.len > 1 ? (unsigned char)b.data[b.len -
		    2] : 0, b.len > 0 ? (unsigned char)b.data[b.len - 1] : 0,
		    (unsigned char)s[i]) && buf_puts(&b, HTML2MD_WJ) == -1)
			break;
		if (buf_putc(&b, s[i]) == -1)
			break;
	}
	if (s[i] != '\0' || buf_puts(&b, "") == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* 1 if s (n bytes, after '&') reads as a character reference. */
static int
entity_like(const char *s, size_t n)
{
	size_t	 i = 0, k;

	if (n > 0 && s[0] == '#') {
		i = n > 1 && (s[1] == 'x' || s[1] == 'X') ? 2 : 1;
		for (k = i; i < n && (alnum((unsigned char)s[i])); i++)
			;
		return i > k && i < n && s[i] == ';';
	}
	while (i < n && alnum((unsigned char)s[i]))
		i++;
	return i > 0 && i < n && s[i] == ';';
}

/*
 * Appends text escaped for Markdown (CommonMark §2.4): the characters
 * that can start inline syntax always; '_' and '&' as M_US and M_AMP, for
 * finish() to see if '_' is inside a word and if a character reference
 * follows '&', where the next text node may go on.  Line starts are
 * handled by line_starts().  White space is one space.
 */
static void
text(struct cv *cv, struct buf *b, const char *s, size_t n)
{
	size_t		 i, k;
	uint32_t	 cp;
	unsigned char	 c;
	int		 prev, before;

	for (i = 0; i < n; i += k) {
		c = (unsigned char)s[i];
		k = html_utf8_decode(s + i, n - i, &cp);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\f') {
			if (last_byte(b) != ' ')
				putc_(cv, b, ' ');
			continue;
		}
		prev = text_byte(b, 1);
		before = text_byte(b, 2);
		if (html2md_ref_break(before, prev, c))
			puts_(cv, b, HTML2MD_WJ);
		if (c == '_' || c == '&') {
			putc_(cv, b, c == '_' ? M_US : M_AMP);
			continue;
		}
		if (strchr("\\`*[]<|~$", c) != NULL)
			putc_(cv, b, '\\');
		put(cv, b, s + i, k);
	}
}

/* Appends the text below n, unescaped, with M_BR and M_BLOCK. */
static void
raw_text(struct cv *cv, const struct html_node *n, struct buf *b)
{
	const struct html_node *c;

	for (c = n->first; c != NULL; c = c->next) {
		if (c->tag == HTML_TEXT)
			put(cv, b, c->text, c->len);
		else if (c->tag == HTML_BR)
			putc_(cv, b, M_BR);
		else if (html_is_block(c->tag)) {
			putc_(cv, b, M_BLOCK);
			raw_text(cv, c, b);
			putc_(cv, b, M_BLOCK);
		} else
			raw_text(cv, c, b);
	}
}

/* Longest run of c in s (n bytes). */
static size_t
longest_run(const char *s, size_t n, char c)
{
	size_t	 i, best = 0, cur = 0;

	for (i = 0; i < n; i++) {
		cur = s[i] == c ? cur + 1 : 0;
		if (cur > best)
			best = cur;
	}
	return best;
}

static void
fence(struct cv *cv, struct buf *b, char c, size_t n)
{
	while (n-- > 0)
		putc_(cv, b, c);
}

/*
 * The content of a code span between M_C_OPEN and M_C_CLOSE, for
 * finish(): line breaks and blocks inside are a space between text, as
 * html_collapse_space() lays it out, and breaks before and after it.  In
 * table cells '|' must be "\|" even here (GFM tables).
 */
static void
code_span(struct cv *cv, const struct html_node *n, struct buf *b)
{
	struct buf	 t;
	size_t		 i, o = 0, s = 0, e;

	buf_init(&t, cv->max);
	raw_text(cv, n, &t);
	while (s < t.len && (t.data[s] == M_BR || t.data[s] == M_BLOCK))
		s++;
	for (e = t.len; e > s && (t.data[e - 1] == M_BR ||
	    t.data[e - 1] == M_BLOCK); e--)
		;
	put(cv, b, buf_str(&t), s);
	for (i = s; i < e; i++) {
		if (t.data[i] == M_BR || t.data[i] == M_BLOCK) {
			if (t.data[o - 1] != ' ' && t.data[i + 1] != ' ' &&
			    t.data[i + 1] != M_BR && t.data[i + 1] != M_BLOCK)
				t.data[o++] = ' ';
		} else
			t.data[o++] = strchr("\t\n\f", t.data[i]) != NULL ?
			    ' ' : t.data[i];
	}
	if (o > 0) {
		putc_(cv, b, M_C_OPEN);
		for (i = 0; i < o; i++) {
			if (t.data[i] == '|' && cv->where == IN_CELL)
				putc_(cv, b, '\\');
			putc_(cv, b, t.data[i]);
		}
		putc_(cv, b, M_C_CLOSE);
	}
	put(cv, b, buf_str(&t) + e, t.len - e);
	buf_release(&t);
}

/*
 * Writes the code span whose content starts at s[i] (after M_C_OPEN) and
 * returns the index of its M_C_CLOSE.  Spans that touch are one: their
 * backtick strings would run together (CommonMark §6.1).  The string is
 * longer than any run inside, padded with a space where the content
 * would otherwise lose one.
 */
static size_t
code_out(struct cv *cv, const char *s, size_t n, size_t i, struct buf *out)
{
	struct buf	 t;
	size_t		 e, k;
	int		 pad;

	buf_init(&t, cv->max);
	for (;;) {
		for (e = i; e < n && s[e] != M_C_CLOSE; e++)
			;
		put(cv, &t, s + i, e - i);
		if (e + 1 >= n || s[e + 1] != M_C_OPEN)
			break;
		i = e + 2;
	}
	if (t.len > 0) {
		k = longest_run(t.data, t.len, '`') + 1;
		pad = t.data[0] == '`' || t.data[t.len - 1] == '`' ||
		    (t.data[0] == ' ' && t.data[t.len - 1] == ' ' &&
		    strspn(t.data, " ") < t.len);
		fence(cv, out, '`', k);
		if (pad)
			putc_(cv, out, ' ');
		put(cv, out, t.data, t.len);
		if (pad)
			putc_(cv, out, ' ');
		fence(cv, out, '`', k);
	}
	buf_release(&t);
	return e;
}

/* 1 if c is white space or a line break placeholder. */
static int
is_gap(char c)
{
	return c == ' ' || c == M_BLOCK || c == M_BR;
}

/* The gaps at both ends of t: its content is t[*s] to t[*e - 1]. */
static void
gaps(const struct buf *t, size_t *s, size_t *e)
{
	for (*s = 0; *s < t->len && is_gap(t->data[*s]); (*s)++)
		;
	for (*e = t->len; *e > *s && is_gap(t->data[*e - 1]); (*e)--)
		;
}

/*
 * Renders the children of first..last (siblings) between open and close,
 * with leading and trailing spaces and breaks moved outside, where
 * delimiters could not touch them.  Empty content gets no delimiters.
 */
static void
wrap(struct cv *cv, struct buf *b, const struct html_node *first,
    const struct html_node *last, const char *open, const char *close)
{
	struct buf	 t;
	size_t		 s, e;

	buf_init(&t, cv->max);
	for (;; first = first->next) {
		inlines(cv, first->first, NULL, &t);
		if (first == last)
			break;
	}
	gaps(&t, &s, &e);
	put(cv, b, buf_str(&t), s);
	if (e > s) {
		puts_(cv, b, open);
		put(cv, b, buf_str(&t) + s, e - s);
		puts_(cv, b, close);
	}
	put(cv, b, buf_str(&t) + e, t.len - e);
	buf_release(&t);
}

/* 1 if href can be written as an autolink <href> (CommonMark §6.5). */
static int
autolink_ok(const char *h)
{
	return (strncmp(h, "http://", 7) == 0 ||
	    strncmp(h, "https://", 8) == 0 ||
	    strncmp(h, "mailto:", 7) == 0) && strpbrk(h, "<>&|\\`") == NULL;
}

/*
 * A link destination (CommonMark §6.3): plain when its parentheses
 * balance (cmark allows 32 levels), else in <...>.  html_put_href has
 * already percent-encoded space, '<', '>' and '\'.  An '&' that would
 * read as a character reference is "&amp;": cmark decodes references
 * in a destination before backslash escapes, so "\&" would not do.
 */
static void
destination(struct cv *cv, struct buf *b, const char *h)
{
	const char	*p;
	int		 depth = 0, plain = 1;

	for (p = h; *p != '\0' && plain; p++)
		if (*p == '(')
			plain = ++depth <= 32;
		else if (*p == ')')
			plain = --depth >= 0;
	plain = plain && depth == 0;
	if (!plain)
		putc_(cv, b, '<');
	for (p = h; *p != '\0'; p++) {
		if (*p == '&' && entity_like(p + 1, strlen(p + 1)))
			puts_(cv, b, "&amp;");
		else {
			if (*p == '|')
				putc_(cv, b, '\\');
			putc_(cv, b, *p);
		}
	}
	if (!plain)
		putc_(cv, b, '>');
}

/*
 * A link: "<address>" when its text is just the address and it can be
 * an autolink (md2html reads the same back), else "[text](address)",
 * spaces and breaks at the ends of its text outside.  A link without
 * text has its address as text (html.h).
 */
static void
link(struct cv *cv, const struct html_node *a, struct buf *b)
{
	struct buf	 h, c, t;
	size_t		 s, e;

	if (cv->in_link || a->href == NULL || !html_href_ok(a->href)) {
		inlines(cv, a->first, NULL, b);
		return;
	}
	buf_init(&h, cv->max);
	buf_init(&c, cv->max);
	buf_init(&t, cv->max);
	if (html_put_href(&h, a->href) == -1)
		cv->err = 1;
	cv->in_link = 1;
	inlines(cv, a->first, NULL, &c);
	cv->in_link = 0;
	text(cv, &t, buf_str(&h), h.len);
	gaps(&c, &s, &e);
	put(cv, b, buf_str(&c), s);
	if (e - s == t.len && memcmp(buf_str(&c) + s, buf_str(&t),
	    t.len) == 0 && autolink_ok(buf_str(&h))) {
		putc_(cv, b, '<');
		puts_(cv, b, buf_str(&h));
		putc_(cv, b, '>');
	} else if (e > s) {
		/* "!" right before would make it an image. */
		if (last_byte(b) == '!') {
			b->data[b->len - 1] = '\\';
			putc_(cv, b, '!');
		}
		putc_(cv, b, '[');
		put(cv, b, buf_str(&c) + s, e - s);
		puts_(cv, b, "](");
		destination(cv, b, buf_str(&h));
		putc_(cv, b, ')');
	}
	put(cv, b, buf_str(&c) + e, c.len - e);
	buf_release(&h);
	buf_release(&c);
	buf_release(&t);
}

/* The last of the siblings from n on that have n's tag (merged). */
static const struct html_node *
same_run(const struct html_node *n, const struct html_node *stop)
{
	while (n->next != NULL && n->next != stop && n->next->tag == n->tag)
		n = n->next;
	return n;
}

/* The bit of b, i, s or u in struct cv's marks. */
static unsigned
mark_bit(enum html_tag t)
{
	return t == HTML_B ? 1 : t == HTML_I ? 2 : t == HTML_S ? 4 : 8;
}

/*
 * Renders the b, i, s or u elements c..e (siblings, merged).  Inside its
 * own kind a mark shows nothing more (html_write() drops it too), and
 * "*_x_*" would read back as "**x**", bold.
 */
static void
mark(struct cv *cv, struct buf *b, const struct html_node *c,
    const struct html_node *e)
{
	static const char b_on[] = { M_B_OPEN, 0 }, b_off[] = { M_B_CLOSE, 0 };
	static const char i_on[] = { M_I_OPEN, 0 }, i_off[] = { M_I_CLOSE, 0 };
	static const char s_on[] = { M_S_OPEN, 0 }, s_off[] = { M_S_CLOSE, 0 };
	unsigned	 marks = cv->marks;

	if (marks & mark_bit(c->tag)) {
		for (;; c = c->next) {
			inlines(cv, c->first, NULL, b);
			if (c == e)
				return;
		}
	}
	cv->marks |= mark_bit(c->tag);
	wrap(cv, b, c, e,
	    c->tag == HTML_B ? b_on : c->tag == HTML_I ? i_on :
	    c->tag == HTML_S ? s_on : "<ins>",
	    c->tag == HTML_B ? b_off : c->tag == HTML_I ? i_off :
	    c->tag == HTML_S ? s_off : "</ins>");
	cv->marks = marks;
}

/* Renders siblings first..stop (excluded) as inline content. */
static void
inlines(struct cv *cv, const struct html_node *c,
    const struct html_node *stop, struct buf *b)
{
	const struct html_node *e;

	for (; c != NULL && c != stop; c = c->next) {
		switch (c->tag) {
		case HTML_TEXT:
			text(cv, b, c->text, c->len);
			break;
		case HTML_B: case HTML_I: case HTML_S: case HTML_U:
			e = same_run(c, stop);
			mark(cv, b, c, e);
			c = e;
			break;
		case HTML_CODE:
			code_span(cv, c, b);
			break;
		case HTML_A:
			link(cv, c, b);
			break;
		case HTML_BR:
			putc_(cv, b, M_BR);
			break;
		case HTML_IMG: case HTML_INPUT:
			break;
		default:
			if (html_is_block(c->tag))
				putc_(cv, b, M_BLOCK);
			inlines(cv, c->first, NULL, b);
			if (html_is_block(c->tag))
				putc_(cv, b, M_BLOCK);
			break;
		}
	}
}

enum html2md_class
html2md_class(uint32_t cp)
{
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	    cp == '\f')
		return HTML2MD_SPACE;
	if (cp < 0x80)
		return alnum((int)cp) ? HTML2MD_LETTER : HTML2MD_PUNCT;
	/* Unicode Zs as cmark 0.30 has it (cmark_utf8proc_is_space). */
	if (cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x202f || cp == 0x205f || cp == 0x3000)
		return HTML2MD_SPACE;
	return HTML2MD_UNSURE;
}

int
html2md_can_open(enum html2md_class l, enum html2md_class r)
{
	return r != HTML2MD_SPACE && (r == HTML2MD_LETTER ||
	    l == HTML2MD_SPACE || l == HTML2MD_PUNCT);
}

int
html2md_can_close(enum html2md_class l, enum html2md_class r)
{
	return l != HTML2MD_SPACE && (l == HTML2MD_LETTER ||
	    r == HTML2MD_SPACE || r == HTML2MD_PUNCT);
}

/* The class of a code point in placeholder text. */
static enum html2md_class
cp_class(uint32_t cp)
{
	if (cp == (uint32_t)M_BLOCK || cp == (uint32_t)M_BR)
		return HTML2MD_SPACE;
	if (cp < 0x09)
		return HTML2MD_PUNCT;	/* another delimiter: '*', '~', '<' */
	return html2md_class(cp);
}

static enum html2md_class
class_before(const char *s, size_t i)
{
	uint32_t	 cp;

	if (i == 0)
		return HTML2MD_SPACE;
	html_utf8_decode_last(s, i, &cp);
	return cp_class(cp);
}

static enum html2md_class
class_after(const char *s, size_t n, size_t i)
{
	uint32_t	 cp;

	if (i >= n)
		return HTML2MD_SPACE;
	html_utf8_decode(s + i, n - i, &cp);
	return cp_class(cp);
}

/* 1 if s[i] is a tilde or a strike placeholder (text tildes are "\~"). */
static int
tilde_at(const char *s, size_t n, size_t i)
{
	return i < n && (s[i] == '~' || s[i] == M_S_OPEN ||
	    s[i] == M_S_CLOSE || (s[i] == '\\' && i + 1 < n &&
	    s[i + 1] == '~'));
}

/* 1 if "~~" at i would touch another tilde and make a longer run. */
static int
tilde_near(const char *s, size_t n, size_t i)
{
	return (s[i] == M_S_OPEN || s[i] == M_S_CLOSE) &&
	    ((i > 0 && tilde_at(s, n, i - 1)) || tilde_at(s, n, i + 1));
}

/* The delimiter character a placeholder stands for. */
static char
delim_char(char m)
{
	return m == M_S_OPEN || m == M_S_CLOSE ? '~' : '*';
}

/*
 * Decides for each b/i/s placeholder pair in s whether Markdown reads the
 * delimiters back (1 in md[]) or inline HTML must stand in (0): the
 * flanking rules must hold, "~~" must stay a run of two, and an opener
 * that could also close (say in "x**y") must not sit inside a pair of
 * the same character, which it would close instead (CommonMark §6.2,
 * "process emphasis"), nor follow a closer of that character, whose run
 * it would lengthen.  Placeholders nest properly, as they come from a
 * tree.
 */
static int
pair_forms(const char *s, size_t n, unsigned char *md)
{
	size_t		 stack[HTML_MAX_DEPTH + 1], top = 0, i, o, k;
	unsigned char	 forced[HTML_MAX_DEPTH + 1];
	enum html2md_class l, r;

	for (i = 0; i < n; i++) {
		if (s[i] == M_B_OPEN || s[i] == M_I_OPEN || s[i] == M_S_OPEN) {
			if (top == sizeof(stack) / sizeof(stack[0]))
				return -1;
			l = class_before(s, i);
			r = class_after(s, n, i + 1);
			/* Right after a closer of its character, one run. */
			forced[top] = i > 0 && (s[i - 1] == M_B_CLOSE ||
			    s[i - 1] == M_I_CLOSE || s[i - 1] == M_S_CLOSE) &&
			    delim_char(s[i - 1]) == delim_char(s[i]);
			if (l != HTML2MD_SPACE && (l != HTML2MD_PUNCT ||
			    r != HTML2MD_LETTER))	/* it might close */
				for (k = 0; k < top; k++)
					if (delim_char(s[stack[k]]) ==
					    delim_char(s[i]))
						forced[top] = 1;
			stack[top++] = i;
		} else if (s[i] == M_B_CLOSE || s[i] == M_I_CLOSE ||
		    s[i] == M_S_CLOSE) {
			if (top == 0)
				return -1;
			o = stack[--top];
			md[o] = md[i] = !forced[top] &&
			    html2md_can_open(class_before(s, o),
			    class_after(s, n, o + 1)) &&
			    html2md_can_close(class_before(s, i),
			    class_after(s, n, i + 1)) &&
			    !tilde_near(s, n, o) && !tilde_near(s, n, i);
		}
	}
	return 0;
}

/*
 * 1 if s (n bytes, after '&') reads as a character reference once the
 * WORD JOINERs html2md put in go (its references are short).
 */
static int
reference_at(const char *s, size_t n)
{
	char	 t[64];
	size_t	 i, k = 0, wj = strlen(HTML2MD_WJ);

	for (i = 0; i < n && k < sizeof(t); i++) {
		if (n - i >= wj && memcmp(s + i, HTML2MD_WJ, wj) == 0)
			i += wj - 1;
		else
			t[k++] = s[i];
	}
	return entity_like(t, k);
}

/* Appends the break that ends a line inside inline content. */
static void
line_break(struct cv *cv, struct buf *b)
{
	switch (cv->where) {
	case IN_PARA:
		puts_(cv, b, "\\\n");
		break;
	case IN_HEADING:
		putc_(cv, b, ' ');
		break;
	case IN_CELL:
		puts_(cv, b, "<br>");
		break;
	}
}

/*
 * Resolves the placeholders of inline content s into out: delimiters or
 * tags, line breaks per cv->where (none at the start or end, one for a
 * run of block boundaries).
 */
static void
finish(struct cv *cv, const char *s, size_t n, struct buf *out)
{
	/* [0]: the Markdown delimiter, [1]: the inline HTML tag */
	static const char *const mark[2][6] = {
		{ "**", "**", "*", "*", "~~", "~~" },
		{ "<b>", "</b>", "<i>", "</i>", "<s>", "</s>" }
	};
	unsigned char	*form;
	size_t		 i, j, brs;
	int		 blk;

	if ((form = calloc(n + 1, 1)) == NULL || pair_forms(s, n, form) == -1) {
		free(form);
		cv->err = 1;
		return;
	}
	while (n > 0 && is_gap(s[n - 1]))
		n--;
	for (i = 0; i < n && is_gap(s[i]); i++)
		;
	for (; i < n; i++) {
		if (s[i] >= M_B_OPEN && s[i] <= M_S_CLOSE) {
			puts_(cv, out, mark[!form[i]][s[i] - M_B_OPEN]);
			continue;
		}
		if (s[i] == M_C_OPEN) {
			i = code_out(cv, s, n, i + 1, out);
			continue;
		}
		if (s[i] == M_US) {
			if (i == 0 || !alnum(s[i - 1]) || !alnum(s[i + 1]))
				putc_(cv, out, '\\');
			putc_(cv, out, '_');
			continue;
		}
		if (s[i] == M_AMP) {
			if (reference_at(s + i + 1, n - i - 1))
				putc_(cv, out, '\\');
			putc_(cv, out, '&');
			continue;
		}
		if (!is_gap(s[i])) {
			putc_(cv, out, s[i]);
			continue;
		}
		for (j = i, brs = 0, blk = 0; j < n && is_gap(s[j]); j++) {
			brs += s[j] == M_BR;
			blk |= s[j] == M_BLOCK;
		}
		if (brs == 0 && !blk)
			put(cv, out, s + i, j - i);
		else if (brs == 0)
			brs = 1;
		if (cv->where == IN_HEADING && brs > 1)
			brs = 1;	/* one space: html_write()'s too */
		for (; brs > 0; brs--)
			line_break(cv, out);
		i = j - 1;
	}
	free(form);
}

/* The length of the spaces, tabs and no-break spaces that start s. */
static size_t
blank_run(const char *s, size_t n)
{
	size_t	 i = 0;

	for (;;)
		if (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		else if (i + 1 < n && (unsigned char)s[i] == 0xc2 &&
		    (unsigned char)s[i + 1] == 0xa0)
			i += 2;
		else
			return i;
}

/*
 * Copies inline Markdown s to out, escaping what would start a block at
 * the start of a line (CommonMark §4, §5): ATX headings, block quotes,
 * list items, thematic breaks, setext underlines, and the ";;;" front
 * matter of GitLab.  text() escaped everything else.
 */
static void
line_starts(struct cv *cv, const char *s, size_t n, struct buf *out)
{
	size_t	 i = 0, d, e;
	char	 c, next;

	while (i < n) {
		for (e = i; e < n && s[e] != '\n'; e++)
			;
		/*
		 * A '/' first on a line, after any blank, is a GitLab quick
		 * action: escaped, it is text.
		 */
		d = i + blank_run(s + i, e - i);
		if (d < e && s[d] == '/') {
			put(cv, out, s + i, d - i);
			putc_(cv, out, '\\');
			i = d;
		}
		c = s[i];
		next = i + 1 < e ? s[i + 1] : '\n';
		for (d = i; d < e && digit(s[d]) && d - i < 10; d++)
			;
		if (c == '#' || c == '>' || ((c == '-' || c == '+' ||
		    c == '=') && (next == ' ' || next == '\n' || next == c)) ||
		    (c == ';' && e - i >= 3 && strncmp(s + i, ";;;", 3) == 0))
			putc_(cv, out, '\\');
		else if (d > i && d - i <= 9 && d < e && (s[d] == '.' ||
		    s[d] == ')') && (d + 1 == e || s[d + 1] == ' ')) {
			put(cv, out, s + i, d - i);
			putc_(cv, out, '\\');
			i = d;
		}
		e += e < n;
		put(cv, out, s + i, e - i);
		i = e;
	}
}

/*
 * Appends placeholder text t to out with each b, i or s closer and an
 * opener of its kind right after it joined, also where that makes other
 * ones touch: the elements touch, and html_write() makes them one.  Text
 * that then touches gets a WORD JOINER where it makes a reference.
 */
static void
join_marks(struct cv *cv, const struct buf *t, struct buf *out)
{
	size_t	 i;
	int	 joined = 0;
	char	 c;

	for (i = 0; i < t->len; i++) {
		c = t->data[i];
		if ((c == M_B_OPEN || c == M_I_OPEN || c == M_S_OPEN) &&
		    last_byte(out) == c + 1) {
			out->data[--out->len] = '\0';
			joined = 1;
			continue;
		}
		if (joined && html2md_ref_break(text_byte(out, 2),
		    text_byte(out, 1), (unsigned char)c))
			puts_(cv, out, HTML2MD_WJ);
		joined = 0;
		putc_(cv, out, c);
	}
}

/*
 * Renders siblings first..stop (excluded) as inline content of where.
 * A paragraph that is only GitLab's "[[_TOC_]]" or "[TOC]" stays one,
 * but in a list item, where md2html does not read it as one.
 */
static void
inline_block(struct cv *cv, const struct html_node *first,
    const struct html_node *stop, enum where where, struct buf *out)
{
	struct buf	 t, j, f;
	size_t		 k;

	buf_init(&t, cv->max);
	buf_init(&j, cv->max);
	buf_init(&f, cv->max);
	cv->where = where;
	inlines(cv, first, stop, &t);
	join_marks(cv, &t, &j);
	finish(cv, buf_str(&j), j.len, &f);
	if (where == IN_CELL) {
		k = blank_run(buf_str(&f), f.len);
		put(cv, out, buf_str(&f), k);
		if (k < f.len && f.data[k] == '/')
			putc_(cv, out, '\\');
		put(cv, out, buf_str(&f) + k, f.len - k);
	}
	else if (where == IN_PARA && cv->in_item == 0 &&
	    (strcmp(buf_str(&f), "\\[\\[\\_TOC\\_\\]\\]") == 0 ||
	    strcmp(buf_str(&f), "\\[TOC\\]") == 0))
		puts_(cv, out, f.len > 7 ? "[[_TOC_]]" : "[TOC]");
	else
		line_starts(cv, buf_str(&f), f.len, out);
	cv->where = IN_PARA;
	buf_release(&t);
	buf_release(&j);
	buf_release(&f);
}

/*
 * An ATX heading (CommonMark §4.2): Productboard has h1 and h2, so h3 to
 * h6 become "##" too.  A final '#' is escaped so it cannot close.
 */
static void
heading(struct cv *cv, const struct html_node *n, struct buf *out)
{
	struct buf	 t;

	buf_init(&t, cv->max);
	inline_block(cv, n->first, NULL, IN_HEADING, &t);
	if (t.len > 0) {
		puts_(cv, out, html_heading_level(n->tag) == 1 ? "# " : "## ");
		if (t.data[t.len - 1] == '#' &&
		    (t.len < 2 || t.data[t.len - 2] != '\\')) {
			put(cv, out, t.data, t.len - 1);
			puts_(cv, out, "\\#");
		} else
			put(cv, out, t.data, t.len);
	}
	buf_release(&t);
}

/* 1 if a line of s (n bytes) starts with '/'. */
static int
slash_line(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] == '/' && (i == 0 || s[i - 1] == '\n'))
			return 1;
	return 0;
}

/*
 * Appends the lines of code s (n bytes), each after prefix, with the
 * blanks that end a line as M_SP and M_TAB, which tidy() keeps.
 */
static void
code_lines(struct cv *cv, struct buf *out, const char *s, size_t n,
    const char *prefix)
{
	size_t	 i = 0, e, t;

	while (i < n) {
		for (e = i; e < n && s[e] != '\n'; e++)
			;
		for (t = e; t > i && (s[t - 1] == ' ' || s[t - 1] == '\t'); t--)
			;
		if (e > i)
			puts_(cv, out, prefix);
		put(cv, out, s + i, t - i);
		for (; t < e; t++)
			putc_(cv, out, s[t] == ' ' ? M_SP : M_TAB);
		if (e < n)
			putc_(cv, out, '\n');
		i = e + 1;
	}
}

/*
 * Cuts the lines of only spaces and tabs at both ends of code s (*n
 * bytes), which an indented code block cannot hold (CommonMark §4.4).
 */
static const char *
trim_blank_lines(const char *s, size_t *n)
{
	size_t	 k, e;

	while ((k = strspn(s, " \t")) < *n && s[k] == '\n') {
		s += k + 1;
		*n -= k + 1;
	}
	for (;;) {
		for (e = *n; e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t');
		    e--)
			;
		if (e == 0 || s[e - 1] != '\n')
			return s;
		*n = e - 1;		/* the last line was blank */
	}
}

/*
 * A fenced code block (CommonMark §4.5) with a fence longer than any run
 * of its character inside; the language of <pre class="language-x"> or
 * <pre><code class="language-x"> goes in the info string.  GitLab skips
 * quick actions only between a line starting "```" and the next line of
 * exactly "```", which code holding such a run would throw off.  So code
 * with a line starting with '/' becomes an indented block (no language),
 * whose lines start with spaces, and code holding "```" gets a "~~~"
 * fence: then no line of the output starts with '/' unescaped, whatever
 * GitLab pairs.  White space is kept, but for the final newlines.  Right
 * after a list, which would take an indented block into its last item,
 * HTML2MD_END_LIST goes first.
 */
static void
code_block(struct cv *cv, const struct html_node *n, struct buf *out,
    int after_list)
{
	struct buf	 t;
	const char	*lang = n->lang, *s;
	size_t		 len, k;
	char		 fc;

	if (lang == NULL && n->first != NULL && n->first->tag == HTML_CODE)
		lang = n->first->lang;
	buf_init(&t, cv->max);
	raw_text(cv, n, &t);
	/* A break is a newline, a block starts and ends a line. */
	for (k = len = 0; k < t.len; k++)
		if (t.data[k] == M_BR || (t.data[k] == M_BLOCK && len > 0 &&
		    t.data[len - 1] != '\n'))
			t.data[len++] = '\n';
		else if (t.data[k] != M_BLOCK)
			t.data[len++] = t.data[k];
	s = buf_str(&t);
	/* Browsers drop a newline right after <pre> (not after <code>). */
	if (len > 0 && s[0] == '\n' && n->first != NULL &&
	    n->first->tag == HTML_TEXT)
		s++, len--;
	while (len > 0 && s[len - 1] == '\n')
		len--;
	if (slash_line(s, len)) {
		if (after_list)
			puts_(cv, out, HTML2MD_END_LIST "\n\n");
		s = trim_blank_lines(s, &len);
		code_lines(cv, out, s, len, "    ");
		buf_release(&t);
		return;
	}
	fc = longest_run(s, len, '`') >= 3 ? '~' : '`';
	k = longest_run(s, len, fc) + 1;
	fence(cv, out, fc, k < 3 ? 3 : k);
	if (lang != NULL && len > 0)	/* md2html keeps none for no code */
		put(cv, out, lang, strspn(lang, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+#.-"));
	putc_(cv, out, '\n');
	if (len > 0) {
		code_lines(cv, out, s, len, "");
		putc_(cv, out, '\n');
	}
	fence(cv, out, fc, k < 3 ? 3 : k);
	buf_release(&t);
}

/*
 * Appends s with first before its first line, rest before the others
 * and blank before empty lines; sep ('\v' placeholders) becomes brk.
 */
static void
indent(struct cv *cv, struct buf *out, const char *s, const char *first,
    const char *rest, const char *blank, const char *brk)
{
	int	 bol = 1, line = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\v') {
			puts_(cv, out, brk);
			bol = 1;
			continue;
		}
		if (bol)
			puts_(cv, out, *s == '\n' ? blank :
			    line++ == 0 ? first : rest);
		putc_(cv, out, *s);
		bol = *s == '\n';
	}
}

static void
quote(struct cv *cv, const struct html_node *n, struct buf *out)
{
	struct buf	 t;
	struct seq	 sq;

	memset(&sq, 0, sizeof(sq));
	buf_init(&t, cv->max);
	blocks(cv, n->first, NULL, &t, "\n\n", &sq);
	if (t.len > 0)
		indent(cv, out, t.data, "> ", "> ", ">", "");
	buf_release(&t);
}

/* One rendered list item, kept until the list knows if it is loose. */
struct item {
	struct buf	 md;
	enum html_check	 check;
	struct seq	 sq;
};

/*
 * Renders the items of a list, '\v' between their blocks: the list is
 * loose (blank lines) if any item needs it.  Stray content between items
 * becomes an item of its own.  Returns the number of items.
 */
static size_t
list_items(struct cv *cv, const struct html_node *n, struct item **out)
{
	const struct html_node *c, *stop;
	struct item	*v = NULL, *t;
	size_t		 k = 0, cap = 0;

	for (c = n->first; c != NULL && !cv->err; c = stop) {
		for (stop = c->next; c->tag != HTML_LI && stop != NULL &&
		    stop->tag != HTML_LI; stop = stop->next)
			;
		/* Doubling: a list may have as many items as the input bytes. */
		if (k == cap) {
			if ((t = reallocarray(v, cap * 2 + 8, sizeof(*v))) ==
			    NULL) {
				cv->err = 1;
				break;
			}
			v = t;
			cap = cap * 2 + 8;
		}
		memset(&v[k], 0, sizeof(v[k]));
		buf_init(&v[k].md, cv->max);
		cv->in_item++;
		if (c->tag == HTML_LI) {
			v[k].check = html_task_check(c);
			blocks(cv, c->first, NULL, &v[k].md, "\v", &v[k].sq);
		} else
			blocks(cv, c, stop, &v[k].md, "\v", &v[k].sq);
		cv->in_item--;
		k++;
	}
	*out = v;
	return k;
}

/*
 * A list (CommonMark §5.2, §5.3): "-" or "1." markers, "*" or "1)" when
 * it follows a list of its kind, which it would join otherwise; content
 * indented to the content column; empty items dropped; checkboxes as
 * "[ ]" and "[x]" (GLFM task lists).
 */
static void
list(struct cv *cv, const struct html_node *n, struct buf *out, int alt)
{
	struct item	*v;
	struct buf	 body;
	size_t		 k, i, w;
	long		 num = n->start;
	int		 loose = 0, any = 0;
	char		 mark[16], pad[16];
	const char	*md;

	k = list_items(cv, n, &v);
	/* A checkbox is a line of text before the item's blocks. */
	for (i = 0; i < k; i++)
		loose |= v[i].sq.loose || (v[i].check != HTML_CHECK_NONE &&
		    v[i].sq.n > 0 && v[i].sq.first != HTML_P && !v[i].sq.lead);
	for (i = 0; i < k; i++) {
		if (v[i].md.len == 0 && v[i].check == HTML_CHECK_NONE)
			continue;
		buf_init(&body, cv->max);
		md = buf_str(&v[i].md);
		if (v[i].check != HTML_CHECK_NONE)
			puts_(cv, &body, v[i].check == HTML_CHECK_DONE ? "[x]" :
			    "[ ]");
		if (v[i].check != HTML_CHECK_NONE && v[i].md.len > 0)
			puts_(cv, &body, v[i].sq.first == HTML_P ? " " : "\v");
		/* "- ---" would be one thematic break. */
		if (n->tag == HTML_UL && !alt && strncmp(md, "---", 3) == 0 &&
		    (md[3] == '\0' || md[3] == '\v')) {
			puts_(cv, &body, "***");
			md += 3;
		}
		puts_(cv, &body, md);
		if (n->tag == HTML_OL)
			snprintf(mark, sizeof(mark), "%ld%c ", num, alt ? ')' :
			    '.');
		else
			snprintf(mark, sizeof(mark), "%c ", alt ? '*' : '-');
		num += num < 999999999;
		w = strlen(mark);
		memset(pad, ' ', w);
		pad[w] = '\0';
		if (any)
			puts_(cv, out, loose ? "\n\n" : "\n");
		any = 1;
		indent(cv, out, buf_str(&body), mark, pad, "",
		    loose ? "\n\n" : "\n");
		buf_release(&body);
	}
	for (i = 0; i < k; i++)
		buf_release(&v[i].md);
	free(v);
}

/*
 * A GFM pipe table: the first row is the header (Markdown needs one, with
 * every column), blocks inside cells are joined by <br>.  Short rows are
 * padded while the padding stays within twice the cells there are, the
 * header's counted in full, as md2html counts them (mdtable.c): GFM pads
 * them itself, and a ragged table must not make quadratic output.
 */
static void
table(struct cv *cv, const struct html_node *n, struct buf *out)
{
	const struct html_node **v = NULL, *c;
	size_t		 k = 0, cap = 0, i, j, cols = 0, all = 0, padding = 0;
	int		 head = 1, pad;

	if (html_table_rows(n, &v, &k, &cap) == -1)
		cv->err = 1;
	for (i = 0; i < k; i++)
		if (html_row_cells(v[i]) > cols)
			cols = html_row_cells(v[i]);
	for (i = 0; i < k; i++) {
		if ((j = html_row_cells(v[i])) == 0)
			continue;
		if (all == 0)		/* the header, always padded */
			all = cols;
		else {
			all += j;
			padding += cols - j;
		}
	}
	pad = padding <= 2 * all;
	for (i = 0; i < k && cols > 0; i++) {
		if (html_row_cells(v[i]) == 0)
			continue;
		if (!head)
			putc_(cv, out, '\n');
		putc_(cv, out, '|');
		for (c = v[i]->first, j = 0; c != NULL; c = c->next) {
			if (c->tag != HTML_TD && c->tag != HTML_TH)
				continue;
			putc_(cv, out, ' ');
			inline_block(cv, c->first, NULL, IN_CELL, out);
			puts_(cv, out, " |");
			j++;
		}
		for (; (head || pad) && j < cols; j++)
			puts_(cv, out, "  |");
		if (head) {
			puts_(cv, out, "\n|");
			for (j = 0; j < cols; j++)
				puts_(cv, out, " --- |");
		}
		head = 0;
	}
	free(v);
}

static int
is_block_node(const struct html_node *n)
{
	return n->tag != HTML_TEXT && html_is_block(n->tag);
}

/* Blocks whose content joins the blocks around them. */
static int
is_flat(const struct html_node *n)
{
	return n->tag == HTML_DIV || n->tag == HTML_LI || n->tag == HTML_TR ||
	    n->tag == HTML_TD || n->tag == HTML_TH || n->tag == HTML_THEAD ||
	    n->tag == HTML_TBODY || n->tag == HTML_TFOOT;
}

/* Renders one block element; returns its kind for struct seq. */
static enum html_tag
block(struct cv *cv, const struct html_node *c, struct buf *out,
    struct seq *sq)
{
	int	 alt;

	switch (c->tag) {
	case HTML_P:
		inline_block(cv, c->first, NULL, IN_PARA, out);
		return HTML_P;
	case HTML_UL: case HTML_OL:
		alt = sq->n > 0 && sq->prev == c->tag ? !sq->alt : 0;
		list(cv, c, out, alt);
		sq->alt = alt;
		return c->tag;
	case HTML_PRE:
		code_block(cv, c, out, sq->n > 0 && (sq->prev == HTML_UL ||
		    sq->prev == HTML_OL));
		return HTML_PRE;
	case HTML_BLOCKQUOTE:
		quote(cv, c, out);
		return HTML_BLOCKQUOTE;
	case HTML_HR:
		puts_(cv, out, "---");
		return HTML_HR;
	case HTML_TABLE:
		table(cv, c, out);
		return HTML_TABLE;
	default:
		heading(cv, c, out);
		return HTML_H1;
	}
}

/*
 * Renders siblings c..stop (excluded) as blocks separated by sep; a run
 * of inline siblings is a paragraph, and generic containers (div, ...)
 * are flattened into the run.  Records in sq what it emitted.
 */
static void
blocks(struct cv *cv, const struct html_node *c, const struct html_node *stop,
    struct buf *out, const char *sep, struct seq *sq)
{
	const struct html_node *next;
	enum html_tag	 kind;
	size_t		 before, start;
	int		 alt_was;

	for (; c != NULL && c != stop && !cv->err; c = next) {
		next = c->next;
		if (is_block_node(c) && is_flat(c)) {
			blocks(cv, c->first, NULL, out, sep, sq);
			continue;
		}
		before = out->len;
		alt_was = sq->alt;
		if (sq->n > 0)
			puts_(cv, out, sep);
		start = out->len;
		if (is_block_node(c))
			kind = block(cv, c, out, sq);
		else {
			while (next != NULL && next != stop &&
			    !is_block_node(next))
				next = next->next;
			kind = HTML_P;
			inline_block(cv, c, next, IN_PARA, out);
		}
		if (out->len == start) {	/* nothing: as if not there */
			out->len = before;
			if (out->data != NULL)
				out->data[before] = '\0';
			sq->alt = alt_was;
			continue;
		}
		/* In a tight list item only a list may follow a block. */
		if (sq->n > 0 && ((kind != HTML_UL && kind != HTML_OL) ||
		    (sq->prev == HTML_P && kind == HTML_OL && c->start != 1)))
			sq->loose = 1;
		if (sq->n++ == 0) {
			sq->first = kind;
			sq->lead = kind == HTML_UL || (kind == HTML_OL &&
			    c->start == 1);
		}
		sq->prev = kind;
	}
}

/*
 * Drops white space at line ends and blank lines at both ends; the
 * blanks code_lines() kept become themselves again.
 */
static void
tidy(struct buf *b)
{
	size_t	 r, w = 0, s = 0;

	for (r = 0; r < b->len; r++) {
		if (b->data[r] == '\n')
			while (w > 0 && (b->data[w - 1] == ' ' ||
			    b->data[w - 1] == '\t'))
				w--;
		b->data[w++] = b->data[r];
	}
	while (w > 0 && strchr(" \t\n", b->data[w - 1]) != NULL)
		w--;
	while (s < w && b->data[s] == '\n')
		s++;
	for (r = s; r < w; r++)
		if (b->data[r] == M_SP || b->data[r] == M_TAB)
			b->data[r] = b->data[r] == M_SP ? ' ' : '\t';
	if (b->data != NULL) {
		memmove(b->data, b->data + s, w - s);
		b->data[w - s] = '\0';
	}
	b->len = w - s;
}

/*
 * Makes each <pre> that is written as inline content (in a heading, a
 * table cell or an inline element, where blocks() does not reach) a
 * <div>, which inlines() flattens alike: html_collapse_space() then lays
 * its white space out as the text around it, as Markdown will.
 */
static void
inline_pres(struct html_node *n, int in_inline)
{
	struct html_node *c;

	for (c = n->first; c != NULL; c = c->next) {
		if (c->tag == HTML_PRE && in_inline)
			c->tag = HTML_DIV;
		if (c->tag != HTML_PRE && c->tag != HTML_TEXT)
			inline_pres(c, in_inline || (c->tag != HTML_DIV &&
			    c->tag != HTML_LI && c->tag != HTML_BLOCKQUOTE &&
			    c->tag != HTML_UL && c->tag != HTML_OL));
	}
}

int
html2md_convert(const char *html, size_t len, struct buf *out)
{
	struct html_node *root;
	struct cv	 cv;
	struct seq	 sq;
	struct buf	 t;
	int		 rc = -1;

	if ((root = html_parse(html, len)) == NULL)
		return -1;
	inline_pres(root, 0);
	html_collapse_space(root);
	memset(&cv, 0, sizeof(cv));
	memset(&sq, 0, sizeof(sq));
	cv.max = out->max;
	buf_init(&t, out->max);
	blocks(&cv, root->first, NULL, &t, "\n\n", &sq);
	tidy(&t);
	if (t.len > 0)
		putc_(&cv, &t, '\n');
	if (!cv.err && buf_append(out, buf_str(&t), t.len) == 0)
		rc = 0;
	buf_release(&t);
	html_free(root);
	return rc;
}
