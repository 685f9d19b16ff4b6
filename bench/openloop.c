/*
 * openloop: a fixed-rate (open-loop) HTTP/1.1 load generator, for the
 * latency figures wrk cannot give: Debian's wrk has no -R.
 *
 *   openloop -p port -r rate -n count [-c maxconn] [-m method] [-u path]
 *            [-H "Name: value"]... [-b bodyfile] [-t tag]
 *
 * Request i is due at start + i / rate whatever happened to the others;
 * its latency runs from that due time to the end of its answer, so a
 * stall counts against every request it delays (no coordinated omission).
 * Keep-alive connections are opened as needed, up to maxconn; a due
 * request that finds none free waits, and its wait is counted.  "{n}" in
 * the path, a header value or the body becomes "tag-i", so every delivery
 * gets its own Idempotency-Key.  Prints one line of JSON: counts, the
 * achieved send rate, the worst send lag and latency quantiles in ms.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS	16
#define MAX_ANSWER	(16u << 20)

enum cstate { C_FREE, C_CONNECTING, C_BUSY };

struct conn {
	int		 fd;
	enum cstate	 state;
	char		*out;
	size_t		 outlen, outoff;
	char		*in;
	size_t		 inlen, incap;
	size_t		 body;		/* offset of the body, 0 until known */
	long long	 clen;		/* Content-Length, -1 if none */
	int		 chunked, close;
	size_t		 chunk;		/* next chunk-size line */
	int		 status;
	int64_t		 due;
};

struct gen {
	struct sockaddr_in sa;
	const char	*method, *path, *tag;
	const char	*hdr[MAX_HEADERS];
	int		 nhdr;
	char		*body;
	size_t		 bodylen;
	struct conn	*conns;
	int		 maxconn, nconn, ep;
	long		 n, sent, done, non2xx, errors;
	double		 rate;
	int64_t		 start, lag, last;
	double		*lat;
	int64_t		*queue;		/* due times of requests waiting */
	long		 qhead, qtail;
};

static int64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		perror("openloop: realloc");
		exit(1);
	}
	return p;
}

/* Appends s[0..len) to *b, replacing each "{n}" with id. */
static void
put_subst(char **b, size_t *len, size_t *cap, const char *s, size_t slen,
    const char *id)
{
	size_t	 i, idlen = strlen(id), need;
	int	 hit;

	for (i = 0; i < slen; i++) {
		hit = i + 3 <= slen && memcmp(s + i, "{n}", 3) == 0;
		need = *len + (hit ? idlen : 1) + 1;
		if (need > *cap) {
			*cap = need * 2;
			*b = xrealloc(*b, *cap);
		}
		if (hit) {
			memcpy(*b + *len, id, idlen);
			*len += idlen;
			i += 2;
		} else
			(*b)[(*len)++] = s[i];
	}
}

static void
put_str(char **b, size_t *len, size_t *cap, const char *s, const char *id)
{
	put_subst(b, len, cap, s, strlen(s), id);
}

/* Builds request number seq into c->out. */
static void
build(struct gen *g, struct conn *c, long seq)
{
	char	 id[64], cl[64], *body = NULL;
	size_t	 len = 0, cap = 0, blen = 0, bcap = 0;
	int	 i;

	snprintf(id, sizeof(id), "%s-%ld", g->tag, seq);
	if (g->body != NULL)
		put_subst(&body, &blen, &bcap, g->body, g->bodylen, id);
	free(c->out);
	c->out = NULL;
	put_str(&c->out, &len, &cap, g->method, id);
	put_str(&c->out, &len, &cap, " ", id);
	put_str(&c->out, &len, &cap, g->path, id);
	put_str(&c->out, &len, &cap, " HTTP/1.1\r\nHost: 127.0.0.1\r\n", id);
	for (i = 0; i < g->nhdr; i++) {
		put_str(&c->out, &len, &cap, g->hdr[i], id);
		put_str(&c->out, &len, &cap, "\r\n", id);
	}
	if (body != NULL || strcmp(g->method, "GET") != 0) {
		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", blen);
		put_str(&c->out, &len, &cap, cl, id);
	}
	put_str(&c->out, &len, &cap, "\r\n", id);
	if (body != NULL)
		put_subst(&c->out, &len, &cap, body, blen, "");
	free(body);
	c->outlen = len;
	c->outoff = 0;
}

static void
conn_close(struct gen *g, struct conn *c)
{
	if (c->fd != -1) {
		epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		g->nconn--;
	}
	c->fd = -1;
	c->state = C_FREE;
}

static int
conn_open(struct gen *g, struct conn *c)
{
	struct epoll_event ev;
	int	 one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&g->sa, sizeof(g->sa)) == -1 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev);
	g->nconn++;
	c->state = C_CONNECTING;
	return 0;
}

static void
want(struct gen *g, struct conn *c, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void	finish(struct gen *, struct conn *, int);

static void
flush_out(struct gen *g, struct conn *c)
{
	ssize_t	 w;

	while (c->outoff < c->outlen) {
		w = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (w == -1 && errno == EAGAIN) {
			want(g, c, EPOLLIN | EPOLLOUT);
			return;
		}
		if (w <= 0) {
			finish(g, c, 0);
			return;
		}
		c->outoff += (size_t)w;
	}
	want(g, c, EPOLLIN);
}

/* Starts the request due at due on c (free or just connected). */
static void
start(struct gen *g, struct conn *c, int64_t due)
{
	build(g, c, g->sent++);
	c->due = due;
	c->inlen = c->body = 0;
	c->clen = -1;
	c->chunked = c->close = 0;
	c->status = 0;
	if (c->state == C_FREE && c->fd == -1 && conn_open(g, c) == -1) {
		finish(g, c, 0);
		return;
	}
	if (c->state == C_CONNECTING)
		return;		/* sent once writable */
	c->state = C_BUSY;
	flush_out(g, c);
}

/* Parses the head once it is complete: 0, or -1 on garbage. */
static int
parse_head(struct conn *c)
{
	char	*end, *line, *p;

	c->in[c->inlen] = '\0';
	if ((end = strstr(c->in, "\r\n\r\n")) == NULL)
		return 0;
	if (strncmp(c->in, "HTTP/1.", 7) != 0)
		return -1;
	c->status = atoi(c->in + 9);
	c->body = (size_t)(end - c->in) + 4;
	c->chunk = c->body;
	for (line = strstr(c->in, "\r\n") + 2; line < end;
	    line = strstr(line, "\r\n") + 2) {
		if ((p = strchr(line, ':')) == NULL || p > end)
			break;
		p++;
		while (*p == ' ')
			p++;
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			c->clen = atoll(p);
		else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
		    strncasecmp(p, "chunked", 7) == 0)
			c->chunked = 1;
		else if (strncasecmp(line, "Connection:", 11) == 0 &&
		    strncasecmp(p, "close", 5) == 0)
			c->close = 1;
	}
	return 0;
}

/* 1 when the whole answer is in, 0 if more is needed, -1 on garbage. */
static int
complete(struct conn *c)
{
	char		*eol, *endp;
	unsigned long	 sz;

	if (c->body == 0 && parse_head(c) == -1)
		return -1;
	if (c->body == 0)
		return 0;
	if (c->clen >= 0)
		return c->inlen >= c->body + (size_t)c->clen;
	if (!c->chunked)
		return 0;	/* until the server closes */
	for (;;) {
		if ((eol = strstr(c->in + c->chunk, "\r\n")) == NULL)
			return 0;
		sz = strtoul(c->in + c->chunk, &endp, 16);
		if (endp == c->in + c->chunk)
			return -1;
		if (sz == 0)
			return c->inlen >= (size_t)(eol - c->in) + 4;
		if (c->inlen < (size_t)(eol - c->in) + 2 + sz + 2)
			return 0;
		c->chunk = (size_t)(eol - c->in) + 2 + sz + 2;
	}
}

static void
finish(struct gen *g, struct conn *c, int ok)
{
	g->lat[g->done++] = (double)(now_ns() - c->due) / 1e6;
	if (!ok)
		g->errors++;
	else if (c->status < 200 || c->status >= 400)
		g->non2xx++;
	if (!ok || c->close)
		conn_close(g, c);
	else
		c->state = C_FREE;
	/* A waiting request takes the connection at once. */
	if (g->qhead < g->qtail)
		start(g, c, g->queue[g->qhead++]);
}

static void
on_read(struct gen *g, struct conn *c)
{
	ssize_t	 r;
	int	 st;

	for (;;) {
		if (c->inlen + 65536 + 1 > c->incap) {
			c->incap = (c->inlen + 65536 + 1) * 2;
			if (c->incap > MAX_ANSWER) {
				finish(g, c, 0);
				return;
			}
			c->in = xrealloc(c->in, c->incap);
		}
		r = read(c->fd, c->in + c->inlen, 65536);
		if (r == -1 && errno == EAGAIN)
			return;
		if (r <= 0) {
			/* EOF ends an answer without a length. */
			finish(g, c, r == 0 && c->body > 0 && c->clen < 0 &&
			    !c->chunked);
			return;
		}
		c->inlen += (size_t)r;
		c->in[c->inlen] = '\0';
		if ((st = complete(c)) != 0) {
			finish(g, c, st == 1);
			return;
		}
	}
}

static void
on_event(struct gen *g, struct conn *c, uint32_t ev)
{
	int	 err = 0;
	socklen_t len = sizeof(err);

	if (c->state == C_CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
			finish(g, c, 0);
			return;
		}
		c->state = C_BUSY;
		flush_out(g, c);
		return;
	}
	if (c->state == C_FREE) {
		conn_close(g, c);	/* the server ended a kept connection */
		return;
	}
	if (ev & EPOLLOUT)
		flush_out(g, c);
	if (c->state == C_BUSY && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		on_read(g, c);
}

/* Hands due request to a free connection, or queues it. */
static void
dispatch(struct gen *g, int64_t due)
{
	int	 i, spare = -1;

	for (i = 0; i < g->maxconn; i++) {
		if (g->conns[i].state != C_FREE)
			continue;
		if (g->conns[i].fd != -1) {
			start(g, &g->conns[i], due);
			return;
		}
		if (spare == -1)
			spare = i;
	}
	if (spare != -1)
		start(g, &g->conns[spare], due);
	else
		g->queue[g->qtail++] = due;
}

static int
cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
quantile(const double *v, long n, double q)
{
	long	 i = (long)(q * (double)n);

	if (n == 0)
		return 0;
	return v[i < n ? i : n - 1];
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*b = NULL;
	size_t	 cap = 0, r;

	*len = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		exit(2);
	}
	do {
		if (*len + 65536 > cap)
			b = xrealloc(b, cap = (*len + 65536) * 2);
		r = fread(b + *len, 1, 65536, f);
		*len += r;
	} while (r > 0);
	fclose(f);
	return b;
}

static void
run(struct gen *g)
{
	struct epoll_event evs[256];
	struct itimerspec its;
	int64_t		 next, t;
	uint64_t	 ticks;
	long		 issued = 0;
	int		 tfd, i, k;

	g->ep = epoll_create1(0);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	memset(&evs[0], 0, sizeof(evs[0]));
	evs[0].events = EPOLLIN;
	evs[0].data.ptr = NULL;
	epoll_ctl(g->ep, EPOLL_CTL_ADD, tfd, &evs[0]);
	g->start = now_ns() + 1000000;
	while (g->done < g->n) {
		t = now_ns();
		while (issued < g->n && (next = g->start +
		    (int64_t)((double)issued * 1e9 / g->rate)) <= t) {
			if (t - next > g->lag)
				g->lag = t - next;
			dispatch(g, next);
			g->last = t;
			issued++;
		}
		if (issued < g->n) {
			memset(&its, 0, sizeof(its));
			next = g->start + (int64_t)((double)issued * 1e9 /
			    g->rate);
			its.it_value.tv_sec = next / 1000000000;
			its.it_value.tv_nsec = next % 1000000000;
			timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
		}
		k = epoll_wait(g->ep, evs, 256, issued < g->n ? -1 : 30000);
		if (k == 0) {
			fprintf(stderr, "openloop: no answer for 30 s\n");
			break;
		}
		for (i = 0; i < k; i++)
			if (evs[i].data.ptr == NULL)
				(void)!read(tfd, &ticks, sizeof(ticks));
			else
				on_event(g, evs[i].data.ptr, evs[i].events);
	}
	close(tfd);
}

int
main(int argc, char *argv[])
{
	struct gen	 g;
	double		 secs;
	long		 i;
	int		 ch, port = 0;

	memset(&g, 0, sizeof(g));
	g.method = "GET";
	g.path = "/";
	g.tag = "o";
	g.maxconn = 256;
	while ((ch = getopt(argc, argv, "p:r:n:c:m:u:H:b:t:")) != -1)
		switch (ch) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'r':
			g.rate = atof(optarg);
			break;
		case 'n':
			g.n = atol(optarg);
			break;
		case 'c':
			g.maxconn = atoi(optarg);
			break;
		case 'm':
			g.method = optarg;
			break;
		case 'u':
			g.path = optarg;
			break;
		case 'H':
			if (g.nhdr < MAX_HEADERS)
				g.hdr[g.nhdr++] = optarg;
			break;
		case 'b':
			g.body = slurp(optarg, &g.bodylen);
			break;
		case 't':
			g.tag = optarg;
			break;
		default:
			goto usage;
		}
	if (port <= 0 || g.rate <= 0 || g.n <= 0 || g.maxconn <= 0)
		goto usage;
	g.sa.sin_family = AF_INET;
	g.sa.sin_port = htons((uint16_t)port);
	g.sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g.conns = calloc((size_t)g.maxconn, sizeof(*g.conns));
	g.lat = calloc((size_t)g.n, sizeof(*g.lat));
	g.queue = calloc((size_t)g.n, sizeof(*g.queue));
	if (g.conns == NULL || g.lat == NULL || g.queue == NULL)
		return 1;
	for (i = 0; i < g.maxconn; i++)
		g.conns[i].fd = -1;
	run(&g);
	secs = (double)(now_ns() - g.start) / 1e9;
	qsort(g.lat, (size_t)g.done, sizeof(*g.lat), cmp);
	printf("{\"n\": %ld, \"done\": %ld, \"non2xx\": %ld, \"errors\": %ld,"
	    " \"rate\": %.1f, \"send_rate\": %.1f, \"max_lag_ms\": %.3f,"
	    " \"conns\": %d, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f,"
	    " \"p999\": %.3f, \"max\": %.3f}\n", g.n, g.done, g.non2xx,
	    g.errors, (double)g.done / secs, g.n > 1 && g.last > g.start ?
	    (double)(g.n - 1) / ((double)(g.last - g.start) / 1e9) : g.rate,
	    (double)g.lag / 1e6,
	    g.nconn, quantile(g.lat, g.done, 0.5), quantile(g.lat, g.done, 0.9),
	    quantile(g.lat, g.done, 0.99), quantile(g.lat, g.done, 0.999),
	    g.done > 0 ? g.lat[g.done - 1] : 0);
	return g.done == g.n ? 0 : 1;
usage:
	fprintf(stderr, "usage: openloop -p port -r rate -n count [-c maxconn]"
	    " [-m method] [-u path] [-H header]... [-b bodyfile] [-t tag]\n");
	return 2;
}
