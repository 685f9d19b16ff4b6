/*
 * libFuzzer harness: the GitLab Issue Hook decoder, gitlab_hook_decode
 * (the body of POST /webhooks/gittab/{iid}).  Beyond not crashing: an
 * issue has positive ids and a moved_to_id of 0 or more, another object
 * kind carries none, a refusal gives a reason, and the same JSON spelled
 * another way decodes the same.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "trackers/gitlab.h"

static int
decode(void *h, const char *body, size_t len)
{
	return gitlab_hook_decode(h, body, len);
}

static void
check(const void *p)
{
	const struct gitlab_hook *h = p;

	if (h->is_issue)
		FUZZ_CHECK(h->id >= 1 && h->iid >= 1 && h->project_id >= 1 &&
		    h->moved_to_id >= 0);
	else
		FUZZ_CHECK(h->id == 0 && h->iid == 0 && h->project_id == 0 &&
		    h->moved_to_id == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_decoder d = { decode,
	    sizeof(struct gitlab_hook), offsetof(struct gitlab_hook, error),
	    check };
	struct gitlab_hook a, b;

	fuzz_decode(&d, &a, &b, data, size);
	return 0;
}
