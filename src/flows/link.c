#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "flows/conn.h"
#include "flows/ctx.h"
#include "flows/link.h"
#include "flows/push.h"
#include "flows/sync.h"

#define UUID_LEN	36

/*
 * The feature id in text: the id itself, or the path segment after
 * "/features/" of a Productboard URL.  Productboard's ids are UUIDs.
 * 0, or -1 when it names none.
 */
static int
feature_of(const char *text, char id[UUID_LEN + 1])
{
	const char	*p;
	size_t		 i;

	while (isspace((unsigned char)*text))
		text++;
	p = strstr(text, "/features/");
	p = p != NULL ? p + 10 : text;
	for (i = 0; i < UUID_LEN; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? p[i] != '-' :
		    !isxdigit((unsigned char)p[i]))
			return -1;
	/* A bare id ends there; a URL may go on: "/detail". */
	if (p == text ? p[i + strspn(p + i, " \t")] != '\0' :
	    p[i] != '\0' && strchr("/?#", p[i]) == NULL)
		return -1;
	memcpy(id, p, UUID_LEN);
	id[UUID_LEN] = '\0';
	return 0;
}

struct claim {
	struct ctx		*c;
	const char		*fid, *actor;
	const struct pb_feature	*f;
	const struct tracker_issue *iss;
	char			*why;		/* a refusal, for people */
	size_t			 len;
};

/*
 * The link claimed and given its issue, with no snapshot: 0, STORE_EXISTS
 * (refused, k->why says why) or -1.  Both checks are read again here, so
 * two submits at once make one link.
 */
static int
claim_rows(struct store *s, void *arg)
{
	struct claim	*k = arg;
	struct store_link l, other;
	int		 rc;

	memset(&l, 0, sizeof(l));
	memset(&other, 0, sizeof(other));
	rc = store_link_claim(s, k->c->in.id, k->fid, k->actor, &l);
	if (rc == STORE_EXISTS)
		snprintf(k->why, k->len, "The feature is already linked to "
		    "%s.", l.issue_key != NULL ? l.issue_key : "an issue");
	if (rc != 0) {
		store_link_release(&l);
		return rc;
	}
	if ((rc = store_link_get_by_issue(s, k->c->in.id, k->iss->id,
	    &other)) == 0) {
		snprintf(k->why, k->len, "%s is already linked to the feature "
		    "%s.", k->iss->key, other.feature_id);
		store_link_release(&other);
		rc = STORE_EXISTS;
	} else if (rc == STORE_NOTFOUND) {
		l.issue_id = k->iss->id;
		l.issue_ref = k->iss->ref;
		l.issue_key = k->iss->key;
		l.issue_url = k->iss->web_url;
		l.issue_title = k->iss->title;
		l.issue_state = k->iss->state;
		l.feature_url = k->f->html_url;
		rc = store_link_set_issue(s, &l);
		/* The strings belong to f and iss. */
		l.issue_id = l.issue_ref = l.issue_key = l.issue_url = NULL;
		l.issue_title = l.issue_state = l.feature_url = NULL;
	}
	store_link_release(&l);
	return rc;
}

/* What the link's first sync kept, from its sync log entry, into msg. */
static void
first_said(struct ctx *c, const char *fid, char *msg, size_t len)
{
	struct store_logrow *r;
	size_t		 n, i, at = strlen(msg);

	if (store_log_page(&c->app->store, c->in.id, 0, 20, &r, &n) == -1)
		return;
	for (i = 0; i < n; i++)
		if (strcmp(r[i].action, "sync") == 0 &&
		    strcmp(r[i].feature_id, fid) == 0) {
			snprintf(msg + at, len - at, " First sync: %s",
			    r[i].detail);
			break;
		}
	store_logrows_free(r, n);
}

/* The first sync now; a failure leaves it to a sync job. */
static void
first_sync(struct ctx *c, const char *fid, char *msg, size_t len)
{
	struct store_job j;
	struct queue_result r;
	size_t		 at = strlen(msg);

	memset(&j, 0, sizeof(j));
	memset(&r, 0, sizeof(r));
	j.kind = "sync";
	j.key = (char *)fid;
	r.status = QUEUE_DONE;
	sync_job(c, &j, &r);
	if (r.status == QUEUE_DONE) {
		first_said(c, fid, msg, len);
		return;
	}
	store_job_enqueue(&c->app->store, c->in.id, "sync", fid, "{}",
	    util_now() + (r.retry_in > 0 ? r.retry_in : queue_backoff(0)));
	snprintf(msg + at, len - at, " The first sync will run again "
	    "shortly (%s).", r.error);
}

/*
 * Reads the feature and the issue: LINK_DONE with both filled, or the
 * refusal or failure with msg set.
 */
static enum link_rc
read_both(struct ctx *c, const char *fid, const char *issue,
    struct pb_feature *f, struct tracker_issue *iss, char *msg, size_t len)
{
	const char	*proj = c->in.tracker_project_name;
	const char	*purl = c->in.tracker_project_url != NULL ?
			    c->in.tracker_project_url : "";
	char		*ref = NULL, *again = NULL;
	enum tracker_named named;
	enum http_err	 e;

	memset(f, 0, sizeof(*f));
	memset(iss, 0, sizeof(*iss));
	named = tracker_named(&c->tr, proj, purl, issue, &ref);
	if (named == TRACKER_NAMED_BAD) {
		snprintf(msg, len, "\"%s\" is not an issue of %s: give its URL "
		    "or its reference (%s%c12).", issue, proj, proj,
		    c->tr.ops->ref_sep);
		return LINK_REFUSED;
	}
	if (named == TRACKER_NAMED_ELSEWHERE) {
		snprintf(msg, len, "\"%s\" is an issue of another project: this "
		    "integration works in %s.", issue, proj);
		return LINK_REFUSED;
	}
	if (named != TRACKER_NAMED_OK) {
		snprintf(msg, len, "pbsync is out of memory.");
		return LINK_FAILED;
	}
	e = pb_feature_get(&c->pb, fid, f);
	if (e == HTTP_ECLIENT && c->pb.up.status == 404)
		snprintf(msg, len, "There is no feature %s in Productboard.", fid);
	else if (e != HTTP_OK)
		snprintf(msg, len, "Productboard cannot be read: %s", c->pb.up.err);
	if (e != HTTP_OK) {
		free(ref);
		return e == HTTP_ECLIENT && c->pb.up.status == 404 ?
		    LINK_REFUSED : LINK_FAILED;
	}
	e = c->tr.ops->get(&c->tr, ref, iss);
	free(ref);
	if (e == HTTP_ECLIENT && c->tr.up.status == 404) {
		snprintf(msg, len, "There is no issue \"%s\" in %s that pbsync "
		    "can read.", issue, proj);
		return LINK_REFUSED;
	}
	if (e != HTTP_OK) {
		snprintf(msg, len, "%s cannot be read: %s", c->tr.ops->title,
		    c->tr.up.err);
		return LINK_FAILED;
	}
	/* A key that moved (Jira) may answer with another project's issue. */
	named = tracker_named(&c->tr, proj, purl, iss->key, &again);
	free(again);
	if (named != TRACKER_NAMED_OK) {
		snprintf(msg, len, "\"%s\" is now %s, an issue of another "
		    "project: this integration works in %s.", issue, iss->key,
		    proj);
		return LINK_REFUSED;
	}
	return LINK_DONE;
}

/* The link made and shown; the first sync run.  c is ready. */
static enum link_rc
link_in(struct ctx *c, const char *feature, const char *issue,
    const char *actor, char *msg, size_t len)
{
	struct pb_feature f;
	struct tracker_issue iss;
	struct store_link l;
	struct claim	 k;
	char		 fid[UUID_LEN + 1];
	cJSON		*conn;
	enum link_rc	 rc;
	int		 sr;

	if (feature_of(feature, fid) == -1) {
		snprintf(msg, len, "\"%s\" is not a Productboard feature's URL "
		    "or id.", feature);
		return LINK_REFUSED;
	}
	/* Refused before any call: the feature has its issue already. */
	if ((sr = store_link_get(&c->app->store, c->in.id, fid, &l)) == 0) {
		snprintf(msg, len, "The feature is already linked to %s.",
		    l.issue_key != NULL ? l.issue_key : "an issue");
		store_link_release(&l);
		return LINK_REFUSED;
	}
	if (sr == -1) {
		snprintf(msg, len, "The database cannot be read.");
		return LINK_FAILED;
	}
	if ((rc = read_both(c, fid, issue, &f, &iss, msg, len)) != LINK_DONE)
		goto out;
	k = (struct claim){ c, fid, actor, &f, &iss, msg, len };
	if ((sr = store_tx(&c->app->store, claim_rows, &k)) != 0) {
		if (sr != STORE_EXISTS)
			snprintf(msg, len, "The link cannot be stored.");
		rc = sr == STORE_EXISTS ? LINK_REFUSED : LINK_FAILED;
		goto out;
	}
	ctx_log(c, actor, "link", fid, iss.key, "ok", iss.web_url);
	log_info("integration %s: %s linked feature %s to %s", c->in.id,
	    actor, fid, iss.key);
	if ((conn = conn_from_issue(&iss)) != NULL)
		push_put_connection(c, fid, conn);
	cJSON_Delete(conn);
	snprintf(msg, len, "Linked \"%s\" to %s.", f.name, iss.key);
	first_sync(c, fid, msg, len);
out:
	pb_feature_release(&f);
	tracker_issue_release(&iss);
	return rc;
}

enum link_rc
link_existing(struct app *a, const char *iid, const char *feature,
    const char *issue, const char *actor, char *msg, size_t len)
{
	struct ctx	 c;
	enum link_rc	 rc;
	int		 lr;

	if ((lr = ctx_load(&c, a, iid)) != 0) {
		snprintf(msg, len, lr == STORE_NOTFOUND ? "There is no such "
		    "integration." : "The integration cannot be opened.");
		ctx_close(&c);
		return lr == STORE_NOTFOUND ? LINK_REFUSED : LINK_FAILED;
	}
	rc = link_in(&c, feature, issue, actor, msg, len);
	ctx_auth_check(&c);
	ctx_close(&c);
	return rc;
}
