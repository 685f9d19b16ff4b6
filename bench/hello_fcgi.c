/*
 * B1: the smallest useful libfcgi responder, the baseline pbsync's
 * programs are compared with.  "hello_fcgi -s socket -n children".
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcgiapp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	FCGX_Request	 rq;
	const char	*sock = NULL;
	int		 fd, n = 2, ch, i;

	while ((ch = getopt(argc, argv, "s:n:")) != -1)
		if (ch == 's')
			sock = optarg;
		else if (ch == 'n')
			n = atoi(optarg);
	if (sock == NULL)
		return 2;
	umask(007);
	unlink(sock);
	FCGX_Init();
	/* The backlog pbsync's programs use (src/web/serve.c). */
	if ((fd = FCGX_OpenSocket(sock, 1024)) == -1)
		return 1;
	for (i = 0; i < n; i++)
		if (fork() == 0) {
			FCGX_InitRequest(&rq, fd, 0);
			while (FCGX_Accept_r(&rq) >= 0)
				FCGX_FPrintF(rq.out, "Status: 200 OK\r\n"
				    "Content-Type: text/plain\r\n\r\nok");
			_exit(0);
		}
	while (wait(NULL) > 0)
		;
	return 0;
}
