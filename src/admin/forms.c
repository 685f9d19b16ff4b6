/*
 * admin_form: the create and edit forms, with the status mapping.
 *
 * The mapping needs Productboard's statuses, which need the token, so the
 * create form has a "Load statuses" button: it validates the token with
 * that read call and shows the form again with the mapping.  So that the
 * admin need not type the tokens twice, the page then carries them sealed
 * (crypto_seal, bound to this session): never in clear.  When creating
 * fails, the form comes back with what was typed except the tokens.
 *
 * A tracker with workflows (tracker_ops.statuses) maps each Productboard
 * status to one of its statuses, read with the tracker's token at the
 * same step, and its statuses and their categories back; the page carries
 * that list to show the form again, and integ checks the map against the
 * tracker itself.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/forms.h"
#include "admin/hooks.h"
#include "admin/view.h"
#include "base/json.h"
#include "base/log.h"
#include "flows/ctx.h"
#include "flows/integ.h"
#include "flows/sync.h"
#include "trackers/tracker.h"
#include "upstream/pb.h"

#define MAX_STATUSES	50	/* Productboard's */
#define MAX_STATES	40	/* of a tracker's workflow */
#define MAX_BACK	(MAX_STATES + 4)	/* its statuses, categories */
#define MAX_OPTIONS	4	/* a backend's settings the form can hold */
#define NBASE		(sizeof(base) / sizeof(base[0]))
#define NROWS		(4 * MAX_STATUSES + MAX_BACK)

struct strow {
	char	 id[65];
	char	 name[1024];
	char	 state[256];		/* a class, or a workflow's status */
	char	 label[256];
};

struct mapping {
	size_t		 n;
	struct strow	 st[MAX_STATUSES];
	/* The tracker's statuses (tracker_ops.statuses), or NULL. */
	cJSON		*states;
	/* The Productboard status for each of back_key()'s, or "". */
	char		 back[MAX_BACK][65];
	char		 to_open[65];
	char		 to_closed[65];
};

/* What the form shows besides tokens and mapping. */
struct fvals {
	const char	*name;
	const char	*label;
	const char	*kind;		/* the tracker's */
	const char	*url;
	const char	*project;
	const char	*opt[MAX_OPTIONS];	/* tracker_ops.options, in order */
	const char	*conflict;
	const char	*delete;
	int		 by_hand;	/* the tracker's webhook set up by hand */
};

static const struct form_field base[] = {
	{ "csrf", FORM_LINE, 64, 0, 0 },
	{ "op", FORM_LINE, 16, 0, 0 },
	{ "name", FORM_LINE, 800, 0, 0 },
	{ "column_label", FORM_LINE, 80, 0, 0 },
	{ "pb_token", FORM_SECRET, 4096, 0, 0 },
	{ "tracker_kind", FORM_LINE, 20, 0, 0 },
	{ "tracker_url", FORM_LINE, 1024, 0, 0 },
	{ "tracker_token", FORM_SECRET, 1024, 0, 0 },
	{ "tracker_project", FORM_LINE, 255, 0, 0 },
	{ "tracker_opt0", FORM_LINE, TRACKER_MAX_OPTION, 0, 0 },
	{ "tracker_opt1", FORM_LINE, TRACKER_MAX_OPTION, 0, 0 },
	{ "tracker_opt2", FORM_LINE, TRACKER_MAX_OPTION, 0, 0 },
	{ "tracker_opt3", FORM_LINE, TRACKER_MAX_OPTION, 0, 0 },
	{ "conflict_policy", FORM_LINE, 16, 0, 0 },
	{ "delete_policy", FORM_LINE, 16, 0, 0 },
	{ "pb_token_sealed", FORM_LINE, 8192, 0, 0 },
	{ "tracker_token_sealed", FORM_LINE, 4096, 0, 0 },
	{ "statuses", FORM_INT, 0, 0, MAX_STATUSES },
	{ "to_pb_opened", FORM_LINE, 64, 0, 0 },
	{ "to_pb_closed", FORM_LINE, 64, 0, 0 },
	{ "tracker_states", FORM_LINE, 24000, 0, 0 },
	{ "hook_by_hand", FORM_LINE, 4, 0, 0 },
};

static const struct {
	const char	*field;
	const char	*label;
} field_labels[] = {
	{ "name", "Name" }, { "column_label", "Column label" },
	{ "pb_token", "Productboard API token" },
	{ "tracker_kind", "Tracker" }, { "tracker_url", "Tracker URL" },
	{ "tracker_token", "Tracker access token" },
	{ "tracker_project", "Tracker project" },
	{ "tracker_opt0", "A tracker setting" },
	{ "tracker_opt1", "A tracker setting" },
	{ "tracker_opt2", "A tracker setting" },
	{ "tracker_opt3", "A tracker setting" },
	{ "conflict_policy", "Conflicts" }, { "delete_policy", "Deleted features" },
	{ "to_pb_opened", "Status for reopened issues" },
	{ "to_pb_closed", "Status for closed issues" },
};

static struct form_field fields[NBASE + NROWS];
static char		 names[NROWS][32];
static size_t		 nfields;

/* The field table: the base fields, four per status row, the way back. */
static void
build_fields(void)
{
	static const char *suffix[] = { "id", "name", "state", "label" };
	static const size_t max[] = { 64, 1000, 255, 255 };
	size_t	 i, k, n = 0;

	if (nfields > 0)
		return;
	memcpy(fields, base, sizeof(base));
	for (i = 0; i < MAX_STATUSES; i++)
		for (k = 0; k < 4; k++, n++) {
			snprintf(names[n], sizeof(names[n]), "st%zu_%s", i,
			    suffix[k]);
			fields[NBASE + n].name = names[n];
			fields[NBASE + n].type = FORM_LINE;
			fields[NBASE + n].maxlen = max[k];
		}
	for (i = 0; i < MAX_BACK; i++, n++) {
		snprintf(names[n], sizeof(names[n]), "back%zu", i);
		fields[NBASE + n].name = names[n];
		fields[NBASE + n].type = FORM_LINE;
		fields[NBASE + n].maxlen = 64;
	}
	nfields = NBASE + n;
}

static const char *
str(struct view *ad, const char *name)
{
	const char	*s = form_str(&ad->form, name);

	return s != NULL ? s : "";
}

static const char *
st_field(struct view *ad, size_t i, const char *what)
{
	char	 name[32];

	snprintf(name, sizeof(name), "st%zu_%s", i, what);
	return str(ad, name);
}

/*
 * A tracker's statuses as the form keeps them: at most MAX_STATES of
 * {"name", "group", "group_name"}, each text; what is not is dropped (the
 * list comes back from the page).  A new array, or NULL for none.
 */
static cJSON *
states_clean(const cJSON *in)
{
	const cJSON	*it;
	const char	*name, *group, *gname;
	cJSON		*out, *o;

	if (!cJSON_IsArray(in) || (out = cJSON_CreateArray()) == NULL)
		return NULL;
	cJSON_ArrayForEach(it, in) {
		if (cJSON_GetArraySize(out) == MAX_STATES)
			break;
		name = json_str(it, "name", 255);
		group = json_str_or_empty(it, "group", 32);
		gname = json_str_or_empty(it, "group_name", 64);
		if (name == NULL || group == NULL || gname == NULL ||
		    (o = cJSON_CreateObject()) == NULL)
			continue;
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "group", group);
		cJSON_AddStringToObject(o, "group_name", gname);
		cJSON_AddItemToArray(out, o);
	}
	return out;
}

/*
 * The i-th way back to Productboard of a workflow, besides the classes:
 * each of its statuses by name, then each category they have.  The key
 * of the status map, with *group the category's name for a category (else
 * NULL); NULL past the last.
 */
static const char *
back_key(const cJSON *states, size_t i, const char **group)
{
	const cJSON	*it, *pr;
	const char	*g;
	size_t		 k = 0;

	*group = NULL;
	cJSON_ArrayForEach(it, states)
		if (k++ == i)
			return json_str_or_empty(it, "name", 255);
	cJSON_ArrayForEach(it, states) {
		g = json_str_or_empty(it, "group", 32);
		for (pr = states->child; pr != it && strcmp(g,
		    json_str_or_empty(pr, "group", 32)) != 0; pr = pr->next)
			;
		if (*g == '\0' || pr != it || k++ != i)
			continue;
		*group = json_str_or_empty(it, "group_name", 64);
		if (**group == '\0')
			*group = g;
		return g;
	}
	return NULL;
}

/* The mapping rows the form sent back. */
static void
mapping_from_form(struct view *ad, struct mapping *m)
{
	long long	 n = 0;
	const char	*states = str(ad, "tracker_states"), *g;
	cJSON		*j;
	char		 name[32];
	size_t		 i;

	cJSON_Delete(m->states);
	memset(m, 0, sizeof(*m));
	if (form_int(&ad->form, "statuses", &n) == -1)
		n = 0;
	for (i = 0; i < (size_t)n; i++) {
		if (*st_field(ad, i, "id") == '\0')
			continue;
		snprintf(m->st[m->n].id, sizeof(m->st[0].id), "%s",
		    st_field(ad, i, "id"));
		snprintf(m->st[m->n].name, sizeof(m->st[0].name), "%s",
		    st_field(ad, i, "name"));
		snprintf(m->st[m->n].state, sizeof(m->st[0].state), "%s",
		    st_field(ad, i, "state"));
		snprintf(m->st[m->n].label, sizeof(m->st[0].label), "%s",
		    st_field(ad, i, "label"));
		m->n++;
	}
	if (*states != '\0') {
		j = json_parse(states, strlen(states));
		m->states = states_clean(j);
		cJSON_Delete(j);
	}
	for (i = 0; m->states != NULL && i < MAX_BACK &&
	    back_key(m->states, i, &g) != NULL; i++) {
		snprintf(name, sizeof(name), "back%zu", i);
		snprintf(m->back[i], sizeof(m->back[i]), "%s", str(ad, name));
	}
	snprintf(m->to_open, sizeof(m->to_open), "%s", str(ad, "to_pb_opened"));
	snprintf(m->to_closed, sizeof(m->to_closed), "%s",
	    str(ad, "to_pb_closed"));
}

/*
 * Rows from Productboard's statuses, set as the status map says; states
 * are the tracker's (tracker_ops.statuses, or NULL), kept by m.
 */
static void
mapping_from_statuses(struct mapping *m, const cJSON *statuses,
    const char *map_json, const cJSON *states)
{
	cJSON		*map = map_json != NULL ? json_parse(map_json,
			    strlen(map_json)) : NULL;
	const cJSON	*it, *tg, *tp, *e;
	const char	*id, *name, *s, *k, *g;
	size_t		 i;

	cJSON_Delete(m->states);
	memset(m, 0, sizeof(*m));
	m->states = states_clean(states);
	tg = cJSON_GetObjectItemCaseSensitive(map, "to_tracker");
	tp = cJSON_GetObjectItemCaseSensitive(map, "to_productboard");
	cJSON_ArrayForEach(it, statuses) {
		if (m->n == MAX_STATUSES)
			break;
		id = cJSON_GetStringValue(cJSON_GetObjectItem(it, "id"));
		name = cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"));
		if (id == NULL || name == NULL || strlen(id) > 64)
			continue;
		e = cJSON_GetObjectItemCaseSensitive(tg, id);
		s = cJSON_GetStringValue(cJSON_GetObjectItem(e, "state"));
		snprintf(m->st[m->n].id, sizeof(m->st[0].id), "%s", id);
		snprintf(m->st[m->n].name, sizeof(m->st[0].name), "%s", name);
		/* A workflow's status stays; else only the two classes. */
		snprintf(m->st[m->n].state, sizeof(m->st[0].state), "%s",
		    s != NULL && (m->states != NULL || strcmp(s, "closed") ==
		    0) ? s : "opened");
		s = cJSON_GetStringValue(cJSON_GetObjectItem(e, "label"));
		snprintf(m->st[m->n].label, sizeof(m->st[0].label), "%s",
		    s != NULL ? s : "");
		m->n++;
	}
	for (i = 0; m->states != NULL && i < MAX_BACK &&
	    (k = back_key(m->states, i, &g)) != NULL; i++) {
		s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tp,
		    k));
		snprintf(m->back[i], sizeof(m->back[i]), "%s", s != NULL ? s :
		    "");
	}
	s = cJSON_GetStringValue(cJSON_GetObjectItem(tp, "opened"));
	snprintf(m->to_open, sizeof(m->to_open), "%s", s != NULL ? s : "");
	s = cJSON_GetStringValue(cJSON_GetObjectItem(tp, "closed"));
	snprintf(m->to_closed, sizeof(m->to_closed), "%s", s != NULL ? s : "");
	cJSON_Delete(map);
}

/* 1 if id is one of the mapping's statuses. */
static int
known_status(const struct mapping *m, const char *id)
{
	size_t	 i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->st[i].id, id) == 0)
			return 1;
	return 0;
}

/* 1 if state is one the form offers: a class, or a workflow's status. */
static int
state_offered(const struct mapping *m, const char *state)
{
	const cJSON	*it;

	if (strcmp(state, "opened") == 0 || strcmp(state, "closed") == 0)
		return 1;
	cJSON_ArrayForEach(it, m->states)
		if (strcmp(state, json_str_or_empty(it, "name", 255)) == 0)
			return 1;
	return 0;
}

/*
 * The status map JSON (sync.h) of the rows: a heap string, or NULL with
 * err set.
 */
static char *
mapping_json(const struct mapping *m, const struct tracker_ops *ops,
    char *err, size_t len)
{
	cJSON		*j = cJSON_CreateObject(), *tg, *tp, *e;
	const char	*k, *g;
	char		*out = NULL;
	size_t		 i;

	tg = cJSON_AddObjectToObject(j, "to_tracker");
	tp = cJSON_AddObjectToObject(j, "to_productboard");
	if (j == NULL || tg == NULL || tp == NULL) {
		snprintf(err, len, "Out of memory.");
		goto out;
	}
	for (i = 0; i < m->n; i++) {
		if (!state_offered(m, m->st[i].state)) {
			snprintf(err, len, "Choose the %s state for the status "
			    "\"%s\" from the list.", ops->title,
			    m->st[i].name);
			goto out;
		}
		if (cJSON_GetObjectItemCaseSensitive(tg, m->st[i].id) != NULL)
			continue;
		e = cJSON_AddObjectToObject(tg, m->st[i].id);
		cJSON_AddStringToObject(e, "state", m->st[i].state);
		if (m->st[i].label[0] != '\0')
			cJSON_AddStringToObject(e, "label", m->st[i].label);
	}
	for (i = 0; m->states != NULL && i < MAX_BACK &&
	    (k = back_key(m->states, i, &g)) != NULL; i++) {
		if (m->back[i][0] == '\0' ||
		    cJSON_GetObjectItemCaseSensitive(tp, k) != NULL)
			continue;
		if (!known_status(m, m->back[i])) {
			snprintf(err, len, "Choose Productboard statuses from "
			    "the list.");
			goto out;
		}
		cJSON_AddStringToObject(tp, k, m->back[i]);
	}
	if ((m->to_open[0] != '\0' && !known_status(m, m->to_open)) ||
	    (m->to_closed[0] != '\0' && !known_status(m, m->to_closed))) {
		snprintf(err, len, "Choose Productboard statuses from the list.");
		goto out;
	}
	if (m->to_open[0] != '\0')
		cJSON_AddStringToObject(tp, "opened", m->to_open);
	if (m->to_closed[0] != '\0')
		cJSON_AddStringToObject(tp, "closed", m->to_closed);
	if ((out = json_print(j)) == NULL)
		snprintf(err, len, "Out of memory.");
	else if (integ_status_map_ok(out, ops->states, err, len) == -1) {
		free(out);
		out = NULL;
	}
out:
	cJSON_Delete(j);
	return out;
}

/* Adds the options of a "which Productboard status" select. */
static void
status_options(struct tmpl_vars *v, const char *list,
    const struct mapping *m, const char *selected)
{
	struct tmpl_vars *o;
	size_t		 i;

	tmpl_list(v, list);
	for (i = 0; i < m->n; i++) {
		o = tmpl_row(v, list);
		tmpl_set(o, "opt_id", m->st[i].id);
		tmpl_set(o, "opt_name", m->st[i].name);
		tmpl_set_const(o, "opt_sel", strcmp(m->st[i].id, selected) == 0 ?
		    "selected" : "");
	}
}

/* One option of a row's "which tracker state" select. */
static void
state_option(struct tmpl_vars *row, const char *value, const char *text,
    const char *selected)
{
	struct tmpl_vars *o = tmpl_row(row, "state_opts");

	tmpl_set(o, "opt_value", value);
	tmpl_set(o, "opt_text", text);
	tmpl_set_const(o, "opt_sel", strcmp(value, selected) == 0 ?
	    "selected" : "");
}

/* The states a row's select offers: the classes, a workflow's statuses. */
static void
state_options(struct tmpl_vars *row, const struct mapping *m,
    const char *selected)
{
	const cJSON	*it;
	const char	*name;

	tmpl_list(row, "state_opts");
	state_option(row, "opened", m->states != NULL ? "open (any status "
	    "not done)" : "open", selected);
	state_option(row, "closed", m->states != NULL ? "closed (any done "
	    "status)" : "closed", selected);
	cJSON_ArrayForEach(it, m->states)
		if (*(name = json_str_or_empty(it, "name", 255)) != '\0')
			state_option(row, name, name, selected);
}

static void
mapping_vars(struct tmpl_vars *v, const struct mapping *m)
{
	struct tmpl_vars *row;
	const char	*k, *g;
	char		*states = m->states != NULL ?
			    cJSON_PrintUnformatted(m->states) : NULL;
	size_t		 i;

	tmpl_set_flag(v, "mapping", m->n > 0);
	tmpl_setf(v, "status_count", "%zu", m->n);
	tmpl_set(v, "tracker_states", states != NULL ? states : "");
	cJSON_free(states);
	tmpl_list(v, "statuses");
	for (i = 0; i < m->n; i++) {
		row = tmpl_row(v, "statuses");
		tmpl_setf(row, "i", "%zu", i);
		tmpl_set(row, "st_id", m->st[i].id);
		tmpl_set(row, "st_name", m->st[i].name);
		tmpl_set(row, "st_label", m->st[i].label);
		state_options(row, m, m->st[i].state);
	}
	tmpl_list(v, "back_rows");
	for (i = 0; m->states != NULL && i < MAX_BACK &&
	    (k = back_key(m->states, i, &g)) != NULL; i++) {
		row = tmpl_row(v, "back_rows");
		tmpl_setf(row, "i", "%zu", i);
		tmpl_set(row, "back_status", g == NULL ? k : "");
		tmpl_set(row, "back_group", g != NULL ? g : "");
		status_options(row, "back_opts", m, m->back[i]);
		tmpl_set_const(row, "back_none", m->back[i][0] == '\0' ?
		    "selected" : "");
	}
	status_options(v, "open_opts", m, m->to_open);
	status_options(v, "closed_opts", m, m->to_closed);
	tmpl_set_const(v, "open_none", m->to_open[0] == '\0' ? "selected" : "");
	tmpl_set_const(v, "closed_none", m->to_closed[0] == '\0' ? "selected" :
	    "");
}

/* Frees what the mapping holds besides itself. */
static void
mapping_free(struct mapping *m)
{
	if (m != NULL)
		cJSON_Delete(m->states);
	free(m);
}

/* The tracker a form is for: the one it names, else the first one. */
static const struct tracker_ops *
form_ops(const char *kind)
{
	const struct tracker_ops *ops = tracker_find(kind);

	return ops != NULL ? ops : tracker_kinds[0];
}

/* The tracker's words in the form, and the choice of trackers. */
static void
tracker_vars(struct tmpl_vars *v, const struct tracker_ops *ops)
{
	struct tmpl_vars *o;
	size_t		 i;

	tmpl_set(v, "tracker_kind", ops->kind);
	tmpl_set(v, "tracker_title", ops->title);
	tmpl_set(v, "url_label", ops->url_label);
	tmpl_set(v, "url_default", ops->url_default);
	tmpl_set(v, "project_label", ops->project_label);
	tmpl_set(v, "token_label", ops->token_label);
	tmpl_set_flag(v, "can_by_hand", ops->hook_by_hand != NULL);
	tmpl_set_flag(v, "workflow", ops->statuses != NULL);
	tmpl_list(v, "trackers");
	for (i = 0; tracker_kinds[i] != NULL; i++) {
		o = tmpl_row(v, "trackers");
		tmpl_set(o, "kind", tracker_kinds[i]->kind);
		tmpl_set(o, "title", tracker_kinds[i]->title);
		tmpl_set_flag(o, "chosen", tracker_kinds[i] == ops);
	}
}

/* The backend's own settings, as fields named by their place. */
static void
option_vars(struct tmpl_vars *v, const struct tracker_ops *ops,
    const struct fvals *f)
{
	const struct tracker_option *o;
	struct tmpl_vars *r;
	char		 n[16];
	size_t		 i;

	tmpl_list(v, "options");
	for (i = 0, o = ops->options; o != NULL && o->name != NULL &&
	    i < MAX_OPTIONS; i++, o++) {
		r = tmpl_row(v, "options");
		snprintf(n, sizeof(n), "tracker_opt%zu", i);
		tmpl_set(r, "field", n);
		tmpl_set(r, "label", o->label);
		tmpl_set(r, "value", f->opt[i] != NULL && *f->opt[i] != '\0' ?
		    f->opt[i] : o->def != NULL ? o->def : "");
		tmpl_set_flag(r, "required", o->def == NULL);
		tmpl_set_flag(r, "with_token", o->with_token);
	}
}

/* The settings the admin typed, as the JSON object integ_create takes. */
static char *
options_json(const struct tracker_ops *ops, const struct fvals *f)
{
	const struct tracker_option *o;
	cJSON		*j = cJSON_CreateObject();
	char		*out;
	size_t		 i;

	for (i = 0, o = ops->options; j != NULL && o != NULL &&
	    o->name != NULL && i < MAX_OPTIONS; i++, o++)
		if (f->opt[i] != NULL && *f->opt[i] != '\0')
			cJSON_AddStringToObject(j, o->name, f->opt[i]);
	out = j != NULL ? json_print(j) : NULL;
	cJSON_Delete(j);
	return out;
}

static void
value_vars(struct tmpl_vars *v, const struct fvals *f)
{
	tmpl_set(v, "name", f->name);
	tmpl_set(v, "column_label", f->label);
	tmpl_set(v, "tracker_url", f->url);
	tmpl_set(v, "tracker_project", f->project);
	tracker_vars(v, form_ops(f->kind));
	option_vars(v, form_ops(f->kind), f);
	tmpl_set_const(v, "conflict_latest", strcmp(f->conflict,
	    "productboard") != 0 && strcmp(f->conflict, "tracker") != 0 ?
	    "checked" : "");
	tmpl_set_const(v, "conflict_productboard", strcmp(f->conflict,
	    "productboard") == 0 ? "checked" : "");
	tmpl_set_const(v, "conflict_tracker", strcmp(f->conflict, "tracker") ==
	    0 ? "checked" : "");
	tmpl_set_const(v, "delete_keep", strcmp(f->delete, "close") != 0 &&
	    strcmp(f->delete, "label") != 0 ? "checked" : "");
	tmpl_set_const(v, "delete_close", strcmp(f->delete, "close") == 0 ?
	    "checked" : "");
	tmpl_set_const(v, "delete_label", strcmp(f->delete, "label") == 0 ?
	    "checked" : "");
	tmpl_set_const(v, "by_hand_checked", f->by_hand ? "checked" : "");
}

/* The values the admin typed (never the tokens). */
static void
typed_values(struct view *ad, struct fvals *f)
{
	f->name = str(ad, "name");
	f->label = str(ad, "column_label");
	f->kind = form_ops(str(ad, "tracker_kind"))->kind;
	f->url = str(ad, "tracker_url");
	f->project = str(ad, "tracker_project");
	f->opt[0] = str(ad, "tracker_opt0");
	f->opt[1] = str(ad, "tracker_opt1");
	f->opt[2] = str(ad, "tracker_opt2");
	f->opt[3] = str(ad, "tracker_opt3");
	f->conflict = str(ad, "conflict_policy");
	f->delete = str(ad, "delete_policy");
	f->by_hand = strcmp(str(ad, "hook_by_hand"), "on") == 0;
}

/* "Name: too long" for the first invalid field, or 0 when all are valid. */
static int
invalid_message(struct view *ad, char *err, size_t len)
{
	const struct form_field *f;
	const char	*why, *label = "A status mapping field";
	size_t		 i;

	if ((f = form_invalid(&ad->form, &why)) == NULL)
		return 0;
	for (i = 0; i < sizeof(field_labels) / sizeof(field_labels[0]); i++)
		if (strcmp(field_labels[i].field, f->name) == 0)
			label = field_labels[i].label;
	snprintf(err, len, "%s: %s.", label, why);
	return -1;
}

/* Seals a token for this session's next form, or "". */
static char *
draft_seal(struct view *ad, const char *field, const char *token)
{
	char	 ad_[128];

	if (token == NULL || *token == '\0')
		return strdup("");
	snprintf(ad_, sizeof(ad_), "draft:%s:%s", ad->sess.id_hash, field);
	return crypto_seal(&ad->app->key, token, ad_);
}

/* The typed token, else the one a previous form carried sealed. */
static char *
draft_token(struct view *ad, const char *field, const char *sealed_field)
{
	const char	*typed = str(ad, field), *sealed = str(ad, sealed_field);
	char		 ad_[128];

	if (*typed != '\0')
		return strdup(typed);
	if (*sealed == '\0')
		return NULL;
	snprintf(ad_, sizeof(ad_), "draft:%s:%s", ad->sess.id_hash, field);
	return crypto_open(&ad->app->key, sealed, ad_);
}

struct create_page {
	const struct fvals	*f;
	const struct mapping	*m;
	const char		*error;
	const char		*notice;
	const char		*pb_sealed;	/* carried tokens, or NULL */
	const char		*tr_sealed;
	const char		*pb_tail;
	const char		*tr_tail;
};

static void
create_form(struct view *ad, int status, const struct create_page *p)
{
	struct tmpl_vars *v = view_vars(ad, "New integration");

	tmpl_set_flag(v, "form_page", 1);
	tmpl_set_flag(v, "creating", 1);
	tmpl_set_flag(v, "editing", 0);
	tmpl_set_url(v, "action", "/admin/new");
	tmpl_set(v, "submit", "Create integration");
	tmpl_set(v, "error", p->error != NULL ? p->error : "");
	tmpl_set(v, "notice", p->notice != NULL ? p->notice : "");
	tmpl_set(v, "pb_sealed", p->pb_sealed != NULL ? p->pb_sealed : "");
	tmpl_set(v, "tr_sealed", p->tr_sealed != NULL ? p->tr_sealed : "");
	tmpl_set_flag(v, "pb_kept", p->pb_sealed != NULL && *p->pb_sealed);
	tmpl_set_flag(v, "tr_kept", p->tr_sealed != NULL && *p->tr_sealed);
	tmpl_set(v, "pb_tail", p->pb_tail != NULL ? p->pb_tail : "");
	tmpl_set(v, "tr_tail", p->tr_tail != NULL ? p->tr_tail : "");
	tmpl_set(v, "project_path", "");
	tmpl_set(v, "id", "");
	value_vars(v, p->f);
	mapping_vars(v, p->m);
	view_page(ad, status, "form.html", v);
}

/* The last four characters of a token, as the pages show them. */
static void
tail(const char *token, char out[8])
{
	size_t	 n = token != NULL ? strlen(token) : 0;

	snprintf(out, 8, "%s", n > 8 ? token + n - 4 : "");
}

/*
 * The statuses of the tracker's workflow, read with what the admin typed
 * (NULL for a tracker whose states are fixed): 0, or -1 with err.
 */
static int
tracker_states(struct view *ad, const struct fvals *f, const char *trt,
    cJSON **out, char *err, size_t len)
{
	struct integ_form g;
	char		*opts;
	int		 rc;

	memset(&g, 0, sizeof(g));
	g.tracker_kind = f->kind;
	g.tracker_url = f->url;
	g.tracker_token = trt;
	g.tracker_project = f->project;
	g.tracker_options = opts = options_json(form_ops(f->kind), f);
	rc = integ_statuses(ad->app, &g, out, err, len);
	free(opts);
	return rc;
}

/* "Load statuses": validates the tokens and shows the mapping. */
static void
load_statuses(struct view *ad, const struct fvals *f, struct mapping *m,
    char *pbt, char *trt)
{
	struct create_page p;
	struct pb	 pb;
	cJSON		*st = NULL, *states = NULL;
	char		 err[640] = "", notice[320], pbtail[8], trtail[8];
	char		 more[96] = "";
	char		*map = NULL, *pbs = NULL, *trs = NULL;
	enum http_err	 e = HTTP_EINTERNAL;

	memset(&p, 0, sizeof(p));
	p.f = f;
	p.m = m;
	if (pbt == NULL)
		snprintf(err, sizeof(err), "Enter the Productboard API token "
		    "first: the statuses are read with it.");
	else if (pb_init(&pb, ad->app, pbt) == -1)
		snprintf(err, sizeof(err), "The Productboard token is not "
		    "valid.");
	else {
		e = pb_statuses(&pb, &st);
		if (e == HTTP_ECLIENT && pb.up.status == 401)
			snprintf(err, sizeof(err), "Productboard rejected the "
			    "token.");
		else if (e != HTTP_OK)
			snprintf(err, sizeof(err), "The statuses could not be "
			    "read from Productboard: %s", pb.up.err);
		pb_release(&pb);
	}
	if (e == HTTP_OK && tracker_states(ad, f, trt, &states, err,
	    sizeof(err)) == -1)
		e = HTTP_ECLIENT;
	if (e == HTTP_OK) {
		map = sync_default_status_map(st);
		mapping_from_statuses(m, st, map, states);
		if (states != NULL)
			snprintf(more, sizeof(more), ", and the %s workflow has "
			    "%d", form_ops(f->kind)->title,
			    cJSON_GetArraySize(m->states));
		pbs = draft_seal(ad, "pb_token", pbt);
		trs = draft_seal(ad, "tracker_token", trt);
		tail(pbt, pbtail);
		tail(trt, trtail);
		p.pb_sealed = pbs;
		p.tr_sealed = trs;
		p.pb_tail = pbtail;
		p.tr_tail = trtail;
		snprintf(notice, sizeof(notice), "Productboard accepted the "
		    "token and has %zu feature statuses%s. Check the mapping "
		    "below, then create the integration.", m->n, more);
		p.notice = notice;
	} else
		p.error = err;
	create_form(ad, e == HTTP_OK ? 200 : 422, &p);
	cJSON_Delete(st);
	cJSON_Delete(states);
	free(map);
	free(pbs);
	free(trs);
}

/*
 * Productboard refuses a plugin column whose address does not answer its
 * probe; the usual cause is a public_url Productboard cannot reach, which
 * the upstream message does not say.
 */
static void
probe_hint(struct view *ad, char *err, size_t len)
{
	static const char refused[] = "Productboard refused the plugin column";
	size_t	 n = strlen(err);

	if (strncmp(err, refused, sizeof(refused) - 1) == 0 && n + 1 < len)
		snprintf(err + n, len - n, " Productboard probes the column's "
		    "address, %s/plugin/..., when it is created: that address "
		    "must answer from the internet (the public_url setting).",
		    ad->app->conf.public_url);
}

/*
 * A token that may not register the webhook, on a tracker where a person
 * can set it up by hand: the form's way on.
 */
static void
by_hand_hint(const struct tracker_ops *ops, char *err, size_t len)
{
	size_t	 n = strlen(err);

	if (ops->hook_by_hand != NULL && strncmp(err, ops->need_hook,
	    strlen(ops->need_hook)) == 0 && n + 1 < len)
		snprintf(err + n, len - n, " Or tick \"Set up the webhook by "
		    "hand\": pbsync then shows what a %s administrator enters "
		    "in %s's settings.", ops->title, ops->title);
}

void
forms_create(struct view *ad)
{
	const struct tracker_ops *ops;
	struct create_page p;
	struct integ_form f;
	struct fvals	 fv;
	struct mapping	*m;
	struct buf	 kind;
	char		 err[1024], id[33], *pbt = NULL, *trt = NULL;
	char		*map = NULL, *opts = NULL, to[96];
	char		 secret[CRYPTO_SECRET_LEN + 1];

	memset(&p, 0, sizeof(p));
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		view_message(ad, 500, "Error", "Out of memory.");
		return;
	}
	p.m = m;
	if (ad->rq->method != REQ_POST) {
		/* ?tracker=github: the form of that tracker. */
		buf_init(&kind, 64);
		ops = form_ops(req_query(ad->rq, "tracker", &kind) == 0 ?
		    buf_str(&kind) : NULL);
		memset(&fv, 0, sizeof(fv));
		fv.name = fv.project = "";
		fv.label = ops->title;
		fv.kind = ops->kind;
		fv.url = ops->url_default;
		fv.conflict = "latest";
		fv.delete = "keep";
		p.f = &fv;
		create_form(ad, 200, &p);
		buf_release(&kind);
		goto out;
	}
	build_fields();
	if (view_post(ad, fields, nfields) == -1)
		goto out;
	typed_values(ad, &fv);
	p.f = &fv;
	mapping_from_form(ad, m);
	if (invalid_message(ad, err, sizeof(err)) == -1) {
		p.error = err;
		create_form(ad, 422, &p);
		goto out;
	}
	pbt = draft_token(ad, "pb_token", "pb_token_sealed");
	trt = draft_token(ad, "tracker_token", "tracker_token_sealed");
	if (strcmp(str(ad, "op"), "statuses") == 0) {
		load_statuses(ad, &fv, m, pbt, trt);
		goto out;
	}
	if (m->n > 0 && (map = mapping_json(m, form_ops(fv.kind), err,
	    sizeof(err))) == NULL) {
		p.error = err;
		create_form(ad, 422, &p);
		goto out;
	}
	memset(&f, 0, sizeof(f));
	f.name = fv.name;
	f.pb_token = pbt;
	f.column_label = fv.label;
	f.tracker_kind = fv.kind;
	f.tracker_url = fv.url;
	f.tracker_token = trt;
	f.tracker_project = fv.project;
	f.tracker_options = opts = options_json(form_ops(fv.kind), &fv);
	f.conflict_policy = *fv.conflict != '\0' ? fv.conflict : "latest";
	f.delete_policy = *fv.delete != '\0' ? fv.delete : "keep";
	f.status_map = map;
	f.hook_by_hand = fv.by_hand;
	f.hook_secret = secret;
	if (integ_create(ad->app, &f, id, err, sizeof(err)) == -1) {
		log_info("admin \"%s\": integration not created: %s",
		    ad->sess.user, err);
		probe_hint(ad, err, sizeof(err));
		by_hand_hint(form_ops(fv.kind), err, sizeof(err));
		p.error = err;
		create_form(ad, 422, &p);
		goto out;
	}
	view_audit(ad, id, "integration created");
	/* The secret to enter in the tracker: on this answer only. */
	if (fv.by_hand) {
		hooks_created(ad, id, secret);
		crypto_wipe(secret, sizeof(secret));
		goto out;
	}
	snprintf(to, sizeof(to), "/admin/i/%s?done=created", id);
	view_redirect(ad, to);
out:
	crypto_free_secret(pbt);
	crypto_free_secret(trt);
	free(map);
	free(opts);
	mapping_free(m);
}

static void
edit_form(struct view *ad, int status, const struct store_isum *s,
    const struct fvals *f, const struct mapping *m, const char *error,
    const char *notice)
{
	struct tmpl_vars *v = view_vars(ad, "Edit integration");
	char		 action[64];

	snprintf(action, sizeof(action), "/admin/i/%s/edit", s->id);
	tmpl_set_flag(v, "form_page", 1);
	tmpl_set_flag(v, "creating", 0);
	tmpl_set_flag(v, "editing", 1);
	tmpl_set_url(v, "action", action);
	tmpl_set(v, "submit", "Save changes");
	tmpl_set(v, "error", error != NULL ? error : "");
	tmpl_set(v, "notice", notice != NULL ? notice : "");
	tmpl_set(v, "pb_sealed", "");
	tmpl_set(v, "tr_sealed", "");
	tmpl_set_flag(v, "pb_kept", 0);
	tmpl_set_flag(v, "tr_kept", 0);
	tmpl_set(v, "pb_tail", s->pb_token_tail);
	tmpl_set(v, "tr_tail", s->tracker_token_tail);
	tmpl_set(v, "project_path", s->tracker_project_name);
	tmpl_set(v, "id", s->id);
	value_vars(v, f);
	tmpl_set(v, "tracker_url", s->tracker_url);
	mapping_vars(v, m);
	view_page(ad, status, "form.html", v);
}

/*
 * The settings that go with the token, as saved, into f (their strings
 * are opts's): the edit form shows them with the token.
 */
static void
saved_options(const struct tracker_ops *ops, const cJSON *opts,
    struct fvals *f)
{
	const struct tracker_option *o;
	size_t		 i;

	for (i = 0, o = ops != NULL ? ops->options : NULL; o != NULL &&
	    o->name != NULL && i < MAX_OPTIONS; i++, o++)
		if (o->with_token)
			f->opt[i] = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(opts, o->name));
}

/*
 * The edit form as saved, with the statuses read from Productboard and,
 * where it has a workflow, from the tracker.
 */
static void
edit_get(struct view *ad, const struct store_isum *s, struct mapping *m)
{
	struct fvals	 fv;
	struct ctx	 c;
	cJSON		*st = NULL, *states = NULL, *opts = NULL;
	char		 notice[800] = "";
	enum http_err	 e;

	memset(&fv, 0, sizeof(fv));
	fv.name = s->name;
	fv.label = s->column_label;
	fv.kind = s->tracker_kind;
	fv.url = s->tracker_url;
	fv.project = s->tracker_project_name;
	fv.conflict = s->conflict_policy;
	fv.delete = s->delete_policy;
	if (ctx_load(&c, ad->app, s->id) != 0) {
		snprintf(notice, sizeof(notice), "The saved tokens cannot be "
		    "decrypted (see the log), so the status mapping cannot be "
		    "changed.");
	} else {
		opts = json_parse(c.in.tracker_options,
		    strlen(c.in.tracker_options));
		saved_options(c.tr.ops, opts, &fv);
		if ((e = pb_statuses(&c.pb, &st)) != HTTP_OK)
			snprintf(notice, sizeof(notice), "The Productboard "
			    "statuses could not be read (%s), so the status "
			    "mapping is kept as it is. Enter a new Productboard "
			    "token if the old one was revoked.", c.pb.up.err);
		else if (c.tr.ops->statuses != NULL &&
		    (e = c.tr.ops->statuses(&c.tr, &states)) != HTTP_OK)
			snprintf(notice, sizeof(notice), "The %s statuses could "
			    "not be read (%s), so the status mapping is kept as "
			    "it is. Enter a new %s token if the old one was "
			    "revoked.", c.tr.ops->title, c.tr.up.err,
			    c.tr.ops->title);
		else
			mapping_from_statuses(m, st, c.in.status_map, states);
		cJSON_Delete(st);
		cJSON_Delete(states);
		ctx_close(&c);
	}
	edit_form(ad, 200, s, &fv, m, NULL, notice);
	cJSON_Delete(opts);
}

void
forms_edit(struct view *ad)
{
	struct store_isum s;
	struct integ_form f;
	struct fvals	 fv;
	struct mapping	*m = NULL;
	char		 err[512], *map = NULL, *opts = NULL, to[96];
	int		 rc;

	if ((rc = store_isum_get(&ad->app->store, ad->id, &s)) != 0) {
		view_message(ad, rc == STORE_NOTFOUND ? 404 : 500, "Not found",
		    rc == STORE_NOTFOUND ? "There is no such integration." :
		    "The integration cannot be read (see the log).");
		return;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		view_message(ad, 500, "Error", "Out of memory.");
		goto out;
	}
	if (ad->rq->method != REQ_POST) {
		edit_get(ad, &s, m);
		goto out;
	}
	build_fields();
	if (view_post(ad, fields, nfields) == -1)
		goto out;
	typed_values(ad, &fv);
	fv.kind = s.tracker_kind;	/* an integration keeps its tracker */
	mapping_from_form(ad, m);
	if (invalid_message(ad, err, sizeof(err)) == -1 ||
	    (m->n > 0 && (map = mapping_json(m, form_ops(fv.kind), err,
	    sizeof(err))) == NULL)) {
		edit_form(ad, 422, &s, &fv, m, err, NULL);
		goto out;
	}
	memset(&f, 0, sizeof(f));
	f.name = fv.name;
	f.column_label = fv.label;
	f.pb_token = str(ad, "pb_token");
	f.tracker_token = str(ad, "tracker_token");
	/* Only those that go with the token are on the form. */
	f.tracker_options = opts = options_json(form_ops(fv.kind), &fv);
	f.conflict_policy = fv.conflict;
	f.delete_policy = fv.delete;
	f.status_map = map;
	if (integ_update(ad->app, s.id, &f, err, sizeof(err)) == -1) {
		log_info("admin \"%s\": integration %s not changed: %s",
		    ad->sess.user, s.id, err);
		edit_form(ad, 422, &s, &fv, m, err, NULL);
		goto out;
	}
	view_audit(ad, s.id, "integration edited");
	snprintf(to, sizeof(to), "/admin/i/%s?done=saved", s.id);
	view_redirect(ad, to);
out:
	free(map);
	free(opts);
	mapping_free(m);
	store_isum_release(&s);
}
