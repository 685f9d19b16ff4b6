#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/metrics.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/util.h"
#include "web/serve.h"

#define MAX_CHILDREN	64	/* as proc_supervise */
/*
 * Connections nginx may queue on the socket.  A full Unix socket backlog
 * refuses at once (EAGAIN, a 502 to the sender, which GitLab counts as a
 * hook failure), so a short stall must be absorbed here, not refused.
 * The kernel caps it at net.core.somaxconn.
 */
#define LISTEN_BACKLOG	1024
extern char **environ;

/* A private copy of the parameters: FCGX_Finish_r frees the originals. */
static char **
dup_env(char **env)
{
	size_t	 n = 0, i;
	char	**copy;

	while (env != NULL && env[n] != NULL)
		n++;
	if ((copy = calloc(n + 1, sizeof(*copy))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((copy[i] = strdup(env[i])) == NULL) {
			while (i > 0)
				free(copy[--i]);
			free(copy);
			return NULL;
		}
	return copy;
}

static void
free_env(char **env)
{
	size_t	 i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * The route's name for the metrics: a fixed set, never the path (which
 * carries ids).  nginx's auth_request questions name the route they ask
 * for, with "_auth".
 */
static const char *
route_of(const struct req *rq)
{
	static const struct { const char *prefix, *name, *auth; int exact; }
	    routes[] = {
		{ "/healthz", "healthz", "healthz_auth", 1 },
		{ "/metrics", "metrics", "metrics_auth", 1 },
		{ "/plugin/", "plugin", "plugin_auth", 0 },
		{ "/webhooks/productboard/", "productboard_webhook",
		    "productboard_webhook_auth", 0 },
		{ "/webhooks/gittab/", "tracker_webhook",
		    "tracker_webhook_auth", 0 },
		{ "/api/v1/", "api", "api_auth", 0 },
		{ "/admin", "admin", "admin_auth", 0 },
	};
	size_t	 i;

	for (i = 0; rq->path != NULL && i < sizeof(routes) / sizeof(routes[0]);
	    i++)
		if (routes[i].exact ? strcmp(rq->path, routes[i].prefix) == 0 :
		    strncmp(rq->path, routes[i].prefix,
		    strlen(routes[i].prefix)) == 0)
			return rq->auth_only ? routes[i].auth : routes[i].name;
	return rq->auth_only ? "other_auth" : "other";
}

/*
 * The request's id for the log and the jobs it queues: nginx's
 * $request_id (the REQUEST_ID parameter), else a new random one.
 */
static void
request_id(const struct req *rq, char id[LOG_ID_MAX + 1])
{
	const char	*v = req_param(rq, "REQUEST_ID");

	if (v != NULL && log_id_ok(v))
		snprintf(id, LOG_ID_MAX + 1, "%s", v);
	else
		crypto_random_id(id);
}

/* Runs the handler for one request and sends its answer. */
static void
serve_one(struct app *a, const struct serve_prog *p, char **env,
    const struct req_reader *rd, void (*send)(struct resp *, void *),
    void *arg)
{
	struct req	 rq;
	struct resp	 rs;
	char		 id[LOG_ID_MAX + 1];

	req_init(&rq, env);
	resp_init(&rs);
	request_id(&rq, id);
	log_set_request(id);
	rs.send = send;
	rs.send_arg = arg;
	rs.head_only = rq.method == REQ_HEAD;
	if (rq.bad != 0 && rq.auth_only)
		resp_empty(&rs, 204);	/* the request itself gets the error */
	else if (rq.bad != 0)
		resp_error(&rs, rq.bad, resp_reason(rq.bad));
	else {
		proc_cpu_budget(a->conf.cpu_budget_s);
		p->handle(a, &rq, &rs, rd);
		proc_cpu_budget(0);
	}
	resp_commit(&rs);
	log_debug("%s %s: %d", route_of(&rq), rq.method == REQ_GET ? "GET" :
	    rq.method == REQ_HEAD ? "HEAD" : rq.method == REQ_POST ? "POST" :
	    "other method", rs.status);
	metrics_request(route_of(&rq), rs.status);
	resp_release(&rs);
	req_release(&rq);
	log_set_request(NULL);
	metrics_flush(a, 0);
}

static long
fcgi_read(void *arg, char *p, size_t n)
{
	FCGX_Request	*rq = arg;

	return FCGX_GetStr(p, (int)n, rq->in);
}

static void
fcgi_send(struct resp *r, void *arg)
{
	FCGX_Request	*rq = arg;
	struct buf	 out;

	buf_init(&out, RESP_MAX_BODY + 65536);
	if (resp_serialize(r, &out) == 0)
		FCGX_PutStr(buf_str(&out), (int)out.len, rq->out);
	buf_release(&out);
	/* Ends the request for nginx even if the handler carries on. */
	FCGX_Finish_r(rq);
}

static long
cgi_read(void *arg, char *p, size_t n)
{
	size_t	 got = fread(p, 1, n, stdin);

	return got == 0 && ferror(stdin) ? -1 : (long)got;
}

static void
cgi_send(struct resp *r, void *arg)
{
	struct buf	 out;

	buf_init(&out, RESP_MAX_BODY + 65536);
	if (resp_serialize(r, &out) == 0)
		fwrite(buf_str(&out), 1, out.len, stdout);
	buf_release(&out);
	fflush(stdout);
	/* The web server ends the response when our stdout closes. */
	freopen("/dev/null", "w", stdout);
}

static int
run_cgi(const struct serve_prog *p)
{
	struct app		 a;
	struct req_reader	 rd = { cgi_read, NULL };

	if (app_open(&a, p->name) == -1) {
		printf("Status: 503 Service Unavailable\r\n"
		    "Content-Type: application/json\r\n\r\n"
		    "{\"error\":\"service misconfigured\"}");
		return 1;
	}
	serve_one(&a, p, environ, &rd, cgi_send, NULL);
	if (p->after != NULL)
		p->after(&a);
	app_close(&a);
	return 0;
}

/*
 * Serves requests on fd until SIGTERM: the request in hand is answered
 * and its after-work done, then the loop ends.  A thread of the metrics
 * adds this process's counts to the store every second, so neither a
 * request nor a quiet spell waits for them.
 */
static int
run_fcgi(const struct serve_prog *p, int fd)
{
	struct app		 a;
	FCGX_Request		 rq;
	struct req_reader	 rd = { fcgi_read, &rq };
	char			**env;

	/* From now on accept() fails with EINTR instead of restarting. */
	proc_catch_stop(FCGX_ShutdownPending);
	if (app_open(&a, p->name) == -1)
		return 1;
	if (metrics_start(&a) == -1)
		log_warn("metrics: counts are added after requests only");
	FCGX_Init();
	FCGX_InitRequest(&rq, fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!proc_stopping && FCGX_Accept_r(&rq) >= 0) {
		if ((env = dup_env(rq.envp)) == NULL) {
			log_err("out of memory");
			FCGX_Finish_r(&rq);
			continue;
		}
		serve_one(&a, p, env, &rd, fcgi_send, &rq);
		free_env(env);
		if (p->after != NULL) {
			p->after(&a);
			metrics_flush(&a, 0);
		}
	}
	app_close(&a);
	return 0;
}

struct fcgi_child {
	const struct serve_prog	*prog;
	int			 fd;
};

static int
fcgi_child(void *arg)
{
	struct fcgi_child	*c = arg;

	return run_fcgi(c->prog, c->fd);
}

int
serve_main(const struct serve_prog *p, int argc, char *argv[])
{
	struct fcgi_child	 child;
	const char		*sock = NULL;
	long			 n = 2;
	int			 ch, fd;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "s:n:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'n':
			if (util_parse_long(optarg, 1, MAX_CHILDREN, &n) == 0)
				break;
			/* FALLTHROUGH */
		default:
			fprintf(stderr, "usage: %s [-s socket [-n children]]\n",
			    p->name);
			return 2;
		}
	}
	if (sock == NULL)
		return FCGX_IsCGI() ? run_cgi(p) : run_fcgi(p, 0);
	log_open(p->name, LOGL_INFO, NULL);
	/* The socket is for nginx only: owner and group, never others. */
	umask(007);
	unlink(sock);
	if (FCGX_Init() != 0 ||
	    (fd = FCGX_OpenSocket(sock, LISTEN_BACKLOG)) == -1) {
		log_err("cannot listen on \"%s\"", sock);
		return 1;
	}
	chmod(sock, 0660);
	child.prog = p;
	child.fd = fd;
	return proc_supervise((int)n, fcgi_child, &child);
}
