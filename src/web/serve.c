#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "web/serve.h"

#define MAX_CHILDREN	64
/*
 * Connections nginx may queue on the socket.  A full Unix socket backlog
 * refuses at once (EAGAIN, a 502 to the sender, which GitLab counts as a
 * hook failure), so a short stall must be absorbed here, not refused.
 * The kernel caps it at net.core.somaxconn.
 */
#define LISTEN_BACKLOG	1024
/*
 * After SIGTERM, how long children have to finish the request and the jobs
 * in hand (a job left leased is retried elsewhere) before SIGKILL.
 */
#define STOP_GRACE_MS	10000

extern char **environ;

static volatile sig_atomic_t	 stopping;

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

/* Runs the handler for one request and sends its answer. */
static void
serve_one(struct app *a, const struct serve_prog *p, char **env,
    const struct req_reader *rd, void (*send)(struct resp *, void *),
    void *arg)
{
	struct req	 rq;
	struct resp	 rs;

	req_init(&rq, env);
	resp_init(&rs);
	rs.send = send;
	rs.send_arg = arg;
	rs.head_only = rq.method == REQ_HEAD;
	if (rq.bad != 0)
		resp_error(&rs, rq.bad, resp_reason(rq.bad));
	else
		p->handle(a, &rq, &rs, rd);
	resp_commit(&rs);
	resp_release(&rs);
	req_release(&rq);
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

static void
on_signal(int sig)
{
	stopping = 1;
	/* accept() fails with EINTR from now on instead of restarting. */
	FCGX_ShutdownPending();
}

/*
 * SIGTERM and SIGINT set stopping and interrupt a blocked accept() or
 * wait(): without SA_RESTART, unlike signal(), they are not restarted.
 */
static void
catch_stop(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/*
 * Serves requests on fd until SIGTERM: the request in hand is answered
 * and its after-work done, then the loop ends.
 */
static int
run_fcgi(const struct serve_prog *p, int fd)
{
	struct app		 a;
	FCGX_Request		 rq;
	struct req_reader	 rd = { fcgi_read, &rq };
	char			**env;

	catch_stop();
	if (app_open(&a, p->name) == -1)
		return 1;
	FCGX_Init();
	FCGX_InitRequest(&rq, fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!stopping && FCGX_Accept_r(&rq) >= 0) {
		if ((env = dup_env(rq.envp)) == NULL) {
			log_err("out of memory");
			FCGX_Finish_r(&rq);
			continue;
		}
		serve_one(&a, p, env, &rd, fcgi_send, &rq);
		free_env(env);
		if (p->after != NULL)
			p->after(&a);
	}
	app_close(&a);
	return 0;
}

/*
 * After stopping: SIGTERM to the children, then SIGKILL to those still
 * there after STOP_GRACE_MS.
 */
static void
stop_children(pid_t *kids, int n)
{
	int64_t	 until = util_mono_ms() + STOP_GRACE_MS;
	int	 i, left, status, tick;
	pid_t	 pid;

	for (tick = 0;; tick++) {
		/*
		 * Again every 0.5 s: a child that had just checked its flag
		 * when the first one came is blocked in accept() again.
		 */
		if (tick % 25 == 0)
			for (i = 0; i < n; i++)
				if (kids[i] != 0)
					kill(kids[i], SIGTERM);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < n; i++)
				if (kids[i] == pid)
					kids[i] = 0;
		for (i = left = 0; i < n; i++)
			left += kids[i] != 0;
		if (left == 0 || pid == -1)
			return;
		if (util_mono_ms() >= until)
			break;
		usleep(20000);
	}
	for (i = 0; i < n; i++)
		if (kids[i] != 0) {
			log_warn("worker %ld still busy after %d ms, killed",
			    (long)kids[i], STOP_GRACE_MS);
			kill(kids[i], SIGKILL);
		}
	while (wait(&status) > 0)
		;
}

/* Keeps n children accepting on fd; restarts those that die. */
static int
supervise(const struct serve_prog *p, int fd, int n)
{
	pid_t	 kids[MAX_CHILDREN] = { 0 }, pid;
	int	 i, status;

	catch_stop();
	while (!stopping) {
		for (i = 0; i < n; i++) {
			if (kids[i] != 0)
				continue;
			if ((pid = fork()) == -1) {
				log_err("fork: %s", strerror(errno));
				sleep(1);
				break;
			}
			if (pid == 0)
				_exit(run_fcgi(p, fd));
			kids[i] = pid;
		}
		/*
		 * Polled, not a blocking wait(): a stop that comes between the
		 * check of stopping and the wait would wait for a child to die.
		 */
		if ((pid = waitpid(-1, &status, WNOHANG)) <= 0) {
			usleep(200000);		/* a signal cuts it short */
			continue;
		}
		for (i = 0; i < n; i++)
			if (kids[i] == pid) {
				kids[i] = 0;
				if (!stopping)
					log_warn("worker %ld exited (status "
					    "%d), restarting", (long)pid,
					    status);
			}
		if (!stopping)
			usleep(100000);
	}
	log_info("stopping");
	stop_children(kids, n);
	return 0;
}

int
serve_main(const struct serve_prog *p, int argc, char *argv[])
{
	const char	*sock = NULL;
	long		 n = 2;
	int		 ch, fd;

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
	return supervise(p, fd, (int)n);
}
