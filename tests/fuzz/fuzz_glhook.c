/*
 * libFuzzer harness: the tracker delivery decoders (the body of POST
 * /webhooks/gittab/{iid}), GitLab's Issue Hook and GitHub's issues event,
 * each input through both.  Beyond not crashing: an issue has a decimal
 * id, another kind of body carries none, a refusal gives a reason, and
 * the same JSON spelled another way decodes the same.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "trackers/github.h"
#include "trackers/gitlab.h"

static const struct tracker_ops *ops;

static const char *
no_param(const void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return NULL;
}

static int
decode(void *d, const char *body, size_t len)
{
	struct tracker_hook_in in = { no_param, NULL, body, len };

	return ops->decode(&in, d);
}

static void
check(const void *p)
{
	const struct tracker_delivery *d = p;
	size_t	 n = strlen(d->id);

	if (d->relevant)
		FUZZ_CHECK(n > 0 && strspn(d->id, "0123456789") == n &&
		    d->id[0] != '0');
	else
		FUZZ_CHECK(n == 0 && !d->deleted);
	FUZZ_CHECK(d->dedupe[0] == '\0');	/* no headers came */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_decoder dec = { decode,
	    sizeof(struct tracker_delivery),
	    offsetof(struct tracker_delivery, error), check };
	static const struct tracker_ops *const all[] = { &gitlab_ops,
	    &github_ops };
	struct tracker_delivery a, b;
	size_t	 i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ops = all[i];
		fuzz_decode(&dec, &a, &b, data, size);
	}
	return 0;
}
