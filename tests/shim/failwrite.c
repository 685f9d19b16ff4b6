/*
 * failwrite: an LD_PRELOAD shim that makes the disk fail on demand, for
 * tests/e2e/test_faults_db.py.
 *
 * While the file named by FAILWRITE_TRIGGER exists, the calls SQLite's
 * unix VFS uses to change a file (write, pwrite, pwrite64, ftruncate,
 * ftruncate64, fsync, fdatasync) fail on every descriptor whose path starts
 * with FAILWRITE_PREFIX (the database path: the -wal, -shm and -journal
 * files match too).  The trigger's first word says how:
 *
 *   enospc (or empty)  writes and truncations fail with ENOSPC: a full disk
 *   eio                writes, truncations and syncs fail with EIO
 *   fsync              only fsync and fdatasync fail, with EIO
 *
 * Each refused call appends "pid call errno path" to FAILWRITE_LOG when it
 * is set, so a test can say what failed.  Every other call goes to the C
 * library untouched.  Under AddressSanitizer the ASan runtime must come
 * first in LD_PRELOAD; its interceptors then reach these functions as the
 * next definition.
 */
#include "config.h"

#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum op { OP_WRITE, OP_SYNC };

typedef ssize_t (*write_fn)(int, const void *, size_t);

/* The C library's definition of name (dlsym never fails for these). */
static void *
next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* The errno the trigger asks for on a call of kind op, or 0. */
static int
mode(enum op op)
{
	const char	*trigger = getenv("FAILWRITE_TRIGGER");
	char		 word[16] = "";
	ssize_t		 n;
	int		 fd;

	if (trigger == NULL || (fd = open(trigger, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, word, sizeof(word) - 1);
	close(fd);
	word[n > 0 ? n : 0] = '\0';
	word[strcspn(word, " \t\r\n")] = '\0';
	if (strcmp(word, "fsync") == 0)
		return op == OP_SYNC ? EIO : 0;
	if (strcmp(word, "eio") == 0)
		return EIO;
	return op == OP_WRITE ? ENOSPC : 0;
}

/* Records a refused call in FAILWRITE_LOG, with the real write. */
static void
note(const char *call, int err, const char *path)
{
	static write_fn	 real;
	const char	*log = getenv("FAILWRITE_LOG");
	char		 line[PATH_MAX + 64];
	int		 fd, len;

	if (log == NULL || (fd = open(log, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0644)) == -1)
		return;
	if (real == NULL)
		real = (write_fn)next("write");
	len = snprintf(line, sizeof(line), "%ld %s %s %s\n", (long)getpid(),
	    call, err == ENOSPC ? "ENOSPC" : "EIO", path);
	if (len > 0 && (size_t)len < sizeof(line))
		(void)real(fd, line, (size_t)len);
	close(fd);
}

/*
 * 0 when the call may go ahead; else sets errno and returns -1.  Only a
 * descriptor of a file under FAILWRITE_PREFIX is refused.
 */
static int
refuse(int fd, enum op op, const char *call)
{
	const char	*prefix = getenv("FAILWRITE_PREFIX");
	char		 link[64], path[PATH_MAX];
	ssize_t		 n;
	int		 err;

	if (prefix == NULL || *prefix == '\0' || (err = mode(op)) == 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	if (strncmp(path, prefix, strlen(prefix)) != 0)
		return 0;
	note(call, err, path);
	errno = err;
	return -1;
}

/*
 * Defines the C library function name: refused as above, else passed to
 * the next definition.  Every wrapped call takes the descriptor first.
 */
#define WRAP(type, name, op, params, args)				\
	type name params						\
	{								\
		static type (*real) params;				\
									\
		if (refuse(fd, op, #name) == -1)			\
			return -1;					\
		if (real == NULL)					\
			real = (type (*) params)next(#name);		\
		return real args;					\
	}

WRAP(ssize_t, write, OP_WRITE, (int fd, const void *p, size_t n), (fd, p, n))
WRAP(ssize_t, pwrite, OP_WRITE, (int fd, const void *p, size_t n, off_t off),
    (fd, p, n, off))
WRAP(ssize_t, pwrite64, OP_WRITE,
    (int fd, const void *p, size_t n, off64_t off), (fd, p, n, off))
WRAP(int, ftruncate, OP_WRITE, (int fd, off_t len), (fd, len))
WRAP(int, ftruncate64, OP_WRITE, (int fd, off64_t len), (fd, len))
WRAP(int, fsync, OP_SYNC, (int fd), (fd))
WRAP(int, fdatasync, OP_SYNC, (int fd), (fd))
