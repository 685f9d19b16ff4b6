#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "ctx.h"
#include "health.h"
#include "inbound.h"
#include "json.h"
#include "log.h"
#include "plugin.h"
#include "push.h"

#define PREFIX		"/plugin/"
#define MAX_ID		64
#define MAX_USER	200

struct late {
	struct resp	*rs;
	int		 both;
};

/* Sets the answer to a connection state in the configured reply shape. */
static void
answer(struct resp *rs, const cJSON *conn, int both)
{
	cJSON	*j = conn_reply(cJSON_Duplicate(conn, 1), both);

	if (j == NULL)
		resp_error(rs, 500, "internal error");
	else
		resp_json(rs, 200, j);
	cJSON_Delete(j);
}

/* Past the budget: answer "progress" now, keep working. */
static void
on_late(void *arg, const cJSON *progress)
{
	struct late	*l = arg;

	answer(l->rs, progress, l->both);
	resp_commit(l->rs);
}

/* "Jane Doe <jane@example.com>" from data.triggeredByUser, for the log. */
static void
actor_of(const cJSON *j, char *out, size_t len)
{
	const char	*name = json_str(j, "data.triggeredByUser.name", MAX_USER);
	const char	*mail = json_str(j, "data.triggeredByUser.email", MAX_USER);

	snprintf(out, len, "%s%s%s%s", name ? name : "",
	    mail ? (name ? " <" : "<") : "", mail ? mail : "", mail ? ">" : "");
	if (*out == '\0')
		snprintf(out, len, "unknown user");
}

static void
action(struct app *a, struct ctx *c, const cJSON *j, struct resp *rs)
{
	const char	*trigger, *fid;
	char		 actor[2 * MAX_USER + 8];
	struct late	 late = { rs, strcmp(a->conf.action_reply, "both") == 0 };
	cJSON		*conn;

	trigger = json_str(j, "data.trigger", 32);
	fid = json_str(j, "data.feature.id", MAX_ID);
	if (trigger == NULL || fid == NULL) {
		resp_error(rs, 400, "data.trigger and data.feature.id required");
		return;
	}
	actor_of(j, actor, sizeof(actor));
	if (strcmp(trigger, "button.push") == 0)
		conn = push_click(c, fid, actor, a->conf.push_budget_ms,
		    on_late, &late);
	else if (strcmp(trigger, "button.unlink") == 0 ||
	    strcmp(trigger, "button.dismiss") == 0)
		conn = push_unlink(c, fid, actor, trigger);
	else {
		log_info("integration %s: unknown trigger refused", c->in.id);
		resp_error(rs, 400, "unknown trigger");
		return;
	}
	if (conn == NULL)
		resp_error(rs, 500, "internal error");
	else
		answer(rs, conn, late.both);
	cJSON_Delete(conn);
}

void
plugin_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	struct store_integration in;
	struct ctx	 c;
	cJSON		*j;

	if (health_handle(a, rq, rs))
		return;
	if (inbound_auth(a, rq, rs, PREFIX, INBOUND_PLUGIN, &in) == -1)
		return;
	if (rq->method == REQ_GET || rq->method == REQ_HEAD) {
		inbound_probe(rq, rs);
		store_integration_release(&in);
		return;
	}
	if ((j = inbound_json(rq, rs, (size_t)a->conf.max_body, rd)) == NULL) {
		store_integration_release(&in);
		return;
	}
	if (!cJSON_IsObject(json_get(j, "data"))) {
		resp_error(rs, 400, "data object required");
	} else if (ctx_open(&c, a, &in) == -1) {
		resp_error(rs, 503, "service unavailable");
	} else {
		action(a, &c, j, rs);
		ctx_close(&c);
	}
	store_integration_release(&in);
	cJSON_Delete(j);
}
