/*
 * test_form: form bodies and cookies, table-driven, with hostile inputs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "t.h"
#include "web/form.h"
#include "web/session.h"

static const struct form_field fields[] = {
	{ "name", FORM_LINE, 16, 0, 0 },
	{ "text", FORM_TEXT, 32, 0, 0 },
	{ "secret", FORM_SECRET, 16, 0, 0 },
	{ "n", FORM_INT, 0, 1, 100 },
};
#define NF	(sizeof(fields) / sizeof(fields[0]))

/* What one body gives: parse result, then each field ("-" absent, "!"
 * invalid, else the value). */
static const struct {
	int		 line;
	const char	*body;
	int		 rc;
	const char	*name, *text, *secret, *n;
} cases[] = {
	{ __LINE__, "", 0, "-", "-", "-", "-" },
	{ __LINE__, "name=Ann&text=hi&secret=s3&n=42", 0, "Ann", "hi", "s3",
	    "42" },
	{ __LINE__, "name=a+b&text=a%20b", 0, "a b", "a b", "-", "-" },
	{ __LINE__, "name=%41%42%43", 0, "ABC", "-", "-", "-" },
	{ __LINE__, "name=%c3%a9", 0, "\xc3\xa9", "-", "-", "-" },
	{ __LINE__, "name=++x++", 0, "x", "-", "-", "-" },
	{ __LINE__, "name=", 0, "", "-", "-", "-" },
	{ __LINE__, "name", 0, "", "-", "-", "-" },
	{ __LINE__, "&&name=x&&", 0, "x", "-", "-", "-" },
	{ __LINE__, "other=1&name=x&zzz", 0, "x", "-", "-", "-" },
	{ __LINE__, "na%6De=x", 0, "x", "-", "-", "-" },
	{ __LINE__, "name=a=b", 0, "a=b", "-", "-", "-" },
	/* malformed bodies */
	{ __LINE__, "name=%", -1, 0, 0, 0, 0 },
	{ __LINE__, "name=%4", -1, 0, 0, 0, 0 },
	{ __LINE__, "name=%zz", -1, 0, 0, 0, 0 },
	{ __LINE__, "name=%G1", -1, 0, 0, 0, 0 },
	{ __LINE__, "na%me=x", -1, 0, 0, 0, 0 },
	{ __LINE__, "name=1&name=2", -1, 0, 0, 0, 0 },
	{ __LINE__, "name=1&na%6De=2", -1, 0, 0, 0, 0 },
	/* a NUL in a name does not smuggle a declared field */
	{ __LINE__, "name%00x=1", 0, "-", "-", "-", "-" },
	/* invalid values */
	{ __LINE__, "name=a%00b", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=a%01b", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=a%09b", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=a%0Ab", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=a%0Db", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=a%7Fb", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=a%1Bb", 0, "!", "-", "-", "-" },
	{ __LINE__, "text=a%09b%0D%0Ac", 0, "-", "a\tb\r\nc", "-", "-" },
	{ __LINE__, "text=a%00b", 0, "-", "!", "-", "-" },
	{ __LINE__, "text=a%07b", 0, "-", "!", "-", "-" },
	{ __LINE__, "name=%C3%28", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=%C0%AF", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=%ED%A0%80", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=%F4%90%80%80", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=%FF", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=%E2%82", 0, "!", "-", "-", "-" },
	{ __LINE__, "name=0123456789abcdef", 0, "0123456789abcdef", "-", "-",
	    "-" },
	{ __LINE__, "name=0123456789abcdefg", 0, "!", "-", "-", "-" },
	{ __LINE__, "secret=0123456789abcdefg", 0, "-", "-", "!", "-" },
	{ __LINE__, "n=1", 0, "-", "-", "-", "1" },
	{ __LINE__, "n=100", 0, "-", "-", "-", "100" },
	{ __LINE__, "n=0", 0, "-", "-", "-", "!" },
	{ __LINE__, "n=101", 0, "-", "-", "-", "!" },
	{ __LINE__, "n=-5", 0, "-", "-", "-", "!" },
	{ __LINE__, "n=4x", 0, "-", "-", "-", "!" },
	{ __LINE__, "n=+4", 0, "-", "-", "-", "!" },
	{ __LINE__, "n=", 0, "-", "-", "-", "!" },
	{ __LINE__, "n=99999999999999999999999999999999", 0, "-", "-", "-",
	    "!" },
	{ __LINE__, "n=0x10", 0, "-", "-", "-", "!" },
	{ __LINE__, "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 0, "!", "-",
	    "-", "-" },	/* 25 bytes: over this field's 16 */
	{ __LINE__, "text=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 0, "-",
	    "<script>alert(1)</script>", "-", "-" },
};

static const struct {
	int		 line;
	const char	*header, *name;
	size_t		 outlen;
	const char	*want;		/* NULL: -1 */
} cookies[] = {
	{ __LINE__, "a=1; s=abc; b=2", "s", 64, "abc" },
	{ __LINE__, "s=abc", "s", 64, "abc" },
	{ __LINE__, "  s=abc  ;x=y", "s", 64, "abc" },
	{ __LINE__, "s=first; s=second", "s", 64, "first" },
	{ __LINE__, "s=\"quoted\"", "s", 64, "quoted" },
	{ __LINE__, "xs=1; s=2", "s", 64, "2" },
	{ __LINE__, "ss=1", "s", 64, NULL },
	{ __LINE__, "a=1", "s", 64, NULL },
	{ __LINE__, "", "s", 64, NULL },
	{ __LINE__, "s=", "s", 64, NULL },
	{ __LINE__, "s", "s", 64, NULL },
	{ __LINE__, "s=a b", "s", 64, NULL },
	{ __LINE__, "s=a,b", "s", 64, NULL },
	{ __LINE__, "s=a\\b", "s", 64, NULL },
	{ __LINE__, "s=a\"b", "s", 64, NULL },
	{ __LINE__, "s=caf\xc3\xa9", "s", 64, NULL },
	{ __LINE__, "s=12345678", "s", 9, "12345678" },
	{ __LINE__, "s=123456789", "s", 9, NULL },
	{ __LINE__, "s=AbC-_09.~!", "s", 64, "AbC-_09.~!" },
};

static const char *
shown(const struct form *f, const char *name)
{
	size_t	 i;

	for (i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return f->v[i].status == FORM_ABSENT ? "-" :
			    f->v[i].status == FORM_INVALID ? "!" : f->v[i].s;
	return "?";
}

static void
bodies(void)
{
	struct form	 f;
	size_t		 i;
	long long	 n;
	int		 rc, ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = form_parse(&f, fields, NF, cases[i].body,
		    strlen(cases[i].body));
		ok = CHECK_INT(rc, cases[i].rc);
		if (rc == 0 && cases[i].rc == 0) {
			ok &= CHECK_STR(shown(&f, "name"), cases[i].name);
			ok &= CHECK_STR(shown(&f, "text"), cases[i].text);
			ok &= CHECK_STR(shown(&f, "secret"), cases[i].secret);
			ok &= CHECK_STR(shown(&f, "n"), cases[i].n);
			if (form_int(&f, "n", &n) == 0)
				ok &= CHECK(n == atoll(cases[i].n));
		}
		if (!ok)
			printf("# case at line %d: \"%s\"\n", cases[i].line,
			    cases[i].body);
		form_release(&f);
	}
}

static void
accessors(void)
{
	struct form	 f;
	const struct form_field *bad;
	const char	*why = NULL;
	long long	 n = 0;
	char		*big;
	size_t		 i;

	CHECK(form_parse(&f, fields, NF, "name=x&n=7", 10) == 0);
	CHECK_STR(form_str(&f, "name"), "x");
	CHECK(form_str(&f, "text") == NULL);
	CHECK(form_str(&f, "undeclared") == NULL);
	CHECK(form_int(&f, "n", &n) == 0 && n == 7);
	CHECK(form_int(&f, "name", &n) == -1);
	CHECK(form_invalid(&f, NULL) == NULL);
	form_release(&f);

	CHECK(form_parse(&f, fields, NF, "name=%01&n=x", 12) == 0);
	bad = form_invalid(&f, &why);
	CHECK(bad != NULL && strcmp(bad->name, "name") == 0);
	CHECK_STR(why, "not valid text");
	CHECK(form_str(&f, "name") == NULL);
	CHECK(form_int(&f, "n", &n) == -1);
	form_release(&f);

	/* A body is taken by length, not up to a NUL. */
	CHECK(form_parse(&f, fields, NF, "name=ab\0cd", 10) == 0);
	CHECK(form_str(&f, "name") == NULL);
	form_release(&f);
	CHECK(form_parse(&f, fields, NF, "name=abcdef", 7) == 0);
	CHECK_STR(form_str(&f, "name"), "ab");
	form_release(&f);

	/* Too many pairs: refused whole. */
	big = malloc(4 * (FORM_MAX_PAIRS + 1) + 1);
	for (i = 0; i <= FORM_MAX_PAIRS; i++)
		memcpy(big + 4 * i, "x=1&", 4);
	big[4 * (FORM_MAX_PAIRS + 1)] = '\0';
	CHECK(form_parse(&f, fields, NF, big, strlen(big)) == -1);
	form_release(&f);
	CHECK(form_parse(&f, fields, NF, big, 4 * FORM_MAX_PAIRS) == 0);
	CHECK_INT(f.ignored, FORM_MAX_PAIRS);
	form_release(&f);
	free(big);
}

static void
cookie_cases(void)
{
	char	 out[64];
	size_t	 i;
	int	 rc, ok;

	for (i = 0; i < sizeof(cookies) / sizeof(cookies[0]); i++) {
		memset(out, 0, sizeof(out));
		rc = form_cookie(cookies[i].header, cookies[i].name, out,
		    cookies[i].outlen);
		ok = cookies[i].want == NULL ? (CHECK_INT(rc, -1)) :
		    ((CHECK_INT(rc, 0)) && CHECK_STR(out, cookies[i].want));
		if (!ok)
			printf("# cookie case at line %d\n", cookies[i].line);
	}
	CHECK(form_cookie(NULL, "s", out, sizeof(out)) == -1);
}

/* The pure parts of session: throttle waits and the Secure decision. */
static void
session_rules(void)
{
	static const struct {
		int		 line;
		const char	*url;
		int		 insecure_ok;
	} urls[] = {
		{ __LINE__, "http://127.0.0.1:8080", 1 },
		{ __LINE__, "http://127.0.0.1", 1 },
		{ __LINE__, "http://localhost:8080/", 1 },
		{ __LINE__, "HTTP://LOCALHOST", 1 },
		{ __LINE__, "http://[::1]:8080", 1 },
		{ __LINE__, "https://127.0.0.1", 0 },
		{ __LINE__, "https://pbsync.example.com", 0 },
		{ __LINE__, "http://pbsync.example.com", 0 },
		{ __LINE__, "http://127.0.0.1.evil.com", 0 },
		{ __LINE__, "http://localhost.evil.com", 0 },
		{ __LINE__, "http://127.0.0.10", 0 },
		{ __LINE__, "", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if (!(CHECK_INT(session_insecure_ok(urls[i].url),
		    urls[i].insecure_ok)))
			printf("# url case at line %d\n", urls[i].line);
	CHECK(session_insecure_ok(NULL) == 0);
	CHECK_INT(session_wait(0, 0, 1000), 0);
	CHECK_INT(session_wait(SESSION_FREE_FAILURES - 1, 1000, 1000), 0);
	CHECK_INT(session_wait(SESSION_FREE_FAILURES, 1000, 1000),
	    SESSION_FIRST_WAIT_S + 1);
	CHECK_INT(session_wait(SESSION_FREE_FAILURES + 1, 1000, 1000),
	    2 * SESSION_FIRST_WAIT_S + 1);
	CHECK_INT(session_wait(SESSION_FREE_FAILURES, 1000,
	    1000 + SESSION_FIRST_WAIT_S), 0);
	CHECK_INT(session_wait(1000, 1000, 1000), SESSION_MAX_WAIT_S + 1);
	CHECK_INT(session_wait(1LL << 62, 1000, 1000), SESSION_MAX_WAIT_S + 1);
}

int
main(void)
{
	log_open("test_form", LOGL_ERR, "/dev/null");
	bodies();
	accessors();
	cookie_cases();
	session_rules();
	return t_done();
}
