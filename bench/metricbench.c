/*
 * metricbench: what pbsync's metrics cost a process, linked with
 * libpbsync and configured like the programs (PBSYNC_CONFIG and the
 * environment), on the database they use.
 *
 *   metricbench N
 *	Prints one JSON object: the time of what serve.c adds to every
 *	request: counting it by route and code (count_ns; count_full_ns
 *	on a table as full as a busy program's), a request id when nginx
 *	sends none (id_ns); and of one flush of FLUSH_SAMPLES samples into
 *	the store, median of 50 (flush_ms), which a process pays at most
 *	once a second (the metrics' thread, off the requests' way).  N is
 *	how many requests the per-request times are averaged over.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "app/metrics.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/util.h"

/* Samples a program has pending after a second of mixed traffic. */
#define FLUSH_SAMPLES	24
#define FLUSHES		50

static double
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Counts as many distinct samples as a busy program has, by route. */
static void
mixed(void)
{
	static const char *routes[] = { "plugin", "plugin_auth",
	    "productboard_webhook", "productboard_webhook_auth",
	    "tracker_webhook", "tracker_webhook_auth", "healthz", "metrics" };
	static const int codes[] = { 200, 204, 401 };
	size_t	 i, j;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		for (j = 0; j < sizeof(codes) / sizeof(codes[0]); j++)
			metrics_request(routes[i], codes[j]);
}

int
main(int argc, char *argv[])
{
	struct app	 a;
	char		 id[LOG_ID_MAX + 1];
	double		 t0, count_ns, id_ns, full_ns, flush[FLUSHES];
	long		 n, i;

	if (argc != 2 || util_parse_long(argv[1], 1, 100000000, &n) == -1) {
		fprintf(stderr, "usage: metricbench N\n");
		return 2;
	}
	if (app_open(&a, "metricbench") == -1 || app_store(&a) == -1)
		return 1;
	metrics_enable(1);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		crypto_random_id(id);
		log_set_request(id);
	}
	id_ns = (now_ns() - t0) / (double)n;
	log_set_request(NULL);
	metrics_flush(&a, 1);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		metrics_request("tracker_webhook", 200);
	count_ns = (now_ns() - t0) / (double)n;
	mixed();
	t0 = now_ns();
	for (i = 0; i < n; i++)
		metrics_request("metrics", 401);	/* the last of the table */
	full_ns = (now_ns() - t0) / (double)n;
	metrics_flush(&a, 1);
	for (i = 0; i < FLUSHES; i++) {
		mixed();
		t0 = now_ns();
		if (metrics_flush(&a, 1) == -1)
			return 1;
		flush[i] = (now_ns() - t0) / 1e6;
	}
	qsort(flush, FLUSHES, sizeof(flush[0]), cmp);
	printf("{\"count_ns\": %.1f, \"id_ns\": %.1f, \"count_full_ns\": %.1f, "
	    "\"flush_ms\": %.3f, \"flush_samples\": %d, \"requests\": %ld}\n",
	    count_ns, id_ns, full_ns, flush[FLUSHES / 2], FLUSH_SAMPLES, n);
	app_close(&a);
	return 0;
}
