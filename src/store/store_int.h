/*
 * store_int.h: helpers shared by the store*.c files only.
 */
#ifndef PBSYNC_STORE_INT_H
#define PBSYNC_STORE_INT_H

#include "store/db.h"
#include "store/store.h"

/*
 * The text of a query the two engines cannot share, SQLite's and
 * PostgreSQL's side by side; every other query is one text for both.
 */
#define STORE_SQL(s, sqlite, postgresql) ((s)->pg ? (postgresql) : (sqlite))

/* The cached statement of sql, reset and unbound: NULL on error. */
struct db_stmt	*store_stmt(struct store *, const char *sql);
int		 store_exec_stmt(struct store *, struct db_stmt *,
		    const char *);
int		 store_fail(struct store *, const char *what);
/* Copies column col into a heap string (NULL stays NULL): 0 or -1. */
int		 store_text(struct db_stmt *, int col, char **);
void		 store_text_fixed(struct db_stmt *, int col, char *, size_t);
/*
 * Reads a sync log row whose id, at, actor, action, feature_id,
 * issue_ref, result and detail start at column col: 0 or -1.
 */
int		 store_logrow_read(struct db_stmt *, int col,
		    struct store_logrow *);
void		 store_logrow_release(struct store_logrow *);

#endif
