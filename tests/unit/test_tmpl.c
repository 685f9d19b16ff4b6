/*
 * test_tmpl: the escapers (one per context, with hostile inputs) and the
 * template renderer (keys, sections, rows, includes, errors).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "t.h"
#include "web/tmpl.h"

static const struct {
	int		 line;
	const char	*in, *html, *attr;
} esc[] = {
	{ __LINE__, "plain text", "plain text", "plain text" },
	{ __LINE__, "<script>alert(1)</script>",
	    "&lt;script&gt;alert(1)&lt;/script&gt;",
	    "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ __LINE__, "a & b \"c\" 'd'", "a &amp; b &quot;c&quot; &#39;d&#39;",
	    "a &amp; b &quot;c&quot; &#39;d&#39;" },
	{ __LINE__, "x=`y`", "x=`y`", "x&#61;&#96;y&#96;" },
	{ __LINE__, "\" onmouseover=\"alert(1)",
	    "&quot; onmouseover=&quot;alert(1)",
	    "&quot; onmouseover&#61;&quot;alert(1)" },
	{ __LINE__, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ __LINE__, "bad \xff byte", "bad \xef\xbf\xbd byte",
	    "bad \xef\xbf\xbd byte" },
	{ __LINE__, "overlong \xc0\xbc", "overlong \xef\xbf\xbd\xef\xbf\xbd",
	    "overlong \xef\xbf\xbd\xef\xbf\xbd" },
	{ __LINE__, "cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd",
	    "cut \xef\xbf\xbd\xef\xbf\xbd" },
	{ __LINE__, "surrogate \xed\xa0\x80",
	    "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ __LINE__, "bell\a esc\x1b del\x7f", "bell\xef\xbf\xbd "
	    "esc\xef\xbf\xbd del\xef\xbf\xbd", "bell\xef\xbf\xbd "
	    "esc\xef\xbf\xbd del\xef\xbf\xbd" },
	{ __LINE__, "tab\tnl\ncr\r", "tab\tnl\ncr\r", "tab\tnl\ncr\r" },
	{ __LINE__, "", "", "" },
};

static const struct {
	int		 line;
	const char	*in, *out;
} urls[] = {
	{ __LINE__, "https://gitlab.com/grp/proj/-/issues/1",
	    "https://gitlab.com/grp/proj/-/issues/1" },
	{ __LINE__, "http://127.0.0.1:8080/x?a=1&b=2",
	    "http://127.0.0.1:8080/x?a=1&amp;b=2" },
	{ __LINE__, "HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/" },
	{ __LINE__, "/admin/i/abc?log_before=3#log",
	    "/admin/i/abc?log_before=3#log" },
	{ __LINE__, "?page=2", "?page=2" },
	{ __LINE__, "#jobs", "#jobs" },
	{ __LINE__, "javascript:alert(1)", "#invalid-url" },
	{ __LINE__, "JaVaScRiPt:alert(1)", "#invalid-url" },
	{ __LINE__, " javascript:alert(1)", "#invalid-url" },
	{ __LINE__, "data:text/html,<script>", "#invalid-url" },
	{ __LINE__, "vbscript:x", "#invalid-url" },
	{ __LINE__, "//evil.example/", "#invalid-url" },
	{ __LINE__, "/\\evil.example/", "#invalid-url" },
	{ __LINE__, "relative/path", "#invalid-url" },
	{ __LINE__, "", "#invalid-url" },
	{ __LINE__, "https://x/\"><script>", "https://x/%22%3E%3Cscript%3E" },
	{ __LINE__, "https://x/a b", "https://x/a%20b" },
	{ __LINE__, "https://x/it's", "https://x/it&#39;s" },
	{ __LINE__, "https://x/%41%zz", "https://x/%41%25zz" },
	{ __LINE__, "https://x/caf\xc3\xa9", "https://x/caf%C3%A9" },
	{ __LINE__, "https://x/\r\n", "https://x/%0D%0A" },
};

static const struct {
	int		 line;
	const char	*in, *out;
} comps[] = {
	{ __LINE__, "abc-._~", "abc-._~" },
	{ __LINE__, "a b&c=d/e?", "a%20b%26c%3Dd%2Fe%3F" },
	{ __LINE__, "\xc3\xa9", "%C3%A9" },
};

static char	 dir[] = "/tmp/test_tmpl.XXXXXX";

static void
put(const char *name, const char *text)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* Renders name with v; the output, or "ERR" when the render failed. */
static char *
render(const char *name, struct tmpl_vars *v)
{
	static char	 out[4096];
	struct buf	 b;
	struct tmpl	 t;

	buf_init(&b, 1u << 20);
	tmpl_init(&t, dir, &b);
	if (tmpl_render_vars(&t, name, v) == -1)
		snprintf(out, sizeof(out), "ERR");
	else
		snprintf(out, sizeof(out), "%s", buf_str(&b));
	buf_release(&b);
	return out;
}

/* A callback that writes only through the raw writer, for one key. */
static int
raw_key(struct tmpl *t, const char *key, void *arg)
{
	return strcmp(key, "frag") == 0 ? tmpl_raw_const(t, "<b>x</b>") : -1;
}

static void
escapers(void)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 1u << 16);
	for (i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		buf_reset(&b);
		CHECK(tmpl_escape_html(&b, esc[i].in) == 0);
		if (!CHECK_STR(buf_str(&b), esc[i].html))
			printf("# html case at line %d\n", esc[i].line);
		buf_reset(&b);
		CHECK(tmpl_escape_attr(&b, esc[i].in) == 0);
		if (!CHECK_STR(buf_str(&b), esc[i].attr))
			printf("# attr case at line %d\n", esc[i].line);
	}
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		buf_reset(&b);
		CHECK(tmpl_escape_url(&b, urls[i].in) == 0);
		if (!CHECK_STR(buf_str(&b), urls[i].out))
			printf("# url case at line %d\n", urls[i].line);
	}
	for (i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
		buf_reset(&b);
		CHECK(tmpl_escape_component(&b, comps[i].in) == 0);
		if (!CHECK_STR(buf_str(&b), comps[i].out))
			printf("# component case at line %d\n", comps[i].line);
	}
	/* A capped buffer fails instead of growing. */
	buf_release(&b);
	buf_init(&b, 8);
	CHECK(tmpl_escape_html(&b, "<<<<<<<<") == -1);
	buf_release(&b);
}

static void
renders(void)
{
	struct tmpl_vars *v = tmpl_vars_new(), *r;
	struct tmpl_cb	 cb = { raw_key, NULL, NULL };
	struct tmpl	 t;
	struct buf	 b;

	put("page.html", "<h1>{{title}}</h1>{{! a comment }}<a href=\"{{u}}\">"
	    "{{ title }}</a>{{>part.html}}");
	put("part.html", "<p>{{name}}</p>");
	put("rows.html", "{{#rows}}[{{n}}:{{title}}]{{/rows}}"
	    "{{^rows}}none{{/rows}}");
	put("cond.html", "{{#on}}yes{{/on}}{{^on}}no{{/on}}"
	    "{{#missing}}never{{/missing}}{{^missing}}absent{{/missing}}");
	put("nest.html", "{{#a}}{{#b}}{{x}}{{/b}};{{/a}}");
	put("unknown.html", "{{nope}}");
	put("unclosed.html", "{{#rows}}x");
	put("mismatch.html", "{{#rows}}x{{/other}}");
	put("stray.html", "x{{/rows}}");
	put("badtag.html", "{{a b}}");
	put("open.html", "text {{title");
	put("empty.html", "{{}}");
	put("self.html", "{{>self.html}}");
	put("escape.html", "{{>../etc/passwd}}");
	put("listkey.html", "{{rows}}");
	put("const.html", "<option {{sel}}>");
	put("raw.html", "{{frag}}");
	put("braces.html", "a { b } {x} }} c");

	tmpl_set(v, "title", "<script>alert(1)</script>");
	tmpl_set_url(v, "u", "javascript:alert(1)");
	tmpl_set(v, "name", "O'Brien & \"Co\"");
	CHECK_STR(render("page.html", v), "<h1>&lt;script&gt;alert(1)&lt;"
	    "/script&gt;</h1><a href=\"#invalid-url\">&lt;script&gt;alert(1)"
	    "&lt;/script&gt;</a><p>O&#39;Brien &amp; &quot;Co&quot;</p>");
	CHECK_STR(render("rows.html", v), "none");
	tmpl_list(v, "rows");
	CHECK_STR(render("rows.html", v), "none");
	r = tmpl_row(v, "rows");
	tmpl_set(r, "n", "1");
	r = tmpl_row(v, "rows");
	tmpl_set(r, "n", "2");
	tmpl_set(r, "title", "own");
	CHECK_STR(render("rows.html", v), "[1:&lt;script&gt;alert(1)&lt;"
	    "/script&gt;][2:own]");
	tmpl_set_flag(v, "on", 1);
	CHECK_STR(render("cond.html", v), "yesabsent");
	tmpl_set_flag(v, "on", 0);
	CHECK_STR(render("cond.html", v), "noabsent");
	tmpl_set(v, "on", "text");
	CHECK_STR(render("cond.html", v), "yesabsent");
	r = tmpl_row(v, "a");
	r = tmpl_row(r, "b");
	tmpl_set(r, "x", "deep");
	CHECK_STR(render("nest.html", v), "deep;");
	CHECK_STR(tmpl_get(r, "title"), "<script>alert(1)</script>");
	CHECK(tmpl_get(v, "nope") == NULL);

	CHECK_STR(render("unknown.html", v), "ERR");
	CHECK_STR(render("unclosed.html", v), "ERR");
	CHECK_STR(render("mismatch.html", v), "ERR");
	CHECK_STR(render("stray.html", v), "ERR");
	CHECK_STR(render("badtag.html", v), "ERR");
	CHECK_STR(render("open.html", v), "ERR");
	CHECK_STR(render("empty.html", v), "ERR");
	CHECK_STR(render("self.html", v), "ERR");
	CHECK_STR(render("escape.html", v), "ERR");
	CHECK_STR(render("listkey.html", v), "ERR");
	CHECK_STR(render("no-such-file.html", v), "ERR");
	CHECK_STR(render("../page.html", v), "ERR");
	CHECK_STR(render(".hidden", v), "ERR");
	CHECK_STR(render("braces.html", v), "a { b } {x} }} c");
	tmpl_set_const(v, "sel", "selected");
	CHECK_STR(render("const.html", v), "<option selected>");
	tmpl_set_const(v, "sel", "");
	CHECK_STR(render("const.html", v), "<option >");
	tmpl_vars_free(v);
	tmpl_vars_free(NULL);

	/* A plain callback: the raw writer for a constant fragment. */
	buf_init(&b, 1024);
	tmpl_init(&t, dir, &b);
	CHECK(tmpl_render(&t, "raw.html", &cb) == 0);
	CHECK_STR(buf_str(&b), "<b>x</b>");
	buf_reset(&b);
	CHECK(tmpl_render(&t, "rows.html", &cb) == -1);
	CHECK(strstr(t.err, "rows") != NULL);
	buf_release(&b);

	/* Output past the buffer's cap fails cleanly. */
	v = tmpl_vars_new();
	tmpl_set(v, "title", "a long enough title to overflow");
	tmpl_set_url(v, "u", "/x");
	tmpl_set(v, "name", "n");
	buf_init(&b, 16);
	tmpl_init(&t, dir, &b);
	CHECK(tmpl_render_vars(&t, "page.html", v) == -1);
	buf_release(&b);
	tmpl_vars_free(v);
}

/* Random templates and values must never crash (run under ASan). */
static void
hostile(void)
{
	static const char alphabet[] = "{}#^/>!ab \"<&\xff\xc3";
	struct tmpl_vars *v = tmpl_vars_new(), *r;
	char		 text[64];
	unsigned	 seed = 1;
	int		 i, j, ok = 1;

	tmpl_set(v, "a", "<x>");
	r = tmpl_row(v, "b");
	tmpl_set(r, "a", "\xff");
	for (i = 0; i < 2000; i++) {
		for (j = 0; j < (int)sizeof(text) - 1; j++) {
			seed = seed * 1103515245 + 12345;
			text[j] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		text[sizeof(text) - 1] = '\0';
		put("fuzz.html", text);
		if (strstr(render("fuzz.html", v), "<x>") != NULL)
			ok = 0;
	}
	CHECK(ok);
	tmpl_vars_free(v);
}

int
main(void)
{
	char	 path[256];
	static const char *files[] = { "page.html", "part.html", "rows.html",
	    "cond.html", "nest.html", "unknown.html", "unclosed.html",
	    "mismatch.html", "stray.html", "badtag.html", "open.html",
	    "empty.html", "self.html", "escape.html", "listkey.html",
	    "const.html", "raw.html", "braces.html", "fuzz.html" };
	size_t	 i;

	log_open("test_tmpl", LOGL_ERR, "/dev/null");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	escapers();
	renders();
	hostile();
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return t_done();
}
