#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static const char	*names[] = { "error", "warning", "info", "debug" };
static char		 progname[64] = "pbsync";
static enum log_level	 maxlevel = LOGL_INFO;
static FILE		*out;

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

void
log_close(void)
{
	if (out != NULL)
		fclose(out);
	out = NULL;
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

/* Writes s with control characters as \xNN so one event stays one line. */
static void
put_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char		 msg[2048], when[32];
	va_list		 ap;
	time_t		 now;
	struct tm	 tm;
	FILE		*f = out != NULL ? out : stderr;

	if (level > maxlevel)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(f);
	fprintf(f, "%s %s[%ld] %s: ", when, progname, (long)getpid(),
	    names[level]);
	put_escaped(f, msg);
	fputc('\n', f);
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
