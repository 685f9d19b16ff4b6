#include "config.h"

#include <string.h>

#include "flows/conn.h"
#include "t.h"
#include "web/resp.h"

static int sent;

static void
send_cb(struct resp *r, void *arg)
{
	sent++;
}

int
main(void)
{
	struct resp	 r;
	struct buf	 out;
	cJSON		*c, *j;
	char		*s;

	resp_init(&r);
	CHECK_INT(resp_header(&r, "X-A", "ok"), 0);
	CHECK_INT(resp_header(&r, "X-B", "evil\r\nSet-Cookie: x"), -1);
	CHECK_INT(resp_header(&r, "X-B", "evil\nSet-Cookie: x"), -1);
	CHECK_INT(resp_header(&r, "X-B", "evil\rSet-Cookie: x"), -1);
	CHECK_INT(resp_header(&r, "X-C\n", "v"), -1);
	resp_text(&r, 200, "tok");
	buf_init(&out, 4096);
	CHECK_INT(resp_serialize(&r, &out), 0);
	CHECK(strncmp(buf_str(&out), "Status: 200 OK\r\n", 16) == 0);
	CHECK(strstr(buf_str(&out), "X-A: ok\r\n") != NULL);
	CHECK(strstr(buf_str(&out), "Set-Cookie") == NULL);
	CHECK(strstr(buf_str(&out), "\r\n\r\ntok") != NULL);
	buf_release(&out);
	r.send = send_cb;
	resp_commit(&r);
	resp_commit(&r);
	CHECK_INT(sent, 1);
	resp_error(&r, 500, "late");			/* ignored once sent */
	CHECK_INT(r.status, 200);
	resp_release(&r);

	resp_init(&r);
	resp_error(&r, 400, "bad \"input\"");
	CHECK_STR(buf_str(&r.body), "{\"error\":\"bad \\\"input\\\"\"}");
	resp_release(&r);

	/* Connection states respect Productboard's field limits. */
	c = conn_connected("#123", "A very long issue title that goes on and on "
	    "beyond fifty characters", "closed", NULL,
	    "https://gl/x/-/issues/123");
	CHECK_STR(cJSON_GetObjectItem(c, "label")->valuestring, "Closed");
	CHECK_STR(cJSON_GetObjectItem(c, "hoverLabel")->valuestring, "#123");
	CHECK_INT(strlen(cJSON_GetObjectItem(c, "tooltip")->valuestring), 50);
	CHECK_STR(cJSON_GetObjectItem(c, "color")->valuestring, "green");
	j = conn_reply(c, 0);
	s = cJSON_PrintUnformatted(j);
	CHECK(strncmp(s, "{\"data\":{\"fields\":{\"connection\":{\"state\":"
	    "\"connected\"", 50) == 0);
	cJSON_free(s);
	cJSON_Delete(j);
	c = conn_connected("#1", "ééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
	    "opened", NULL, "u");
	CHECK_INT(strlen(cJSON_GetObjectItem(c, "tooltip")->valuestring), 100);
	cJSON_Delete(c);
	/* A long repository name: the hover is cut as well. */
	c = conn_connected("a-very-long-organisation/and-a-long-repository#12345",
	    "T", "opened", NULL, "u");
	CHECK_INT(strlen(cJSON_GetObjectItem(c, "hoverLabel")->valuestring), 50);
	CHECK_STR(cJSON_GetObjectItem(c, "label")->valuestring, "Open");
	cJSON_Delete(c);
	/* A workflow's status is the label; its class, the colour. */
	c = conn_connected("PROJ-7", "T", "Waiting for a long review", "closed",
	    "u");
	CHECK_STR(cJSON_GetObjectItem(c, "label")->valuestring,
	    "Waiting for a long r");
	CHECK_STR(cJSON_GetObjectItem(c, "color")->valuestring, "green");
	cJSON_Delete(c);
	c = conn_connected("PROJ-7", "T", "In Review", NULL, "u");
	CHECK_STR(cJSON_GetObjectItem(c, "label")->valuestring, "In Review");
	CHECK_STR(cJSON_GetObjectItem(c, "color")->valuestring, "blue");
	cJSON_Delete(c);
	j = conn_reply(conn_simple("initial"), 1);
	s = cJSON_PrintUnformatted(j);
	CHECK_STR(s, "{\"data\":{\"fields\":{\"connection\":{\"state\":"
	    "\"initial\"}},\"connection\":{\"state\":\"initial\"}}}");
	cJSON_free(s);
	cJSON_Delete(j);
	c = conn_error("");
	CHECK_STR(cJSON_GetObjectItem(c, "message")->valuestring,
	    "pbsync failed");
	cJSON_Delete(c);
	return t_done();
}
