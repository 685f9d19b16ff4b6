/*
 * serve: runs a program as a FastCGI responder or as a plain CGI program.
 *
 * "prog -s /path/to.sock [-n children]" binds the socket itself (mode
 * 0660) and keeps n children accepting on it, restarting any that die;
 * started by spawn-fcgi or systemd, the listening socket arrives as fd 0;
 * started by a web server as CGI, one request is served from the
 * environment and stdin.  After each answer, prog->after runs background
 * work (queued jobs) for a bounded time, outside the sender's wait.
 */
#ifndef PBSYNC_SERVE_H
#define PBSYNC_SERVE_H

#include "app/app.h"
#include "web/req.h"
#include "web/resp.h"

struct serve_prog {
	const char	*name;
	void		(*handle)(struct app *, struct req *, struct resp *,
			    const struct req_reader *);
	void		(*after)(struct app *);
};

int	 serve_main(const struct serve_prog *, int argc, char *argv[]);

#endif
