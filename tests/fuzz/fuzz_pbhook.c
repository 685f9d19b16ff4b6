/*
 * libFuzzer harness: the Productboard webhook decoder, pb_event_decode
 * (the body of POST /webhooks/productboard/{iid}).  Beyond not crashing:
 * the kind matches the event type, an event we act on names a feature id
 * that is clean text within its bound, one we ignore names none, a
 * refusal gives a reason, and the same JSON spelled another way decodes
 * the same.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "upstream/pb.h"

static int
decode(void *e, const char *body, size_t len)
{
	return pb_event_decode(e, body, len);
}

static void
check(const void *p)
{
	const struct pb_event *e = p;

	FUZZ_CHECK(fuzz_text_ok(e->type, sizeof(e->type), 64));
	switch (e->kind) {
	case PB_EVENT_UPDATED:
		FUZZ_CHECK(strcmp(e->type, "feature.updated") == 0);
		break;
	case PB_EVENT_DELETED:
		FUZZ_CHECK(strcmp(e->type, "feature.deleted") == 0);
		break;
	case PB_EVENT_OTHER:
		FUZZ_CHECK(strcmp(e->type, "feature.updated") != 0 &&
		    strcmp(e->type, "feature.deleted") != 0);
		FUZZ_CHECK(e->feature_id[0] == '\0');
		return;
	default:
		FUZZ_CHECK(!"a kind pb.h does not declare");
	}
	FUZZ_CHECK(fuzz_text_ok(e->feature_id, sizeof(e->feature_id),
	    PB_MAX_ID));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_decoder d = { decode,
	    sizeof(struct pb_event), offsetof(struct pb_event, error),
	    check };
	struct pb_event	 a, b;

	fuzz_decode(&d, &a, &b, data, size);
	return 0;
}
