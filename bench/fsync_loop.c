/*
 * B2: small write + fdatasync in a loop on the database's filesystem: the
 * ceiling for any design that commits each delivery durably.
 * "fsync_loop DIR SECONDS" prints commits per second.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	char		 path[4096], rec[200] = { 'x' };
	struct timespec	 a, b;
	double		 secs, el;
	long		 n = 0;
	int		 fd;

	if (argc != 3)
		return 2;
	secs = atof(argv[2]);
	snprintf(path, sizeof(path), "%s/fsync-loop.dat", argv[1]);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		if (write(fd, rec, sizeof(rec)) != sizeof(rec) ||
		    fdatasync(fd) == -1)
			return 1;
		n++;
		clock_gettime(CLOCK_MONOTONIC, &b);
		el = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	} while (el < secs);
	close(fd);
	unlink(path);
	printf("%.0f\n", n / el);
	return 0;
}
