#include "config.h"

#include "admin.h"
#include "health.h"

void
admin_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	if (health_handle(a, rq, rs))
		return;
	resp_header(rs, "Content-Security-Policy",
	    "default-src 'none'; frame-ancestors 'none'");
	resp_error(rs, 404, "not found");
}
