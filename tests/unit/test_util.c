#include "config.h"

#include <string.h>

#include "base/util.h"
#include "t.h"

int
main(void)
{
	static const struct {
		const char	*in;
		int		 ok;
		double		 want;
	} times[] = {
		{ "2013-12-03T17:15:43Z", 1, 1386090943 },
		{ "2016-01-07T12:44:33.959Z", 1, 1452170673.959 },
		{ "2017-09-15 16:50:55 UTC", 1, 1505494255 },
		{ "2026-01-31 19:03:35 +0100", 1, 1769882615 },
		{ "2026-01-31T19:03:35+01:00", 1, 1769882615 },
		{ "2026-01-31T19:03:35-0230", 1, 1769895215 },
		{ "2026-13-01T00:00:00Z", 0, 0 },
		{ "yesterday", 0, 0 },
		{ "2026-01-31T19:03:35 +01", 0, 0 },
		{ "", 0, 0 },
	};
	char	 s[64], out[32];
	long	 l;
	int	 b;
	double	 t;
	size_t	 i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int rc = util_parse_time(times[i].in, &t);

		CHECK_INT(rc == 0, times[i].ok);
		if (times[i].ok)
			CHECK(t > times[i].want - 0.001 && t < times[i].want + 0.001);
	}
	util_format_time(1386090943, out);
	CHECK_STR(out, "2013-12-03T17:15:43Z");
	CHECK_INT(util_parse_long("42", 0, 100, &l), 0);
	CHECK_INT(l, 42);
	CHECK_INT(util_parse_long("101", 0, 100, &l), -1);
	CHECK_INT(util_parse_long("4x", 0, 100, &l), -1);
	CHECK_INT(util_parse_long(" 4", 0, 100, &l), -1);
	CHECK_INT(util_parse_long("", 0, 100, &l), -1);
	CHECK_INT(util_parse_long("99999999999999999999", 0, 100, &l), -1);
	CHECK_INT(util_parse_bool("Yes", &b), 0);
	CHECK_INT(b, 1);
	CHECK_INT(util_parse_bool("off", &b), 0);
	CHECK_INT(b, 0);
	CHECK_INT(util_parse_bool("maybe", &b), -1);
	strcpy(s, "  padded \t\n");
	CHECK_STR(util_trim(s), "padded");
	strcpy(s, "http://x///");
	util_strip_trailing(s, '/');
	CHECK_STR(s, "http://x");
	CHECK(util_text_ok("héllo\tworld", strlen("héllo\tworld")));
	CHECK(!util_text_ok("a\nb", 3));
	CHECK(!util_text_ok("a\0b", 3));
	CHECK(!util_text_ok("\xc3\x28", 2));		/* bad continuation */
	CHECK(!util_text_ok("\xed\xa0\x80", 3));		/* surrogate */
	CHECK(!util_text_ok("\xc0\xaf", 2));		/* overlong */
	CHECK(util_mono_ms() > 0);
	return t_done();
}
