/*
 * pbsync-pbhook: Productboard webhook notifications,
 * /webhooks/productboard/{iid}.  Persist, answer 204, then sync.
 */
#include "config.h"

#include "flows/hook.h"
#include "flows/jobs.h"
#include "web/serve.h"

int
main(int argc, char *argv[])
{
	static const struct serve_prog prog = {
		"pbsync-pbhook", hook_pb_handle, jobs_run_after
	};

	return serve_main(&prog, argc, argv);
}
