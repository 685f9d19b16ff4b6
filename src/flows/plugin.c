#include "config.h"

#include <string.h>

#include "flows/conn.h"
#include "flows/ctx.h"
#include "flows/inbound.h"
#include "flows/plugin.h"
#include "flows/push.h"
#include "upstream/pb.h"
#include "web/health.h"

#define PREFIX		"/plugin/"

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

/* Runs the click: push, or unlink for button.unlink and button.dismiss. */
static void
action(struct app *a, struct ctx *c, const struct pb_action *act,
    struct resp *rs)
{
	struct late	 late = { rs, strcmp(a->conf.action_reply, "both") == 0 };
	cJSON		*conn;

	if (act->trigger == PB_TRIGGER_PUSH)
		conn = push_click(c, act->feature_id, act->actor,
		    a->conf.push_budget_ms, on_late, &late);
	else
		conn = push_unlink(c, act->feature_id, act->actor,
		    act->trigger_name);
	/* A click is flagged like a job when a token was refused. */
	ctx_auth_check(c);
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
	struct pb_action act;
	struct ctx	 c;

	if (health_handle(a, rq, rs))
		return;
	if (inbound_auth(a, rq, rs, PREFIX, INBOUND_PLUGIN, &in) == -1)
		return;
	if (rq->method == REQ_GET || rq->method == REQ_HEAD) {
		inbound_probe(rq, rs);
		store_integration_release(&in);
		return;
	}
	if (inbound_body(rq, rs, (size_t)a->conf.max_body, rd) == -1) {
		store_integration_release(&in);
		return;
	}
	if (pb_action_decode(&act, buf_str(&rq->body), rq->body.len) == -1) {
		inbound_refuse(rq, rs, act.error);
	} else if (ctx_open(&c, a, &in) == -1) {
		resp_unavailable(rs, "service unavailable");
	} else {
		action(a, &c, &act, rs);
		ctx_close(&c);
	}
	store_integration_release(&in);
}
