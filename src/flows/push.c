#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "flows/conn.h"
#include "flows/push.h"
#include "flows/tell.h"
#include "trackers/marker.h"

#define MAX_TITLE	255
/* A pending link younger than this may still have a create in flight. */
#define INFLIGHT_S(c)	((double)(c)->app->conf.http_timeout_ms / 1000.0 + 10.0)

struct deadline {
	int64_t		 at;
	int		 fired;
	void		(*on_late)(void *, const cJSON *);
	void		*arg;
};

/* The tick of a slow upstream call: answer "progress" once, past budget. */
static void
tick(void *arg)
{
	struct deadline	*d = arg;
	cJSON		*c;

	if (d->fired || d->on_late == NULL || util_mono_ms() < d->at)
		return;
	d->fired = 1;
	if ((c = conn_simple("progress")) != NULL)
		d->on_late(d->arg, c);
	cJSON_Delete(c);
}

/* A message a product manager can act on, for a failure of side. */
static void
pm_message(const struct ctx *c, const struct upstream *u, enum http_err e,
    char *out, size_t len)
{
	int		 tr = u == &c->tr.up;
	const char	*who = tr ? c->tr.ops->title : "Productboard";

	if (e == HTTP_ECLIENT && u->status == 401)
		snprintf(out, len, "%s refused pbsync's token: ask your admin "
		    "to renew it", who);
	else if (e == HTTP_ECLIENT && u->status == 403 && tr)
		snprintf(out, len, "The %s token may not create issues in "
		    "this project", who);
	else if (e == HTTP_ECLIENT && u->status == 403)
		snprintf(out, len, "Productboard denied access");
	else if (e == HTTP_ECLIENT && u->status == 404 && tr)
		snprintf(out, len, "The %s project no longer exists or is not "
		    "visible to pbsync", who);
	else if (e == HTTP_ECLIENT && u->status == 404)
		snprintf(out, len, "This feature no longer exists in "
		    "Productboard");
	else if (e == HTTP_ECLIENT)
		snprintf(out, len, "%s refused the issue (HTTP %ld)", who,
		    u->status);
	else
		snprintf(out, len, "%s is not reachable right now (%s)", who,
		    http_strerror(e));
}

/*
 * Title, description with footer in the tracker's text, for a feature.  A description
 * longer than the tracker takes (max characters) is not sent: a line says
 * where it is, and the sync log of the link's first sync says nothing more
 * is copied until it fits.
 */
static int
issue_text(const struct tracker_ops *ops, const struct pb_feature *f,
    char **title, struct buf *md)
{
	*title = conn_cut(f->name[0] != '\0' ? f->name : "Untitled feature",
	    MAX_TITLE);
	buf_init(md, 4 * (size_t)PB_MAX_DESCRIPTION);
	if (*title != NULL && (ops->from_html(f->description,
	    strlen(f->description), md) == -1 ||
	    util_utf8_chars(buf_str(md)) + MARKER_MAX >
	    ops->max_description)) {
		static const char too_long[] = "<p><i>The description is "
		    "longer than the tracker takes; it is kept in "
		    "Productboard.</i></p>";

		buf_reset(md);
		ops->from_html(too_long, sizeof(too_long) - 1, md);
	}
	if (*title == NULL ||
	    ops->footer_append(md, f->id, f->name, f->html_url) == -1) {
		free(*title);
		*title = NULL;
		buf_release(md);
		return -1;
	}
	return 0;
}

/* Records the issue on the link with the first snapshot. */
static int
link_issue(struct ctx *c, struct store_link *l, const struct pb_feature *f,
    const struct tracker_issue *iss)
{
	char	*tr_desc;
	int	 rc;

	if ((tr_desc = tracker_footer_cut(&c->tr, iss->description,
	    NULL)) == NULL)
		return -1;
	l->issue_id = iss->id;
	l->issue_ref = iss->ref;
	l->issue_key = iss->key;
	l->issue_url = iss->web_url;
	l->issue_title = iss->title;
	l->issue_state = iss->state;
	l->feature_url = f->html_url;
	l->snap_name = f->name;
	l->snap_pb_desc = f->description;
	l->snap_tracker_desc = tr_desc;
	l->snap_status = f->status_id;
	l->snap_state = iss->state;
	rc = store_link_set_issue(&c->app->store, l);
	if (rc == 0)
		tell_link(c, "feature.pushed", l->pushed_by, l, NULL, NULL,
		    NULL);
	free(tr_desc);
	/* The strings belong to f and iss: forget them. */
	l->issue_id = l->issue_ref = l->issue_key = NULL;
	l->issue_url = l->issue_title = l->issue_state = NULL;
	l->feature_url = l->snap_name = l->snap_pb_desc = NULL;
	l->snap_tracker_desc = l->snap_status = l->snap_state = NULL;
	return rc;
}

/*
 * Makes sure the feature of link l has an issue: found by its marker when
 * search is set (an earlier attempt may have created it), else created.
 * Fills iss; on failure *side tells whose call failed.
 */
static enum http_err
ensure_issue(struct ctx *c, struct store_link *l, int search,
    struct tracker_issue *iss, const struct upstream **side)
{
	struct pb_feature f;
	struct buf	 md;
	char		*title = NULL, mark[128];
	enum http_err	 e;

	memset(iss, 0, sizeof(*iss));
	*side = &c->pb.up;
	if ((e = pb_feature_get(&c->pb, l->feature_id, &f)) != HTTP_OK)
		return e;
	*side = &c->tr.up;
	marker_name(l->feature_id, mark, sizeof(mark));
	if (search && (e = c->tr.ops->find_marker(&c->tr, mark, NULL, iss)) !=
	    HTTP_OK)
		goto out;
	if (iss->id == NULL) {
		if (issue_text(c->tr.ops, &f, &title, &md) == -1) {
			e = HTTP_EINTERNAL;
			goto out;
		}
		e = c->tr.ops->create(&c->tr, title, buf_str(&md), NULL, iss);
		buf_release(&md);
		free(title);
		if (e != HTTP_OK)
			goto out;
	}
	if (link_issue(c, l, &f, iss) == -1) {
		/* The marker finds this issue again on the next attempt. */
		tracker_issue_release(iss);
		e = HTTP_EINTERNAL;
	}
out:
	pb_feature_release(&f);
	return e;
}

enum http_err
push_put_connection(struct ctx *c, const char *fid, const cJSON *conn)
{
	enum http_err	 e;

	if (c->in.pb_plugin_id == NULL)
		return HTTP_EINTERNAL;
	e = pb_connection_put(&c->pb, c->in.pb_plugin_id, fid, conn);
	if (e != HTTP_OK)
		log_warn("integration %s: cannot set the connection of %s: %s",
		    c->in.id, fid, c->pb.up.err);
	return e;
}

/*
 * After a retryable failure: a tracker call that timed out may still
 * create the issue in the tracker, so the link stays in flight for INFLIGHT_S
 * and the next attempt finds that issue by its marker instead of creating
 * a second one.  Any other failure left nothing running.
 */
static void
attempt_over(struct ctx *c, const struct store_link *l, enum http_err e,
    const struct upstream *side)
{
	store_link_touch(&c->app->store, l->id,
	    e == HTTP_ETIMEOUT && side == &c->tr.up ? util_now() : 0);
}

/* Forgets a push that cannot succeed: no link, no job. */
static void
abandon(struct ctx *c, const struct store_link *l)
{
	store_link_delete(&c->app->store, l->id);
	store_job_cancel(&c->app->store, c->in.id, "push", l->feature_id);
}

struct claim {
	struct ctx		*c;
	const char		*fid, *actor;
	struct store_link	*l;
};

/* The link claimed and the safety-net job: 0, STORE_EXISTS or -1. */
static int
claim_rows(struct store *s, void *arg)
{
	struct claim	*k = arg;
	struct ctx	*c = k->c;
	const char	*fid = k->fid;
	int		 rc;

	/* What an earlier run of the transaction read is gone with it. */
	store_link_release(k->l);
	rc = store_link_claim(s, c->in.id, fid, k->actor, k->l);
	if (rc == 0 && store_job_enqueue(s, c->in.id, "push", fid, "{}",
	    util_now() + INFLIGHT_S(c)) != 0)
		rc = -1;
	if (rc == -1)
		store_link_release(k->l);
	return rc;
}

/* Claims the link and schedules the safety-net job in one transaction. */
static int
claim(struct ctx *c, const char *fid, const char *actor, struct store_link *l)
{
	struct claim	 k = { c, fid, actor, l };
	int		 rc;

	memset(l, 0, sizeof(*l));
	if ((rc = store_tx(&c->app->store, claim_rows, &k)) == -1)
		store_link_release(l);
	return rc;
}

/* Waits for a concurrent click to finish, up to the budget. */
static cJSON *
await_other(struct ctx *c, const char *fid, struct store_link *l,
    int64_t until)
{
	while (strcmp(l->state, "linked") != 0 && util_mono_ms() < until) {
		usleep(100000);
		store_link_release(l);
		if (store_link_get(&c->app->store, c->in.id, fid, l) != 0)
			return conn_simple("progress");
	}
	if (strcmp(l->state, "linked") == 0)
		return conn_connected(l->issue_key, l->issue_title,
		    l->issue_state, NULL, l->issue_url);
	/* The first click or the job PUTs the final state. */
	return conn_simple("progress");
}

cJSON *
push_click(struct ctx *c, const char *fid, const char *actor, long budget_ms,
    void (*on_late)(void *, const cJSON *), void *late_arg)
{
	struct deadline	 d = { util_mono_ms() + budget_ms, 0, on_late,
			    late_arg };
	struct store_link l;
	struct tracker_issue iss;
	const struct upstream *side;
	char		 msg[256], fidcopy[80];
	cJSON		*conn;
	enum http_err	 e;
	int		 rc;

	snprintf(fidcopy, sizeof(fidcopy), "%s", fid);
	if ((rc = claim(c, fid, actor, &l)) == -1)
		return conn_error("pbsync is busy, please try again");
	if (rc == STORE_EXISTS) {
		conn = await_other(c, fidcopy, &l, d.at);
		store_link_release(&l);
		return conn;
	}
	c->pb.up.tick = c->tr.up.tick = tick;
	c->pb.up.tick_arg = c->tr.up.tick_arg = &d;
	e = ensure_issue(c, &l, 0, &iss, &side);
	c->pb.up.tick = c->tr.up.tick = NULL;
	if (e == HTTP_OK) {
		store_job_cancel(&c->app->store, c->in.id, "push", fidcopy);
		ctx_log(c, actor, "push", fidcopy, iss.key, "ok", iss.web_url);
		if (c->tr.adapted[0] != '\0')
			ctx_log(c, "pbsync", "push", fidcopy, iss.key, "info",
			    c->tr.adapted);
		conn = conn_from_issue(&iss);
		tracker_issue_release(&iss);
	} else if (http_retryable(e) || e == HTTP_EINTERNAL) {
		/* The job retries soon, or once a timed-out create is over. */
		attempt_over(c, &l, e, side);
		store_job_enqueue(&c->app->store, c->in.id, "push", fidcopy,
		    "{}", util_now() + queue_backoff(0));
		ctx_log(c, actor, "push", fidcopy, NULL, "error", side->err);
		conn = conn_simple("progress");
	} else {
		pm_message(c, side, e, msg, sizeof(msg));
		abandon(c, &l);
		ctx_log(c, actor, "push", fidcopy, NULL, "error", side->err);
		log_warn("integration %s: push of %s failed: %s", c->in.id,
		    fidcopy, side->err);
		conn = conn_error(msg);
	}
	store_link_release(&l);
	/* The caller already answered "progress": set the state by PUT. */
	if (d.fired && conn != NULL)
		push_put_connection(c, fidcopy, conn);
	return conn;
}

void
push_job(struct ctx *c, const struct store_job *j, struct queue_result *r)
{
	struct store_link l;
	struct tracker_issue iss;
	const struct upstream *side;
	double		 now = util_now();
	char		 msg[256];
	cJSON		*conn;
	enum http_err	 e;
	int		 rc;

	if ((rc = store_link_get(&c->app->store, c->in.id, j->key, &l)) != 0) {
		if (rc == -1)
			queue_fail(r, HTTP_EINTERNAL, -1, "store error");
		return;		/* unlinked meanwhile: nothing to do */
	}
	if (strcmp(l.state, "linked") == 0) {
		conn = conn_connected(l.issue_key, l.issue_title,
		    l.issue_state, NULL, l.issue_url);
		e = push_put_connection(c, j->key, conn);
		cJSON_Delete(conn);
		if (e != HTTP_OK)
			queue_fail(r, e, c->pb.up.retry_after, c->pb.up.err);
		goto out;
	}
	if (l.updated_at > now - INFLIGHT_S(c)) {
		r->status = QUEUE_WAIT;
		r->retry_in = (long)(l.updated_at + INFLIGHT_S(c) - now) + 1;
		snprintf(r->error, sizeof(r->error), "a push is in flight");
		goto out;
	}
	e = ensure_issue(c, &l, 1, &iss, &side);
	if (e == HTTP_OK) {
		ctx_log(c, "pbsync", "push", j->key, iss.key, "ok",
		    "finished by the job queue");
		conn = conn_from_issue(&iss);
		tracker_issue_release(&iss);
	} else if (http_retryable(e) || e == HTTP_EINTERNAL) {
		attempt_over(c, &l, e, side);
		queue_fail(r, e, side->retry_after, side->err);
		goto out;
	} else {
		pm_message(c, side, e, msg, sizeof(msg));
		abandon(c, &l);
		ctx_log(c, "pbsync", "push", j->key, NULL, "error", side->err);
		conn = conn_error(msg);
	}
	if ((e = push_put_connection(c, j->key, conn)) != HTTP_OK &&
	    http_retryable(e)) {
		/* The link is made; the next run only PUTs the state. */
		queue_fail(r, e, c->pb.up.retry_after, c->pb.up.err);
	}
	cJSON_Delete(conn);
out:
	store_link_release(&l);
}

struct unlink {
	struct ctx		*c;
	const char		*fid;
	const struct store_link	*l;
};

/*
 * The link deleted with its waiting jobs, and the job that takes the
 * marker off its issue: 0 or -1.
 */
static int
unlink_rows(struct store *s, void *arg)
{
	const struct unlink *u = arg;
	const struct store_link *l = u->l;
	struct ctx	*c = u->c;
	const char	*fid = u->fid;
	cJSON		*p;
	char		*payload;
	int		 rc;

	rc = store_link_delete(s, l->id);
	store_job_cancel(s, c->in.id, "push", fid);
	store_job_cancel(s, c->in.id, "sync", fid);
	if (rc == 0 && l->issue_id != NULL && l->issue_ref != NULL) {
		p = cJSON_CreateObject();
		payload = p != NULL && cJSON_AddStringToObject(p, "ref",
		    l->issue_ref) != NULL ? cJSON_PrintUnformatted(p) : NULL;
		rc = payload == NULL ? -1 : store_job_enqueue(s, c->in.id,
		    "unmark", l->issue_id, payload, util_now());
		cJSON_Delete(p);
		cJSON_free(payload);
	}
	return rc != 0 ? -1 : 0;
}

cJSON *
push_unlink(struct ctx *c, const char *fid, const char *actor,
    const char *trigger)
{
	struct store	*s = &c->app->store;
	struct store_link l;
	struct unlink	 u = { c, fid, &l };
	int		 rc;

	if ((rc = store_link_get(s, c->in.id, fid, &l)) == -1)
		return conn_error("pbsync is busy, please try again");
	if (rc == STORE_NOTFOUND) {
		ctx_log(c, actor, trigger, fid, NULL, "info", "no link");
		return conn_simple("initial");
	}
	if (store_tx(s, unlink_rows, &u) != 0) {
		store_link_release(&l);
		return conn_error("pbsync is busy, please try again");
	}
	ctx_log(c, actor, trigger, fid, l.issue_key, "ok", "link removed");
	tell_link(c, "feature.unlinked", actor, &l, NULL, NULL,
	    "The issue stays in the tracker.");
	store_link_release(&l);
	return conn_simple("initial");
}

void
push_unmark_job(struct ctx *c, const struct store_job *j,
    struct queue_result *r)
{
	struct tracker_issue iss, out;
	struct tracker_edit ed;
	cJSON		*p = cJSON_Parse(j->payload);
	char		*desc, *ref;
	enum http_err	 e;
	int		 had = 0;

	ref = cJSON_GetStringValue(cJSON_GetObjectItem(p, "ref"));
	if (ref == NULL || *ref == '\0') {
		cJSON_Delete(p);
		queue_fail(r, HTTP_ECLIENT, -1, "unmark job without issue");
		return;
	}
	e = c->tr.ops->get(&c->tr, ref, &iss);
	if (e != HTTP_OK) {
		cJSON_Delete(p);
		if (!(e == HTTP_ECLIENT && c->tr.up.status == 404))
			queue_fail(r, e, c->tr.up.retry_after, c->tr.up.err);
		return;		/* a deleted issue has no footer left */
	}
	if ((desc = tracker_footer_cut(&c->tr, iss.description, &had)) !=
	    NULL && had) {
		memset(&ed, 0, sizeof(ed));
		ed.description = desc;
		e = c->tr.ops->edit(&c->tr, ref, &ed, &out);
		if (e == HTTP_OK)
			tracker_issue_release(&out);
		else
			queue_fail(r, e, c->tr.up.retry_after, c->tr.up.err);
	}
	free(desc);
	tracker_issue_release(&iss);
	cJSON_Delete(p);
}
