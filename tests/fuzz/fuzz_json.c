/*
 * libFuzzer harness: the bounded JSON reader and the getters the action
 * and webhook decoders use, on arbitrary bytes.  Beyond not crashing, a
 * getter's answer keeps json.h's promise: a string of 1..maxlen bytes of
 * clean text ("" too for json_str_or_empty), an integer within bounds.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/json.h"
#include "fuzz.h"

#define MAXLEN	255

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *paths[] = { "data.trigger", "data.feature.id",
	    "data.triggeredByUser.name", "data.eventType", "data.id",
	    "object_kind", "object_attributes.title" };
	static const struct {
		const char	*path;
		long long	 min, max;
	} ints[] = {
		{ "object_attributes.id", 1, INT64_MAX },
		{ "object_attributes.iid", 1, INT64_MAX },
		{ "object_attributes.project_id", INT64_MIN, INT64_MAX },
		{ "permissions.project_access.access_level", 0, 100 },
	};
	cJSON		*j;
	const char	*s;
	long long	 n;
	size_t		 i;

	if ((j = json_parse((const char *)data, size)) == NULL)
		return 0;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if ((s = json_str(j, paths[i], MAXLEN)) != NULL)
			FUZZ_CHECK(fuzz_text_ok(s, MAXLEN + 1, MAXLEN));
		s = json_str_or_empty(j, paths[i], MAXLEN);
		if (s != NULL && *s != '\0')
			FUZZ_CHECK(fuzz_text_ok(s, MAXLEN + 1, MAXLEN));
	}
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (json_int(j, ints[i].path, ints[i].min, ints[i].max,
		    &n) == 0)
			FUZZ_CHECK(n >= ints[i].min && n <= ints[i].max);
	cJSON_Delete(j);
	return 0;
}
