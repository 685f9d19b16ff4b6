/*
 * libFuzzer harness: the bounded JSON reader and the getters the action
 * and webhook decoders use, on arbitrary bytes.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "json.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *paths[] = { "data.trigger", "data.feature.id",
	    "data.triggeredByUser.name", "data.eventType", "data.id",
	    "object_kind", "object_attributes.title" };
	cJSON		*j;
	long long	 n;
	size_t		 i;

	if ((j = json_parse((const char *)data, size)) == NULL)
		return 0;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		json_str(j, paths[i], 255);
		json_str_or_empty(j, paths[i], 255);
	}
	json_int(j, "object_attributes.id", 1, INT64_MAX, &n);
	json_int(j, "object_attributes.iid", 1, INT64_MAX, &n);
	cJSON_Delete(j);
	return 0;
}
