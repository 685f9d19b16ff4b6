#include "config.h"

#include <string.h>

#include "base/crypto.h"
#include "flows/queue.h"
#include "flows/sync.h"
#include "t.h"

int
main(void)
{
	struct queue_result r;
	double		 d;
	long long	 n;
	cJSON		*st, *map;
	char		*s;

	crypto_init();
	/* Capped exponential backoff with jitter in [d/2, d]. */
	for (n = 0; n < 20; n++) {
		double cap = 2.0;

		for (long long k = 0; k < n && cap < 3600; k++)
			cap *= 2;
		if (cap > 3600)
			cap = 3600;
		d = queue_backoff(n);
		CHECK(d >= cap / 2 && d <= cap);
	}
	queue_fail(&r, HTTP_ESERVER, -1, "boom");
	CHECK_INT(r.status, QUEUE_RETRY);
	CHECK_INT(r.retry_in, -1);
	CHECK_STR(r.error, "boom");
	queue_fail(&r, HTTP_ERATE, 7, "");
	CHECK_INT(r.status, QUEUE_RETRY);
	CHECK_INT(r.retry_in, 7);
	CHECK_STR(r.error, "rate limited");
	queue_fail(&r, HTTP_ECLIENT, -1, "401");
	CHECK_INT(r.status, QUEUE_DEAD);		/* no retry storm */
	queue_fail(&r, HTTP_EPOLICY, -1, "x");
	CHECK_INT(r.status, QUEUE_DEAD);

	/* The default status map: done-like names close the issue. */
	st = cJSON_Parse("[{\"id\":\"a\",\"name\":\"New\"},{\"id\":\"b\",\"name\":"
	    "\"In Progress\"},{\"id\":\"c\",\"name\":\"Done\"},{\"id\":\"d\","
	    "\"name\":\"Released\"}]");
	s = sync_default_status_map(st);
	map = cJSON_Parse(s);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    map, "to_tracker"), "a"), "state")->valuestring, "opened");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    map, "to_tracker"), "d"), "state")->valuestring, "closed");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(map,
	    "to_productboard"), "opened")->valuestring, "b");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(map,
	    "to_productboard"), "closed")->valuestring, "c");
	cJSON_Delete(map);
	cJSON_free(s);
	cJSON_Delete(st);
	return t_done();
}
