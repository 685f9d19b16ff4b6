/*
 * libFuzzer harness: the action notification decoder, pb_action_decode
 * (the body of POST /plugin/{iid}).  Beyond not crashing: an accepted
 * click names one of the three triggers, and a feature id and an actor
 * that are clean text within their bounds; a refusal gives a reason; and
 * the same JSON spelled another way decodes the same.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "upstream/pb.h"

static int
decode(void *a, const char *body, size_t len)
{
	return pb_action_decode(a, body, len);
}

static void
check(const void *p)
{
	static const char *names[] = { "button.push", "button.unlink",
	    "button.dismiss" };
	const struct pb_action *a = p;

	FUZZ_CHECK((size_t)a->trigger < sizeof(names) / sizeof(names[0]));
	FUZZ_CHECK(strcmp(a->trigger_name, names[a->trigger]) == 0);
	FUZZ_CHECK(fuzz_text_ok(a->feature_id, sizeof(a->feature_id),
	    PB_MAX_ID));
	FUZZ_CHECK(fuzz_text_ok(a->actor, sizeof(a->actor),
	    sizeof(a->actor) - 1));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_decoder d = { decode,
	    sizeof(struct pb_action), offsetof(struct pb_action, error),
	    check };
	struct pb_action a, b;

	fuzz_decode(&d, &a, &b, data, size);
	return 0;
}
