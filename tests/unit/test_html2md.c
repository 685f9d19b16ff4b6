#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "conv_check.h"
#include "convert/html.h"
#include "convert/html2md.h"
#include "golden.h"

#define WJ	HTML2MD_WJ

/* One line of HTML and its exact Markdown; len 0 means strlen(html). */
static const struct {
	int		 line;
	const char	*html, *md;
	size_t		 len;
} cases[] = {
	/* References: a word joiner after the sigil, nothing else. */
	{ __LINE__, "<p>ask @alice, @bob.smith</p>",
	    "ask @" WJ "alice, @" WJ "bob.smith\n", 0 },
	{ __LINE__, "<p>mail x@y.com or @ alone</p>",
	    "mail x@y.com or @ alone\n", 0 },
	{ __LINE__, "<p>see #12, !3, ~bug, ~\"to do\", %v1, &amp;7, $4</p>",
	    "see #" WJ "12, !" WJ "3, \\~" WJ "bug, \\~" WJ "\"to do\", %" WJ
	    "v1, &" WJ "7, \\$" WJ "4\n", 0 },
	{ __LINE__, "<p>#12 first</p>", "\\#" WJ "12 first\n", 0 },
	{ __LINE__, "<p>@<span>alice</span></p>", "@" WJ "alice\n", 0 },
	{ __LINE__, "<p>@<b>alice</b></p>", "@**alice**\n", 0 },
	{ __LINE__, "<p>{+ added +} [- gone -]</p>",
	    "{" WJ "+ added +} \\[" WJ "- gone -\\]\n", 0 },
	{ __LINE__, "<p>50% off, C# and 100%</p>",
	    "50% off, C# and 100%\n", 0 },
	/*
	 * GitLab quick actions: a '/' first on a line, in any block and after
	 * any blank, is escaped; code fenced by three backticks stays.
	 */
	{ __LINE__, "<p>/close</p>", "\\/close\n", 0 },
	{ __LINE__, "<p>text<br>/move g/p</p>", "text\\\n\\/move g/p\n",
	    0 },
	{ __LINE__, "<p>text<br> &nbsp; /clone g/p</p>",
	    "text\\\n\xc2\xa0 \\/clone g/p\n", 0 },
	{ __LINE__, "<ul><li>/label x</li></ul>", "- \\/label x\n", 0 },
	{ __LINE__, "<blockquote><p>/confidential</p></blockquote>",
	    "> \\/confidential\n", 0 },
	{ __LINE__, "<table><tr><td> /close</td></tr></table>",
	    "| \\/close |\n| --- |\n", 0 },
	{ __LINE__, "<h2>/title x</h2>", "## \\/title x\n", 0 },
	{ __LINE__, "<p>a/b /c</p>", "a/b /c\n", 0 },
	{ __LINE__, "<pre>/close</pre>", "    /close\n", 0 },
	{ __LINE__, "<pre>x\n/close\n```</pre>",
	    "    x\n    /close\n    ```\n", 0 },
	/* Nor may it end GitLab's code region before a later block's. */
	{ __LINE__, "<pre>x ```</pre><pre>/close</pre>",
	    "~~~\nx ```\n~~~\n\n    /close\n", 0 },
	{ __LINE__, "<p><code>a```b</code></p><pre>/close</pre>",
	    "````a```b````\n\n    /close\n", 0 },
	/* Escapes: inline syntax anywhere, block syntax at line starts. */
	{ __LINE__, "<p>a*b \\ `c` [d] &lt;e&gt; | ~ $</p>",
	    "a\\*b \\\\ \\`c\\` \\[d\\] \\<e> \\| \\~ \\$\n", 0 },
	{ __LINE__, "<p>snake_case _x_ a_</p>",
	    "snake_case \\_x\\_ a\\_\n", 0 },
	{ __LINE__, "<p>&amp;copy; &amp;#12; &amp; AT&amp;T</p>",
	    "\\&copy; \\&#" WJ "12; & AT&T\n", 0 },
	/* A reference may go on past the text node. */
	{ __LINE__, "<p>&amp;<q>d;</q> &amp;<q>#</q>1;</p>", "\\&d; \\&#" WJ "1;\n",
	    0 },
	{ __LINE__, "<p>1) one</p>", "1\\) one\n", 0 },
	{ __LINE__, "<p>2024. A year</p>", "2024\\. A year\n", 0 },
	{ __LINE__, "<p>3.14 is pi</p>", "3.14 is pi\n", 0 },
	{ __LINE__, "<p>- not a list</p>", "\\- not a list\n", 0 },
	{ __LINE__, "<p>-5 degrees</p>", "-5 degrees\n", 0 },
	{ __LINE__, "<p>+ plus</p>", "\\+ plus\n", 0 },
	{ __LINE__, "<p>&gt; not a quote</p>", "\\> not a quote\n", 0 },
	{ __LINE__, "<p># not a heading</p>", "\\# not a heading\n", 0 },
	{ __LINE__, "<p>a<br>===<br>- b<br>1. c</p>",
	    "a\\\n\\===\\\n\\- b\\\n1\\. c\n", 0 },
	{ __LINE__, "<p>;;;</p>", "\\;;;\n", 0 },
	/* GitLab's table of contents stays one, but in a list item. */
	{ __LINE__, "<p>[[_TOC_]]</p><blockquote><p>[TOC]</p></blockquote><ul>"
	    "<li>[[_TOC_]]</li></ul>", "[[_TOC_]]\n\n> [TOC]\n\n"
	    "- \\[\\[\\_TOC\\_\\]\\]\n", 0 },
	/* Emphasis, and inline HTML where delimiters would not read back. */
	{ __LINE__, "<p><b>bold</b>, <i>it</i>, <s>gone</s>, <u>under</u></p>",
	    "**bold**, *it*, ~~gone~~, <ins>under</ins>\n", 0 },
	{ __LINE__, "<p><b>Note:</b>text</p>", "<b>Note:</b>text\n", 0 },
	{ __LINE__, "<p><b>Note:</b> text</p>", "**Note:** text\n", 0 },
	{ __LINE__, "<p>a<i>(x)</i>b</p>", "a<i>(x)</i>b\n", 0 },
	{ __LINE__, "<p>foo<b>bar</b>baz</p>", "foo**bar**baz\n", 0 },
	{ __LINE__, "<p><b> spaced </b>out</p>", "**spaced** out\n", 0 },
	{ __LINE__, "<p><b>a</b><strong>b</strong></p>", "**ab**\n", 0 },
	{ __LINE__, "<p><b></b>x<i> </i></p>", "x\n", 0 },
	{ __LINE__, "<p><s>~x</s> a~~b</p>",
	    "<s>\\~" WJ "x</s> a\\~" WJ "\\~" WJ "b\n", 0 },
	{ __LINE__, "<p><b>unclosed", "**unclosed**\n", 0 },
	/* Code spans. */
	{ __LINE__, "<p><code>a`b</code></p>", "``a`b``\n", 0 },
	{ __LINE__, "<p><code>`</code></p>", "`` ` ``\n", 0 },
	{ __LINE__, "<p><code> x </code></p>", "`x`\n", 0 },
	{ __LINE__, "<p>a<code> x </code>b</p>", "a`  x  `b\n", 0 },
	/* Breaks and blocks inside: spaces, and breaks at its ends. */
	{ __LINE__, "x<code>a <p>b</p><br> c<br></code>d<code><p></code>",
	    "x`a b c`\\\nd\n", 0 },
	{ __LINE__, "<code><h1>C</code>w", "`C`\\\nw\n", 0 },
	/* Code spans that touch are one: their backticks would run on. */
	{ __LINE__, "<p>x <code>a </code><code>b `` </code>y <code>c</code>"
	    "<span></span><code>`d</code></p>", "x ```a b `` ```y ``c`d``\n",
	    0 },
	{ __LINE__, "<p><code>@alice #1 *x*</code></p>",
	    "`@alice #1 *x*`\n", 0 },
	/* Links. */
	{ __LINE__, "<p><a href=\"https://x.io\">https://x.io</a></p>",
	    "<https://x.io>\n", 0 },
	{ __LINE__, "<p><a href=\"https://x.io\"></a></p>",
	    "<https://x.io>\n", 0 },
	/* Its address is text: the spaces around it stay. */
	{ __LINE__, "<p>x <a href=\"https://x.io\"></a> y<a href=\"https://x.io\">"
	    " </a>z <a href=\"https://x.io\"><b> </b></a></p>",
	    "x <https://x.io> y <https://x.io>z <https://x.io>\n", 0 },
	{ __LINE__, "<p><a href=\"javascript:alert(1)\">click</a></p>",
	    "click\n", 0 },
	{ __LINE__, "<p><a href=\" JaVa\tScript:x\">a</a></p>", "a\n", 0 },
	{ __LINE__, "<p><a href=\"/relative\">rel</a></p>", "rel\n", 0 },
	/* Only the address as text, markup or spaces aside: an autolink. */
	{ __LINE__, "<p><a href=\"https://x.io\">https://x.io<q></q></a>,<a "
	    "href=\"https://x.io\"> https://x.io</a></p>",
	    "<https://x.io>, <https://x.io>\n", 0 },
	/* "!" before a link would make it an image. */
	{ __LINE__, "<p>!<a href=\"https://x.io\">t</a> \\!<a href=\"https://x.io\">"
	    "u</a></p>", "\\![t](https://x.io) \\\\\\![u](https://x.io)\n", 0 },
	{ __LINE__, "<p><a href=\"https://e.com/a_(b)\">w</a></p>",
	    "[w](https://e.com/a_(b))\n", 0 },
	{ __LINE__, "<p><a href=\"https://e.com/a)b\">w</a></p>",
	    "[w](<https://e.com/a)b>)\n", 0 },
	{ __LINE__, "<p><a href=\"https://e.com/a b&quot;\">w</a></p>",
	    "[w](https://e.com/a%20b%22)\n", 0 },
	{ __LINE__, "<p><a href=\"https://e.com/?a=1&amp;copy;\">w</a></p>",
	    "[w](https://e.com/?a=1&amp;copy;)\n", 0 },
	{ __LINE__, "<p><a href=\"http://&amp;mp;\"></a></p>",
	    "[http://\\&mp;](http://&amp;mp;)\n", 0 },
	{ __LINE__, "<p><a href=\"mailto:a@b.io\">a@b.io</a></p>",
	    "[a@b.io](mailto:a@b.io)\n", 0 },
	{ __LINE__, "<p><a href=\"urn:pb:node:mention:42\">@Ann</a></p>",
	    "[@" WJ "Ann](urn:pb:node:mention:42)\n", 0 },
	{ __LINE__, "<p><a href=\"https://a.io\">x <a href=\"https://b.io\">"
	    "y</a></a></p>", "[x](https://a.io) [y](https://b.io)\n", 0 },
	/* Blocks. */
	{ __LINE__, "<h3>three</h3><h6>six</h6>", "## three\n\n## six\n", 0 },
	{ __LINE__, "<h1>C#</h1><h2>a<br>b<br><br>c</h2>", "# C\\#\n\n## a b c\n",
	    0 },
	{ __LINE__, "<p>a<br>b<br></p>", "a\\\nb\n", 0 },
	{ __LINE__, "<p>a</p>  \n <p>b</p>", "a\n\nb\n", 0 },
	{ __LINE__, "<ul><li>a</li></ul><ul><li>b</li></ul>",
	    "- a\n\n* b\n", 0 },
	{ __LINE__, "<ol start=\"3\"><li>a</li><li>b</li></ol>",
	    "3. a\n4. b\n", 0 },
	/* An empty list is no list: the next one still alternates. */
	{ __LINE__, "<ul><li>a</li></ul><ul></ul><ul><li>b</li></ul>",
	    "- a\n\n* b\n", 0 },
	/* A checkbox is a line of text: only a list may go right after. */
	{ __LINE__, "<ul><li><input type=\"checkbox\"><table><tr><td>r</td></tr>"
	    "</table></li><li data-checked=\"true\"><ul><li>a</li></ul></li>"
	    "</ul>", "- [ ]\n\n  | r |\n  | --- |\n\n- [x]\n\n  - a\n", 0 },
	{ __LINE__, "<ul><li data-checked=\"true\"><ul><li>a</li></ul></li>"
	    "</ul>", "- [x]\n  - a\n", 0 },
	/* A nested list's checkbox is its item's, not the outer one's. */
	{ __LINE__, "<ol><li><ul><li><input type=\"checkbox\"></li></ul></li>"
	    "</ol>", "1. - [ ]\n", 0 },
	{ __LINE__, "<ul><li><hr></li><li></li><li>x</li></ul>",
	    "- ***\n- x\n", 0 },
	{ __LINE__, "<ul><li><p>a</p><p>b</p></li><li>c</li></ul>",
	    "- a\n\n  b\n\n- c\n", 0 },
	{ __LINE__, "<ol><li>a<ol start=\"2\"><li>b</li></ol></li></ol>",
	    "1. a\n\n   2. b\n", 0 },
	/* No code, no language: md2html keeps none. */
	{ __LINE__, "<pre><code class=\"language-e\"></code></pre>",
	    "```\n```\n", 0 },
	/* Code keeps its white space, but for the final newlines. */
	{ __LINE__, "<pre>a\n\tb  \n</pre>", "```\na\n\tb  \n```\n", 0 },
	{ __LINE__, "<pre><code>\n\n  \nx \n\n</code></pre>",
	    "```\n\n\n  \nx \n```\n", 0 },
	{ __LINE__, "<blockquote><pre>a \n \n~~~ ```</pre></blockquote>",
	    "> ~~~~\n> a \n>  \n> ~~~ ```\n> ~~~~\n", 0 },
	{ __LINE__, "<ul><li><pre>/a  </pre></li></ul>", "-     /a  \n", 0 },
	/* Blocks inside code are lines of their own. */
	{ __LINE__, "<pre><h2>L</h2>\\<p>a</p>\n<p>b</p></pre>",
	    "```\nL\n\\\na\n\nb\n```\n", 0 },
	/* After a list an indented block would go into its last item. */
	{ __LINE__, "<ul><li>e</li></ul><pre>/x</pre><ol><li><ul><li>a</li>"
	    "</ul><pre>/y</pre></li></ol>", "- e\n\n<!-- -->\n\n    /x\n\n"
	    "1. - a\n\n   <!-- -->\n\n       /y\n", 0 },
	/* An indented block cannot start or end with a blank line. */
	{ __LINE__, "<pre><code>\n  \n/a\n \n b\n\t\n</code></pre>",
	    "    /a\n     \n     b\n", 0 },
	/* Where Markdown has no blocks, <pre> is text laid out as such. */
	{ __LINE__, "<span><pre>a  b\n c</pre></span><h2>t<pre> x\n y</pre>"
	    "</h2>", "a b c\n\n## t x y\n", 0 },
	{ __LINE__, "x<span><pre><code>\n</code></pre></span>y", "x\\\ny\n",
	    0 },
	{ __LINE__, "<table><tr><td><pre><code>a  `b`\n</code></pre></td></tr>"
	    "</table>", "| `` a `b` `` |\n| --- |\n", 0 },
	/*
	 * Marks that touch: one element if of a kind (html_write() joins
	 * them), else the second in HTML, as "**b***<*" is no emphasis.
	 */
	{ __LINE__, "<p><b>b</b><i>&lt;</i> <b>c</b><span><b>d</b></span> "
	    "<s><b>&gt;</b></s><s><b>e</b></s> <b>f</b><i>g</i></p>",
	    "**b**<i>\\<</i> **cd** ~~**>e**~~ **f**<i>g</i>\n", 0 },
	{ __LINE__, "<x><s><b>></y><s><b>o", "~~**>o**~~\n", 0 },
	/* Text that touches once they are one is text that touches. */
	{ __LINE__, "<x><b>@</b.><b>k", "**@" WJ "k**\n", 0 },
	/* '_' inside a word, whatever the nodes. */
	{ __LINE__, "<p><b>1_<b>k</b></b> a_<i>b</i> _x y<span>_</span>z</p>",
	    "**1_k** a\\_*b* \\_x y_z\n", 0 },
	/* A mark inside its own kind shows nothing more: "*_w_*" is bold. */
	{ __LINE__, "<p><i><i>w</i></i> <b>a <b>b</b></b> <s><s>c</s></s></p>",
	    "*w* **a b** ~~c~~\n", 0 },
	{ __LINE__, "<p><i>a <b>b <i>c</i></b></i></p>", "*a **b c***\n", 0 },
	/* Images: a link with the alt text, or their text. */
	{ __LINE__, "<p><img src=\"https://e.com/i.png\" alt=\"A *b*\"></p>",
	    "[A \\*b\\*](https://e.com/i.png)\n", 0 },
	{ __LINE__, "<p><img src=\"https://e.com/i.png\"><img src=\"i.png\" "
	    "alt=\"rel\"><img src=\"javascript:x\"></p>",
	    "<https://e.com/i.png>reljavascript:x\n", 0 },
	{ __LINE__, "<p><a href=\"https://x.com\">see <img alt=\"A\" "
	    "src=\"https://e.com/i.png\"></a></p>", "[see A](https://x.com)\n",
	    0 },
	{ __LINE__, "<blockquote><p>a</p><p>b</p></blockquote>",
	    "> a\n>\n> b\n", 0 },
	/* Short rows padded as md2html pads them, the header counted full. */
	{ __LINE__, "<table><tr><td>h</td></tr><tr><td>1</td><td>2</td><td>3</td>"
	    "<td>4</td><td>5</td><td>6</td><td>7</td></tr><tr><td>a</td></tr>"
	    "<tr><td>b</td></tr><tr><td>c</td></tr></table>",
	    "| h |  |  |  |  |  |  |\n| --- | --- | --- | --- | --- | --- | --- |\n"
	    "| 1 | 2 | 3 | 4 | 5 | 6 | 7 |\n| a |  |  |  |  |  |  |\n"
	    "| b |  |  |  |  |  |  |\n| c |  |  |  |  |  |  |\n", 0 },
	/* Hostile input. */
	{ __LINE__, "<p>a\0b</p>", "ab\n", 10 },
	{ __LINE__, "<p>\xff\xfe ok</p>", "\xef\xbf\xbd\xef\xbf\xbd ok\n", 0 },
	{ __LINE__, "<script>alert(1)</script><p>x</p>", "x\n", 0 },
	{ __LINE__, "<p title='a>b'>x</p>", "x\n", 0 },
	{ __LINE__, "<p>a<!-- hidden --> b</p>", "a b\n", 0 },
	{ __LINE__, "<p", "", 0 },
	{ __LINE__, "", "", 0 },
	{ __LINE__, " \n\t ", "", 0 },
};

/* html2md_ref_break: which sigils start a reference before which text. */
static void
ref_breaks(void)
{
	CHECK(html2md_ref_break(' ', '@', 'a'));
	CHECK(html2md_ref_break(0, '@', '_'));
	CHECK(!html2md_ref_break('x', '@', 'a'));	/* x@y: an email */
	CHECK(html2md_ref_break(0xa9, '@', 'a'));	/* é@a: GitLab's \w */
	CHECK(!html2md_ref_break(' ', '@', '.'));
	CHECK(html2md_ref_break('a', '#', '1'));	/* group/proj#1 */
	CHECK(!html2md_ref_break(' ', '#', 'a'));
	CHECK(html2md_ref_break(' ', '~', '"'));
	CHECK(html2md_ref_break(' ', '~', '~'));
	CHECK(!html2md_ref_break(' ', '%', ' '));
	CHECK(html2md_ref_break(' ', '{', '+'));
	CHECK(!html2md_ref_break(' ', 'a', 'b'));
}

/* The output cap: -1, and what out held before is left alone. */
static void
cap(void)
{
	struct buf	 b;
	char		 big[70000];

	buf_init(&b, 16);
	buf_puts(&b, "keep");
	CHECK_INT(html2md_convert("<p>hello world, this is long</p>", 32, &b),
	    -1);
	CHECK_STR(buf_str(&b), "keep");
	CHECK_INT(html2md_convert("<p>0123456789ab</p>", 19, &b), -1);
	CHECK_STR(buf_str(&b), "keep");
	CHECK_INT(html2md_convert("<p>0123456789a</p>", 18, &b), 0);
	CHECK_STR(buf_str(&b), "keep0123456789a\n");
	buf_release(&b);
	memset(big, 'x', sizeof(big));
	buf_init(&b, 1000);
	CHECK_INT(html2md_convert(big, sizeof(big), &b), -1);
	CHECK_INT(b.len, 0);
	buf_release(&b);
}

/* Past HTML_MAX_DEPTH blocks and breaks go, but words stay apart. */
static void
deep(void)
{
	struct buf	 html, md;
	size_t		 i;

	buf_init(&html, 4096);
	buf_init(&md, 4096);
	for (i = 0; i < HTML_MAX_DEPTH + 8; i++)
		buf_puts(&html, "<blockquote>");
	buf_puts(&html, "<p>a</p><p>b</p>c<br>d<div>e</div>");
	CHECK_INT(html2md_convert(buf_str(&html), html.len, &md), 0);
	CHECK(md.len > 11 && strcmp(buf_str(&md) + md.len - 11,
	    " a b c d e\n") == 0);
	buf_release(&html);
	buf_release(&md);
}

/* Every tests/data/html2md/NAME.html must give NAME.md. */
static void
golden(void)
{
	char		**names, what[256], *html, *want;
	size_t		 n, i, hlen, wlen;
	struct buf	 b;
	int		 norm = 1;

	names = golden_list("html2md", ".html", &n);
	CHECK(n >= 25);
	for (i = 0; i < n; i++) {
		html = golden_load("html2md", names[i], ".html", &hlen);
		want = golden_load("html2md", names[i], ".md", &wlen);
		buf_init(&b, 1u << 22);
		snprintf(what, sizeof(what), "html2md %s", names[i]);
		if (html == NULL || html2md_convert(html, hlen, &b) == -1)
			t_check(0, what, __FILE__, __LINE__);
		else {
			golden_check(what, buf_str(&b), b.len, want, wlen);
			norm &= conv_md_ok(buf_str(&b), b.len) &&
			    conv_md_no_command(buf_str(&b), b.len);
		}
		buf_release(&b);
		free(html);
		free(want);
	}
	CHECK(norm);
	golden_free(names);
}

int
main(void)
{
	struct buf	 b;
	size_t		 i;
	char		 what[64];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, 4096);
		snprintf(what, sizeof(what), "case at line %d", cases[i].line);
		if (html2md_convert(cases[i].html, cases[i].len ? cases[i].len :
		    strlen(cases[i].html), &b) == -1)
			t_check(0, what, __FILE__, cases[i].line);
		else if (!t_check(strcmp(buf_str(&b), cases[i].md) == 0, what,
		    __FILE__, cases[i].line))
			printf("# got:      \"%s\"\n# expected: \"%s\"\n",
			    buf_str(&b), cases[i].md);
		buf_release(&b);
	}
	ref_breaks();
	cap();
	deep();
	golden();
	return t_done();
}
