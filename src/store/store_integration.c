#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "store/store_int.h"

#define COLUMNS \
	"id, name, column_label, pb_token, pb_token_tail, gl_base_url," \
	" gl_token, gl_token_tail, gl_project_id, gl_project_path," \
	" gl_project_url, pb_plugin_id, pb_webhook_id, gl_hook_id," \
	" plugin_secret, pb_hook_secret, gl_hook_secret, status_map," \
	" conflict_policy, delete_policy"

/* Binds the 20 COLUMNS in order from index 1. */
static void
bind_row(sqlite3_stmt *st, const struct store_integration *in)
{
	store_bind_text(st, 1, in->id);
	store_bind_text(st, 2, in->name);
	store_bind_text(st, 3, in->column_label);
	store_bind_text(st, 4, in->pb_token);
	store_bind_text(st, 5, in->pb_token_tail);
	store_bind_text(st, 6, in->gl_base_url);
	store_bind_text(st, 7, in->gl_token);
	store_bind_text(st, 8, in->gl_token_tail);
	sqlite3_bind_int64(st, 9, in->gl_project_id);
	store_bind_text(st, 10, in->gl_project_path);
	store_bind_text(st, 11, in->gl_project_url != NULL ?
	    in->gl_project_url : "");
	store_bind_text(st, 12, in->pb_plugin_id);
	store_bind_text(st, 13, in->pb_webhook_id);
	if (in->gl_hook_id > 0)
		sqlite3_bind_int64(st, 14, in->gl_hook_id);
	else
		sqlite3_bind_null(st, 14);
	store_bind_text(st, 15, in->plugin_secret);
	store_bind_text(st, 16, in->pb_hook_secret);
	store_bind_text(st, 17, in->gl_hook_secret);
	store_bind_text(st, 18, in->status_map != NULL ? in->status_map : "{}");
	store_bind_text(st, 19, in->conflict_policy != NULL ?
	    in->conflict_policy : "latest");
	store_bind_text(st, 20, in->delete_policy != NULL ?
	    in->delete_policy : "keep");
}

int
store_integration_insert(struct store *s, const struct store_integration *in)
{
	static const char sql[] = "INSERT INTO integration (" COLUMNS
	    ", created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?21, ?21)";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	bind_row(st, in);
	sqlite3_bind_double(st, 21, util_now());
	return store_exec_stmt(s, st, "integration insert");
}

int
store_integration_update(struct store *s, const struct store_integration *in)
{
	static const char sql[] = "UPDATE integration SET (" COLUMNS
	    ", updated_at) = (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) WHERE id = ?1";
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	bind_row(st, in);
	sqlite3_bind_double(st, 21, util_now());
	if ((rc = store_exec_stmt(s, st, "integration update")) != 0)
		return rc;
	return sqlite3_changes(s->db) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_integration_get(struct store *s, const char *id,
    struct store_integration *out)
{
	static const char sql[] = "SELECT " COLUMNS ", auth_failed,"
	    " last_sync_at, created_at FROM integration WHERE id = ?";
	sqlite3_stmt	*st;
	char		**str[] = { &out->name, &out->column_label,
			    &out->pb_token, &out->pb_token_tail,
			    &out->gl_base_url, &out->gl_token,
			    &out->gl_token_tail };
	char		**str2[] = { &out->gl_project_path,
			    &out->gl_project_url, &out->pb_plugin_id,
			    &out->pb_webhook_id };
	char		**str3[] = { &out->plugin_secret,
			    &out->pb_hook_secret, &out->gl_hook_secret,
			    &out->status_map, &out->conflict_policy,
			    &out->delete_policy, &out->auth_failed };
	int		 rc, err = 0;
	size_t		 i;

	memset(out, 0, sizeof(*out));
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? STORE_NOTFOUND :
		    store_fail(s, "integration get");
	}
	store_text_fixed(st, 0, out->id, sizeof(out->id));
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		err |= store_text(st, 1 + (int)i, str[i]);
	out->gl_project_id = sqlite3_column_int64(st, 8);
	for (i = 0; i < sizeof(str2) / sizeof(str2[0]); i++)
		err |= store_text(st, 9 + (int)i, str2[i]);
	out->gl_hook_id = sqlite3_column_int64(st, 13);
	for (i = 0; i < sizeof(str3) / sizeof(str3[0]); i++)
		err |= store_text(st, 14 + (int)i, str3[i]);
	out->last_sync_at = sqlite3_column_double(st, 21);
	out->created_at = sqlite3_column_double(st, 22);
	sqlite3_reset(st);
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
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, id);
	if ((rc = store_exec_stmt(s, st, "integration delete")) != 0)
		return rc;
	return sqlite3_changes(s->db) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_integration_set_auth_failed(struct store *s, const char *id,
    const char *what)
{
	static const char sql[] =
	    "UPDATE integration SET auth_failed = ? WHERE id = ?";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, what);
	store_bind_text(st, 2, id);
	return store_exec_stmt(s, st, "integration auth flag");
}

int
store_integration_ids(struct store *s, char ***ids, size_t *n)
{
	static const char sql[] =
	    "SELECT id FROM integration ORDER BY created_at, id";
	sqlite3_stmt	*st;
	char		**v = NULL, **tmp;
	size_t		 cnt = 0;
	int		 rc;

	*ids = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((tmp = realloc(v, (cnt + 1) * sizeof(*v))) == NULL)
			goto fail;
		v = tmp;
		if (store_text(st, 0, &v[cnt]) == -1)
			goto fail;
		cnt++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	*ids = v;
	*n = cnt;
	return 0;
fail:
	sqlite3_reset(st);
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
	free(in->gl_base_url);
	free(in->gl_token);
	free(in->gl_token_tail);
	free(in->gl_project_path);
	free(in->gl_project_url);
	free(in->pb_plugin_id);
	free(in->pb_webhook_id);
	free(in->plugin_secret);
	free(in->pb_hook_secret);
	free(in->gl_hook_secret);
	free(in->status_map);
	free(in->conflict_policy);
	free(in->delete_policy);
	free(in->auth_failed);
	memset(in, 0, sizeof(*in));
}
