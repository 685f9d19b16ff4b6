#include "config.h"

#include <string.h>

#include "base/json.h"
#include "t.h"

int
main(void)
{
	const char	*doc = "{\"data\":{\"id\":\"abc\",\"n\":42,\"f\":1.5,"
			    "\"b\":true,\"empty\":\"\",\"nul\":null,"
			    "\"ctl\":\"a\\u0001b\",\"deep\":{\"x\":\"y\"}}}";
	char		 deep[200];
	cJSON		*j;
	long long	 n;
	int		 b;

	j = json_parse(doc, strlen(doc));
	CHECK(j != NULL);
	CHECK_STR(json_str(j, "data.id", 10), "abc");
	CHECK(json_str(j, "data.id", 2) == NULL);		/* too long */
	CHECK(json_str(j, "data.n", 10) == NULL);		/* wrong type */
	CHECK(json_str(j, "data.missing", 10) == NULL);
	CHECK(json_str(j, "data.empty", 10) == NULL);
	CHECK(json_str(j, "data.ctl", 10) == NULL);		/* control char */
	CHECK_STR(json_str_or_empty(j, "data.nul", 10), "");
	CHECK_STR(json_str_or_empty(j, "data.missing", 10), "");
	CHECK_STR(json_str(j, "data.deep.x", 10), "y");
	CHECK_INT(json_int(j, "data.n", 0, 100, &n), 0);
	CHECK_INT(n, 42);
	CHECK_INT(json_int(j, "data.n", 0, 10, &n), -1);
	CHECK_INT(json_int(j, "data.f", 0, 10, &n), -1);	/* not integral */
	CHECK_INT(json_bool(j, "data.b", &b), 0);
	CHECK_INT(b, 1);
	CHECK(json_get(j, "data..id") == NULL);
	cJSON_Delete(j);
	CHECK(json_parse("{\"a\":1} x", 9) == NULL);		/* trailing junk */
	CHECK(json_parse("{\"a\":", 5) == NULL);
	CHECK(json_parse("", 0) == NULL);
	CHECK(json_parse("{\"a\":\"x\\u0000y\"}", 16) == NULL);	/* NUL */
	CHECK(json_parse("{\"a\":\"x\0y\"}", 11) == NULL);	/* raw NUL */
	CHECK(json_parse("{\"a\":\"x\001y\"}", 11) == NULL);	/* raw ^A */
	CHECK(json_parse("{\"a\":\"x\ty\"}", 11) == NULL);	/* raw tab */
	CHECK(json_parse("{\"a\":1}\0", 8) == NULL);
	j = json_parse("{\t\"a\"\r\n:\n1}", 11);		/* whitespace */
	CHECK(json_int(j, "a", 0, 9, &n) == 0 && n == 1);
	cJSON_Delete(j);
	j = json_parse("{\"a\":\"x\\\\u0000y\"}", 17);	/* escaped \ */
	CHECK(j != NULL);
	cJSON_Delete(j);
	j = json_parse("{\"a\":1}  \n", 10);
	CHECK(j != NULL);
	cJSON_Delete(j);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	CHECK(json_parse(deep, 200) == NULL);			/* too deep */
	j = json_parse("[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]", 41);
	CHECK(j != NULL);			/* brackets in strings are fine */
	cJSON_Delete(j);
	return t_done();
}
