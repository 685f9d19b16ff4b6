/*
 * pbsync-admin: the configuration pages, /admin/...
 */
#include "config.h"

#include "admin/admin.h"
#include "web/serve.h"

int
main(int argc, char *argv[])
{
	static const struct serve_prog prog = {
		"pbsync-admin", admin_handle, NULL
	};

	return serve_main(&prog, argc, argv);
}
