/*
 * db_int.h: what db.c and the two drivers share.  A driver's connection
 * and statement structs begin with struct db and struct db_stmt; db.c
 * calls through the driver's ops, and the drivers call nothing of db.c.
 */
#ifndef PBSYNC_STORE_DB_INT_H
#define PBSYNC_STORE_DB_INT_H

#include <stdio.h>

#include "store/db.h"

struct db_ops {
	void		 (*close)(struct db *);
	int		 (*exec)(struct db *, const char *);
	int		 (*begin)(struct db *, long);
	int		 (*commit)(struct db *);
	void		 (*rollback)(struct db *);
	int		 (*in_tx)(struct db *);
	int64_t		 (*changes)(struct db *);
	struct db_stmt	*(*prepare)(struct db *, const char *);
	void		 (*finalize)(struct db_stmt *);
	int		 (*param_count)(struct db_stmt *);
	int		 (*bind_text)(struct db_stmt *, int, const char *);
	int		 (*bind_int64)(struct db_stmt *, int, int64_t);
	int		 (*bind_double)(struct db_stmt *, int, double);
	int		 (*step)(struct db_stmt *);
	void		 (*reset)(struct db_stmt *);
	void		 (*clear)(struct db_stmt *);
	const char	*(*column_text)(struct db_stmt *, int);
	int64_t		 (*column_int64)(struct db_stmt *, int);
	double		 (*column_double)(struct db_stmt *, int);
	/*
	 * A due job of kind was queued: in the transaction in hand
	 * (wake_note), and committed (wake_send); either may be NULL.
	 */
	void		 (*wake_note)(struct db *, const char *);
	void		 (*wake_send)(struct db *, const char *);
	int		 (*wake_wait)(struct db *, const char *, int, int);
};

struct db {
	const struct db_ops *ops;
	enum db_engine	 engine;
	void		*handle;	/* the engine's own: sqlite3, PGconn */
	enum db_err	 err;
	char		 errmsg[256];
	/* The kinds of due job the open transaction queued. */
	char		 wake[DB_WAKE_KINDS][DB_WAKE_KIND_MAX];
	int		 nwake;
};

struct db_stmt {
	struct db	*db;
};

/* Records the failure of the call in hand: -1. */
static inline int
db_fail(struct db *db, enum db_err err, const char *msg)
{
	db->err = err;
	snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg != NULL ? msg :
	    "unknown error");
	return -1;
}

/* A connection, its err set when it did not open; NULL: out of memory. */
struct db	*db_sqlite_open(const char *path);
struct db	*db_pg_open(const char *conninfo);
int		 db_sqlite_threadsafe(void);
int		 db_pg_threadsafe(void);

#endif
