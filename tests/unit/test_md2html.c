#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "conv_check.h"
#include "convert/html2md.h"
#include "convert/md2html.h"
#include "golden.h"

#define WJ	HTML2MD_WJ
#define MAX	(1u << 22)

/* One piece of Markdown and its exact HTML; len 0 means strlen(md). */
static const struct {
	int		 line;
	const char	*md, *html;
	size_t		 len;
} cases[] = {
	{ __LINE__, "# a\n## b\n### c\n###### d",
	    "<h1>a</h1><h2>b</h2><h2>c</h2><h2>d</h2>", 0 },
	{ __LINE__, "Setext\n===\n\nTwo\n---",
	    "<h1>Setext</h1><h2>Two</h2>", 0 },
	{ __LINE__, "a\nb", "<p>a b</p>", 0 },
	{ __LINE__, "a  \nb\\\nc", "<p>a<br/>b<br/>c</p>", 0 },
	{ __LINE__, "a\r\nb\rc", "<p>a b c</p>", 0 },
	{ __LINE__, "*i* _i_ **b** __b__ ***bi***",
	    "<p><i>i</i> <i>i</i> <b>b</b> <b>b</b> <i><b>bi</b></i></p>", 0 },
	/* A mark inside its own kind shows nothing more (CommonMark ex. 460). */
	{ __LINE__, "*_foo_* _*foo*_ __**b**__ *a **b *c* d** e*",
	    "<p><i>foo</i> <i>foo</i> <b>b</b> <i>a <b>b c d</b> e</i></p>", 0 },
	{ __LINE__, "    foo  \n\n```\n\n  \n```",
	    "<pre><code>foo  </code></pre><pre><code>\n  </code></pre>", 0 },
	/* Four columns in, the second line is no delimiter row (ex. 87). */
	{ __LINE__, "Foo\n    ---", "<p>Foo ---</p>", 0 },
	{ __LINE__, "- a\n  | --- |", "<ul><li><table><thead><tr><th>a</th>"
	    "</tr></thead></table></li></ul>", 0 },
	{ __LINE__, "~~s~~ ~s~ ~~~t~~~ a~~b~~c ~~ x~~",
	    "<p><s>s</s> ~s~ ~~~t~~~ a<s>b</s>c ~~ x~~</p>", 0 },
	{ __LINE__, "`~~x~~` ~~a `b` c~~",
	    "<p><code>~~x~~</code> <s>a <code>b</code> c</s></p>", 0 },
	{ __LINE__, "<ins>u</ins> <u>u</u> <del>d</del> <s>s</s> <strike>s"
	    "</strike> <b>b</b> <strong>b</strong> <i>i</i> <em>i</em>",
	    "<p><u>u</u> <u>u</u> <s>d</s> <s>s</s> <s>s</s> <b>b</b> <b>b</b>"
	    " <i>i</i> <i>i</i></p>", 0 },
	{ __LINE__, "<INS>u</Ins> a<br>b<br/>c<br />d",
	    "<p><u>u</u> a<br/>b<br/>c<br/>d</p>", 0 },
	{ __LINE__, "<ins>open and ~~crossed</ins> away~~",
	    "<p><u>open and ~~crossed</u> away~~</p>", 0 },
	{ __LINE__, "<ins class=\"x\">u</ins> <span>s</span> <ins></ins>",
	    "<p>&lt;ins class=&quot;x&quot;&gt;u&lt;/ins&gt; &lt;span&gt;s"
	    "&lt;/span&gt;</p>", 0 },
	{ __LINE__, "<script>alert(1)</script>",
	    "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", 0 },
	{ __LINE__, "x <script>alert(1)</script> <img src=x onerror=y>",
	    "<p>x &lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x "
	    "onerror=y&gt;</p>", 0 },
	/* html2md's comment between a list and indented code is nothing. */
	{ __LINE__, "- e\n\n<!-- -->\n\n    /x\n\n<!-- x -->\n<!---->",
	    "<ul><li>e</li></ul><pre><code>/x</code></pre><p>&lt;!-- x --&gt;"
	    "</p><p>&lt;!----&gt;</p>", 0 },
	{ __LINE__, "<div>\n*not markdown*\n</div>",
	    "<p>&lt;div&gt;<br/>*not markdown*<br/>&lt;/div&gt;</p>", 0 },
	{ __LINE__, "[x](javascript:alert(1)) [y](JavaScript:x) [z](data:x)",
	    "<p>x y z</p>", 0 },
	{ __LINE__, "[x](https://e.com/?a=1&b=\"2\" 'title')",
	    "<p><a href=\"https://e.com/?a=1&amp;b=%222%22\">x</a></p>", 0 },
	{ __LINE__, "[x](<https://e.com/a b>) [](https://e.com)",
	    "<p><a href=\"https://e.com/a%20b\">x</a> <a href=\"https://e.com\">"
	    "https://e.com</a></p>", 0 },
	{ __LINE__, "<https://e.com> <mailto:a@b.c> [pb](urn:pb:node:emoji:1)",
	    "<p><a href=\"https://e.com\">https://e.com</a> <a href=\"mailto:"
	    "a@b.c\">mailto:a@b.c</a> <a href=\"urn:pb:node:emoji:1\">pb</a>"
	    "</p>", 0 },
	{ __LINE__, "![alt *text*](https://e.com/a.png) ![rel](/a.png)",
	    "<p><a href=\"https://e.com/a.png\">alt <i>text</i></a> rel</p>", 0 },
	{ __LINE__, "[ref]\n\n[ref]: https://e.com \"T\"",
	    "<p><a href=\"https://e.com\">ref</a></p>", 0 },
	{ __LINE__, "@alice #12 !3 ~bug %v1 &7 $4",
	    "<p>@alice #12 !3 ~bug %v1 &amp;7 $4</p>", 0 },
	{ __LINE__, "@" WJ "alice \\#" WJ "12 \\~" WJ "\\~ x" WJ "y @" WJ ".",
	    "<p>@alice #12 ~~ x" WJ "y @" WJ ".</p>", 0 },
	/* A joiner after a sigil goes only where a reference would follow. */
	{ __LINE__, "@" WJ "\\_x #" WJ "&#49; " WJ "a " WJ " \\$" WJ,
	    "<p>@_x #1 " WJ "a " WJ " $" WJ "</p>", 0 },
	{ __LINE__, "- [ ] a\n- [x] b\n- [X] c\n- [ ]\n- [~] d\n- \\[ ] e",
	    "<ul><li><input type=\"checkbox\"/>a</li><li><input type=\"checkbox\""
	    " checked=\"checked\"/>b</li><li><input type=\"checkbox\" checked="
	    "\"checked\"/>c</li><li><input type=\"checkbox\"/></li><li>[~] d"
	    "</li><li>[ ] e</li></ul>", 0 },
	{ __LINE__, "1. [x] done\n\n   more",
	    "<ol><li><p><input type=\"checkbox\" checked=\"checked\"/>done</p>"
	    "<p>more</p></li></ol>", 0 },
	{ __LINE__, "3. a\n4. b\n\n0) z",
	    "<ol start=\"3\"><li>a</li><li>b</li></ol><ol start=\"0\"><li>z</li>"
	    "</ol>", 0 },
	{ __LINE__, "- a\n\n- b\n  - c",	/* loose in cmark, not in html2md */
	    "<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>", 0 },
	{ __LINE__, "- a\n\n  b\n- c",
	    "<ul><li><p>a</p><p>b</p></li><li><p>c</p></li></ul>", 0 },
	{ __LINE__, "| a | b\\|c |\n|:--|--:|\n| `x\\|y` | **z** |\n| 1 |",
	    "<table><thead><tr><th>a</th><th>b|c</th></tr></thead><tbody><tr>"
	    "<td><code>x|y</code></td><td><b>z</b></td></tr><tr><td>1</td><td>"
	    "</td></tr></tbody></table>", 0 },
	{ __LINE__, "| a |\n| --- |", "<table><thead><tr><th>a</th></tr>"
	    "</thead></table>", 0 },
	{ __LINE__, "> | q |\n> | - |\n> | 1 |", "<blockquote><table><thead>"
	    "<tr><th>q</th></tr></thead><tbody><tr><td>1</td></tr></tbody>"
	    "</table></blockquote>", 0 },
	{ __LINE__, "- | l |\n  | - |", "<ul><li><table><thead><tr><th>l</th>"
	    "</tr></thead></table></li></ul>", 0 },
	{ __LINE__, "| a | b |\n| - |", "<p>| a | b | | - |</p>", 0 },
	{ __LINE__, "text\n| a |\n| - |", "<p>text | a | | - |</p>", 0 },
	/* The second line must be a delimiter row (GFM spec §4.10). */
	{ __LINE__, "| a |\n| x |", "<p>| a | | x |</p>", 0 },
	{ __LINE__, "| a |\n| : |", "<p>| a | | : |</p>", 0 },
	{ __LINE__, "| a |\n|  |", "<p>| a | | |</p>", 0 },
	{ __LINE__, "| # x | - y | > z |\n|---|---|---|",
	    "<table><thead><tr><th># x</th><th>- y</th><th>&gt; z</th></tr>"
	    "</thead></table>", 0 },
	{ __LINE__, "```js\nx<y && \"z\"\n\n```",
	    "<pre><code class=\"language-js\">x&lt;y &amp;&amp; &quot;z&quot;"
	    "</code></pre>", 0 },
	{ __LINE__, "```js\" onclick=\"x\nx\n```\n\n    indented\n",
	    "<pre><code class=\"language-js\">x</code></pre><pre><code>indented"
	    "</code></pre>", 0 },
	{ __LINE__, "---\n***\n___", "<hr/><hr/><hr/>", 0 },
	{ __LINE__, ">>>\nquoted\n\n- item\n>>>\nafter",
	    "<blockquote><p>quoted</p><ul><li>item</li></ul></blockquote><p>"
	    "after</p>", 0 },
	{ __LINE__, "```\n>>>\n```\n>>>\n\n#\n-\n>",	/* empty blocks go */
	    "<pre><code>&gt;&gt;&gt;</code></pre>", 0 },
	{ __LINE__, "&amp; &copy; &#x41; &bogus; \\& \\*",
	    "<p>&amp; © A &amp;bogus; &amp; *</p>", 0 },
	{ __LINE__, "a\0b", "<p>a\xef\xbf\xbd" "b</p>", 3 },
	{ __LINE__, "\xff\xfe ok", "<p>\xef\xbf\xbd\xef\xbf\xbd ok</p>", 0 },
	{ __LINE__, "", "", 0 },
	{ __LINE__, "   \n\n ", "", 0 },
};

/* Checks that out is Productboard's kind of HTML. */
static int
allowed(const char *what, const struct buf *b)
{
	char	 why[128];

	if (conv_html_ok(buf_str(b), b->len, why, sizeof(why)))
		return 1;
	printf("# %s: %s\n", what, why);
	return 0;
}

/*
 * The fixed point the sync engine needs (gittab-api.md §6): md1 =
 * html2md(html), h1 = md2html(md1), md2 = html2md(h1), h2 = md2html(md2);
 * md1 must equal md2 and h1 must equal h2.  Two checks.
 */
static void
roundtrip(const char *what, const char *html, size_t len, int *allok)
{
	struct buf	 md1, h1, md2, h2, norm;
	char		 msg[320];
	int		 ok;

	buf_init(&md1, MAX);
	buf_init(&h1, MAX);
	buf_init(&md2, MAX);
	buf_init(&h2, MAX);
	buf_init(&norm, MAX);
	ok = html2md_convert(html, len, &md1) == 0 &&
	    md2html_convert(buf_str(&md1), md1.len, &h1) == 0 &&
	    html2md_convert(buf_str(&h1), h1.len, &md2) == 0 &&
	    md2html_convert(buf_str(&md2), md2.len, &h2) == 0 &&
	    md2html_normalize(html, len, &norm) == 0;
	snprintf(msg, sizeof(msg), "%s: md is a fixed point", what);
	golden_check(msg, ok ? buf_str(&md2) : NULL, md2.len, buf_str(&md1),
	    md1.len);
	snprintf(msg, sizeof(msg), "%s: html is a fixed point", what);
	golden_check(msg, ok ? buf_str(&h2) : NULL, h2.len, buf_str(&h1),
	    h1.len);
	*allok &= ok && allowed(what, &h1) && norm.len == h1.len &&
	    memcmp(buf_str(&norm), buf_str(&h1), h1.len) == 0;
	buf_release(&md1);
	buf_release(&h1);
	buf_release(&md2);
	buf_release(&h2);
	buf_release(&norm);
}

/* Round trips for every HTML file of tests/data/dir. */
static size_t
roundtrips(const char *dir)
{
	char		**names, what[256], *html;
	size_t		 n, i, len;
	int		 allok = 1;

	names = golden_list(dir, ".html", &n);
	for (i = 0; i < n; i++) {
		html = golden_load(dir, names[i], ".html", &len);
		snprintf(what, sizeof(what), "round trip %s/%s", dir, names[i]);
		roundtrip(what, html != NULL ? html : "", len, &allok);
		free(html);
	}
	golden_free(names);
	CHECK(allok);
	return n;
}

/*
 * A table nested in lists as deep as html.h keeps it, and one level
 * deeper, where it is text: fixed points too.  (Not in tests/data/
 * roundtrip: ADF keeps tables at the top level only, test_adf.)
 */
static void
deep_tables(void)
{
	static const char *const lists = "<ol><ul><ol><ol><ul><ol><ul><ol><ul>"
	    "<ol><ul><ul><ol>";
	struct buf	 html;
	int		 ok = 1;

	buf_init(&html, 4096);
	buf_puts(&html, lists);
	buf_puts(&html, "<table><tr><td>y</td></tr></table>");
	roundtrip("table in lists", buf_str(&html), html.len, &ok);
	buf_reset(&html);
	buf_puts(&html, lists);
	buf_puts(&html, "<ul><table><tr><td>x</td></tr></table>");
	roundtrip("table too deep", buf_str(&html), html.len, &ok);
	CHECK(ok);
	buf_release(&html);
}

/*
 * Every tests/data/md2html/NAME.md must give NAME.html, which must be
 * allowed HTML and a fixed point of html → md → html.
 */
static void
golden(void)
{
	char		**names, what[256], *md, *want;
	size_t		 n, i, mlen, wlen;
	struct buf	 b, fix;
	int		 fixed = 1, ok = 1;

	names = golden_list("md2html", ".md", &n);
	CHECK(n >= 20);
	for (i = 0; i < n; i++) {
		md = golden_load("md2html", names[i], ".md", &mlen);
		want = golden_load("md2html", names[i], ".html", &wlen);
		buf_init(&b, MAX);
		buf_init(&fix, MAX);
		snprintf(what, sizeof(what), "md2html %s", names[i]);
		if (md == NULL || md2html_convert(md, mlen, &b) == -1)
			t_check(0, what, __FILE__, __LINE__);
		else {
			golden_check(what, buf_str(&b), b.len, want, wlen);
			ok &= allowed(what, &b);
			if (md2html_normalize(buf_str(&b), b.len, &fix) == -1 ||
			    fix.len != b.len || memcmp(fix.data, b.data,
			    b.len) != 0) {
				printf("# %s: not a fixed point:\n# %s\n", what,
				    buf_str(&fix));
				fixed = 0;
			}
		}
		buf_release(&b);
		buf_release(&fix);
		free(md);
		free(want);
	}
	CHECK(ok);
	CHECK(fixed);
	golden_free(names);
}

/* The output cap: -1, and what out held before is left alone. */
static void
cap(void)
{
	struct buf	 b;

	buf_init(&b, 16);
	buf_puts(&b, "keep");
	CHECK_INT(md2html_convert("hello world", 11, &b), -1);
	CHECK_STR(buf_str(&b), "keep");
	CHECK_INT(md2html_convert("hi", 2, &b), 0);
	CHECK_STR(buf_str(&b), "keep<p>hi</p>");
	CHECK_INT(md2html_normalize("<p>x</p>", 8, &b), -1);
	buf_release(&b);
}

/* GitHub's dialect: a single newline is a line break, code stays as is. */
static void
breaks(void)
{
	static const char md[] = "one\ntwo\n\n```\na\nb\n```\n";
	struct buf	 b;

	buf_init(&b, 4096);
	CHECK_INT(md2html_convert_breaks(md, strlen(md), &b), 0);
	CHECK_STR(buf_str(&b), "<p>one<br/>two</p><pre><code>a\nb</code></pre>");
	buf_reset(&b);
	CHECK_INT(md2html_convert(md, strlen(md), &b), 0);
	CHECK(strncmp(buf_str(&b), "<p>one two</p>", 14) == 0);
	buf_release(&b);
}

/*
 * Text that GitLab would run as a quick action goes there escaped, and its
 * words come back to Productboard as they were.
 */
static void
quick_actions(void)
{
	static const char *const html[] = {
		"<p>/close</p>",
		"<p>text<br/>/move group/project</p>",
		"<ul><li>/label ~bug</li></ul>",
		"<ol><li><p>a</p><p>/reopen</p></li></ol>",
		"<blockquote><p>/confidential</p></blockquote>",
		"<h2>/title x</h2>",
		"<table><thead><tr><th>/close</th><th>a /b</th></tr></thead>"
		    "</table>",
		"<pre><code>/close</code></pre>",
		"<pre><code>x\n/clone g/p\n```</code></pre>",
	};
	struct buf	 md, back;
	char		 what[128];
	size_t		 i;

	for (i = 0; i < sizeof(html) / sizeof(html[0]); i++) {
		buf_init(&md, MAX);
		buf_init(&back, MAX);
		snprintf(what, sizeof(what), "quick action %zu", i);
		if (html2md_convert(html[i], strlen(html[i]), &md) == -1 ||
		    md2html_convert(buf_str(&md), md.len, &back) == -1)
			t_check(0, what, __FILE__, __LINE__);
		else
			golden_check(what, buf_str(&back), back.len, html[i],
			    strlen(html[i]));
		buf_release(&md);
		buf_release(&back);
	}
}

/*
 * Past 1024 image openers the '!' is text (cmark 0.30.2 is quadratic on
 * nested ones): the images before are links, the later ones show the '!'.
 */
static void
many_images(void)
{
	struct buf	 md, html;
	const char	*p;
	size_t		 i, bang = 0, links = 0;

	buf_init(&md, MAX);
	buf_init(&html, MAX);
	for (i = 0; i < 1030; i++)
		buf_puts(&md, "![a](https://x.io/i.png) ");
	CHECK_INT(md2html_convert(buf_str(&md), md.len, &html), 0);
	for (p = buf_str(&html); (p = strstr(p, "<a href=")) != NULL; p++) {
		links++;
		bang += p > buf_str(&html) && p[-1] == '!';
	}
	CHECK_INT(links, 1030);
	CHECK_INT(bang, 6);
	/* One already escaped stays escaped once: "\\![" is no "\\\\![". */
	buf_reset(&md);
	buf_reset(&html);
	for (i = 0; i < 1030; i++)
		buf_puts(&md, "\\![a](https://x.io/i.png) ");
	CHECK_INT(md2html_convert(buf_str(&md), md.len, &html), 0);
	CHECK(strstr(buf_str(&html), "\\") == NULL);
	buf_release(&md);
	buf_release(&html);
}

/*
 * Short rows: padded with empty cells as GFM says while that costs at
 * most twice the cells there are, left short past that (quadratic).
 */
static void
ragged(void)
{
	struct buf	 md, html;
	const char	*p;
	size_t		 i, cells = 0;

	buf_init(&md, MAX);
	buf_init(&html, MAX);
	CHECK_INT(md2html_convert("| a | b |\n| - | - |\n| c |", 24, &html), 0);
	CHECK_STR(buf_str(&html), "<table><thead><tr><th>a</th><th>b</th>"
	    "</tr></thead><tbody><tr><td>c</td><td></td></tr></tbody>"
	    "</table>");
	/* 1000 columns and 1000 rows of one cell: a million cells padded. */
	buf_reset(&html);
	for (i = 0; i < 1000; i++)
		buf_puts(&md, "| c ");
	buf_puts(&md, "|\n");
	for (i = 0; i < 1000; i++)
		buf_puts(&md, "| - ");
	buf_puts(&md, "|\n");
	for (i = 0; i < 1000; i++)
		buf_puts(&md, "| r |\n");
	CHECK_INT(md2html_convert(buf_str(&md), md.len, &html), 0);
	CHECK(html.len < 8 * md.len);
	for (p = buf_str(&html); (p = strstr(p, "<td>")) != NULL; p++)
		cells++;
	CHECK_INT(cells, 1000);
	buf_release(&md);
	buf_release(&html);
}

/* Titles: references broken for GitLab, and the same text back. */
static void
titles(void)
{
	static const char *const t[] = { "Ping @ceo", "#12 and !4 in ~bug",
	    "%v1 &7 $3 {+ [-", "mail x@y.com, C# 100%", "@", "plain",
	    "" };
	char		*in, *out;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		in = html2md_title(t[i]);
		out = in != NULL ? md2html_title(in) : NULL;
		t_check(out != NULL && strcmp(out, t[i]) == 0, t[i], __FILE__,
		    __LINE__);
		free(in);
		free(out);
	}
	in = html2md_title("Ping @ceo #12");
	CHECK_STR(in, "Ping @" WJ "ceo #" WJ "12");
	free(in);
	in = html2md_title("mail x@y.com");
	CHECK_STR(in, "mail x@y.com");
	free(in);
}

int
main(void)
{
	struct buf	 b;
	size_t		 i;
	char		 what[64];
	int		 ok = 1;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, 4096);
		snprintf(what, sizeof(what), "case at line %d", cases[i].line);
		if (md2html_convert(cases[i].md, cases[i].len ? cases[i].len :
		    strlen(cases[i].md), &b) == -1)
			t_check(0, what, __FILE__, cases[i].line);
		else if (!t_check(strcmp(buf_str(&b), cases[i].html) == 0,
		    what, __FILE__, cases[i].line))
			printf("# got:      \"%s\"\n# expected: \"%s\"\n",
			    buf_str(&b), cases[i].html);
		else
			ok &= allowed(what, &b);
		buf_release(&b);
	}
	CHECK(ok);
	cap();
	ragged();
	breaks();
	golden();
	quick_actions();
	many_images();
	titles();
	deep_tables();
	CHECK(roundtrips("roundtrip") >= 20);
	CHECK(roundtrips("html2md") >= 25);
	return t_done();
}
