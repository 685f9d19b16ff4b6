/*
 * The Productboard, GitLab and Jira clients against canned replies: each call
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
#include "trackers/jira.h"
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

/* A delivery's CGI parameter, from a NULL-terminated name/value list. */
static const char *
param(const void *arg, const char *name)
{
	const char *const *kv = arg;

	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

/* Opens the Jira backend on the canned server, in project 10000:10001. */
static void
jira_open(struct tracker *tr, struct app *a)
{
	char	 base[64];

	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	if (tracker_open(tr, a, "jira", base, "jt", "10000:10001",
	    "{\"email\":\"bot@example.com\"}") == -1)
		abort();
}

/*
 * Jira's error shape (errorMessages, then each field's error) is what an
 * admin and the log read: bounded, control characters out, no secret.
 */
static void
jira_errors(struct app *a)
{
	static char	 longer[2100];
	struct tracker	 tr;
	struct tracker_issue i;
	char		*hook = NULL;
	size_t		 n;

	canned(reply(400, "{\"errorMessages\":[\"Field 'x' is bad\"],"
	    "\"errors\":{\"summary\":\"You must specify a summary of the "
	    "issue.\",\"labels\":\"No spaces.\"}}"));
	jira_open(&tr, a);
	CHECK_INT(tr.ops->get(&tr, "10042", &i), HTTP_ECLIENT);
	collect();
	CHECK_STR(tr.up.err, "jira answered 400: Field 'x' is bad; summary: "
	    "You must specify a summary of the issue.; labels: No spaces.");
	tracker_close(&tr);

	canned(reply(404, "{\"errorMessages\":[\"Gone\\u0007\\n\\u001b[31m "
	    "red\\u0085.\"],\"errors\":{}}"));
	jira_open(&tr, a);
	CHECK_INT(tr.ops->get(&tr, "10042", &i), HTTP_ECLIENT);
	collect();
	CHECK_STR(tr.up.err, "jira answered 404: Gone   [31m red .");
	tracker_close(&tr);

	memcpy(longer, "{\"errorMessages\":[\"", 19);
	memset(longer + 19, 'x', 2000);
	memcpy(longer + 2019, "\"]}", 4);
	canned(reply(400, longer));
	jira_open(&tr, a);
	CHECK_INT(tr.ops->get(&tr, "10042", &i), HTTP_ECLIENT);
	collect();
	n = strlen("jira answered 400: ");
	CHECK_INT(strlen(tr.up.err), n + UPSTREAM_REASON_MAX + 3);
	CHECK(strcmp(tr.up.err + strlen(tr.up.err) - 4, "x...") == 0);
	tracker_close(&tr);

	/* A message quoting the hook's secret or the credential hides them. */
	canned(reply(400, "{\"errorMessages\":[\"Bad secret "
	    "hook-secret-0123456789 for Ym90QGV4YW1wbGUuY29tOmp0\"],"
	    "\"errors\":{}}"));
	jira_open(&tr, a);
	CHECK_INT(tr.ops->hook_create(&tr, "https://x/webhooks/gittab/1",
	    "hook-secret-0123456789", &hook), HTTP_ECLIENT);
	collect();
	CHECK(hook == NULL);
	CHECK_STR(tr.up.err, "jira answered 400: Bad secret [hidden] for "
	    "[hidden]");
	CHECK(tr.up.hide == NULL);
	tracker_close(&tr);

	/* The other shapes: GitLab's and GitHub's message. */
	canned(reply(404, "{\"message\":\"404 Project Not Found\"}"));
	jira_open(&tr, a);
	CHECK_INT(tr.ops->get(&tr, "10042", &i), HTTP_ECLIENT);
	collect();
	CHECK_STR(tr.up.err, "jira answered 404: 404 Project Not Found");
	tracker_close(&tr);
}

/*
 * The workflow's statuses of the integration's issue type, and what a
 * person enters to set the webhook up by hand.
 */
static void
jira_workflow(struct app *a)
{
	static const char answer[] = "[{\"self\":\"x\",\"id\":\"10000\","
	    "\"name\":\"Epic\",\"subtask\":false,\"statuses\":[{\"name\":"
	    "\"Backlog\",\"id\":\"1\",\"statusCategory\":{\"key\":\"new\","
	    "\"name\":\"To Do\"}}]},{\"id\":\"10001\",\"name\":\"Task\","
	    "\"statuses\":[{\"name\":\"To Do\",\"id\":\"10000\","
	    "\"statusCategory\":{\"key\":\"new\",\"name\":\"To Do\"}},{"
	    "\"name\":\"In Review\",\"id\":\"3\",\"statusCategory\":{\"key\":"
	    "\"indeterminate\",\"name\":\"In Progress\"}},{\"name\":7}]}]";
	const struct tracker_ops *ops = tracker_find("jira");
	struct tracker_hook_setup hs;
	struct tracker	 tr;
	cJSON		*st = NULL;
	char		*text;

	canned(reply(200, answer));
	jira_open(&tr, a);
	CHECK_INT(tr.ops->statuses(&tr, &st), HTTP_OK);
	collect();
	CHECK(strncmp(seen, "GET /rest/api/3/project/10000/statuses ", 39) ==
	    0);
	text = cJSON_PrintUnformatted(st);
	CHECK_STR(text, "[{\"name\":\"To Do\",\"group\":\"new\","
	    "\"group_name\":\"To Do\"},{\"name\":\"In Review\",\"group\":"
	    "\"indeterminate\",\"group_name\":\"In Progress\"}]");
	cJSON_free(text);
	cJSON_Delete(st);
	tracker_close(&tr);

	/* An issue type the answer does not list. */
	canned(reply(200, "[{\"id\":\"10000\",\"statuses\":[]}]"));
	jira_open(&tr, a);
	CHECK_INT(tr.ops->statuses(&tr, &st), HTTP_ESERVER);
	collect();
	CHECK(st == NULL);
	CHECK(strstr(tr.up.err, "10001") != NULL);
	tracker_close(&tr);

	CHECK(ops->hook_by_hand != NULL);
	CHECK_INT(ops->hook_by_hand("10000:10001", &hs), 0);
	CHECK_STR(hs.filter, "project = 10000");
	CHECK_STR(hs.events, "Issue: created, updated, deleted");
	CHECK(strstr(hs.where, "WebHooks") != NULL);
	CHECK_INT(ops->hook_by_hand("10000", &hs), -1);
	CHECK(tracker_find("gitlab")->hook_by_hand == NULL);
	CHECK(tracker_find("github")->statuses == NULL);
}

/* The Jira backend: settings, basic auth, issue reads, limits, events. */
static void
jira(struct app *a)
{
	static const char *const hdr[] = { "HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER",
	    "d7c3-01", NULL, NULL };
	static const char issue[] = "{\"id\":\"10042\",\"key\":\"PROJ-7\","
	    "\"fields\":{\"summary\":\"Dark @ceo\",\"labels\":[\"a\"],"
	    "\"description\":{\"type\":\"doc\",\"version\":1,\"content\":[]},"
	    "\"status\":{\"name\":\"In Review\",\"statusCategory\":{\"key\":"
	    "\"indeterminate\"}},\"updated\":\"2026-01-31T19:03:35.123+0000\","
	    "\"reporter\":{\"accountId\":\"acc-1\"},\"project\":{\"id\":"
	    "\"10000\"}}}";
	struct tracker	 tr;
	struct tracker_issue i;
	struct tracker_hook_in in;
	struct tracker_delivery d;
	const struct tracker_ops *ops = tracker_find("jira");
	char		 base[64], err[256], moved[sizeof(issue) + 8];
	const char	*body;

	CHECK(ops != NULL && ops->states == NULL);
	CHECK_INT(tracker_options_ok(ops, "{\"email\":\"bot@example.com\"}",
	    err, sizeof(err)), 0);
	CHECK_INT(tracker_options_ok(ops, "{}", err, sizeof(err)), -1);
	CHECK(strstr(err, "Account e-mail") != NULL);
	CHECK_INT(tracker_options_ok(ops, "{\"email\":\"b@x\",\"colour\":"
	    "\"red\"}", err, sizeof(err)), -1);
	CHECK(strstr(err, "colour") != NULL);
	CHECK_INT(tracker_options_ok(ops, "[]", err, sizeof(err)), -1);
	CHECK_INT(tracker_open(&tr, a, "jira", "http://127.0.0.1:9", "t",
	    "1:2", "{}"), -1);

	canned(reply(200, issue));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(tracker_open(&tr, a, "jira", base, "jt", "10000:10001",
	    "{\"email\":\"bot@example.com\"}"), 0);
	CHECK_STR(tracker_option(&tr, "issue_type"), "Task");
	CHECK_INT(tr.ops->get(&tr, "10042", &i), HTTP_OK);
	collect();
	CHECK(strncmp(seen, "GET /rest/api/3/issue/10042?fields=summary,"
	    "description,status,labels,updated,reporter,project ", 75) == 0);
	/* base64("bot@example.com:jt") */
	CHECK(strstr(seen, "\r\nAuthorization: Basic Ym90QGV4YW1wbGUuY29tOmp0"
	    "\r\n") != NULL);
	CHECK_STR(i.key, "PROJ-7");
	CHECK_STR(i.ref, "10042");
	CHECK_STR(i.state, "In Review");
	CHECK_STR(i.state_group, "indeterminate");
	CHECK_STR(tracker_issue_class(&i), "opened");
	CHECK_STR(i.author, "acc-1");
	CHECK_STR(i.description, "{\"type\":\"doc\",\"version\":1,"
	    "\"content\":[]}");
	CHECK(strncmp(i.web_url, base, strlen(base)) == 0);
	CHECK(strstr(i.web_url, "/browse/PROJ-7") != NULL);
	CHECK(tracker_issue_has_label(&i, "a"));
	CHECK(i.updated_at > 1769886215.1 && i.updated_at < 1769886215.2);
	tracker_issue_release(&i);
	tracker_close(&tr);

	/* An issue moved to another project is gone for this integration. */
	snprintf(moved, sizeof(moved), "%s", issue);
	memcpy(strstr(moved, "\"10000\"}}}"), "\"10999\"", 7);
	canned(reply(200, moved));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	tracker_open(&tr, a, "jira", base, "jt", "10000:10001",
	    "{\"email\":\"bot@example.com\"}");
	CHECK_INT(tr.ops->get(&tr, "10042", &i), HTTP_ECLIENT);
	collect();
	CHECK_INT(tr.up.status, 404);
	tracker_close(&tr);

	/* The per-issue write limit binds that issue only; a 503 waits. */
	canned("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 4\r\n"
	    "RateLimit-Reason: jira-per-issue-on-write\r\nContent-Length: 2"
	    "\r\nConnection: close\r\n\r\n{}");
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	tracker_open(&tr, a, "jira", base, "jt", "10000:10001",
	    "{\"email\":\"bot@example.com\"}");
	CHECK_INT(tr.ops->get(&tr, "10042", &i), HTTP_ERATE);
	collect();
	CHECK_INT(tr.up.retry_after, 4);
	CHECK_STR(tr.up.resp.ratelimit_reason, "jira-per-issue-on-write");
	CHECK_INT(jira_limit_is_shared(&tr.up.resp), 0);
	tracker_close(&tr);
	canned("HTTP/1.1 503 Unavailable\r\nRetry-After: 2\r\n"
	    "RateLimit-Reason: jira-burst-based\r\nContent-Length: 2\r\n"
	    "Connection: close\r\n\r\n{}");
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	tracker_open(&tr, a, "jira", base, "jt", "10000:10001",
	    "{\"email\":\"bot@example.com\"}");
	CHECK_INT(tr.ops->get(&tr, "10042", &i), HTTP_ERATE);
	collect();
	CHECK_INT(jira_limit_is_shared(&tr.up.resp), 1);
	tracker_close(&tr);

	/* Deliveries: the event in the body, the dedupe key in a header. */
	memset(&in, 0, sizeof(in));
	in.param = param;
	in.arg = hdr;
	body = "{\"webhookEvent\":\"jira:issue_deleted\",\"issue\":{\"id\":"
	    "\"10042\",\"key\":\"PROJ-7\"}}";
	in.body = body;
	in.len = strlen(body);
	CHECK_INT(ops->decode(&in, &d), 0);
	CHECK(d.relevant && d.deleted);
	CHECK_STR(d.id, "10042");
	CHECK_STR(d.dedupe, "d7c3-01");
	body = "{\"webhookEvent\":\"comment_created\",\"issue\":{\"id\":"
	    "\"10042\"}}";
	in.body = body;
	in.len = strlen(body);
	CHECK_INT(ops->decode(&in, &d), 0);
	CHECK(!d.relevant);
	body = "{\"webhookEvent\":\"jira:issue_updated\",\"issue\":{}}";
	in.body = body;
	in.len = strlen(body);
	CHECK_INT(ops->decode(&in, &d), -1);
	/* An id as text is held to the range of the others' ids. */
	body = "{\"webhookEvent\":\"jira:issue_updated\",\"issue\":{\"id\":"
	    "\"0\"}}";
	in.body = body;
	in.len = strlen(body);
	CHECK_INT(ops->decode(&in, &d), -1);
	body = "{\"webhookEvent\":\"jira:issue_updated\",\"issue\":{\"id\":"
	    "\"9223372036854775808\"}}";
	in.body = body;
	in.len = strlen(body);
	CHECK_INT(ops->decode(&in, &d), -1);
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
	CHECK_INT(pb_plugin_create(&pb, "com.pbsync.github", "Team", "GitHub",
	    "https://x/plugin/1", "Bearer s3", &id), HTTP_OK);
	collect();
	CHECK_STR(id, "plug-9");
	free(id);
	CHECK(strncmp(seen, "POST /v2/plugin-integrations HTTP", 33) == 0);
	CHECK(strstr(seen, "{\"data\":{\"fields\":{\"type\":\"com.pbsync.github\","
	    "\"name\":\"Team\",\"integrationStatus\":\"enabled\",\"initialState\":"
	    "{\"label\":\"GitHub\"},\"action\":{\"url\":\"https://x/plugin/1\","
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
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4", NULL), 0);
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
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4", NULL), 0);
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
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4", NULL), 0);
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
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4", NULL), 0);
	CHECK_INT(tr.ops->create(&tr, "T", "body", "status::new", &i), HTTP_OK);
	collect();
	CHECK(strstr(seen, "\"labels\":\"status::new\"") != NULL);
	CHECK(tracker_issue_has_label(&i, "status::new"));
	tracker_issue_release(&i);
	tracker_close(&tr);

	canned(reply(201, "{\"id\":7,\"url\":\"https://x/webhooks/gittab/1\"}"));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4", NULL), 0);
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
	CHECK_INT(tracker_open(&tr, &a, "gitlab", base, "glpat-x", "4", NULL), 0);
	CHECK_INT(tr.ops->get(&tr, "4/14", &i), HTTP_ERATE);
	collect();
	CHECK_INT(tr.up.retry_after, 3);
	CHECK(strncmp(seen, "GET /api/v4/projects/4/issues/14 ", 33) == 0);
	tracker_close(&tr);
	jira(&a);
	jira_errors(&a);
	jira_workflow(&a);
	http_release(&a.http);
	return t_done();
}
