/*
 * pbsync-plugin: Productboard's plugin callback, /plugin/{iid}.
 * The probe (GET) and the Push / Unlink / Dismiss buttons (POST).
 */
#include "config.h"

#include "flows/jobs.h"
#include "flows/plugin.h"
#include "web/serve.h"

int
main(int argc, char *argv[])
{
	static const struct serve_prog prog = {
		"pbsync-plugin", plugin_handle, jobs_run_after
	};

	return serve_main(&prog, argc, argv);
}
