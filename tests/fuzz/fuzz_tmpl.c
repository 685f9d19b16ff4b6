/*
 * libFuzzer harness: the template engine and its escapers (tmpl.h).
 *
 * The input is a text value, a URL value and a template, separated by NUL
 * bytes.  The template is written to a file and rendered the way the admin
 * pages are, with a dictionary of t (the text), u (the URL), c (constant
 * markup), f (a flag), e (empty), rows (two rows, the first with its own
 * t) and none (an empty list); it may include _inc.html, which uses them
 * too (tests/fuzz/fuzz_tmpl.dict names the tags).  Beyond not crashing:
 *
 * - a template without < " ' renders none of them, whatever the values
 *   hold: a value can neither open a tag nor leave a quoted attribute;
 * - a template without tags is copied exactly; a failed render says why;
 * - a text value is written by the HTML escaper, a URL by the URL one;
 * - each escaper keeps its promise on both values: html and attr write
 *   clean text with no raw & that decodes back to the value when that was
 *   clean; url writes "#invalid-url" or an http(s) or site-relative
 *   reference of URL characters only; component writes unreserved
 *   characters and %XX only.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "fuzz.h"
#include "web/tmpl.h"

#define OUT_MAX		(1u << 20)
#define SPECIAL		"<>\"'"
#define OPENERS		"<\"'"		/* ">" is in {{>file}} */
#define UNRESERVED	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789-._~"
#define INC		"[{{t}}|{{u}}|{{#rows}}({{t}}){{/rows}}" \
			"{{^none}}-{{/none}}]"
#define KINDS		"{{t}}|{{u}}|{{c}}"

int	 LLVMFuzzerInitialize(int *, char ***);

static char	 dir[PATH_MAX - 32];	/* room for "/fuzz.html" */

static void
path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void
put(const char *name, const void *p, size_t len)
{
	char	 path[PATH_MAX];
	FILE	*f;

	path_of(path, sizeof(path), name);
	/* A new file each time: rewriting one in place can wait for a flush. */
	unlink(path);
	if ((f = fopen(path, "w")) == NULL || fwrite(p, 1, len, f) != len ||
	    fclose(f) != 0) {
		perror(path);
		abort();
	}
}

static void
cleanup(void)
{
	char	 path[PATH_MAX];

	path_of(path, sizeof(path), "fuzz.html");
	unlink(path);
	path_of(path, sizeof(path), "_inc.html");
	unlink(path);
	path_of(path, sizeof(path), "_kinds.html");
	unlink(path);
	rmdir(dir);
}

/*
 * A template directory of our own, next to the binary (fuzz-out/ under
 * make fuzz), and failed renders kept out of sight.  A finding ends the
 * process without atexit: its directory stays, beside the crash file.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	snprintf(dir, sizeof(dir), "%s.XXXXXX", (*argv)[0]);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		abort();
	}
	atexit(cleanup);
	put("_inc.html", INC, strlen(INC));
	put("_kinds.html", KINDS, strlen(KINDS));
	log_open("fuzz_tmpl", LOGL_ERR, "/dev/null");
	return 0;
}

/* 1 if the len bytes at p hold none of the characters in set. */
static int
none_of(const char *p, size_t len, const char *set)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] != '\0' && strchr(set, p[i]) != NULL)
			return 0;
	return 1;
}

/* 1 for valid UTF-8 without control characters other than tab, CR, LF. */
static int
clean(const char *s)
{
	char	*c;
	size_t	 i, n = strlen(s);
	int	 ok;

	if ((c = strdup(s)) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (c[i] == '\r' || c[i] == '\n')
			c[i] = ' ';
	ok = util_text_ok(c, n);
	free(c);
	return ok;
}

/* Decodes the entities the escapers write; every & must start one. */
static void
unescape(const char *s, struct buf *out)
{
	static const char *ent[][2] = { { "&amp;", "&" }, { "&lt;", "<" },
	    { "&gt;", ">" }, { "&quot;", "\"" }, { "&#39;", "'" },
	    { "&#96;", "`" }, { "&#61;", "=" } };
	size_t	 i, n;

	for (; *s != '\0'; s++) {
		if (*s != '&') {
			FUZZ_CHECK(buf_putc(out, *s) == 0);
			continue;
		}
		for (i = 0; i < sizeof(ent) / sizeof(ent[0]); i++)
			if (strncmp(s, ent[i][0], n = strlen(ent[i][0])) == 0)
				break;
		FUZZ_CHECK(i < sizeof(ent) / sizeof(ent[0]));
		FUZZ_CHECK(buf_puts(out, ent[i][1]) == 0);
		s += n - 1;
	}
}

/* tmpl_escape_html, or with attr tmpl_escape_attr, on v. */
static void
check_entities(const char *v, int attr)
{
	struct buf	 b, dec;

	buf_init(&b, 8 * strlen(v) + 64);
	buf_init(&dec, 8 * strlen(v) + 64);
	FUZZ_CHECK((attr ? tmpl_escape_attr(&b, v) :
	    tmpl_escape_html(&b, v)) == 0);
	FUZZ_CHECK(none_of(buf_str(&b), b.len, attr ? SPECIAL "`=" : SPECIAL));
	FUZZ_CHECK(clean(buf_str(&b)));
	unescape(buf_str(&b), &dec);
	if (clean(v))
		FUZZ_CHECK(strcmp(buf_str(&dec), v) == 0);
	buf_release(&b);
	buf_release(&dec);
}

/* 1 if every % in s starts a %XX escape. */
static int
percent_ok(const char *s)
{
	for (; (s = strchr(s, '%')) != NULL; s++)
		if (!isxdigit((unsigned char)s[1]) ||
		    !isxdigit((unsigned char)s[2]))
			return 0;
	return 1;
}

static void
check_url(const char *v)
{
	struct buf	 b, dec;
	const char	*u;

	buf_init(&b, 16 * strlen(v) + 64);
	buf_init(&dec, 16 * strlen(v) + 64);
	FUZZ_CHECK(tmpl_escape_url(&b, v) == 0);
	u = buf_str(&b);
	FUZZ_CHECK(strspn(u, UNRESERVED ":/?#[]@!$&()*+,;=%") == b.len);
	unescape(u, &dec);
	u = buf_str(&dec);
	if (strcmp(u, "#invalid-url") != 0) {
		FUZZ_CHECK(strncasecmp(u, "https://", 8) == 0 ||
		    strncasecmp(u, "http://", 7) == 0 ||
		    (u[0] == '/' && u[1] != '/') || u[0] == '?' || u[0] == '#');
		FUZZ_CHECK(percent_ok(u));
	}
	buf_reset(&b);
	FUZZ_CHECK(tmpl_escape_component(&b, v) == 0);
	u = buf_str(&b);
	FUZZ_CHECK(strspn(u, UNRESERVED "%") == b.len && percent_ok(u));
	buf_release(&b);
	buf_release(&dec);
}

static void
check_escapers(const char *v)
{
	check_entities(v, 0);
	check_entities(v, 1);
	check_url(v);
}

static struct tmpl_vars *
vars(const char *text, const char *url)
{
	struct tmpl_vars *vs = tmpl_vars_new(), *row;

	tmpl_set(vs, "t", text);
	tmpl_set_url(vs, "u", url);
	tmpl_set_const(vs, "c", "&nbsp;");
	tmpl_set_flag(vs, "f", 1);
	tmpl_set(vs, "e", "");
	tmpl_list(vs, "none");
	row = tmpl_row(vs, "rows");
	tmpl_set(row, "t", url);
	tmpl_row(vs, "rows");
	return vs;
}

/* Each kind of value goes through its own writer: text, URL, markup. */
static void
check_kinds(struct tmpl_vars *vs, const char *text, const char *url)
{
	struct buf	 out, want;
	struct tmpl	 t;

	buf_init(&out, OUT_MAX);
	buf_init(&want, OUT_MAX);
	tmpl_init(&t, dir, &out);
	FUZZ_CHECK(tmpl_escape_html(&want, text) == 0 &&
	    buf_putc(&want, '|') == 0 && tmpl_escape_url(&want, url) == 0 &&
	    buf_puts(&want, "|&nbsp;") == 0);
	FUZZ_CHECK(tmpl_render_vars(&t, "_kinds.html", vs) == 0);
	FUZZ_CHECK(out.len == want.len &&
	    memcmp(buf_str(&out), buf_str(&want), out.len) == 0);
	buf_release(&out);
	buf_release(&want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*copy, *p, *end;
	const char	*text, *url, *src;
	size_t		 srclen;
	struct tmpl_vars *vs;
	struct tmpl	 t;
	struct buf	 out;
	int		 rc;

	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	text = p = copy;
	p += strlen(p);
	url = p < end ? ++p : p;
	p += strlen(p);
	src = p < end ? ++p : p;
	srclen = (size_t)(end - src);

	check_escapers(text);
	check_escapers(url);
	/*
	 * Including itself, the template recurses to TMPL_MAX_DEPTH, and
	 * through rows to 2^16 loads: slow, and nothing new to learn.
	 */
	if (memmem(src, srclen, "fuzz.html", 9) != NULL) {
		free(copy);
		return 0;
	}
	put("fuzz.html", src, srclen);
	vs = vars(text, url);
	check_kinds(vs, text, url);
	buf_init(&out, OUT_MAX);
	tmpl_init(&t, dir, &out);
	rc = tmpl_render_vars(&t, "fuzz.html", vs);
	if (rc == -1)
		FUZZ_CHECK(t.err[0] != '\0');
	else if (none_of(src, srclen, OPENERS))
		FUZZ_CHECK(none_of(buf_str(&out), out.len, OPENERS));
	if (memmem(src, srclen, "{{", 2) == NULL)
		FUZZ_CHECK(rc == 0 && out.len == srclen &&
		    memcmp(buf_str(&out), src, srclen) == 0);
	buf_release(&out);
	tmpl_vars_free(vs);
	free(copy);
	return 0;
}
