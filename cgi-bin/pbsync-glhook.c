/*
 * pbsync-glhook: GitLab issue webhooks, /webhooks/gittab/{iid}.
 * Deduplicate, persist, answer 200 at once, then sync.
 */
#include "config.h"

#include "flows/hook.h"
#include "flows/jobs.h"
#include "web/serve.h"

int
main(int argc, char *argv[])
{
	static const struct serve_prog prog = {
		"pbsync-glhook", hook_tracker_handle, jobs_run_after
	};

	return serve_main(&prog, argc, argv);
}
