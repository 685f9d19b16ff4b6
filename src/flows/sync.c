#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/metrics.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "convert/html2md.h"
#include "convert/md2html.h"
#include "flows/conn.h"
#include "flows/push.h"
#include "flows/sync.h"
#include "flows/tell.h"
#include "trackers/marker.h"

#define MAX_DOC		(8u << 20)	/* 1M characters, escaped */

/* Both sides of a link, fetched fresh. */
struct sides {
	struct pb_feature	 f;
	struct tracker_issue	 i;
	/* i before a write replaced it: the plan may point into it. */
	struct tracker_issue	 prev;
	char			*tr_desc;	/* issue description, no footer */
	int			 footed;	/* the issue has pbsync's footer */
	char			*pb_as_md;	/* f.description converted */
	char			*tr_as_html;	/* tr_desc converted */
};

/* What one sync decided to write. */
struct plan {
	const char	*pb_name, *pb_desc, *pb_status;
	char		 status_id[80];	/* pb_status points here */
	char		 state[256];	/* tr_state points here */
	const char	*tr_title, *tr_desc, *tr_state;
	char		 add_labels[512], remove_labels[512];
	int		 conflicts;
	/* The link's first round: an existing issue, no snapshot yet. */
	int		 first;
	char		 log[1024];
};

static int
same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static char *
convert(int (*fn)(const char *, size_t, struct buf *), const char *s)
{
	struct buf	 b;

	buf_init(&b, MAX_DOC);
	if (fn(s, strlen(s), &b) == -1) {
		buf_release(&b);
		return NULL;
	}
	/* Trailing newlines do not matter to either side. */
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return buf_detach(&b);
}

static void
sides_release(struct sides *s)
{
	pb_feature_release(&s->f);
	tracker_issue_release(&s->i);
	tracker_issue_release(&s->prev);
	free(s->tr_desc);
	free(s->pb_as_md);
	free(s->tr_as_html);
}

/* Trims trailing newlines of a stored Markdown value for comparison. */
static char *
md_norm(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	return strndup(s, n);
}

/*
 * Which side wins a conflict: 1 Productboard, 0 the tracker.  "latest"
 * compares the two updated_at times (DESIGN §3 default).
 */
static int
pb_wins(const struct ctx *c, const struct sides *s)
{
	if (strcmp(c->in.conflict_policy, "productboard") == 0)
		return 1;
	if (strcmp(c->in.conflict_policy, "tracker") == 0)
		return 0;
	return s->f.updated_at >= s->i.updated_at;
}

/* Appends "a b c; " to the plan's log line. */
static void
note(struct plan *p, const char *a, const char *b, const char *c)
{
	size_t	 n = strlen(p->log);

	snprintf(p->log + n, sizeof(p->log) - n, "%s %s%s; ", a, b, c);
}

/*
 * decide() for a link's first round, where "changed" means "not empty":
 * the side with a value wins, and where both have one the conflict
 * policy does, counted as no conflict.  The log says in words which
 * side's value each field kept.
 */
static int
decide_first(const struct ctx *c, const struct sides *s, struct plan *p,
    const char *field, int pb_changed, int tr_changed, int agree)
{
	char	 f[32], won[48];
	int	 d;

	snprintf(f, sizeof(f), "%s:", field);
	if (agree || (!pb_changed && !tr_changed)) {
		note(p, f, "the same", " on both sides");
		return 0;
	}
	d = !tr_changed || (pb_changed && pb_wins(c, s)) ? 1 : -1;
	snprintf(won, sizeof(won), "%s's", d == 1 ? "Productboard" :
	    c->tr.ops->title);
	note(p, f, won, !(pb_changed && tr_changed) ? " kept, the other "
	    "was empty" : strcmp(c->in.conflict_policy, "latest") == 0 ?
	    " kept, the later edit" : " kept, by the conflict policy");
	return d;
}

/*
 * Decides one field from whether each side changed since the snapshot and
 * whether they agree now.  Returns 1 to write the tracker, -1 to write
 * Productboard, 0 for nothing.
 */
static int
decide(const struct ctx *c, const struct sides *s, struct plan *p,
    const char *field, int pb_changed, int tr_changed, int agree)
{
	char	 won[48];

	if (p->first)
		return decide_first(c, s, p, field, pb_changed, tr_changed,
		    agree);
	if (agree || (!pb_changed && !tr_changed))
		return 0;
	if (pb_changed && tr_changed) {
		p->conflicts++;
		snprintf(won, sizeof(won), "%s wins", pb_wins(c, s) ?
		    "productboard" : c->tr.ops->kind);
		note(p, field, "conflict, ", won);
		return pb_wins(c, s) ? 1 : -1;
	}
	note(p, field, "to ", pb_changed ? c->tr.ops->kind : "productboard");
	return pb_changed ? 1 : -1;
}

/* The tracker side of the status map for a Productboard status. */
static const cJSON *
map_to_tracker(const cJSON *map, const char *status_id)
{
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(map, "to_tracker"), status_id);
}

/* Fills add/remove label lists for a target status (managed labels only). */
static void
plan_labels(const cJSON *map, const struct tracker_issue *iss,
    const char *want, struct plan *p)
{
	const cJSON	*it;
	const char	*l;

	if (want != NULL && *want != '\0' && !tracker_issue_has_label(iss, want))
		snprintf(p->add_labels, sizeof(p->add_labels), "%s", want);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(map,
	    "to_tracker")) {
		l = cJSON_GetStringValue(cJSON_GetObjectItem(it, "label"));
		if (l == NULL || *l == '\0' || same(l, want) ||
		    !tracker_issue_has_label(iss, l) ||
		    strlen(p->remove_labels) + strlen(l) + 2 >=
		    sizeof(p->remove_labels))
			continue;
		if (p->remove_labels[0] != '\0')
			strcat(p->remove_labels, ",");
		strcat(p->remove_labels, l);
	}
}

/*
 * The Productboard status for the issue's state: the map names the state
 * itself, or its group (Jira's status category), or its class.
 */
static const char *
map_to_productboard(const cJSON *map, const struct tracker_issue *i)
{
	const cJSON	*tp = cJSON_GetObjectItemCaseSensitive(map,
			    "to_productboard");
	const char	*key[3] = { i->state, i->state_group,
			    tracker_issue_class(i) };
	const char	*id = NULL;
	size_t		 k;

	for (k = 0; k < 3 && id == NULL; k++)
		if (key[k] != NULL)
			id = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(tp, key[k]));
	return id;
}

/* Status ⇄ state: the one field whose two sides have different shapes. */
static void
plan_status(const struct ctx *c, const struct store_link *l,
    const struct sides *s, const cJSON *map, struct plan *p)
{
	const cJSON	*m = map_to_tracker(map, s->f.status_id);
	const char	*want_state = cJSON_GetStringValue(
			    cJSON_GetObjectItem(m, "state"));
	const char	*want_label = cJSON_GetStringValue(
			    cJSON_GetObjectItem(m, "label"));
	const char	*pb_for_state = map_to_productboard(map, &s->i);
	int		 pbc = !same(s->f.status_id, l->snap_status);
	int		 trc = !same(s->i.state, l->snap_state);
	/* The issue is where the status wants it (a class by any state). */
	int		 tr_ok = want_state == NULL ||
			    same(want_state, s->i.state) ||
			    same(want_state, tracker_issue_class(&s->i));
	/* The status is the one the issue's state maps to. */
	int		 pb_ok = pb_for_state == NULL ||
			    same(pb_for_state, s->f.status_id);
	int		 d;

	/*
	 * Agreement looks the way the change went: a workflow can move an
	 * issue between two states of one class ("In Progress", "In
	 * Review") that map to different statuses.
	 */
	d = decide(c, s, p, "status", pbc, trc, trc && !pbc ? pb_ok :
	    pbc && !trc ? tr_ok : tr_ok || pb_ok);
	if (d == 0 && pbc && m != NULL)
		plan_labels(map, &s->i, want_label, p);
	if (d == 1 && m != NULL) {
		/* The map dies with this sync's parse: keep a copy. */
		if (!tr_ok && snprintf(p->state, sizeof(p->state), "%s",
		    want_state) < (int)sizeof(p->state))
			p->tr_state = p->state;
		plan_labels(map, &s->i, want_label, p);
	} else if (d == -1 && pb_for_state != NULL &&
	    !same(pb_for_state, s->f.status_id)) {
		/* The map dies with this sync's parse: keep a copy. */
		snprintf(p->status_id, sizeof(p->status_id), "%s", pb_for_state);
		p->pb_status = p->status_id;
		/* The issue's scoped label follows the status it chose. */
		m = map_to_tracker(map, pb_for_state);
		plan_labels(map, &s->i, cJSON_GetStringValue(
		    cJSON_GetObjectItem(m, "label")), p);
	}
}

static void
plan_fields(const struct ctx *c, const struct store_link *l,
    const struct sides *s, struct plan *p)
{
	cJSON	*map = cJSON_Parse(c->in.status_map);
	char	*snap_tr = md_norm(l->snap_tracker_desc ? l->snap_tracker_desc : "",
		    l->snap_tracker_desc ? strlen(l->snap_tracker_desc) : 0);
	/* The tracker holds a name cut to its titles' length. */
	char	*want = tracker_title_cut(c->tr.ops, s->f.name);
	char	*was = tracker_title_cut(c->tr.ops, l->snap_name != NULL ?
		    l->snap_name : "");
	int	 d;

	d = decide(c, s, p, "name", !same(s->f.name, l->snap_name),
	    !same(s->i.title, was), same(want, s->i.title));
	free(want);
	free(was);
	if (d == 1)
		p->tr_title = s->f.name;
	else if (d == -1)
		p->pb_name = s->i.title;
	d = decide(c, s, p, "description",
	    !same(s->f.description, l->snap_pb_desc),
	    !same(s->tr_desc, snap_tr), same(s->pb_as_md, s->tr_desc) ||
	    same(s->tr_as_html, s->f.description));
	/*
	 * A description longer than the other side takes is not copied (a
	 * write would fail for good): the sync log says so, and the next
	 * edit that fits goes through.  The footer needs room in the tracker.
	 */
	if (d == 1 && util_utf8_chars(s->pb_as_md) + MARKER_MAX >
	    c->tr.ops->max_description)
		note(p, "description", "not copied, too long for ",
		    c->tr.ops->kind);
	else if (d == 1)
		p->tr_desc = s->pb_as_md;
	else if (d == -1 && util_utf8_chars(s->tr_as_html) >
	    PB_MAX_DESCRIPTION)
		note(p, "description", "not copied, too long for ",
		    "productboard");
	else if (d == -1)
		p->pb_desc = s->tr_as_html;
	/* A linked issue gets the footer push gives the issues it makes. */
	if (p->first && !s->footed && p->tr_desc == NULL &&
	    util_utf8_chars(s->tr_desc) + MARKER_MAX <=
	    c->tr.ops->max_description) {
		p->tr_desc = s->tr_desc;
		note(p, "marker", "added to", " the issue");
	}
	plan_status(c, l, s, map, p);
	free(snap_tr);
	cJSON_Delete(map);
}

/* The issue's description as the person wrote it: no footer, no end. */
static char *
own_text(const struct ctx *c, const struct tracker_issue *i)
{
	char	*cut = tracker_footer_cut(&c->tr, i->description, NULL), *s;

	if (cut == NULL)
		return NULL;
	s = md_norm(cut, strlen(cut));
	free(cut);
	return s;
}

/* Fetches both sides: HTTP_OK, or the failure with *gone set for a 404. */
static enum http_err
fetch(struct ctx *c, const struct store_link *l, struct sides *s,
    const char **gone, const struct upstream **side)
{
	enum http_err	 e;

	memset(s, 0, sizeof(*s));
	*gone = NULL;
	*side = &c->pb.up;
	if ((e = pb_feature_get(&c->pb, l->feature_id, &s->f)) != HTTP_OK) {
		if (e == HTTP_ECLIENT && c->pb.up.status == 404)
			*gone = "feature";
		return e;
	}
	*side = &c->tr.up;
	e = c->tr.ops->get(&c->tr, l->issue_ref, &s->i);
	if (e != HTTP_OK) {
		if (e == HTTP_ECLIENT && c->tr.up.status == 404)
			*gone = "issue";
		return e;
	}
	s->tr_desc = own_text(c, &s->i);
	free(tracker_footer_cut(&c->tr, s->i.description, &s->footed));
	s->pb_as_md = convert(c->tr.ops->from_html, s->f.description);
	s->tr_as_html = convert(c->tr.ops->to_html, s->tr_desc);
	if (s->tr_desc == NULL || s->pb_as_md == NULL || s->tr_as_html == NULL)
		return HTTP_EINTERNAL;
	return HTTP_OK;
}

/* Replaces *slot with a copy of v: 0 or -1. */
static int
take(char **slot, const char *v)
{
	char	*d;

	if (v == NULL || (d = strdup(v)) == NULL)
		return -1;
	free(*slot);
	*slot = d;
	return 0;
}

static void
swap(char **a, char **b)
{
	char	*t = *a;

	*a = *b;
	*b = t;
}

/*
 * A title or state read back unlike what was written was changed after
 * the write: the snapshot takes what was written, so that the next round
 * sees the person's change as one.  (A description read back is the
 * tracker's own rendering of what was written: it cannot be told apart.)
 */
static enum http_err
as_written(struct ctx *c, struct sides *s, const struct tracker_edit *ed)
{
	char	*title;
	int	 rc = 0;

	if (ed->title != NULL) {
		if ((title = tracker_title_cut(c->tr.ops, ed->title)) == NULL)
			return HTTP_EINTERNAL;
		if (!same(s->i.title, title))
			rc = take(&s->i.title, title);
		free(title);
	}
	if (rc == 0 && ed->state != NULL && !same(s->i.state, ed->state) &&
	    !same(tracker_issue_class(&s->i), ed->state)) {
		rc = take(&s->i.state, ed->state);
		free(s->i.state_group);
		free(s->i.state_class);
		s->i.state_group = s->i.state_class = NULL;
	}
	return rc == 0 ? HTTP_OK : HTTP_EINTERNAL;
}

/* Writes the tracker per the plan; the returned issue replaces s->i. */
static enum http_err
write_tracker(struct ctx *c, struct sides *s, const struct plan *p)
{
	struct tracker_edit ed;
	struct tracker_issue out;
	struct buf	 md;
	enum http_err	 e;

	memset(&ed, 0, sizeof(ed));
	ed.title = p->tr_title;
	ed.state = p->tr_state;
	ed.add_labels = p->add_labels[0] ? p->add_labels : NULL;
	ed.remove_labels = p->remove_labels[0] ? p->remove_labels : NULL;
	buf_init(&md, MAX_DOC);
	if (p->tr_desc != NULL) {
		/* Keep the footer: it finds the issue again after a crash. */
		if (buf_puts(&md, p->tr_desc) == -1 ||
		    c->tr.ops->footer_append(&md, s->f.id, s->f.name,
		    s->f.html_url) == -1) {
			buf_release(&md);
			return HTTP_EINTERNAL;
		}
		ed.description = buf_str(&md);
	}
	if (ed.title == NULL && ed.description == NULL &&
	    ed.state == NULL && ed.add_labels == NULL &&
	    ed.remove_labels == NULL) {
		buf_release(&md);
		return HTTP_OK;
	}
	e = c->tr.ops->edit(&c->tr, s->i.ref, &ed, &out);
	buf_release(&md);
	if (e != HTTP_OK)
		return e;
	tracker_issue_release(&s->prev);
	s->prev = s->i;
	s->i = out;
	/*
	 * What the round did not write stays as fetched: the issue a write
	 * answers with can hold a person's edit made since the fetch (Jira:
	 * between the transition and the PUT), which must reach the other
	 * side, not the snapshot.  (The snapshot's name is Productboard's.)
	 */
	if (ed.state == NULL) {
		swap(&s->i.state, &s->prev.state);
		swap(&s->i.state_group, &s->prev.state_group);
		swap(&s->i.state_class, &s->prev.state_class);
	}
	if (ed.description != NULL) {
		free(s->tr_desc);
		if ((s->tr_desc = own_text(c, &s->i)) == NULL)
			return HTTP_EINTERNAL;
	}
	return c->tr.ops->reads_back ? as_written(c, s, &ed) : HTTP_OK;
}

/* Writes Productboard per the plan and updates s->f to what was sent. */
static enum http_err
write_pb(struct ctx *c, struct sides *s, const struct plan *p)
{
	enum http_err	 e;
	char		*v;

	if (p->pb_name == NULL && p->pb_desc == NULL && p->pb_status == NULL)
		return HTTP_OK;
	e = pb_feature_patch(&c->pb, s->f.id, p->pb_name, p->pb_desc,
	    p->pb_status);
	if (e != HTTP_OK)
		return e;
	/* v2 answers with a reference only: keep what we sent. */
	if (p->pb_name != NULL && (v = strdup(p->pb_name)) != NULL) {
		free(s->f.name);
		s->f.name = v;
	}
	if (p->pb_desc != NULL && (v = strdup(p->pb_desc)) != NULL) {
		free(s->f.description);
		s->f.description = v;
	}
	if (p->pb_status != NULL && (v = strdup(p->pb_status)) != NULL) {
		free(s->f.status_id);
		s->f.status_id = v;
	}
	return HTTP_OK;
}

/* The feature or the issue is gone: unlink, reset the button. */
static void
drop_link(struct ctx *c, struct store_link *l, const char *what,
    const struct sides *s)
{
	cJSON	*conn = conn_simple("initial");

	if (strcmp(what, "issue") == 0 && c->in.pb_plugin_id != NULL)
		pb_connection_delete(&c->pb, c->in.pb_plugin_id, l->feature_id);
	cJSON_Delete(conn);
	store_link_delete(&c->app->store, l->id);
	ctx_log(c, "pbsync", strcmp(what, "issue") == 0 ? "issue deleted" :
	    "feature deleted", l->feature_id, l->issue_key, "info",
	    "link removed");
	tell_link(c, "feature.unlinked", "pbsync", l, NULL, NULL,
	    strcmp(what, "issue") == 0 ? "The issue was deleted in the "
	    "tracker." : "The feature was deleted in Productboard.");
}

/*
 * The events of a round, from the link as it was (l) and the sides as
 * they are now: a state or status that moved, and conflicts.
 */
static void
tell_round(struct ctx *c, const struct store_link *l, const struct sides *s,
    const struct plan *p)
{
	if (p->conflicts)
		tell_link(c, "sync.conflict", "pbsync", l, NULL, NULL, p->log);
	if (l->issue_state != NULL && !same(s->i.state, l->issue_state))
		tell_link(c, "issue.state_changed", p->tr_state != NULL ?
		    "pbsync" : NULL, l, l->issue_state, s->i.state, NULL);
	/* The status's name is known when a person set it in Productboard. */
	if (l->snap_status != NULL && !same(s->f.status_id, l->snap_status))
		tell_link(c, "feature.status_changed", p->pb_status != NULL ?
		    "pbsync" : NULL, l, NULL, p->pb_status != NULL ? NULL :
		    s->f.status_name, p->pb_status != NULL ? "Set by pbsync "
		    "after the issue's state changed." : NULL);
}

/* Applies the deletion policy to the issue of a deleted feature. */
static enum http_err
delete_policy(struct ctx *c, struct store_link *l)
{
	struct tracker_edit ed;
	struct tracker_issue out;
	enum http_err	 e;

	memset(&ed, 0, sizeof(ed));
	if (strcmp(c->in.delete_policy, "close") == 0)
		ed.state = "closed";
	else if (strcmp(c->in.delete_policy, "label") == 0)
		ed.add_labels = "productboard::deleted";
	else
		return HTTP_OK;
	e = c->tr.ops->edit(&c->tr, l->issue_ref, &ed, &out);
	if (e == HTTP_OK)
		tracker_issue_release(&out);
	if (e == HTTP_ECLIENT && c->tr.up.status == 404)
		return HTTP_OK;
	return e;
}

/* Saves the agreed values as the new snapshot. */
static int
save(struct ctx *c, struct store_link *l, const struct sides *s)
{
	struct store_link n = *l;

	n.issue_title = s->i.title;
	n.issue_state = s->i.state;
	n.issue_url = s->i.web_url;
	n.snap_name = s->f.name;
	n.snap_pb_desc = s->f.description;
	n.snap_tracker_desc = s->tr_desc;
	n.snap_status = s->f.status_id;
	n.snap_state = s->i.state;
	return store_link_set_snapshot(&c->app->store, &n);
}

/*
 * 1 if issue i, read again, is not the one was fetched: a later
 * updated_at, or other values of the fields a round writes.  GitHub's
 * updated_at has whole seconds: an edit in the second of the last one
 * leaves it as it was.
 */
static int
issue_moved(const struct tracker_issue *i, const struct tracker_issue *was)
{
	int	 fields = !same(i->title, was->title) ||
		    !same(i->description, was->description) ||
		    !same(i->state, was->state);

	return i->updated_at != was->updated_at || fields;
}

/*
 * Neither API has conditional writes, so re-read the side about to be
 * written and give up this round when it moved since the fetch: an edit
 * made meanwhile must not be overwritten by a decision taken without it.
 */
static int
moved(struct ctx *c, const struct sides *s, int tracker)
{
	struct tracker_issue i;
	struct pb_feature f;
	int		 m = 1;

	if (tracker) {
		if (c->tr.ops->get(&c->tr, s->i.ref, &i) ==
		    HTTP_OK) {
			m = issue_moved(&i, &s->i);
			tracker_issue_release(&i);
		}
	} else if (pb_feature_get(&c->pb, s->f.id, &f) == HTTP_OK) {
		m = f.updated_at != s->f.updated_at;
		pb_feature_release(&f);
	}
	return m;
}

static int
tr_planned(const struct plan *p)
{
	return p->tr_title != NULL || p->tr_desc != NULL ||
	    p->tr_state != NULL || p->add_labels[0] != '\0' ||
	    p->remove_labels[0] != '\0';
}

/*
 * Before a round writes, records on the link what its snapshot will be
 * for each field it writes, with the side written: a round cut short
 * after a write took effect (a crash, a lost answer) would otherwise
 * leave pbsync's own write looking like a person's edit to the next one.
 * 0, or -1 when it cannot be recorded (then nothing is written).
 */
static int
note_pending(struct ctx *c, const struct store_link *l, const struct sides *s,
    const struct plan *p)
{
	cJSON	*o, *f;
	char	*text, *md = NULL;
	int	 rc = -1;

	if (!tr_planned(p) && p->pb_name == NULL && p->pb_desc == NULL &&
	    p->pb_status == NULL)
		return 0;
	if ((o = cJSON_CreateObject()) == NULL)
		return -1;
	if (p->tr_title != NULL || p->pb_name != NULL) {
		f = cJSON_AddObjectToObject(o, "name");
		cJSON_AddStringToObject(f, "on", p->tr_title != NULL ?
		    "tracker" : "productboard");
		cJSON_AddStringToObject(f, "v", p->tr_title != NULL ?
		    p->tr_title : p->pb_name);
	}
	if (p->tr_desc != NULL || p->pb_desc != NULL) {
		/* As fetch() will read it back: normalised, no footer. */
		if (p->tr_desc != NULL &&
		    (md = md_norm(p->tr_desc, strlen(p->tr_desc))) == NULL)
			goto out;
		f = cJSON_AddObjectToObject(o, "desc");
		cJSON_AddStringToObject(f, "on", md != NULL ? "tracker" :
		    "productboard");
		cJSON_AddStringToObject(f, "pb", md != NULL ?
		    s->f.description : p->pb_desc);
		cJSON_AddStringToObject(f, "tr", md != NULL ? md : s->tr_desc);
	}
	if (p->tr_state != NULL || p->pb_status != NULL) {
		f = cJSON_AddObjectToObject(o, "status");
		cJSON_AddStringToObject(f, "on", p->tr_state != NULL ?
		    "tracker" : "productboard");
		cJSON_AddStringToObject(f, "status", p->pb_status != NULL ?
		    p->pb_status : s->f.status_id);
		cJSON_AddStringToObject(f, "state", p->tr_state != NULL ?
		    p->tr_state : s->i.state);
	}
	/* Labels alone change no field of the snapshot: nothing to record. */
	if (cJSON_GetArraySize(o) == 0)
		rc = 0;
	else if ((text = json_print(o)) != NULL) {
		rc = store_link_set_pending(&c->app->store, l, text);
		cJSON_free(text);
	}
out:
	free(md);
	cJSON_Delete(o);
	return rc;
}

/*
 * A round before this one was cut short after recording its writes: each
 * field whose written side holds the value written was pbsync's, so it
 * counts as agreed in the snapshot this round starts from.
 */
/* 1 if pending field f was written on the tracker, 0 on Productboard, -1. */
static int
written_on_tracker(const cJSON *f)
{
	const char	*on = json_str(f, "on", 16);

	return on == NULL ? -1 : strcmp(on, "tracker") == 0 ? 1 :
	    strcmp(on, "productboard") == 0 ? 0 : -1;
}

static void
adopt_pending(struct store_link *l, const struct sides *s)
{
	cJSON		*o;
	const cJSON	*f;
	const char	*v, *pb, *tr;
	int		 on_tr;

	if (l->pending == NULL ||
	    (o = json_parse(l->pending, strlen(l->pending))) == NULL)
		return;
	f = json_get(o, "name");
	v = json_str_or_empty(f, "v", MAX_DOC);
	if ((on_tr = written_on_tracker(f)) != -1 && v != NULL &&
	    same(on_tr ? s->i.title : s->f.name, v))
		take(&l->snap_name, v);
	f = json_get(o, "desc");
	pb = json_str_or_empty(f, "pb", MAX_DOC);
	tr = json_str_or_empty(f, "tr", MAX_DOC);
	if ((on_tr = written_on_tracker(f)) != -1 && pb != NULL && tr != NULL &&
	    same(on_tr ? s->tr_desc : s->f.description, on_tr ? tr : pb)) {
		take(&l->snap_pb_desc, pb);
		take(&l->snap_tracker_desc, tr);
	}
	f = json_get(o, "status");
	v = json_str(f, "status", 80);
	tr = json_str(f, "state", 255);
	/* A class written ("closed") is met by the state the issue took. */
	if ((on_tr = written_on_tracker(f)) != -1 && v != NULL && tr != NULL &&
	    (on_tr ? same(s->i.state, tr) || same(tracker_issue_class(&s->i),
	    tr) : same(s->f.status_id, v))) {
		take(&l->snap_status, v);
		take(&l->snap_state, on_tr ? s->i.state : tr);
	}
	cJSON_Delete(o);
}

/*
 * The tracker took the plan's writes but Productboard moved meanwhile:
 * what was just written is agreed, so the next round must not take
 * pbsync's own write for a person's edit.  Saves those fields of the
 * snapshot and reloads the link: 0 or -1.
 */
static int
save_written(struct ctx *c, struct store_link *l, const struct sides *s,
    const struct plan *p)
{
	struct store_link n = *l, fresh;
	int	 rc;

	if (p->tr_title != NULL)
		n.snap_name = s->i.title;	/* as written */
	if (p->tr_desc != NULL) {
		n.snap_pb_desc = s->f.description;
		n.snap_tracker_desc = s->tr_desc;
	}
	if (p->tr_state != NULL) {
		n.snap_status = s->f.status_id;
		n.snap_state = s->i.state;
	}
	if ((rc = store_link_set_snapshot(&c->app->store, &n)) != 0)
		return rc;
	if (store_link_get_by_id(&c->app->store, l->id, &fresh) != 0)
		return -1;
	fresh.lock_until = l->lock_until;	/* the round's, not read */
	store_link_release(l);
	*l = fresh;
	return 0;
}


/*
 * A write of a round on side: the time from the arrival of the delivery
 * behind the job (none for reconcile and push jobs) goes to the latency
 * histogram.
 */
static void
observe(const struct ctx *c, const char *side)
{
	if (c->arrived_at > 0)
		metrics_sync_latency(side, util_now() - c->arrived_at);
}

/* One round of fetch, plan, write, save: 1 when it must run again. */
static int
sync_once(struct ctx *c, struct store_link *l, struct queue_result *r)
{
	struct sides	 s;
	struct plan	 p;
	const char	*gone;
	const struct upstream *side;
	enum http_err	 e;
	int		 state_changed, again = 0;
	cJSON		*conn;

	memset(&p, 0, sizeof(p));
	if ((e = fetch(c, l, &s, &gone, &side)) != HTTP_OK) {
		if (gone != NULL && strcmp(gone, "feature") == 0 &&
		    (e = delete_policy(c, l)) != HTTP_OK)
			queue_fail(r, e, c->tr.up.retry_after, c->tr.up.err);
		else if (gone != NULL)
			drop_link(c, l, gone, &s);
		else
			queue_fail(r, e, side->retry_after, side->err);
		goto out;
	}
	state_changed = !same(s.i.state, l->issue_state) ||
	    !same(s.i.title, l->issue_title);
	/* A link of an existing issue has no snapshot until this round. */
	if ((p.first = l->snap_state == NULL))
		snprintf(p.log, sizeof(p.log), "linked: ");
	adopt_pending(l, &s);
	plan_fields(c, l, &s, &p);
	if (tr_planned(&p) && moved(c, &s, 1)) {
		again = 1;
		goto out;
	}
	if (note_pending(c, l, &s, &p) != 0) {
		queue_fail(r, HTTP_EINTERNAL, -1, "cannot record the writes");
		goto out;
	}
	if ((e = write_tracker(c, &s, &p)) != HTTP_OK) {
		queue_fail(r, e, c->tr.up.retry_after, c->tr.up.err);
		goto out;
	}
	if (tr_planned(&p))
		observe(c, "tracker");
	if (tr_planned(&p) && c->tr.adapted[0] != '\0') {
		char	 what[200];

		/* "text adapted for jira: summary cut to 255 characters" */
		snprintf(what, sizeof(what), "%s: %s", c->tr.ops->kind,
		    c->tr.adapted);
		note(&p, "text", "adapted for ", what);
	}
	if ((p.pb_name != NULL || p.pb_desc != NULL || p.pb_status != NULL) &&
	    moved(c, &s, 0)) {
		if (tr_planned(&p) && save_written(c, l, &s, &p) != 0)
			queue_fail(r, HTTP_EINTERNAL, -1, "cannot save the "
			    "snapshot");
		else
			again = 1;
		goto out;
	}
	if ((e = write_pb(c, &s, &p)) != HTTP_OK) {
		queue_fail(r, e, c->pb.up.retry_after, c->pb.up.err);
		goto out;
	}
	if (p.pb_name != NULL || p.pb_desc != NULL || p.pb_status != NULL)
		observe(c, "productboard");
	if (save(c, l, &s) != 0) {
		queue_fail(r, HTTP_EINTERNAL, -1, "cannot save the snapshot");
		goto out;
	}
	if (p.log[0] != '\0') {
		ctx_log(c, "pbsync", "sync", l->feature_id, s.i.key,
		    p.conflicts ? "conflict" : "ok", p.log);
		log_info("integration %s: feature %s synced: %s", c->in.id,
		    l->feature_id, p.log);
	}
	if (p.conflicts)
		metrics_conflict();
	tell_round(c, l, &s, &p);
	state_changed |= p.tr_state != NULL || p.tr_title != NULL;
	if (state_changed && (conn = conn_from_issue(&s.i)) != NULL) {
		if ((e = push_put_connection(c, l->feature_id, conn)) != HTTP_OK
		    && http_retryable(e))
			queue_fail(r, e, c->pb.up.retry_after, c->pb.up.err);
		cJSON_Delete(conn);
	}
out:
	sides_release(&s);
	return again;
}

static void
sync_link(struct ctx *c, struct store_link *l, struct queue_result *r)
{
	int	 round;

	for (round = 0; round < 3; round++)
		if (!sync_once(c, l, r))
			return;
	r->status = QUEUE_RETRY;
	r->retry_in = 1;
	snprintf(r->error, sizeof(r->error), "edits keep arriving");
}

/* Runs fn on the link under its sync lock; busy → retry shortly. */
static void
locked(struct ctx *c, struct store_link *l, struct queue_result *r,
    void (*fn)(struct ctx *, struct store_link *, struct queue_result *))
{
	struct store_link fresh;
	double	 now = util_now();
	/*
	 * Held as long as a job lease: a killed worker's lock expires too.
	 * Its time is the round's token: the round's writes and its unlock
	 * take effect only while the lock is still this one.
	 */
	double	 until = now + (double)c->app->conf.job_lease_s;
	int	 rc = store_link_lock(&c->app->store, l->id, now, until);

	if (rc == STORE_EXISTS) {
		r->status = QUEUE_WAIT;
		r->retry_in = 1;
		snprintf(r->error, sizeof(r->error), "link busy");
		return;
	}
	if (rc != 0) {
		queue_fail(r, HTTP_EINTERNAL, -1, "store error");
		return;
	}
	/*
	 * The link again, now that no other round can change it: the copy
	 * read before the lock may predate a round that just ended, and a
	 * merge against its stale snapshot takes a side's own new value for
	 * the other side's change (model/README.md, "link read").
	 */
	if ((rc = store_link_get_by_id(&c->app->store, l->id, &fresh)) == 0) {
		store_link_release(l);
		*l = fresh;
		l->lock_until = until;
		fn(c, l, r);
	} else if (rc != STORE_NOTFOUND)
		queue_fail(r, HTTP_EINTERNAL, -1, "store error");
	store_link_unlock(&c->app->store, l->id, until);
}

static void
feature_deleted(struct ctx *c, struct store_link *l, struct queue_result *r)
{
	struct pb_feature f;
	enum http_err	 e;

	/* Deliveries can be stale: only a 404 proves the deletion. */
	e = pb_feature_get(&c->pb, l->feature_id, &f);
	if (e == HTTP_OK) {
		pb_feature_release(&f);
		sync_link(c, l, r);
		return;
	}
	if (!(e == HTTP_ECLIENT && c->pb.up.status == 404)) {
		queue_fail(r, e, c->pb.up.retry_after, c->pb.up.err);
		return;
	}
	if ((e = delete_policy(c, l)) != HTTP_OK) {
		queue_fail(r, e, c->tr.up.retry_after, c->tr.up.err);
		return;
	}
	drop_link(c, l, "feature", NULL);
}

/*
 * Follows an issue moved to the issue of id moved_to, as the tracker names
 * it: only there, and only if it is still pbsync's (its marker, its
 * author).  An issue anyone can plant with a copied marker is never taken;
 * when the issue named is not found so, the link goes, with a log line.
 */
static void
follow_move(struct ctx *c, struct store_link *l, const char *moved_to,
    struct queue_result *r)
{
	struct tracker_issue iss;
	char		 mark[128], why[200];
	char		*id, *ref, *key;
	enum http_err	 e;

	marker_name(l->feature_id, mark, sizeof(mark));
	e = c->tr.ops->find_marker(&c->tr, mark, moved_to, &iss);
	if (e != HTTP_OK) {
		queue_fail(r, e, c->tr.up.retry_after, c->tr.up.err);
		return;
	}
	if (iss.id == NULL) {
		snprintf(why, sizeof(why), "the issue moved to issue id %s, "
		    "which is not pbsync's (no marker, or another author): "
		    "link removed", moved_to);
		ctx_log(c, "pbsync", "issue moved", l->feature_id,
		    l->issue_key, "info", why);
	}
	if (iss.id != NULL && !same(iss.id, l->issue_id) &&
	    iss.moved_to == NULL) {
		/* The link takes the issue's names; iss gives them up. */
		id = l->issue_id, ref = l->issue_ref, key = l->issue_key;
		l->issue_id = iss.id, l->issue_ref = iss.ref;
		l->issue_key = iss.key;
		iss.id = id, iss.ref = ref, iss.key = key;
		ctx_log(c, "pbsync", "issue moved", l->feature_id, l->issue_key,
		    "info", iss.web_url);
		store_link_set_snapshot(&c->app->store, l);
		sync_link(c, l, r);
	} else
		drop_link(c, l, "issue", NULL);
	tracker_issue_release(&iss);
}

static void
issue_event(struct ctx *c, struct store_link *l, struct queue_result *r)
{
	struct tracker_issue iss;
	enum http_err	 e;

	e = c->tr.ops->get(&c->tr, l->issue_ref, &iss);
	if (e == HTTP_OK && iss.moved_to != NULL) {
		follow_move(c, l, iss.moved_to, r);
		tracker_issue_release(&iss);
		return;
	}
	if (e == HTTP_OK)
		tracker_issue_release(&iss);
	sync_link(c, l, r);
}

/* The per-link path: a read of each issue, then its sync. */
static void
each_link(struct ctx *c, const long long *ids, size_t n,
    struct queue_result *r)
{
	struct store_link l;
	size_t		 i;

	for (i = 0; i < n && r->status == QUEUE_DONE; i++) {
		if (store_link_get_by_id(&c->app->store, ids[i], &l) != 0)
			continue;
		locked(c, &l, r, issue_event);
		store_link_release(&l);
	}
}

/*
 * 1 if both sides of the link are as its snapshot left them, so that a
 * round would plan nothing and save the snapshot it has.
 */
static int
unchanged(const struct ctx *c, const struct store_link *l,
    const struct pb_feature *f, const struct tracker_issue *i)
{
	char	*was, *text, *snap;
	int	 rc;

	if (f->id == NULL || i->id == NULL || i->moved_to != NULL ||
	    l->pending != NULL || !same(f->name, l->snap_name) ||
	    !same(f->description, l->snap_pb_desc) ||
	    !same(f->status_id, l->snap_status) ||
	    !same(i->state, l->snap_state) ||
	    !same(i->state, l->issue_state) ||
	    !same(i->title, l->issue_title) || !same(i->web_url, l->issue_url))
		return 0;
	was = tracker_title_cut(c->tr.ops, l->snap_name);
	text = own_text(c, i);
	snap = md_norm(l->snap_tracker_desc != NULL ? l->snap_tracker_desc :
	    "", l->snap_tracker_desc != NULL ? strlen(l->snap_tracker_desc) :
	    0);
	rc = was != NULL && text != NULL && snap != NULL &&
	    same(i->title, was) && same(text, snap);
	free(was);
	free(text);
	free(snap);
	return rc;
}

/* A page of links with both sides read by one scan each. */
struct scanned {
	struct store_link	 l[TRACKER_SCAN_MAX];
	const char		*refs[TRACKER_SCAN_MAX];
	const char		*fids[TRACKER_SCAN_MAX];
	struct tracker_issue	 i[TRACKER_SCAN_MAX];
	struct pb_feature	 f[TRACKER_SCAN_MAX];
	size_t			 n;
};

/*
 * Reads a page of links by one scan of each side: a link whose sides
 * are as its snapshot left them costs nothing more; any other (changed,
 * moved, deleted, out of the scan's reach) takes the per-link path.
 */
static void
scan_links(struct ctx *c, const long long *ids, size_t n,
    struct queue_result *r)
{
	struct scanned	*s;
	enum http_err	 e;
	size_t		 k;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		queue_fail(r, HTTP_EINTERNAL, -1, "out of memory");
		return;
	}
	for (k = 0; k < n && k < TRACKER_SCAN_MAX; k++)
		if (store_link_get_by_id(&c->app->store, ids[k],
		    &s->l[s->n]) == 0) {
			s->refs[s->n] = s->l[s->n].issue_ref;
			s->fids[s->n] = s->l[s->n].feature_id;
			s->n++;
		}
	if ((e = c->tr.ops->scan(&c->tr, s->refs, s->n, s->i)) != HTTP_OK)
		queue_fail(r, e, c->tr.up.retry_after, c->tr.up.err);
	else if ((e = pb_feature_scan(&c->pb, s->fids, s->n, s->f)) != HTTP_OK)
		queue_fail(r, e, c->pb.up.retry_after, c->pb.up.err);
	for (k = 0; k < s->n; k++) {
		if (r->status == QUEUE_DONE &&
		    !unchanged(c, &s->l[k], &s->f[k], &s->i[k]))
			locked(c, &s->l[k], r, issue_event);
		store_link_release(&s->l[k]);
		tracker_issue_release(&s->i[k]);
		pb_feature_release(&s->f[k]);
	}
	free(s);
}

/*
 * Re-checks every link of the integration (changes whose deliveries were
 * lost, deleted or moved issues), in pages where the tracker scans.
 */
static void
reconcile(struct ctx *c, struct queue_result *r)
{
	long long	 ids[TRACKER_SCAN_MAX], after = 0;
	size_t		 n;

	do {
		if (store_link_ids(&c->app->store, c->in.id, after,
		    TRACKER_SCAN_MAX, ids, &n) == -1) {
			queue_fail(r, HTTP_EINTERNAL, -1, "store error");
			return;
		}
		if (n > 0)
			after = ids[n - 1];
		if (c->tr.ops->scan != NULL)
			scan_links(c, ids, n, r);
		else
			each_link(c, ids, n, r);
	} while (n == TRACKER_SCAN_MAX && r->status == QUEUE_DONE);
}

void
sync_job(struct ctx *c, const struct store_job *j, struct queue_result *r)
{
	struct store_link l;
	int		 rc;

	if (strcmp(j->kind, "reconcile") == 0) {
		reconcile(c, r);
		return;
	}
	/* A delivery's job: it was queued when the (first) delivery came. */
	c->arrived_at = strcmp(j->kind, "sync") == 0 ||
	    strcmp(j->kind, "issue_event") == 0 ? j->created_at : 0;
	if (strcmp(j->kind, "issue_event") == 0)
		rc = store_link_get_by_issue(&c->app->store, c->in.id, j->key,
		    &l);
	else
		rc = store_link_get(&c->app->store, c->in.id, j->key, &l);
	if (rc == STORE_NOTFOUND)
		return;		/* not linked (or no longer): nothing to do */
	if (rc != 0) {
		queue_fail(r, HTTP_EINTERNAL, -1, "store error");
		return;
	}
	if (strcmp(l.state, "linked") != 0)
		;		/* the push job finishes it first */
	else if (strcmp(j->kind, "feature_deleted") == 0)
		locked(c, &l, r, feature_deleted);
	else if (strcmp(j->kind, "issue_event") == 0)
		locked(c, &l, r, issue_event);
	else
		locked(c, &l, r, sync_link);
	store_link_release(&l);
}

/* 1 for a status name that means the work is finished. */
static int
done_name(const char *n)
{
	static const char *w[] = { "done", "released", "shipped", "complete",
	    "completed", "closed", "finished", "launched" };
	size_t	 i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strcasecmp(n, w[i]) == 0)
			return 1;
	return 0;
}

char *
sync_default_status_map(const cJSON *statuses)
{
	cJSON		*map = cJSON_CreateObject(), *tg, *tp, *m;
	const cJSON	*it;
	const char	*id, *name, *open = NULL, *closed = NULL;
	char		*out;

	if (map == NULL)
		return NULL;
	tg = cJSON_AddObjectToObject(map, "to_tracker");
	tp = cJSON_AddObjectToObject(map, "to_productboard");
	cJSON_ArrayForEach(it, statuses) {
		id = cJSON_GetStringValue(cJSON_GetObjectItem(it, "id"));
		name = cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"));
		if (id == NULL || name == NULL)
			continue;
		m = cJSON_AddObjectToObject(tg, id);
		cJSON_AddStringToObject(m, "state", done_name(name) ?
		    "closed" : "opened");
		if (done_name(name) && closed == NULL)
			closed = id;
		if (!done_name(name) && (open == NULL ||
		    strcasecmp(name, "in progress") == 0))
			open = id;
	}
	if (open != NULL)
		cJSON_AddStringToObject(tp, "opened", open);
	if (closed != NULL)
		cJSON_AddStringToObject(tp, "closed", closed);
	out = cJSON_PrintUnformatted(map);
	cJSON_Delete(map);
	return out;
}
