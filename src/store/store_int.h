/*
 * store_int.h: helpers shared by the store*.c files only.
 */
#ifndef PBSYNC_STORE_INT_H
#define PBSYNC_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

sqlite3_stmt	*store_stmt(struct store *, const char *sql);
int		 store_exec_stmt(struct store *, sqlite3_stmt *, const char *);
int		 store_fail(struct store *, const char *what);
/* Copies column col into a heap string (NULL stays NULL): 0 or -1. */
int		 store_text(sqlite3_stmt *, int col, char **);
void		 store_text_fixed(sqlite3_stmt *, int col, char *, size_t);
int		 store_bind_text(sqlite3_stmt *, int idx, const char *);
/*
 * Reads a sync log row whose id, at, actor, action, feature_id,
 * issue_ref, result and detail start at column col: 0 or -1.
 */
int		 store_logrow_read(sqlite3_stmt *, int col, struct store_logrow *);
void		 store_logrow_release(struct store_logrow *);

#endif
