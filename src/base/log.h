/*
 * log: the only logger.
 *
 * One line per event: "TIME PROG[PID] LEVEL: message".  Control characters
 * in a message are escaped, so input quoted into a message cannot forge
 * lines.  Secrets must never be passed in; log_tail() gives the last four
 * characters of one, which is all an admin needs to tell tokens apart.
 */
#ifndef PBSYNC_LOG_H
#define PBSYNC_LOG_H

enum log_level {
	LOGL_ERR,
	LOGL_WARN,
	LOGL_INFO,
	LOGL_DEBUG
};

/* Opens path for appending, or logs to stderr when path is NULL or "". */
int	 log_open(const char *prog, enum log_level, const char *path);
void	 log_close(void);
int	 log_level_parse(const char *, enum log_level *);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* "…abcd" for a secret, in a static buffer: for one log call only. */
const char *log_tail(const char *secret);

#define log_err(...)	log_msg(LOGL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOGL_DEBUG, __VA_ARGS__)

#endif
