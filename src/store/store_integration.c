#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "store/store_int.h"

#define COLUMNS \
	"id, name, column_label, pb_token, pb_token_tail, tracker_url," \
	" tracker_token, tracker_token_tail, tracker_project," \
	" tracker_project_name, tracker_project_url, pb_plugin_id," \
	" pb_webhook_id, tracker_hook_id, plugin_secret, pb_hook_secret," \
	" tracker_hook_secret, status_map, conflict_policy, delete_policy," \
	" tracker_kind, tracker_options"

/* Binds the 22 COLUMNS in order from index 1. */
static void
bind_row(struct db_stmt *st, const struct store_integration *in)
{
	db_bind_text(st, 1, in->id);
	db_bind_text(st, 2, in->name);
	db_bind_text(st, 3, in->column_label);
	db_bind_text(st, 4, in->pb_token);
	db_bind_text(st, 5, in->pb_token_tail);
	db_bind_text(st, 6, in->tracker_url);
	db_bind_text(st, 7, in->tracker_token);
	db_bind_text(st, 8, in->tracker_token_tail);
	db_bind_text(st, 9, in->tracker_project);
	db_bind_text(st, 10, in->tracker_project_name);
	db_bind_text(st, 11, in->tracker_project_url != NULL ?
	    in->tracker_project_url : "");
	db_bind_text(st, 12, in->pb_plugin_id);
	db_bind_text(st, 13, in->pb_webhook_id);
	db_bind_text(st, 14, in->tracker_hook_id);
	db_bind_text(st, 15, in->plugin_secret);
	db_bind_text(st, 16, in->pb_hook_secret);
	db_bind_text(st, 17, in->tracker_hook_secret);
	db_bind_text(st, 18, in->status_map != NULL ? in->status_map : "{}");
	db_bind_text(st, 19, in->conflict_policy != NULL ?
	    in->conflict_policy : "latest");
	db_bind_text(st, 20, in->delete_policy != NULL ?
	    in->delete_policy : "keep");
	db_bind_text(st, 21, in->tracker_kind);
	db_bind_text(st, 22, in->tracker_options != NULL ?
	    in->tracker_options : "{}");
}

int
store_integration_insert(struct store *s, const struct store_integration *in)
{
	static const char sql[] = "INSERT INTO integration (" COLUMNS
	    ", created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?23, ?23)";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	bind_row(st, in);
	db_bind_double(st, 23, util_now());
	return store_exec_stmt(s, st, "integration insert");
}

int
store_integration_update(struct store *s, const struct store_integration *in)
{
	static const char sql[] = "UPDATE integration SET (" COLUMNS
	    ", updated_at) = (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"
	    " WHERE id = ?1";
	struct db_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	bind_row(st, in);
	db_bind_double(st, 23, util_now());
	if ((rc = store_exec_stmt(s, st, "integration update")) != 0)
		return rc;
	return db_changes(s->conn) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_integration_get(struct store *s, const char *id,
    struct store_integration *out)
{
	static const char sql[] = "SELECT " COLUMNS ", auth_failed,"
	    " last_sync_at, created_at FROM integration WHERE id = ?";
	struct db_stmt	*st;
	/* The columns from 1 on, in the order of COLUMNS. */
	char		**str[] = { &out->name, &out->column_label,
			    &out->pb_token, &out->pb_token_tail,
			    &out->tracker_url, &out->tracker_token,
			    &out->tracker_token_tail, &out->tracker_project,
			    &out->tracker_project_name,
			    &out->tracker_project_url, &out->pb_plugin_id,
			    &out->pb_webhook_id, &out->tracker_hook_id,
			    &out->plugin_secret, &out->pb_hook_secret,
			    &out->tracker_hook_secret, &out->status_map,
			    &out->conflict_policy, &out->delete_policy,
			    &out->tracker_kind, &out->tracker_options,
			    &out->auth_failed };
	int		 rc, err = 0;
	size_t		 i;

	memset(out, 0, sizeof(*out));
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, id);
	if ((rc = db_step(st)) != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? STORE_NOTFOUND :
		    store_fail(s, "integration get");
	}
	store_text_fixed(st, 0, out->id, sizeof(out->id));
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		err |= store_text(st, 1 + (int)i, str[i]);
	out->last_sync_at = db_column_double(st, 23);
	out->created_at = db_column_double(st, 24);
	db_reset(st);
	if (err) {
		store_integration_release(out);
		return -1;
	}
	return 0;
}

int
store_integration_delete(struct store *s, const char *id)
{
	static const char sql[] = "DELETE FROM integration WHERE id = ?";
	struct db_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, id);
	if ((rc = store_exec_stmt(s, st, "integration delete")) != 0)
		return rc;
	return db_changes(s->conn) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_integration_set_auth_failed(struct store *s, const char *id,
    const char *what)
{
	static const char sql[] =
	    "UPDATE integration SET auth_failed = ? WHERE id = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, what);
	db_bind_text(st, 2, id);
	return store_exec_stmt(s, st, "integration auth flag");
}

int
store_integration_ids(struct store *s, char ***ids, size_t *n)
{
	static const char sql[] =
	    "SELECT id FROM integration ORDER BY created_at, id";
	struct db_stmt	*st;
	char		**v = NULL, **tmp;
	size_t		 cnt = 0;
	int		 rc;

	*ids = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	while ((rc = db_step(st)) == DB_ROW) {
		if ((tmp = realloc(v, (cnt + 1) * sizeof(*v))) == NULL)
			goto fail;
		v = tmp;
		if (store_text(st, 0, &v[cnt]) == -1)
			goto fail;
		cnt++;
	}
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	*ids = v;
	*n = cnt;
	return 0;
fail:
	db_reset(st);
	while (cnt > 0)
		free(v[--cnt]);
	free(v);
	return -1;
}

void
store_integration_release(struct store_integration *in)
{
	free(in->name);
	free(in->column_label);
	free(in->pb_token);
	free(in->pb_token_tail);
	free(in->tracker_kind);
	free(in->tracker_url);
	free(in->tracker_token);
	free(in->tracker_token_tail);
	free(in->tracker_project);
	free(in->tracker_project_name);
	free(in->tracker_project_url);
	free(in->tracker_options);
	free(in->pb_plugin_id);
	free(in->pb_webhook_id);
	free(in->tracker_hook_id);
	free(in->plugin_secret);
	free(in->pb_hook_secret);
	free(in->tracker_hook_secret);
	free(in->status_map);
	free(in->conflict_policy);
	free(in->delete_policy);
	free(in->auth_failed);
	memset(in, 0, sizeof(*in));
}
