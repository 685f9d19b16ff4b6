#include "config.h"

#include <string.h>

#include "base/json.h"
#include "base/util.h"

/*
 * 1 if brackets nest deeper than JSON_MAX_DEPTH outside strings, if a
 * string holds an escaped NUL, or if a control character appears raw
 * anywhere but as whitespace between tokens (RFC 8259 §2, §7).  cJSON
 * accepts raw ones, and silently cuts a string at a NUL, escaped or raw:
 * "button.push\0x" would pass as "button.push".
 */
static int
hostile(const char *s, size_t len)
{
	size_t	 i;
	int	 depth = 0, instr = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((unsigned char)c < 0x20 && (instr ||
		    (c != '\t' && c != '\n' && c != '\r')))
			return 1;
		if (instr) {
			if (c == '\\' && i + 5 < len && s[i + 1] == 'u' &&
			    strncmp(s + i + 2, "0000", 4) == 0)
				return 1;
			if (c == '\\')
				i++;
			else if (c == '"')
				instr = 0;
		} else if (c == '"')
			instr = 1;
		else if (c == '[' || c == '{') {
			if (++depth > JSON_MAX_DEPTH)
				return 1;
		} else if (c == ']' || c == '}')
			depth--;
	}
	return 0;
}

cJSON *
json_parse(const char *s, size_t len)
{
	const char	*end = NULL;
	cJSON		*j;

	if (s == NULL || len == 0 || hostile(s, len))
		return NULL;
	if ((j = cJSON_ParseWithLengthOpts(s, len, &end, 0)) == NULL)
		return NULL;
	/* Only whitespace may follow the value. */
	for (; end < s + len; end++)
		if (strchr(" \t\r\n", *end) == NULL) {
			cJSON_Delete(j);
			return NULL;
		}
	return j;
}

const cJSON *
json_get(const cJSON *j, const char *path)
{
	char	 key[128];
	size_t	 n;

	while (j != NULL && *path != '\0') {
		n = strcspn(path, ".");
		if (n == 0 || n >= sizeof(key) || !cJSON_IsObject(j))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		j = cJSON_GetObjectItemCaseSensitive(j, key);
		path += n;
		if (*path == '.')
			path++;
	}
	return j;
}

const char *
json_str(const cJSON *j, const char *path, size_t maxlen)
{
	const cJSON	*v = json_get(j, path);
	size_t		 n;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return NULL;
	n = strlen(v->valuestring);
	if (n == 0 || n > maxlen || !util_text_ok(v->valuestring, n))
		return NULL;
	return v->valuestring;
}

const char *
json_str_or_empty(const cJSON *j, const char *path, size_t maxlen)
{
	const cJSON	*v = json_get(j, path);

	if (v == NULL || cJSON_IsNull(v))
		return "";
	if (cJSON_IsString(v) && v->valuestring != NULL &&
	    v->valuestring[0] == '\0')
		return "";
	return json_str(j, path, maxlen);
}

int
json_int(const cJSON *j, const char *path, long long min, long long max,
    long long *out)
{
	const cJSON	*v = json_get(j, path);
	double		 d;
	long long	 n;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	/*
	 * Casting a double outside long long's range (1e300, inf, NaN) is
	 * undefined, and (double)LLONG_MAX rounds up to 2^63: compare with
	 * the exact powers of two first.
	 */
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return -1;
	n = (long long)d;
	if ((double)n != d || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int
json_bool(const cJSON *j, const char *path, int *out)
{
	const cJSON	*v = json_get(j, path);

	if (!cJSON_IsBool(v))
		return -1;
	*out = cJSON_IsTrue(v);
	return 0;
}

char *
json_print(const cJSON *j)
{
	return cJSON_PrintUnformatted(j);
}
