/*
 * The Productboard and GitLab clients against canned replies: each call
 * must send exactly the documented request (method, path, auth header,
 * body) and read the documented answer.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "base/log.h"
#include "t.h"
#include "trackers/gitlab.h"
#include "upstream/pb.h"

static char	 seen[65536];	/* the request the canned server received */
static int	 fds[2];
static pid_t	 kid;
static int	 port;

/* Answers one request with reply; the request comes back through a pipe. */
static void
canned(const char *reply)
{
	struct sockaddr_in	 a;
	socklen_t		 len = sizeof(a);
	int			 s = socket(AF_INET, SOCK_STREAM, 0), c;
	char			 buf[65536];
	ssize_t			 n, got = 0;
	const char		*cl;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	listen(s, 1);
	getsockname(s, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	if (pipe(fds) == -1)
		abort();
	if ((kid = fork()) == 0) {
		alarm(10);	/* no request coming: the checks fail, no hang */
		c = accept(s, NULL, NULL);
		/* Read headers, then the body Content-Length announces. */
		while ((n = read(c, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0) {
			got += n;
			buf[got] = '\0';
			char *end = strstr(buf, "\r\n\r\n");
			if (end == NULL)
				continue;
			cl = strcasestr(buf, "Content-Length:");
			if (cl == NULL || got - (end + 4 - buf) >= atol(cl + 15))
				break;
		}
		if (write(c, reply, strlen(reply)) < 0 ||
		    write(fds[1], buf, (size_t)got) < 0)
			_exit(1);
		close(c);
		_exit(0);
	}
	close(s);
	close(fds[1]);
}

static void
collect(void)
{
	ssize_t	 n, got = 0;

	while ((n = read(fds[0], seen + got, sizeof(seen) - 1 - (size_t)got)) > 0)
		got += n;
	seen[got] = '\0';
	close(fds[0]);
	waitpid(kid, NULL, 0);
}

static const char *
reply(int status, const char *json)
{
	static char	 r[8192];

	snprintf(r, sizeof(r), "HTTP/1.1 %d X\r\nContent-Type: application/json"
	    "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
	    strlen(json), json);
	return r;
}

int
main(void)
{
	char		 long_title[256];
	struct app	 a;
	struct pb	 pb;
	struct tracker	 tr;
	struct pb_feature f;
	struct tracker_issue i;
	char		 base[64], *id = NULL;
	char		*hook;
	cJSON		*conn;

	log_open("test_clients", LOGL_ERR, NULL);
	memset(&a, 0, sizeof(a));
	http_init(&a.http, 1, 5000);

	canned(reply(200, "{\"data\":{\"id\":\"f1\",\"type\":\"feature\","
	    "\"fields\":{\"name\":\"Dark\",\"description\":\"<p>x</p>\","
	    "\"status\":{\"id\":\"s1\",\"name\":\"New\"}},\"links\":{\"html\":"
	    "\"https://pb/f1\"},\"updatedAt\":\"2026-02-01T10:30:00.000000Z\"}}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	a.conf.productboard_api_url = base;
	CHECK_INT(pb_init(&pb, &a, "pb-tok"), 0);
	CHECK_INT(pb_feature_get(&pb, "f1", &f), HTTP_OK);
	collect();
	CHECK(strncmp(seen, "GET /v2/entities/f1 HTTP/1.1\r\n", 30) == 0);
	CHECK(strstr(seen, "\r\nAuthorization: Bearer pb-tok\r\n") != NULL);
	CHECK(strcasestr(seen, "X-Version") == NULL);
	CHECK_STR(f.name, "Dark");
	CHECK_STR(f.status_id, "s1");
	CHECK_STR(f.html_url, "https://pb/f1");
	CHECK(f.updated_at > 1769941799 && f.updated_at < 1769941801);
	pb_feature_release(&f);

	canned(reply(201, "{\"data\":{\"id\":\"plug-9\",\"links\":{}}}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(pb_plugin_create(&pb, "Team", "GitLab", "https://x/plugin/1",
	    "Bearer s3", &id), HTTP_OK);
	collect();
	CHECK_STR(id, "plug-9");
	free(id);
	CHECK(strncmp(seen, "POST /v2/plugin-integrations HTTP", 33) == 0);
	CHECK(strstr(seen, "{\"data\":{\"fields\":{\"type\":\"com.pbsync.gitlab\","
	    "\"name\":\"Team\",\"integrationStatus\":\"enabled\",\"initialState\":"
	    "{\"label\":\"GitLab\"},\"action\":{\"url\":\"https://x/plugin/1\","
	    "\"version\":1,\"headers\":{\"authorization\":\"Bearer s3\"}}}}}")
	    != NULL);

	canned(reply(404, "{\"id\":\"req-1\",\"errors\":[{\"code\":"
	    "\"resource.notFound\",\"title\":\"Not found\",\"detail\":"
	    "\"Entity f2 not found\"}]}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(pb_feature_get(&pb, "f2", &f), HTTP_ECLIENT);
	collect();
	CHECK_INT(pb.up.status, 404);
	CHECK(strstr(pb.up.err, "Entity f2 not found") != NULL);

	canned(reply(200, "{\"data\":{\"id\":\"f1\"}}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	conn = cJSON_Parse("{\"state\":\"progress\"}");
	CHECK_INT(pb_connection_put(&pb, "plug 9", "f1", conn), HTTP_OK);
	cJSON_Delete(conn);
	collect();
	CHECK(strncmp(seen, "PUT /v2/plugin-integrations/plug%209/connections/f1 ",
	    52) == 0);
	CHECK(strstr(seen, "{\"data\":{\"fields\":{\"connection\":{\"state\":"
	    "\"progress\"}}}}") != NULL);
	pb_release(&pb);

	canned(reply(201, "{\"id\":84,\"iid\":14,\"project_id\":4,\"title\":"
	    "\"T\",\"description\":null,\"state\":\"opened\",\"labels\":[\"a\"],"
	    "\"web_url\":\"https://gl/g/p/-/issues/14\",\"updated_at\":"
	    "\"2016-01-07T12:44:33.959Z\"}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4"), 0);
	CHECK_INT(tr.ops->create(&tr, "T", "body", NULL, &i), HTTP_OK);
	collect();
	CHECK(strncmp(seen, "POST /api/v4/projects/4/issues HTTP", 35) == 0);
	CHECK(strstr(seen, "\r\nPRIVATE-TOKEN: glpat-x\r\n") != NULL);
	CHECK(strstr(seen, "{\"title\":\"T\",\"description\":\"body\"}") != NULL);
	CHECK_STR(i.ref, "4/14");
	CHECK_STR(i.key, "#14");
	CHECK_STR(i.id, "84");
	CHECK_STR(i.description, "");
	CHECK(tracker_issue_has_label(&i, "a"));
	tracker_issue_release(&i);
	tracker_close(&tr);

	/* Titles: mentions broken on the way in, the joiners gone on the way
	 * out (GitLab parses mentions in titles too). */
	canned(reply(201, "{\"id\":86,\"iid\":16,\"project_id\":4,\"title\":"
	    "\"Ping @\u2060ceo about #\u206012\",\"state\":\"opened\"}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4"), 0);
	CHECK_INT(tr.ops->create(&tr, "Ping @ceo about #12", "b", NULL, &i),
	    HTTP_OK);
	collect();
	CHECK(strstr(seen, "\"title\":\"Ping @\xe2\x81\xa0" "ceo about "
	    "#\xe2\x81\xa0" "12\"") != NULL);
	CHECK_STR(i.title, "Ping @ceo about #12");
	tracker_issue_release(&i);
	tracker_close(&tr);

	/* With its joiners a title still fits GitLab's 255 characters. */
	canned(reply(201, "{\"id\":87,\"iid\":17,\"project_id\":4,\"title\":"
	    "\"x\",\"state\":\"opened\"}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4"), 0);
	memset(long_title, 'x', 252);
	memcpy(long_title + 252, " @b", 4);		/* 255 characters */
	CHECK_INT(tr.ops->create(&tr, long_title, "b", NULL, &i), HTTP_OK);
	collect();
	CHECK(strstr(seen, "x @\xe2\x81\xa0\",") != NULL);	/* "b" cut */
	tracker_issue_release(&i);
	tracker_close(&tr);

	/* The status label of the mapping goes with the create. */
	canned(reply(201, "{\"id\":85,\"iid\":15,\"project_id\":4,\"title\":"
	    "\"T\",\"state\":\"opened\",\"labels\":[\"status::new\"]}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4"), 0);
	CHECK_INT(tr.ops->create(&tr, "T", "body", "status::new", &i), HTTP_OK);
	collect();
	CHECK(strstr(seen, "\"labels\":\"status::new\"") != NULL);
	CHECK(tracker_issue_has_label(&i, "status::new"));
	tracker_issue_release(&i);
	tracker_close(&tr);

	canned(reply(201, "{\"id\":7,\"url\":\"https://x/webhooks/gittab/1\"}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4"), 0);
	CHECK_INT(tr.ops->hook_create(&tr, "https://x/webhooks/gittab/1", "tok",
	    &hook), HTTP_OK);
	collect();
	CHECK_STR(hook, "7");
	free(hook);
	CHECK(strstr(seen, "\"issues_events\":true") != NULL);
	CHECK(strstr(seen, "\"confidential_issues_events\":true") != NULL);
	CHECK(strstr(seen, "\"push_events\":false") != NULL);
	CHECK(strstr(seen, "\"token\":\"tok\"") != NULL);
	tracker_close(&tr);

	canned("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n"
	    "Content-Length: 11\r\nConnection: close\r\n\r\nRetry later");
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4"), 0);
	CHECK_INT(tr.ops->get(&tr, "4/14", &i), HTTP_ERATE);
	collect();
	CHECK_INT(tr.up.retry_after, 3);
	CHECK(strncmp(seen, "GET /api/v4/projects/4/issues/14 ", 33) == 0);
	tracker_close(&tr);
	http_release(&a.http);
	return t_done();
}
