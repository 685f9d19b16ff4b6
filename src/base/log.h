/*
 * log: the only logger.
 *
 * One line per event: "TIME PROG[PID] LEVEL: message" on standard error
 * (the journal under systemd) or in a file, or one datagram per event to
 * the syslog socket.  While a request or a job is in hand, every line
 * carries its request id ("req=ID message"), so one id ties a webhook to
 * the job it queued and to the writes that job made.  Control characters
 * in a message are escaped, so input quoted into a message cannot forge
 * lines.  Secrets must never be passed in; log_tail() gives the last four
 * characters of one, which is all an admin needs to tell tokens apart.
 */
#ifndef PBSYNC_LOG_H
#define PBSYNC_LOG_H

#include <stddef.h>

enum log_level {
	LOGL_ERR,
	LOGL_WARN,
	LOGL_INFO,
	LOGL_DEBUG
};

enum log_target {
	LOGT_STDERR,
	LOGT_FILE,
	LOGT_SYSLOG
};

/* The longest request id kept; longer ones are refused by log_id_ok. */
#define LOG_ID_MAX	64

/* Opens path for appending, or logs to stderr when path is NULL or "". */
int	 log_open(const char *prog, enum log_level, const char *path);
/*
 * Logs to the syslog socket at path (a datagram socket, "/dev/log"), as
 * the daemon facility with the level as its severity, in the form
 * syslog(3) sends (RFC 3164).  A line the socket does not take at once
 * (no listener, a full queue) goes to stderr instead: a stalled syslog
 * daemon never holds up a request.  0, or -1 when the socket cannot be
 * made (logged to stderr).
 */
int	 log_open_syslog(const char *prog, enum log_level, const char *path);
void	 log_close(void);
int	 log_level_parse(const char *, enum log_level *);
/* "stderr", "file" or "syslog": 0, or -1 for anything else. */
int	 log_target_parse(const char *, enum log_target *);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* "…abcd" for a secret, in a static buffer: for one log call only. */
const char *log_tail(const char *secret);
/*
 * The request id of the work in hand: set (copied) when a request or a
 * job starts, NULL to clear.  An id that fails log_id_ok is not taken
 * (the previous one is cleared): -1.
 */
int	 log_set_request(const char *id);
/* The id set, or NULL. */
const char *log_request(void);
/* 1 for an id of 1 to LOG_ID_MAX letters, digits, '-', '_' or '.'. */
int	 log_id_ok(const char *id);

#define log_err(...)	log_msg(LOGL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOGL_DEBUG, __VA_ARGS__)

#endif
