#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define MSG_MAX		2048
/* A message with every byte escaped as \xNN, and the line around it. */
#define LINE_MAX_LEN	(MSG_MAX * 4 + 256)

static const char	*names[] = { "error", "warning", "info", "debug" };
static const int	 severity[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
			    LOG_DEBUG };
static char		 progname[64] = "pbsync";
static enum log_level	 maxlevel = LOGL_INFO;
static FILE		*out;
static int		 sysfd = -1;
static struct sockaddr_un sysaddr;
/* Per thread: a thread flushing the metrics has no request. */
static _Thread_local char request[LOG_ID_MAX + 1];

int
log_open(const char *prog, enum log_level level, const char *path)
{
	FILE	*f = NULL;
	int	 fd;

	snprintf(progname, sizeof(progname), "%s", prog);
	maxlevel = level;
	if (path != NULL && *path != '\0') {
		/* Owner only: the log names integrations and upstream errors. */
		if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600)) == -1 || (f = fdopen(fd, "a")) == NULL) {
			if (fd != -1)
				close(fd);
			fprintf(stderr, "%s: cannot open log file \"%s\"\n",
			    prog, path);
			return -1;
		}
		setvbuf(f, NULL, _IOLBF, 0);
	}
	log_close();
	out = f;
	return 0;
}

int
log_open_syslog(const char *prog, enum log_level level, const char *path)
{
	int	 fd;

	if (path == NULL || *path == '\0' ||
	    strlen(path) >= sizeof(sysaddr.sun_path)) {
		fprintf(stderr, "%s: bad syslog socket path\n", prog);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "%s: cannot make a syslog socket: %s\n", prog,
		    strerror(errno));
		return -1;
	}
	log_close();
	snprintf(progname, sizeof(progname), "%s", prog);
	maxlevel = level;
	memset(&sysaddr, 0, sizeof(sysaddr));
	sysaddr.sun_family = AF_UNIX;
	memcpy(sysaddr.sun_path, path, strlen(path) + 1);
	sysfd = fd;
	return 0;
}

void
log_close(void)
{
	if (out != NULL)
		fclose(out);
	out = NULL;
	if (sysfd != -1)
		close(sysfd);
	sysfd = -1;
}

int
log_level_parse(const char *s, enum log_level *lv)
{
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0) {
			*lv = (enum log_level)i;
			return 0;
		}
	if (strcasecmp(s, "warn") == 0) {
		*lv = LOGL_WARN;
		return 0;
	}
	return -1;
}

int
log_target_parse(const char *s, enum log_target *t)
{
	static const char *targets[] = { "stderr", "file", "syslog" };
	size_t	 i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (strcasecmp(s, targets[i]) == 0) {
			*t = (enum log_target)i;
			return 0;
		}
	return -1;
}

int
log_id_ok(const char *id)
{
	size_t	 n;

	if (id == NULL || (n = strlen(id)) == 0 || n > LOG_ID_MAX)
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") == n;
}

int
log_set_request(const char *id)
{
	request[0] = '\0';
	if (id == NULL)
		return 0;
	if (!log_id_ok(id))
		return -1;
	memcpy(request, id, strlen(id) + 1);
	return 0;
}

const char *
log_request(void)
{
	return request[0] != '\0' ? request : NULL;
}

/*
 * Appends s to line (at *o, within len) with control characters as \xNN,
 * so one event stays one line.
 */
static void
put_escaped(char *line, size_t len, size_t *o, const char *s)
{
	for (; *s != '\0' && *o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			*o += (size_t)snprintf(line + *o, len - *o, "\\x%02x", c);
		else
			line[(*o)++] = (char)c;
	}
	line[*o] = '\0';
}

/* Sends one datagram to the syslog socket: 0, or -1 if it was not taken. */
static int
to_syslog(enum log_level level, const char *text)
{
	char		 line[LINE_MAX_LEN + 64], when[32];
	time_t		 now = time(NULL);
	struct tm	 tm;
	int		 n;

	/* As syslog(3) sends it: "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG". */
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%b %e %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "<%d>%s %s[%ld]: %s",
	    LOG_DAEMON | severity[level], when, progname, (long)getpid(), text);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	return sendto(sysfd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (const struct sockaddr *)&sysaddr, sizeof(sysaddr)) == n ? 0 : -1;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char		 msg[MSG_MAX], text[LINE_MAX_LEN], when[32];
	va_list		 ap;
	time_t		 now;
	struct tm	 tm;
	size_t		 o = 0;
	FILE		*f = out != NULL ? out : stderr;

	if (level > maxlevel)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (request[0] != '\0')
		o = (size_t)snprintf(text, sizeof(text), "req=%s ", request);
	put_escaped(text, sizeof(text), &o, msg);
	if (sysfd != -1 && to_syslog(level, text) == 0)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(f);
	fprintf(f, "%s %s[%ld] %s: %s\n", when, progname, (long)getpid(),
	    names[level], text);
	funlockfile(f);
	fflush(f);
}

const char *
log_tail(const char *secret)
{
	static char	 tail[16];
	size_t		 n = secret != NULL ? strlen(secret) : 0;

	if (n < 12)
		return "(hidden)";
	snprintf(tail, sizeof(tail), "...%s", secret + n - 4);
	return tail;
}
