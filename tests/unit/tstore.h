/*
 * tstore.h: the database a unit test opens its store on.
 *
 * Without PBSYNC_TEST_PG, the SQLite path the test names, as always.  With
 * PBSYNC_TEST_PG set to a PostgreSQL URI (tests/pg/cluster sets it to its
 * throwaway server), a new empty schema of that database for each call,
 * named by the connection's search_path, so that tests running at the
 * same time never meet; t_store_done drops them.
 */
#ifndef PBSYNC_TSTORE_H
#define PBSYNC_TSTORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"

static char	 t_store_uri[8][1024];
static char	 t_store_schema[8][64];
static int	 t_store_n;

/* 1 when the tests run on PostgreSQL. */
static inline int
t_store_pg(void)
{
	const char	*u = getenv("PBSYNC_TEST_PG");

	return u != NULL && *u != '\0';
}

/* Runs sql on the test's PostgreSQL database: 0 or -1 (printed). */
static inline int
t_store_admin(const char *sql)
{
	struct db	*d;
	int		 rc = -1;

	if (db_open(&d, getenv("PBSYNC_TEST_PG")) == 0)
		rc = db_exec(d, sql);
	if (rc == -1)
		printf("# %s: %s\n", sql, d != NULL ? db_errmsg(d) :
		    "out of memory");
	db_close(d);
	return rc;
}

/* Where to open a fresh store: sqlite_path, or a new PostgreSQL schema. */
static inline const char *
t_store_where(const char *sqlite_path)
{
	const char	*u = getenv("PBSYNC_TEST_PG");
	char		 sql[256];
	int		 i = t_store_n;

	if (!t_store_pg())
		return sqlite_path;
	if (i == sizeof(t_store_uri) / sizeof(t_store_uri[0]))
		return "postgresql://too-many-test-schemas";
	snprintf(t_store_schema[i], sizeof(t_store_schema[i]), "t_%ld_%d",
	    (long)getpid(), i);
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE;"
	    " CREATE SCHEMA %s", t_store_schema[i], t_store_schema[i]);
	if (t_store_admin(sql) == -1)
		return "postgresql://no-test-schema";
	snprintf(t_store_uri[i], sizeof(t_store_uri[i]),
	    "%s%coptions=-csearch_path%%3D%s", u, strchr(u, '?') != NULL ?
	    '&' : '?', t_store_schema[i]);
	t_store_n++;
	return t_store_uri[i];
}

static inline void
t_store_done(void)
{
	char	 sql[128];

	while (t_store_n > 0) {
		snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE",
		    t_store_schema[--t_store_n]);
		t_store_admin(sql);
	}
}

#endif
