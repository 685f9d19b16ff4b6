#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "adf_check.h"
#include "base/buf.h"
#include "conv_check.h"
#include "convert/adf.h"
#include "convert/html.h"
#include "convert/md2html.h"
#include "golden.h"

#define MAX	(1u << 24)

/* A document of the given content nodes. */
#define DOC(c)	"{\"version\":1,\"type\":\"doc\",\"content\":[" c "]}"
#define TXT(s)	"{\"type\":\"text\",\"text\":\"" s "\"}"
#define PARA(c)	"{\"type\":\"paragraph\",\"content\":[" c "]}"

/* HTML and the exact ADF it gives. */
static const struct {
	int		 line;
	const char	*html, *adf;
} from_cases[] = {
	{ __LINE__, "<p>Hello</p>", DOC(PARA(TXT("Hello"))) },
	{ __LINE__, "", DOC("") },
	{ __LINE__, "<p> </p><ul><li></li></ul><h2><b></b></h2>", DOC("") },
	/* Text is text, whatever it says. */
	{ __LINE__, "<p>@ceo :smile: https://x.io [~accountid:1]</p>",
	    DOC(PARA(TXT("@ceo :smile: https://x.io [~accountid:1]"))) },
	/* Code takes no other mark but link. */
	{ __LINE__, "<p><b><code>x</code></b></p>", DOC(PARA(
	    "{\"type\":\"text\",\"text\":\"x\",\"marks\":[{\"type\":\"code\"}]}"
	    )) },
	{ __LINE__, "<p><a href=\"javascript:alert(1)\">click</a></p>",
	    DOC(PARA(TXT("click"))) },
	{ __LINE__, "<p>a<br>b<br></p>", DOC(PARA(TXT("a")
	    ",{\"type\":\"hardBreak\"}," TXT("b"))) },
	{ __LINE__, "<hr>", DOC("{\"type\":\"rule\"}") },
	/* After a link, a break in a heading is a space without the link. */
	{ __LINE__, "<h2>x<a href=\"https://x.io\">y</a><pre>z</pre></h2>",
	    DOC("{\"type\":\"heading\",\"attrs\":{\"level\":2},\"content\":["
	    TXT("x") ",{\"type\":\"text\",\"text\":\"y\",\"marks\":[{"
	    "\"type\":\"link\",\"attrs\":{\"href\":\"https://x.io\"}}]},"
	    TXT(" z") "]}") },
	/* A lone blank keeps marks only between texts of the same marks. */
	{ __LINE__, "<p><b>x</b><b> </b><b>y</b><s> </s>z</p>", DOC(PARA(
	    "{\"type\":\"text\",\"text\":\"x y\",\"marks\":[{\"type\":"
	    "\"strong\"}]}," TXT(" z"))) },
	{ __LINE__, "<ul><li><ul><li>x</li></ul></li></ul>",
	    DOC("{\"type\":\"bulletList\",\"content\":[{\"type\":\"listItem\","
	    "\"content\":[{\"type\":\"paragraph\",\"content\":[]},"
	    "{\"type\":\"bulletList\",\"content\":[{\"type\":\"listItem\","
	    "\"content\":[" PARA(TXT("x")) "]}]}]}]}") },
	{ __LINE__, "<blockquote><h1>T</h1><hr><p>x</p></blockquote>",
	    DOC("{\"type\":\"blockquote\",\"content\":[" PARA(TXT("T")) ","
	    PARA(TXT("x")) "]}") },
};

/* ADF and the exact HTML it gives. */
static const struct {
	int		 line;
	const char	*adf, *html;
} to_cases[] = {
	{ __LINE__, DOC(PARA(TXT("Hello"))), "<p>Hello</p>" },
	{ __LINE__, "", "" },
	{ __LINE__, " null ", "" },
	{ __LINE__, "\"plain <b>\"", "<p>plain &lt;b&gt;</p>" },
	{ __LINE__, DOC(PARA("{\"type\":\"mention\",\"attrs\":{\"id\":\"1\","
	    "\"text\":\"@ceo\"}}")), "<p>@ceo</p>" },
	{ __LINE__, DOC(PARA(TXT("a") ",{\"type\":\"hardBreak\"}," TXT("b"))),
	    "<p>a<br/>b</p>" },
	{ __LINE__, DOC("{\"type\":\"panel\",\"attrs\":{\"panelType\":"
	    "\"info\"},\"content\":[" PARA(TXT("note")) "]}"), "<p>note</p>" },
	{ __LINE__, DOC(PARA("{\"type\":\"text\",\"text\":\"x\",\"marks\":[{"
	    "\"type\":\"link\",\"attrs\":{\"href\":\"javascript:x\"}}]}")),
	    "<p>x</p>" },
	{ __LINE__, DOC("{\"type\":\"wibble\",\"content\":[" TXT("kept") "]}"),
	    "<p>kept</p>" },
	/* In <code> a <br/> would read back as a space. */
	{ __LINE__, DOC(PARA("{\"type\":\"text\",\"text\":\"x\",\"marks\":"
	    "[{\"type\":\"code\"}]},{\"type\":\"hardBreak\"},{\"type\":"
	    "\"text\",\"text\":\"y\",\"marks\":[{\"type\":\"code\"}]}")),
	    "<p><code>x</code><br/><code>y</code></p>" },
	/* Bare <pre> unless a newline first would be lost in it. */
	{ __LINE__, DOC("{\"type\":\"codeBlock\",\"content\":[" TXT("\\nx")
	    "]},{\"type\":\"codeBlock\",\"content\":[" TXT("y") "]}"),
	    "<pre><code>\nx</code></pre><pre>y</pre>" },
};

/* Checks json against ADF's rules; prints why not. */
static int
valid(const char *what, const char *json, size_t len)
{
	char	 why[160];

	if (adf_ok(json, len, why, sizeof(why)))
		return 1;
	printf("# %s: not valid ADF: %s\n", what, why);
	return 0;
}

/* Checks that html is Productboard's kind of HTML. */
static int
allowed(const char *what, const char *html, size_t len)
{
	char	 why[128];

	if (conv_html_ok(html, len, why, sizeof(why)))
		return 1;
	printf("# %s: %s\n", what, why);
	return 0;
}

/* html_write()'s normal form of html, or NULL. */
static char *
normal(const char *html, size_t len)
{
	struct html_node *root;
	struct buf	 b;

	if ((root = html_parse(html, len)) == NULL)
		return NULL;
	html_collapse_space(root);
	buf_init(&b, MAX);
	if (html_write(&b, root) == -1 || buf_puts(&b, "") == -1) {
		buf_release(&b);
		html_free(root);
		return NULL;
	}
	html_free(root);
	return buf_detach(&b);
}

/* The converters' normal form of html (html → md → html), or NULL. */
static char *
md_normal(const char *html, size_t len)
{
	struct buf	 b;

	buf_init(&b, MAX);
	if (md2html_normalize(html, len, &b) == -1 || buf_puts(&b, "") == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* cJSON's indented form of compact JSON, with a final newline. */
static char *
pretty(const char *json, size_t len)
{
	cJSON	*j;
	char	*s, *t = NULL;

	if ((j = cJSON_ParseWithLength(json, len)) == NULL)
		return NULL;
	if ((s = cJSON_Print(j)) != NULL && (t = malloc(strlen(s) + 2)) != NULL)
		snprintf(t, strlen(s) + 2, "%s\n", s);
	cJSON_free(s);
	cJSON_Delete(j);
	return t;
}

static void
cases(void)
{
	struct buf	 b;
	char		 what[64];
	size_t		 i;

	for (i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++) {
		buf_init(&b, MAX);
		snprintf(what, sizeof(what), "from_html at line %d",
		    from_cases[i].line);
		if (adf_from_html(from_cases[i].html,
		    strlen(from_cases[i].html), &b) == -1)
			t_check(0, what, __FILE__, from_cases[i].line);
		else if (!t_check(strcmp(buf_str(&b), from_cases[i].adf) == 0 &&
		    valid(what, buf_str(&b), b.len), what, __FILE__,
		    from_cases[i].line))
			printf("# got:      %s\n# expected: %s\n", buf_str(&b),
			    from_cases[i].adf);
		buf_release(&b);
	}
	for (i = 0; i < sizeof(to_cases) / sizeof(to_cases[0]); i++) {
		buf_init(&b, MAX);
		snprintf(what, sizeof(what), "to_html at line %d",
		    to_cases[i].line);
		if (adf_to_html(to_cases[i].adf, strlen(to_cases[i].adf),
		    &b) == -1)
			t_check(0, what, __FILE__, to_cases[i].line);
		else if (!t_check(strcmp(buf_str(&b), to_cases[i].html) == 0 &&
		    allowed(what, buf_str(&b), b.len), what, __FILE__,
		    to_cases[i].line))
			printf("# got:      %s\n# expected: %s\n", buf_str(&b),
			    to_cases[i].html);
		buf_release(&b);
	}
}

/*
 * tests/data/adf/from_html/NAME.html must give NAME.json (indented by
 * cJSON), valid ADF; tests/data/adf/to_html/NAME.json must give
 * NAME.html (without its final newline), Productboard's HTML.
 */
static void
golden(void)
{
	char		**names, what[256], *in, *want, *got;
	size_t		 n, m, i, ilen, wlen;
	struct buf	 b;
	int		 ok = 1;

	names = golden_list("adf/from_html", ".html", &n);
	CHECK(n >= 20);
	for (i = 0; i < n; i++) {
		in = golden_load("adf/from_html", names[i], ".html", &ilen);
		want = golden_load("adf/from_html", names[i], ".json", &wlen);
		buf_init(&b, MAX);
		snprintf(what, sizeof(what), "from_html %s", names[i]);
		got = NULL;
		if (in != NULL && adf_from_html(in, ilen, &b) == 0) {
			ok &= valid(what, buf_str(&b), b.len);
			got = pretty(buf_str(&b), b.len);
		}
		golden_check(what, got, got != NULL ? strlen(got) : 0, want,
		    wlen);
		free(got);
		buf_release(&b);
		free(in);
		free(want);
	}
	golden_free(names);
	names = golden_list("adf/to_html", ".json", &m);
	CHECK(m >= 12);
	for (i = 0; i < m; i++) {
		in = golden_load("adf/to_html", names[i], ".json", &ilen);
		want = golden_load("adf/to_html", names[i], ".html", &wlen);
		if (want != NULL && wlen > 0 && want[wlen - 1] == '\n')
			want[--wlen] = '\0';
		buf_init(&b, MAX);
		snprintf(what, sizeof(what), "to_html %s", names[i]);
		if (in == NULL || adf_to_html(in, ilen, &b) == -1)
			t_check(0, what, __FILE__, __LINE__);
		else {
			golden_check(what, buf_str(&b), b.len, want, wlen);
			ok &= allowed(what, buf_str(&b), b.len);
		}
		buf_release(&b);
		free(in);
		free(want);
	}
	golden_free(names);
	CHECK(n + m >= 25);
	CHECK(ok);
}

/* 1 if name is listed (as "name:") in the differences file. */
static int
listed(const char *list, const char *name)
{
	const char	*p;
	size_t		 n = strlen(name);

	for (p = list; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ':')
			return 1;
	return 0;
}

/*
 * The round trip of every HTML file of tests/data/dir: adf1 =
 * from_html(html), back = to_html(adf1).  Checked per file: adf1 is
 * valid, back is Productboard's HTML, from_html(back) is adf1 again (a
 * fixed point).  Counted: back equal to html_write()'s normal form of
 * the input (exact), and equal to it in the converters' normal form,
 * html → md → html (same meaning).  Files that differ in meaning must
 * be listed in tests/data/adf/roundtrip-differences.txt with the reason,
 * and listed ones must still differ.
 */
static void
roundtrips(const char *dir, const char *diffs)
{
	char		**names, what[256], *html, *norm, *m1, *m2;
	size_t		 n, i, len, exact = 0, same = 0;
	struct buf	 a1, back, a2;
	int		 fix, meaning, ok = 1, honest = 1;

	names = golden_list(dir, ".html", &n);
	for (i = 0; i < n; i++) {
		html = golden_load(dir, names[i], ".html", &len);
		buf_init(&a1, MAX);
		buf_init(&back, MAX);
		buf_init(&a2, MAX);
		snprintf(what, sizeof(what), "adf round trip %s/%s", dir,
		    names[i]);
		fix = html != NULL && adf_from_html(html, len, &a1) == 0 &&
		    adf_to_html(buf_str(&a1), a1.len, &back) == 0 &&
		    adf_from_html(buf_str(&back), back.len, &a2) == 0;
		ok &= fix && valid(what, buf_str(&a1), a1.len) &&
		    allowed(what, buf_str(&back), back.len);
		golden_check(what, fix ? buf_str(&a2) : NULL, a2.len,
		    buf_str(&a1), a1.len);
		norm = fix ? normal(html, len) : NULL;
		m1 = fix ? md_normal(html, len) : NULL;
		m2 = fix ? md_normal(buf_str(&back), back.len) : NULL;
		exact += norm != NULL && strcmp(norm, buf_str(&back)) == 0;
		meaning = m1 != NULL && m2 != NULL && strcmp(m1, m2) == 0;
		same += meaning;
		if (diffs != NULL && meaning == listed(diffs, names[i])) {
			printf("# %s: %s\n# in:   %s\n# back: %s\n", what,
			    meaning ? "listed as different but the same" :
			    "differs in meaning and is not listed",
			    m1 != NULL ? m1 : "", m2 != NULL ? m2 : "");
			honest = 0;
		}
		if (norm != NULL && strcmp(norm, buf_str(&back)) != 0)
			printf("# %s not exact:\n#  in:   %s\n#  back: %s\n",
			    names[i], norm, buf_str(&back));
		free(norm);
		free(m1);
		free(m2);
		free(html);
		buf_release(&a1);
		buf_release(&back);
		buf_release(&a2);
	}
	printf("# tests/data/%s: %zu files, %zu exact, %zu same meaning\n",
	    dir, n, exact, same);
	golden_free(names);
	CHECK(n >= 20);
	CHECK(ok);
	if (diffs != NULL)
		CHECK(honest);
}

/*
 * ADF → HTML → ADF gives the same ADF for HTML the normal forms treat
 * apart: marks on lone blanks, <pre> inside inline content, code next
 * to a line break.  (Found by fuzz_adf with PBSYNC_FUZZ_FIXPOINT.)
 */
static void
fixpoints(void)
{
	static const char *const html[] = {
		"<p><b><i>a</i></b><code>c</code><b><i> </i></b><code>d</code>"
		    "</p>",
		"<p><b>x</b><b> </b><b>y</b> <s>old</s> <u>new</u></p>",
		"<p><a href=\"https://x.io\">a</a><a href=\"https://x.io\"> "
		    "</a>b</p>",
		"<h1>x<pre>\n  a  \n\tb\n</pre>y</h1>",
		"<h2>a<br><code>b</code><br>c <br><s>d</s><br><br>e</h2>",
		"<p><a href=\"https://x.io\">a<b> </b></a>c</p>",
		"<h2><a href=\"https://x.io\">a<pre>b </pre></a><b> </b>"
		    "<code>c</code></h2>",
		"<p>a<br><a href=\"https://x.io\">b<pre>c\n\n</pre></a><br>"
		    "<code>d</code></p>",
		"<p>a<code>b<pre>c\nd</pre></code>e</p>",
		"<pre class=\"language-c\"></pre><pre>a\fb\x01c</pre>",
		"<ul><li><input type=\"checkbox\"> <b> </b>t</li></ul>",
		/* A task list made and undone must not use up localIds. */
		"<ul><li>x<ul><li><input type=\"checkbox\">y</li></ul></li>"
		    "</ul>"
		    "<ul><li><input type=\"checkbox\" checked>z</li></ul>",
	};
	struct buf	 a1, h, a2;
	char		 what[64];
	size_t		 i;

	for (i = 0; i < sizeof(html) / sizeof(html[0]); i++) {
		buf_init(&a1, MAX);
		buf_init(&h, MAX);
		buf_init(&a2, MAX);
		snprintf(what, sizeof(what), "fixed point %zu", i);
		if (adf_from_html(html[i], strlen(html[i]), &a1) == -1 ||
		    adf_to_html(buf_str(&a1), a1.len, &h) == -1 ||
		    adf_from_html(buf_str(&h), h.len, &a2) == -1)
			t_check(0, what, __FILE__, __LINE__);
		else
			golden_check(what, buf_str(&a2), a2.len, buf_str(&a1),
			    a1.len);
		buf_release(&a1);
		buf_release(&h);
		buf_release(&a2);
	}
}

/* Converts html (len 0: strlen); 1 if it gave valid ADF. */
static int
from_ok(const char *what, const char *html, size_t len, struct buf *b)
{
	if (len == 0)
		len = strlen(html);
	buf_reset(b);
	if (adf_from_html(html, len, b) == -1) {
		printf("# %s: failed\n", what);
		return 0;
	}
	return valid(what, buf_str(b), b->len);
}

/* Converts adf (len 0: strlen); 1 if it gave Productboard's HTML. */
static int
to_ok(const char *what, const char *adf, size_t len, struct buf *b)
{
	if (len == 0)
		len = strlen(adf);
	buf_reset(b);
	if (adf_to_html(adf, len, b) == -1) {
		printf("# %s: failed\n", what);
		return 0;
	}
	return allowed(what, buf_str(b), b->len);
}

/* Hostile HTML: deep, long, odd; the result must still be valid ADF. */
static void
hostile_html(void)
{
	struct buf	 in, out;
	size_t		 i;

	buf_init(&in, MAX);
	buf_init(&out, MAX);
	for (i = 0; i < 5000; i++)
		buf_puts(&in, "<ul><li>x");
	CHECK(from_ok("5000 nested lists", buf_str(&in), in.len, &out));
	CHECK(strstr(buf_str(&out), "\"x\"") != NULL);
	buf_reset(&in);
	for (i = 0; i < 5000; i++)
		buf_puts(&in, "<blockquote><table><tr><td><ol><li><pre>");
	buf_puts(&in, "deep");
	CHECK(from_ok("5000 nested quotes, tables", buf_str(&in), in.len,
	    &out));
	CHECK(strstr(buf_str(&out), "deep") != NULL);
	buf_reset(&in);
	for (i = 0; i < 100000; i++)
		buf_puts(&in, "<b><i><code>");
	buf_puts(&in, "x");
	CHECK(from_ok("100000 open marks", buf_str(&in), in.len, &out));
	buf_reset(&in);
	buf_puts(&in, "<p>");
	for (i = 0; i < 200000; i++)
		buf_puts(&in, "text &amp; more ");
	buf_puts(&in, "</p>");
	CHECK(from_ok("3 MB of text", buf_str(&in), in.len, &out));
	CHECK(out.len > 200000 * strlen("text & more "));
	buf_reset(&in);
	for (i = 0; i < 20000; i++)
		buf_puts(&in, "<li><input type=\"checkbox\">t<ul>");
	CHECK(from_ok("20000 nested checklists", buf_str(&in), in.len, &out));
	/* Mentions, emoji, links in text: only text and links come out. */
	CHECK(from_ok("lookalikes", "<p>@here "
	    "[~accountid:5b10a2844c20165700ede21g] :smile: &lt;@U123&gt; "
	    "<a href=\"https://x.io/@ceo\">@ceo</a> "
	    "www.x.io</p>", 0, &out));
	CHECK(strstr(buf_str(&out), "mention") == NULL &&
	    strstr(buf_str(&out), "emoji") == NULL &&
	    strstr(buf_str(&out), "inlineCard") == NULL);
	buf_release(&in);
	buf_release(&out);
}

/* A ragged table must not grow quadratically (padding is bounded). */
static void
ragged(void)
{
	struct buf	 in, out;
	size_t		 i;

	buf_init(&in, MAX);
	buf_init(&out, MAX);
	/* Padded, this would be a million cells, some 80 MB of JSON. */
	buf_puts(&in, "<table><tr>");
	for (i = 0; i < 1000; i++)
		buf_puts(&in, "<td>c</td>");
	for (i = 0; i < 1000; i++)
		buf_puts(&in, "<tr><td>r</td>");
	buf_puts(&in, "</table>");
	CHECK(from_ok("1000 x 1000 ragged table", buf_str(&in), in.len,
	    &out));
	CHECK(out.len < 40 * in.len);
	/* A table short rows of which are cheap to pad is padded. */
	CHECK(from_ok("padded", "<table><tr><td>a</td><td>b</td></tr>"
	    "<tr><td>c</td></tr></table>", 0, &out));
	i = 0;
	for (const char *p = buf_str(&out); (p = strstr(p, "tableCell")) !=
	    NULL; p++)
		i++;
	CHECK_INT(i, 4);
	buf_release(&in);
	buf_release(&out);
}

/* Hostile ADF: deep, broken, lying about types. */
static void
hostile_adf(void)
{
	static const char wrong[] = DOC("1,\"s\",null,[],{\"type\":7},"
	    "{\"type\":\"text\",\"text\":5},{\"type\":\"paragraph\","
	    "\"content\":\"x\"},{\"type\":\"orderedList\",\"attrs\":"
	    "{\"order\":1e300},\"content\":[" PARA(TXT("o")) "]},"
	    "{\"type\":\"heading\",\"attrs\":{\"level\":\"1\"},"
	    "\"content\":[" TXT("h") "]}");
	struct buf	 in, out;
	size_t		 i;

	buf_init(&in, MAX);
	buf_init(&out, MAX);
	/* 490 levels: under cJSON's nesting limit, far past ADF_MAX_DEPTH. */
	buf_puts(&in, "{\"type\":\"doc\",\"content\":[");
	for (i = 0; i < 490; i++)
		buf_puts(&in, "{\"type\":\"blockquote\",\"content\":[");
	buf_puts(&in, TXT("bottom"));
	for (i = 0; i < 490; i++)
		buf_puts(&in, "]}");
	buf_puts(&in, "]}");
	CHECK(to_ok("490 nested quotes", buf_str(&in), in.len, &out));
	CHECK(strstr(buf_str(&out), "bottom") != NULL);
	/* Past cJSON's limit: not read, an error, no crash. */
	buf_reset(&in);
	for (i = 0; i < 100000; i++)
		buf_putc(&in, '[');
	buf_reset(&out);
	CHECK_INT(adf_to_html(buf_str(&in), in.len, &out), -1);
	CHECK_INT(adf_to_html("{\"type\":", 8, &out), -1);
	CHECK_INT(adf_to_html("<p>html</p>", 11, &out), -1);
	CHECK_INT(out.len, 0);
	CHECK(to_ok("wrong types", "{\"type\":\"doc\",\"content\":{\"a\":1}}",
	    0, &out));
	CHECK(to_ok("wrong types", wrong, 0, &out));
	CHECK_STR(buf_str(&out), "<ol start=\"999999999\"><li>o</li></ol>"
	    "<h2>h</h2>");
	/* 100000 text nodes with marks: linear, one tag run per change. */
	buf_reset(&in);
	buf_puts(&in, "{\"type\":\"doc\",\"content\":[{\"type\":\"paragraph\","
	    "\"content\":[");
	for (i = 0; i < 100000; i++)
		buf_printf(&in, "%s{\"type\":\"text\",\"text\":\"t\",\"marks\":"
		    "[{\"type\":\"%s\"}]}", i ? "," : "", i % 2 ? "em" :
		    "strong");
	buf_puts(&in, "]}]}");
	CHECK(to_ok("100000 marked texts", buf_str(&in), in.len, &out));
	buf_release(&in);
	buf_release(&out);
}

/* The output cap: -1, and what out held is left alone. */
static void
cap(void)
{
	struct buf	 b;

	buf_init(&b, 16);
	buf_puts(&b, "keep");
	CHECK_INT(adf_from_html("<p>x</p>", 8, &b), -1);
	CHECK_STR(buf_str(&b), "keep");
	CHECK_INT(adf_to_html(DOC(PARA(TXT("0123456789ab"))),
	    strlen(DOC(PARA(TXT("0123456789ab")))), &b), -1);
	CHECK_STR(buf_str(&b), "keep");
	CHECK_INT(adf_to_html(DOC(PARA(TXT("0123"))),
	    strlen(DOC(PARA(TXT("0123")))), &b), 0);
	CHECK_STR(buf_str(&b), "keep<p>0123</p>");
	buf_release(&b);
}

/* The footer: appended, found, stripped back to the same document. */
static void
markers(void)
{
	static const char *const docs[] = { "", DOC(""),
	    DOC(PARA(TXT("body"))),
	    DOC(PARA(TXT("a")) ",{\"type\":\"mention\",\"attrs\":"
	    "{\"id\":\"7\"}},{\"type\":\"panel\",\"attrs\":"
	    "{\"panelType\":\"info\"},"
	    "\"content\":[" PARA(TXT("p")) "]}") };
	struct buf	 d, s, html;
	size_t		 i;
	char		 want[512];

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		buf_init(&d, MAX);
		buf_init(&s, MAX);
		buf_puts(&d, docs[i]);
		CHECK_INT(adf_marker_append(&d, "f-1", "Ping @ceo\n#12",
		    "https://pb.example/f/1"), 0);
		CHECK(valid("with footer", buf_str(&d), d.len) || i == 3);
		CHECK(adf_marker_find(buf_str(&d), d.len,
		    ADF_MARKER_PREFIX "f-1"));
		CHECK(!adf_marker_find(buf_str(&d), d.len,
		    ADF_MARKER_PREFIX "f-"));
		CHECK(!adf_marker_find(buf_str(&d), d.len,
		    ADF_MARKER_PREFIX "f-12"));
		CHECK_INT(adf_marker_strip(buf_str(&d), d.len, &s), 1);
		CHECK_STR(buf_str(&s), *docs[i] != '\0' ? docs[i] : DOC(""));
		buf_release(&d);
		buf_release(&s);
	}
	/* What it looks like: a rule, the link, the marker as code. */
	buf_init(&d, MAX);
	buf_init(&html, MAX);
	buf_puts(&d, DOC(PARA(TXT("body"))));
	CHECK_INT(adf_marker_append(&d, "f-1", "Ping @ceo\n#12",
	    "javascript:alert(1)"), 0);
	CHECK_INT(adf_to_html(buf_str(&d), d.len, &html), 0);
	snprintf(want, sizeof(want), "<p>body</p><hr/><p>%s<a href=\""
	    "https://app.productboard.com\">Ping @ceo #12</a>.</p><p><code>"
	    "pbsync:feature=f-1</code></p>", ADF_MARKER_LEAD);
	CHECK_STR(buf_str(&html), want);
	CHECK(strstr(buf_str(&d), "mention") == NULL);
	/* Text after the footer goes with it, as marker_strip_len() does. */
	buf_reset(&d);
	buf_puts(&d, DOC(PARA(TXT("keep")) "," PARA("") "," PARA(TXT(
	    ADF_MARKER_PREFIX "x")) "," PARA(TXT("after"))));
	buf_init(&s, MAX);
	CHECK_INT(adf_marker_strip(buf_str(&d), d.len, &s), 1);
	CHECK_STR(buf_str(&s), DOC(PARA(TXT("keep"))));
	/* No footer: 0 and the same document; not a document: -1. */
	buf_reset(&s);
	CHECK_INT(adf_marker_strip(DOC(PARA(TXT("pbsync:feature=a b"))),
	    strlen(DOC(PARA(TXT("pbsync:feature=a b")))), &s), 0);
	CHECK_STR(buf_str(&s), DOC(PARA(TXT("pbsync:feature=a b"))));
	buf_reset(&s);
	CHECK_INT(adf_marker_strip("[1]", 3, &s), -1);
	CHECK_INT(adf_marker_strip("{\"type\":\"doc\"", 13, &s), -1);
	CHECK_INT(s.len, 0);
	CHECK(!adf_marker_find("nonsense", 8, "pbsync:feature=x"));
	/* A bad id or document leaves the description alone. */
	buf_reset(&d);
	buf_puts(&d, "[]");
	CHECK_INT(adf_marker_append(&d, "f-1", "n", NULL), -1);
	CHECK_STR(buf_str(&d), "[]");
	buf_reset(&d);
	CHECK_INT(adf_marker_append(&d, "f 1", "n", NULL), -1);
	CHECK_INT(adf_marker_append(&d, "", "n", NULL), -1);
	CHECK_INT(adf_marker_append(&d, "f", "", NULL), 0);
	CHECK(strstr(buf_str(&d), "Untitled feature") != NULL);
	buf_release(&d);
	buf_release(&s);
	buf_release(&html);
}

int
main(void)
{
	char	*diffs;
	size_t	 len;

	cases();
	golden();
	diffs = golden_load("adf", "roundtrip-differences", ".txt", &len);
	CHECK(diffs != NULL);
	roundtrips("roundtrip", diffs);
	roundtrips("html2md", NULL);
	free(diffs);
	fixpoints();
	hostile_html();
	ragged();
	hostile_adf();
	cap();
	markers();
	return t_done();
}
