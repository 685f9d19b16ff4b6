#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/conf.h"
#include "t.h"

static int
load_text(struct conf *c, const char *text)
{
	char	 path[] = "/tmp/pbsync-test-conf-XXXXXX";
	int	 fd = mkstemp(path), rc;
	FILE	*f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	setenv("PBSYNC_CONFIG", path, 1);
	rc = conf_load(c);
	unlink(path);
	return rc;
}

int
main(void)
{
	struct conf	 c;

	log_open("test_conf", LOGL_ERR, NULL);
	unsetenv("PBSYNC_DATABASE");
	unsetenv("PBSYNC_MAX_BODY");
	unsetenv("PBSYNC_DELIVERY_RETENTION_S");
	CHECK_INT(load_text(&c, "# comment\n\ndatabase = /tmp/x.db\n"
	    "public_url = https://pb.example.com/\nlog_level = debug\n"
	    "allow_private_upstreams = yes\nmax_body = 2048\n"), 0);
	CHECK_STR(c.database, "/tmp/x.db");
	CHECK_STR(c.public_url, "https://pb.example.com");	/* no slash */
	CHECK_STR(c.productboard_api_url, "https://api.productboard.com");
	CHECK_INT(c.log_level, LOGL_DEBUG);
	CHECK_INT(c.allow_private_upstreams, 1);
	CHECK_INT(c.max_body, 2048);
	CHECK_INT(c.delivery_retention_s, 7 * 86400);	/* the default */
	conf_release(&c);

	CHECK_INT(load_text(&c, "delivery_retention_s = 3600\n"), 0);
	CHECK_INT(c.delivery_retention_s, 3600);
	conf_release(&c);
	setenv("PBSYNC_DELIVERY_RETENTION_S", "86400", 1);
	CHECK_INT(load_text(&c, "delivery_retention_s = 3600\n"), 0);
	CHECK_INT(c.delivery_retention_s, 86400);	/* env wins */
	conf_release(&c);
	unsetenv("PBSYNC_DELIVERY_RETENTION_S");
	CHECK_INT(load_text(&c, "delivery_retention_s = 60\n"), -1);
	CHECK_INT(load_text(&c, "delivery_retention_s = 0\n"), -1);

	/* The old name of tracker_max_body is read; the new one wins. */
	CHECK_INT(load_text(&c, "gitlab_max_body = 4096\n"), 0);
	CHECK_INT(c.tracker_max_body, 4096);
	conf_release(&c);
	CHECK_INT(load_text(&c, "max_body = 2048\n"), 0);
	CHECK_INT(c.tracker_max_body, 8388608);
	conf_release(&c);
	setenv("PBSYNC_GITLAB_MAX_BODY", "5000", 1);
	setenv("PBSYNC_TRACKER_MAX_BODY", "6000", 1);
	CHECK_INT(load_text(&c, "gitlab_max_body = 4096\n"), 0);
	CHECK_INT(c.tracker_max_body, 6000);
	conf_release(&c);
	unsetenv("PBSYNC_TRACKER_MAX_BODY");
	unsetenv("PBSYNC_GITLAB_MAX_BODY");

	setenv("PBSYNC_DATABASE", "/env/wins.db", 1);
	CHECK_INT(load_text(&c, "database = /tmp/x.db\n"), 0);
	CHECK_STR(c.database, "/env/wins.db");
	conf_release(&c);
	unsetenv("PBSYNC_DATABASE");

	CHECK_INT(load_text(&c, "databse = typo\n"), -1);	/* unknown key */
	CHECK_INT(load_text(&c, "max_body = 12\n"), -1);	/* out of range */
	CHECK_INT(load_text(&c, "max_body = lots\n"), -1);
	CHECK_INT(load_text(&c, "no equals sign\n"), -1);
	CHECK_INT(load_text(&c, "allow_private_upstreams = perhaps\n"), -1);
	setenv("PBSYNC_MAX_BODY", "1", 1);
	CHECK_INT(load_text(&c, ""), -1);			/* env checked too */
	unsetenv("PBSYNC_MAX_BODY");
	setenv("PBSYNC_CONFIG", "/nonexistent/pbsync.conf", 1);
	CHECK_INT(conf_load(&c), -1);			/* named file missing */
	return t_done();
}
