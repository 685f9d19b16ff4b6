#include "config.h"

#include "store_int.h"
#include "util.h"

int
store_admin_add(struct store *s, const char *name, const char *pw_hash)
{
	static const char sql[] = "INSERT INTO admin_user (name, pw_hash,"
	    " created_at) VALUES (?, ?, ?)";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, pw_hash);
	sqlite3_bind_double(st, 3, util_now());
	return store_exec_stmt(s, st, "admin add");
}
